"""The team dashboard on the service's aiohttp app: routes, the guard, headers, cookies.

Rules of this module:

* Every route comes from :data:`bot.team.access.ROUTES` and is wrapped by :func:`_guard`: no
  session -> a GET goes to the login page, a POST is refused (403); a POST needs the CSRF token
  of its session (and a same-origin ``Origin`` when the browser names one); a missing
  permission is a 404. The handler gets the account on ``request[USER]``.
* Headers on every ``/team`` response (also errors): a CSP without inline script or style,
  ``nosniff``, ``no-referrer``, ``frame-ancestors 'none'`` and ``Cache-Control: no-store``
  (every page may show case data, so none is cached).
* The session cookie is ``__Host-opstap_team`` (Secure, HttpOnly, SameSite=Strict, path ``/``)
  when the service is public over https. The documented development exception: on plain http
  (``make run`` on 127.0.0.1, no ``OPSTAP_PUBLIC_URL``) the cookie is ``opstap_team`` without
  Secure, because a browser drops a ``__Host-`` cookie that is not Secure. In production the
  dashboard is only mounted behind https (:class:`bot.team.feature.TeamDashboard`).
* The client address is the connection's peer (``request.remote``); a reverse proxy's
  ``X-Forwarded-For`` is not trusted.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jinja2
from aiohttp import web

from bot.appointments.booking import Booking
from bot.coach.handoff import Handoff
from bot.coach.relay import Relay
from bot.service import Clock
from bot.team.access import ROUTES, RouteSpec, allowed
from bot.team.auth import Authenticator, csrf_ok, csrf_token
from flows.routing.directory import Directory
from storage.team_sql import SqlTeamStore, TeamUser

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
# An SVG chart is fetched as an image: no script can run, its own <style> may.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
MAX_FORM = 16 * 1024


@dataclass
class TeamDeps:
    store: SqlTeamStore
    auth: Authenticator
    clock: Clock
    handoff: Handoff
    relay: Relay
    booking: Booking | None
    directory: Directory
    secure_cookies: bool
    timezone: str
    report_min_count: int
    bot_username: Callable[[], Awaitable[str]]
    templates: jinja2.Environment
    public_url: str | None = None  # the web chat's links (/?ref=<code>), when public

    @property
    def session_cookie(self) -> str:
        return "__Host-opstap_team" if self.secure_cookies else "opstap_team"

    @property
    def login_cookie(self) -> str:
        return "__Host-opstap_login" if self.secure_cookies else "opstap_login"


TEAM_KEY = web.AppKey("team", TeamDeps)
USER = web.RequestKey("team_user", TeamUser)
RAW = web.RequestKey("team_raw", str)


def templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot.team", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )


def address(request: web.Request) -> str:
    return (request.remote or "-")[:64]


def user_of(request: web.Request) -> TeamUser:
    return request[USER]


def render(
    request: web.Request, template: str, http_status: int = 200, **values: Any
) -> web.Response:
    deps = request.app[TEAM_KEY]
    user = request.get(USER)
    raw = request.get(RAW)
    values.setdefault("message", None)
    page = deps.templates.get_template(template).render(
        user=user,
        csrf=csrf_token(raw) if isinstance(raw, str) else "",
        can=(lambda permission: isinstance(user, TeamUser) and allowed(user.role, permission)),
        **values,
    )
    return web.Response(text=page, status=http_status, content_type="text/html", charset="utf-8")


def set_session_cookie(request: web.Request, response: web.StreamResponse, raw: str) -> None:
    deps = request.app[TEAM_KEY]
    # No max-age: the browser forgets it when closed; the server ends it after 30 minutes idle
    # or 12 hours at most.
    response.set_cookie(
        deps.session_cookie,
        raw,
        httponly=True,
        samesite="Strict",
        secure=deps.secure_cookies,
        path="/",
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    deps = request.app[TEAM_KEY]
    response.del_cookie(
        deps.session_cookie, path="/", secure=deps.secure_cookies, httponly=True, samesite="Strict"
    )


def new_login_token() -> str:
    """A fresh double-submit token for the login form (there is no session yet)."""
    return secrets.token_urlsafe(24)


def set_login_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    deps = request.app[TEAM_KEY]
    response.set_cookie(
        deps.login_cookie,
        token,
        httponly=True,
        samesite="Strict",
        secure=deps.secure_cookies,
        path="/",
    )


def login_token_ok(request: web.Request, sent: object) -> bool:
    cookie = request.cookies.get(request.app[TEAM_KEY].login_cookie)
    return (
        isinstance(sent, str)
        and cookie is not None
        and hmac.compare_digest(cookie.encode(), sent.encode())
    )


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        # No Origin, or "null": browsers send "null" for a form post from a page with
        # Referrer-Policy: no-referrer (ours). The CSRF token decides then.
        return True
    return origin == f"{request.scheme}://{request.host}"


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guard(spec: RouteSpec, handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if spec.permission == "public":
            return await handler(request)
        deps = request.app[TEAM_KEY]
        raw = request.cookies.get(deps.session_cookie)
        found = await deps.auth.resume(raw)
        if found is None or raw is None:
            if request.method == "GET":
                response = web.HTTPSeeOther("/team/login")
                if raw is not None:
                    clear_session_cookie(request, response)
                raise response
            raise web.HTTPForbidden(text="Je sessie is verlopen. Meld je opnieuw aan.")
        user, _ = found
        if request.method == "POST":
            if request.content_length is not None and request.content_length > MAX_FORM:
                raise web.HTTPRequestEntityTooLarge(
                    max_size=MAX_FORM, actual_size=request.content_length
                )
            form = await request.post()
            if not _same_origin(request) or not csrf_ok(raw, _text(form.get("csrf"))):
                raise web.HTTPForbidden(text="Dit formulier is verlopen. Laad de pagina opnieuw.")
        if not allowed(user.role, spec.permission):
            raise web.HTTPNotFound()
        request[USER] = user
        request[RAW] = raw
        return await handler(request)

    return guarded


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    if not request.path.startswith("/team"):
        return
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.path != "/team/static/team.css":
        response.headers["Cache-Control"] = "no-store"
    if request.app[TEAM_KEY].secure_cookies:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"


def prepare(app: web.Application, deps: TeamDeps) -> None:
    """The dashboard's part of the app (through the feature's ``registry.http``): its
    dependencies and the headers on every ``/team`` response."""
    app[TEAM_KEY] = deps
    app.on_response_prepare.append(_headers)


def guarded_routes() -> list[tuple[RouteSpec, Handler]]:
    """Every declared route with its view behind :func:`_guard` (registered by the feature)."""
    from bot.team import views

    return [(spec, _guard(spec, getattr(views, spec.view))) for spec in ROUTES]
