"""HTTP routes for the web chat and ``/healthz``.

Rules: identity is a random token in an HttpOnly cookie; state-changing requests must be JSON
(a cross-site form cannot send that without a CORS preflight, which we never allow); a request
body is bounded; nothing a person typed is logged. ``GET /api/export/<id>`` hands a person's
export to the same cookie only, once (404 otherwise, never saying whether the id exists), and
``no-store`` keeps it out of caches.
"""

from __future__ import annotations

import html
import json
from importlib.resources import files
from typing import Any

from aiohttp import web

from bot.commands import parse_command
from bot.inbound import Inbound
from bot.service import Clock, ConversationService, OutgoingMessage
from bot.web.channel import WebChannel, new_token, person_for_token
from flows.inputs import ButtonPressed, Input, TextReceived
from flows.text import msg

COOKIE = "opstap_web"
MAX_BODY = 16 * 1024
LONG_POLL_SECONDS = 20.0

SERVICE_KEY = web.AppKey("service", ConversationService)
CHANNEL_KEY = web.AppKey("web_channel", WebChannel)
CLOCK_KEY = web.AppKey("clock", Clock)
SECURE_KEY = web.AppKey("secure_cookie", bool)


def _message_json(seq: int, message: OutgoingMessage) -> dict[str, Any]:
    found: dict[str, Any] = {
        "seq": seq,
        "text": message.text,
        "buttons": [[{"label": label, "value": value} for label, value in row]
                    for row in message.buttons],
        "prompt": message.prompt,
        "rtl": message.rtl,
        "crisis": message.crisis,
    }
    if message.download is not None:
        url, filename = message.download
        found["download"] = {"url": url, "filename": filename}
    return found


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
    service = request.app[SERVICE_KEY]
    # The page chrome speaks the browser's language; the conversation follows the session.
    language = service.language_for(request.headers.get("Accept-Language", "nl").split(",")[0])
    translator = service.translator
    fields = {
        "lang": language,
        "dir": "rtl" if translator.is_rtl(language) else "ltr",
        "help_label": translator.render(msg("safety.button"), language),
        "placeholder": translator.render(msg("web.placeholder"), language),
        "send_label": translator.render(msg("web.send"), language),
    }
    for name, value in fields.items():
        page = page.replace("{{" + name + "}}", html.escape(value))
    response = web.Response(text=page, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:;"
        " frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    token, fresh = _identity(request)
    if fresh:
        _with_cookie(request, response, token)
    return response


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    types = {"chat.js": "application/javascript", "chat.css": "text/css"}
    if name not in types:
        raise web.HTTPNotFound()
    body = files("bot.web").joinpath(f"static/{name}").read_text(encoding="utf-8")
    return web.Response(text=body, content_type=types[name], charset="utf-8")


def _to_input(payload: dict[str, Any], clock: Clock) -> Input | str | None:
    now = clock.now()
    kind = payload.get("kind")
    if kind == "text":
        text = payload.get("text")
        if not isinstance(text, str):
            return None
        command = parse_command(text, now)
        return command if command is not None else TextReceived(text, now)
    if kind == "button":
        value = payload.get("value")
        if not isinstance(value, str) or not 0 < len(value) <= 64:
            return None
        return ButtonPressed(value, now)
    if kind in ("open", "help"):
        return str(kind)
    return None


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
    token, fresh = _identity(request)
    person = person_for_token(token)
    service = request.app[SERVICE_KEY]
    channel = request.app[CHANNEL_KEY]
    after = payload.get("after", channel.last_seq(person))
    after = after if isinstance(after, int) else channel.last_seq(person)
    language = request.headers.get("Accept-Language", "nl").split(",")[0]
    event = _to_input(payload, request.app[CLOCK_KEY])
    if event is None:
        raise web.HTTPBadRequest(text="unknown input")
    if event == "help":
        await service.pipeline.help(person, language_hint=language)
    elif event == "open":
        await service.open(person, language_hint=language)
    elif not isinstance(event, str):
        # The same pipeline as Telegram: screen, dedupe, route, one input at a time.
        await service.pipeline.handle(Inbound(person, event, language))
    messages = channel.since(person, after)
    response = web.json_response(
        {"messages": [_message_json(s, m) for s, m in messages], "last": channel.last_seq(person)}
    )
    if fresh:
        _with_cookie(request, response, token)
    return response


async def get_messages(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if not token:
        return web.json_response({"messages": [], "last": 0})
    person = person_for_token(token)
    channel = request.app[CHANNEL_KEY]
    try:
        after = int(request.query.get("after", "0"))
        wait = min(float(request.query.get("wait", "0")), LONG_POLL_SECONDS)
    except ValueError:
        raise web.HTTPBadRequest(text="after and wait are numbers") from None
    found = await channel.wait(person, after, wait) if wait > 0 else channel.since(person, after)
    return web.json_response(
        {"messages": [_message_json(s, m) for s, m in found], "last": channel.last_seq(person)}
    )


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
    return web.json_response({"status": "ok" if ok else "degraded", "database": ok},
                             status=200 if ok else 503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_post("/api/input", post_input)
    app.router.add_get("/api/messages", get_messages)
    app.router.add_get("/api/export/{key}", get_export)
    app.router.add_get("/healthz", healthz)

