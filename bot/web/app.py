"""HTTP routes for the web chat and ``/healthz``.

Rules: identity is a random token in an HttpOnly cookie; state-changing requests must be JSON
(a cross-site form cannot send that without a CORS preflight, which we never allow); a request
body is bounded; nothing a person typed is logged. Every answer that carries a conversation
(and the page, whose language follows it) is ``no-store``, so no cache keeps it.
``GET /api/export/<id>`` hands a person's export to the same cookie only, once (404 otherwise,
never saying whether the id exists).

The page and the server share one model: the transcript (:mod:`bot.web.channel`). Every answer
carries the entries after the page's last id, the transcript's ``first`` and ``last`` ids (a
page showing an id below ``first`` was erased and clears its screen), and the conversation's
``lang``, ``dir`` and page labels. ``open`` starts the welcome only when the transcript is
empty, so a reload shows the current question once; with a referral code (the page's
``/?ref=<code>``) it starts as Telegram's ``/start <code>`` does.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from importlib.resources import files
from typing import Any

from aiohttp import web

from bot.coach.invites import looks_like_invite as looks_like_coach_invite
from bot.inbound import Inbound
from bot.service import Clock, ConversationService
from bot.web.channel import (
    WebChannel,
    WebEntry,
    WebPage,
    new_ref,
    new_token,
    person_for_token,
)
from bot.web.inbox import WebInbox, to_input
from flows.ids import PersonId
from flows.inputs import CommandReceived
from flows.text import msg
from storage.web_transcript_port import check_transcript_ref

COOKIE = "opstap_web"
# A referral code as the page passes it from /?ref=<code> (Telegram's deep-link payload).
REFERRAL = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_BODY = 16 * 1024
LONG_POLL_SECONDS = 20.0
# Where the quick-exit button goes: a neutral page that says nothing about Opstap.
QUICK_EXIT_URL = "https://www.google.be/"
# Labels of the page, by the name the page uses; they follow the conversation's language.
LABELS = {
    "help": "safety.button",
    "placeholder": "web.placeholder",
    "send": "web.send",
    "exit": "web.exit",
    "log": "web.log",
    "input": "web.input",
    "offline": "web.offline",
}
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

SERVICE_KEY = web.AppKey("service", ConversationService)
CHANNEL_KEY = web.AppKey("web_channel", WebChannel)
CLOCK_KEY = web.AppKey("clock", Clock)
SECURE_KEY = web.AppKey("secure_cookie", bool)
INBOX_KEY = web.AppKey("web_inbox", WebInbox)


def _entry_json(entry: WebEntry, channel: WebChannel, person: PersonId) -> dict[str, Any]:
    body = entry.body
    found: dict[str, Any] = {
        "id": entry.id,
        "ref": entry.ref,
        "side": "bot" if entry.side == "bot" else "me",
        "text": body.get("text") if isinstance(body.get("text"), str) else "",
        "buttons": [],
        "prompt": body.get("prompt") is True,
        "rtl": body.get("rtl") is True,
        "crisis": body.get("crisis") is True,
    }
    rows = body.get("buttons")
    if isinstance(rows, list):
        found["buttons"] = [
            [{"label": b[0], "value": b[1]} for b in row if isinstance(b, list) and len(b) == 2]
            for row in rows
            if isinstance(row, list)
        ]
    download = body.get("download")
    if (
        isinstance(download, list)
        and len(download) == 2
        and isinstance(download[0], str)
        and channel.download_available(download[0], person)
    ):
        found["download"] = {"url": download[0], "filename": download[1]}
    return found


def _language(request: web.Request, session_language: str | None) -> str:
    service = request.app[SERVICE_KEY]
    if session_language is not None:
        return service.language_for(session_language)
    return service.language_for(request.headers.get("Accept-Language", "nl").split(",")[0])


def _chrome(request: web.Request, language: str) -> dict[str, Any]:
    """The page's language, direction and labels: they follow the conversation."""
    translator = request.app[SERVICE_KEY].translator
    return {
        "lang": language,
        "dir": "rtl" if translator.is_rtl(language) else "ltr",
        "labels": {name: translator.render(msg(mid), language) for name, mid in LABELS.items()},
    }


def _page_json(request: web.Request, person: PersonId, found: WebPage) -> web.Response:
    channel = request.app[CHANNEL_KEY]
    return web.json_response(
        {
            "messages": [_entry_json(e, channel, person) for e in found.entries],
            "first": found.first,
            "last": found.last,
            **_chrome(request, _language(request, found.language)),
        },
        headers=NO_STORE,
    )


def _identity(request: web.Request) -> tuple[str, bool]:
    token = request.cookies.get(COOKIE)
    if token and 20 <= len(token) <= 100:
        return token, False
    return new_token(), True


def _with_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=60 * 60 * 24 * 60,
        httponly=True,
        samesite="Strict",
        secure=request.app[SECURE_KEY],
        path="/",
    )


