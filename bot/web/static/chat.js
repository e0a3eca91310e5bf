// Opstap web chat: shows the transcript the server keeps, sends text and button presses as JSON.
// Rules:
// * The server's transcript is the truth. Every message has a random `ref` (the page makes the
//   ref of what the young person sends), so nothing is shown twice; stored messages have an
//   `id`, and the page asks for everything after the highest id it showed. An answer whose
//   `first` id is above one the page shows means that part was erased (/wis): the screen is
//   cleared and read again.
// * Nothing typed is lost: inputs wait in a queue and are sent again (marked as a retry) until
//   the server took them, across a restart of the server too.
// * Text is always put in with textContent or text nodes, never innerHTML: links (https) and
//   phone numbers (tel:) are built as elements.
// * Buttons of an earlier question are disabled once a newer question arrives or one is
//   pressed, so an old button cannot be pressed into a wrong state. Scroll and focus go to the
//   newest buttons after they are on the page.
// * lang, dir and every label follow the conversation's language, as the server says.
// * The quick-exit button clears the screen and replaces this page in the history.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const offline = document.getElementById("offline");
  const exitUrl = document.body.dataset.exit || "about:blank";
  const REQUEST_MS = 30000;
  let last = 0;          // the highest stored id on the screen
  let lowest = null;     // the lowest stored id on the screen
  let byRef = new Map(); // ref -> bubble
  let generation = 0;    // bumped by a quick exit or a reset: late answers are dropped
  const queue = [];
  let pumping = false;

  function newRef() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // --- text with links, built as nodes --------------------------------------------------
  const LINKS = new RegExp(
    "(https:\\/\\/[^\\s<>\"']*[^\\s<>\"'.,;:!?)\\]])" +
      "|(?<![\\d+])((?:\\+32 ?|0)\\d(?:[ ./-]?\\d){7,9})(?![\\d:])" +
      "|(?<![\\d+])(112|101|102|106|1712|1813)(?![\\d:])",
    "g"
  );

  function linkify(parent, text) {
    let at = 0;
    for (const m of text.matchAll(LINKS)) {
      if (m.index > at) parent.appendChild(document.createTextNode(text.slice(at, m.index)));
      const a = document.createElement("a");
      if (m[1]) {
        a.href = m[1];
        a.target = "_blank";
        a.rel = "noopener noreferrer";
      } else {
        a.href = "tel:" + m[0].replace(/[^\d+]/g, "");
        a.className = "tel";
      }
      a.textContent = m[0];
      parent.appendChild(a);
      at = m.index + m[0].length;
    }
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
  }

  // --- rendering -----------------------------------------------------------------------
  function disableButtons() {
    for (const b of log.querySelectorAll(".buttons button")) b.disabled = true;
  }

  function bubble(text, side, m) {
    const div = document.createElement("div");
    div.className = "bubble " + side + (m && m.crisis ? " crisis" : "");
    div.setAttribute("dir", m && m.rtl ? "rtl" : "auto");
    linkify(div, text);
    log.appendChild(div);
    return div;
  }

  function buttonsFor(m, div) {
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
        btn.addEventListener("click", () => press(b));
        r.appendChild(btn);
      }
      box.appendChild(r);
    }
    div.appendChild(box);
    return box;
  }

  function remember(m, div) {
    byRef.set(m.ref, div);
    if (typeof m.id === "number") {
      div.dataset.id = String(m.id);
      last = Math.max(last, m.id);
      lowest = lowest === null ? m.id : Math.min(lowest, m.id);
    }
  }

  function render(messages) {
    let newest = null;
    for (const m of messages) {
      const known = byRef.get(m.ref);
      if (known) {
        remember(m, known);
        continue;
      }
      if (m.side === "me") {
        // As when it was typed: an answer (not a /command) closes the buttons above it.
        if (m.text.charAt(0) !== "/") disableButtons();
        remember(m, bubble(m.text, "me", m));
        newest = null;
        continue;
      }
      if (m.prompt) disableButtons();
      const div = bubble(m.text, "bot", m);
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
      newest = m.buttons.length ? buttonsFor(m, div) : null;
      remember(m, div);
    }
    if (messages.length === 0) return;
    // Only now, with the buttons on the page, does the bottom include them.
    log.scrollTop = log.scrollHeight;
    if (newest) {
      const first = newest.querySelector("button:not(:disabled)");
      if (first) first.focus({ preventScroll: true });
    }
  }

  function applyChrome(data) {
    const root = document.documentElement;
    if (data.lang && root.lang !== data.lang) root.lang = data.lang;
    if (data.dir && root.dir !== data.dir) root.dir = data.dir;
    const l = data.labels;
    if (!l) return;
    document.getElementById("help").textContent = l.help;
    document.getElementById("exit").textContent = l.exit;
    document.getElementById("send").setAttribute("aria-label", l.send);
    document.getElementById("text-label").textContent = l.input;
    input.placeholder = l.placeholder;
    log.setAttribute("aria-label", l.log);
    offline.textContent = l.offline;
  }

  function clearScreen() {
    log.replaceChildren();
    byRef = new Map();
    last = 0;
    lowest = null;
  }

  function erased(data) {
    // The transcript lost ids the screen shows: /wis (here or in another tab) or retention.
    if (data.last === null || data.last === undefined || lowest === null) return false;
    return data.first === null || lowest < data.first;
  }

  async function apply(data, gen) {
    if (gen !== generation) return;
    applyChrome(data);
    if (erased(data)) {
      generation += 1;
      clearScreen();
      const fresh = await request("GET", "/api/messages?after=0");
      if (fresh) {
        applyChrome(fresh);
        render(fresh.messages);
      }
      return;
    }
    render(data.messages);
  }

  // --- talking to the server -----------------------------------------------------------
  function setOffline(on) {
    offline.hidden = !on;
  }

  async function request(method, url, payload) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_MS);
    try {
      const res = await fetch(url, {
        method: method,
        headers: payload ? { "Content-Type": "application/json" } : {},
        credentials: "same-origin",
        cache: "no-store",
        body: payload ? JSON.stringify(payload) : undefined,
        signal: controller.signal,
      });
      // Too many at once (rate limit) or too slow: not a refusal, the same input goes again.
      if (res.status === 429 || res.status === 408) return null;
      if (res.status >= 400 && res.status < 500) return { rejected: true };
      if (!res.ok) throw new Error(String(res.status));
      setOffline(false);
      return await res.json();
    } catch (e) {
      setOffline(true);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function post(payload) {
    // Until the server took it: a lost answer (restart, network) sends it again as a retry.
    for (let tries = 0; ; tries++) {
      const gen = generation;
      payload.after = last;
      if (tries > 0) payload.retry = true;
      const data = await request("POST", "/api/input", payload);
      if (data && data.rejected) return;
      if (data) {
        await apply(data, gen);
        return;
      }
      await sleep(Math.min(1000 * (tries + 1), 5000));
    }
  }

  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length) {
        await post(queue[0]);
        queue.shift();
      }
    } finally {
      pumping = false;
    }
  }

  function send(payload) {
    payload.ref = newRef();
    queue.push(payload);
    return pump();
  }

  function press(b) {
    disableButtons();
    const payload = { kind: "button", value: b.value, label: b.label };
    const ref = newRef();
    byRef.set(ref, bubble(b.label, "me"));
    payload.ref = ref;
    queue.push(payload);
    pump();
  }

  async function poll() {
    for (;;) {
      const gen = generation;
      const data = await request("GET", "/api/messages?wait=20&after=" + last);
      if (data && !data.rejected) await apply(data, gen);
      else await sleep(2000);
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const ref = newRef();
    if (text.charAt(0) !== "/") disableButtons();
    byRef.set(ref, bubble(text, "me"));
    log.scrollTop = log.scrollHeight;
    queue.push({ kind: "text", text: text, ref: ref });
    pump();
  });
  // Help does not wait behind other inputs.
  document.getElementById("help").addEventListener("click", () =>
    post({ kind: "help", ref: newRef() })
  );
  document.getElementById("exit").addEventListener("click", () => {
    generation += 1;
    queue.length = 0;
    clearScreen();
    input.value = "";
    document.title = "";
    // replace(): Back does not come back here.
    location.replace(exitUrl);
  });

  // A partner's link (/?ref=<code>) or a coach's invitation: the server starts from it when
  // the conversation is new. It leaves the address bar, so a reload or a shared screenshot
  // does not carry it on.
  const opening = { kind: "open" };
  const referral = new URLSearchParams(location.search).get("ref");
  if (referral && /^[A-Za-z0-9_-]{1,64}$/.test(referral)) opening.referral = referral;
  if (referral !== null) history.replaceState(null, "", location.pathname);
  send(opening).then(poll);
})();
