// Opstap web chat: renders bot messages, sends text and button presses as JSON.
// Rules: buttons of an earlier question are disabled once a newer question arrives, so an old
// button cannot be pressed into a wrong state; the page long-polls for messages sent later
// (reminders, a coach's reply).
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  let last = 0;

  function disableOldButtons() {
    for (const b of log.querySelectorAll(".buttons button")) b.disabled = true;
  }

  function addBubble(text, who, opts) {
    const div = document.createElement("div");
    div.className = "bubble " + who + (opts && opts.crisis ? " crisis" : "");
    div.setAttribute("dir", opts && opts.rtl ? "rtl" : "auto");
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function render(messages) {
    for (const m of messages) {
      if (m.seq <= last) continue;
      last = m.seq;
      if (m.prompt) disableOldButtons();
      const div = addBubble(m.text, "bot", m);
      if (m.download) {
        // The export: a same-origin link, fetched once with the cookie.
        const a = document.createElement("a");
        a.href = m.download.url;
        a.download = m.download.filename;
        a.textContent = "⬇ " + m.download.filename;
        a.className = "download";
        div.appendChild(document.createElement("br"));
        div.appendChild(a);
      }
      if (m.buttons.length) {
        const box = document.createElement("div");
        box.className = "buttons";
        for (const row of m.buttons) {
          const r = document.createElement("div");
          r.className = "row";
          for (const b of row) {
            const btn = document.createElement("button");
            btn.type = "button";
            btn.textContent = b.label;
            btn.dataset.value = b.value;
            btn.addEventListener("click", () => {
              for (const x of box.querySelectorAll("button")) x.disabled = true;
              addBubble(b.label, "me");
              send({ kind: "button", value: b.value });
            });
            r.appendChild(btn);
          }
          box.appendChild(r);
        }
        div.appendChild(box);
      }
    }
  }

  async function send(payload) {
    payload.after = last;
    try {
      const res = await fetch("/api/input", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(payload),
      });
      if (!res.ok) throw new Error(String(res.status));
      const data = await res.json();
      render(data.messages);
    } catch (e) {
      addBubble("Er ging iets mis met de verbinding. Probeer het zo opnieuw. / Connection problem, please try again.", "bot");
    }
  }

  async function poll() {
    for (;;) {
      try {
        const res = await fetch("/api/messages?wait=20&after=" + last, { credentials: "same-origin" });
        if (res.ok) render((await res.json()).messages);
        else await new Promise((r) => setTimeout(r, 3000));
      } catch (e) {
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    addBubble(text, "me");
    send({ kind: "text", text: text });
  });
  document.getElementById("help").addEventListener("click", () => send({ kind: "help" }));

  send({ kind: "open" }).then(poll);
})();