async def index(request: web.Request) -> web.StreamResponse:
    page = files("bot.web").joinpath("static/chat.html").read_text(encoding="utf-8")
    token, _ = _identity(request)
    # The page speaks the conversation's language from the first paint; without one yet, the
    # browser's.
    language = _language(request, None)
    if request.cookies.get(COOKIE):
        with contextlib.suppress(Exception):
            found = await request.app[CHANNEL_KEY].peek(person_for_token(token))
            language = _language(request, found.language)
    chrome = _chrome(request, language)
    fields = {"lang": chrome["lang"], "dir": chrome["dir"], "exit_url": QUICK_EXIT_URL}
    fields.update({f"{name}_label": text for name, text in chrome["labels"].items()})
    for name, value in fields.items():
        page = page.replace("{{" + name + "}}", html.escape(value))
    response = web.Response(text=page, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:;"
        " frame-ancestors 'none'"
    )
    response.headers.update(NO_STORE)
    response.headers["Referrer-Policy"] = "no-referrer"
    # Set again on every visit: the cookie lives 60 days after the last visit, not the first.
    _with_cookie(request, response, token)
    return response


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    types = {"chat.js": "application/javascript", "chat.css": "text/css"}
    if name not in types:
        raise web.HTTPNotFound()
    body = files("bot.web").joinpath(f"static/{name}").read_text(encoding="utf-8")
    return web.Response(text=body, content_type=types[name], charset="utf-8")


async def post_input(request: web.Request) -> web.StreamResponse:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="JSON only")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    try:
        payload = json.loads(await request.text())
    except ValueError:
        raise web.HTTPBadRequest(text="bad JSON") from None
    if not isinstance(payload, dict):
        raise web.HTTPBadRequest(text="bad JSON")
    try:
        event, shown, stored = to_input(payload, request.app[CLOCK_KEY].now())
        ref = payload.get("ref")
        ref = new_ref() if ref is None else check_transcript_ref(ref)
    except (ValueError, TypeError):
        raise web.HTTPBadRequest(text="unknown input") from None
    after = payload.get("after", 0)
    after = after if isinstance(after, int) and after >= 0 else 0
    token, fresh = _identity(request)
    person = person_for_token(token)
    service = request.app[SERVICE_KEY]
    channel = request.app[CHANNEL_KEY]
    language = request.headers.get("Accept-Language", "nl").split(",")[0]
    if event == "help":
        await service.pipeline.help(person, language_hint=language)
    elif event == "open":
        # A reload: the transcript already holds the conversation and its current question;
        # only an empty one (a new person, or one whose transcript expired) gets the start.
        shown_before = await channel.peek(person)
        referral = payload.get("referral")
        if (
            shown_before.last == 0
            and isinstance(referral, str)
            and REFERRAL.fullmatch(referral)
            # A coach's own invite binds a Telegram chat, never a web page.
            and not looks_like_coach_invite(referral)
        ):
            # A partner's link or a coach's invitation (/?ref=<code>): the same as Telegram's
            # /start <code>, through the same pipeline (bot/referral/feature.py answers it).
            start = CommandReceived("start", referral, request.app[CLOCK_KEY].now())
            await service.pipeline.handle(Inbound(person, start, language))
        elif shown_before.last == 0:
            await service.open(person, language_hint=language)
    elif not isinstance(event, str):
        inbox = request.app[INBOX_KEY]
        # Stored in the durable inbox beside the screen (a crisis reply never waits for it).
        taking = inbox.take(person, ref, stored, language)
        try:
            # The page sends an input again when the answer got lost (restart, network, 503):
            # one the inbox took already is not handled (nor screened) again.
            taken = payload.get("retry") is True and await taking.taken_before()
            # Its words go (again) into the transcript, which keeps one entry per ref: a crash
            # after the input's commit may have lost them on their way there.
            channel.received(person, ref, shown)
            if not taken:
                # The same pipeline as Telegram: screen, store, dedupe, route, one at a time.
                inbound = Inbound(person, event, language, key=taking.key, stored=taking.stored)
                await service.pipeline.handle(inbound)
                if taking.refused:
                    # Not stored, not handled: the page keeps the words and sends them again.
                    channel.withdraw(person, ref)
                    refused = web.json_response(
                        {"stored": False}, status=503, headers={**NO_STORE, "Retry-After": "2"}
                    )
                    if fresh:
                        _with_cookie(request, refused, token)
                    return refused
        finally:
            inbox.done(taking)
    await channel.flush(person)
    response = _page_json(request, person, await channel.read(person, after))
    if fresh:
        _with_cookie(request, response, token)
    return response


async def get_messages(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    try:
        after = int(request.query.get("after", "0"))
        wait = min(float(request.query.get("wait", "0")), LONG_POLL_SECONDS)
    except ValueError:
        raise web.HTTPBadRequest(text="after and wait are numbers") from None
    if not token:
        empty = WebPage([], None, 0, None)
        return _page_json(request, PersonId("web:none"), empty)
    person = person_for_token(token)
    channel = request.app[CHANNEL_KEY]
    found = (
        await channel.wait(person, after, wait) if wait > 0 else await channel.read(person, after)
    )
    return _page_json(request, person, found)


async def get_export(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if not token:
        raise web.HTTPNotFound()
    found = request.app[CHANNEL_KEY].take_download(
        request.match_info["key"], person_for_token(token)
    )
    if found is None:
        raise web.HTTPNotFound()
    safe_name = "".join(c for c in found.filename if c.isalnum() or c in "-_.") or "export.json"
    return web.Response(
        body=found.content,
        content_type="application/json",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def healthz(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE_KEY]
    ok = await service.storage.ping()
    return web.json_response(
        {"status": "ok" if ok else "degraded", "database": ok}, status=200 if ok else 503
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_post("/api/input", post_input)
    app.router.add_get("/api/messages", get_messages)
    app.router.add_get("/api/export/{key}", get_export)
    app.router.add_get("/healthz", healthz)
    if INBOX_KEY not in app and SERVICE_KEY in app and CHANNEL_KEY in app:
        # The web chat's durable inbox (bot.web.inbox); the runtime starts its replay.
        app[INBOX_KEY] = WebInbox(app[SERVICE_KEY], app[CHANNEL_KEY])
