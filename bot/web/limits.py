"""Limits that keep the HTTP server standing: rate limits, a bound on new anonymous identities,
timeouts for slow and idle connections, 4xx for malformed requests, ``no-store`` on answers.

Rules:

* Token buckets in memory, per address (every request under ``/api/`` and ``/telegram/``), per
  person (the web chat's cookie, for ``POST /api/input``) and per address for new identities (a
  request without a valid cookie makes one, and its first input makes a session row). Over a
  limit: ``429`` with ``Retry-After``; nothing is stored. The tables of buckets are bounded
  (least recently used go first), so random cookies or addresses cannot grow memory.
* A request a channel authenticates (:data:`AUTHENTICATED_KEY`: the Telegram webhook with its
  secret token) is not limited per address: Telegram delivers from a few addresses and paces
  itself. A wrong or missing token is limited like any other request.
* The address is the peer's (``request.remote``); behind a reverse proxy that is the proxy, so
  the proxy must limit per client itself (README).
* A connection that has no request in progress for :data:`IDLE_SECONDS` (an idle keep-alive,
  or headers trickling in byte by byte) is closed; a request body must arrive within
  :data:`BODY_SECONDS`.
* A request the handlers cannot parse gets ``400``, never ``500`` with a traceback; any other
  failure is logged by type and answered ``503`` (try again), which is what Telegram needs.
* Every answer under ``/api/`` and ``/telegram/`` carries ``Cache-Control: no-store``.
* Nothing a person sent is logged; not even the address.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

from bot.logs import describe

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE = "opstap_web"
GUARDED_PREFIXES = ("/api/", "/telegram/")
IDLE_SECONDS = 15.0
BODY_SECONDS = 10.0
MAX_KEYS = 20_000
PARSE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    OverflowError,
    UnicodeError,
    LookupError,
)


@dataclass
class Rate:
    """``burst`` requests at once, refilled at ``per_second``."""

    burst: float
    per_second: float


# A school or a youth centre shares one address: the per-address limit is generous, the
# per-person one is what a typing person never reaches.
PER_ADDRESS = Rate(burst=300, per_second=5)
PER_PERSON = Rate(burst=40, per_second=1)
NEW_IDENTITIES = Rate(burst=60, per_second=0.1)


class Buckets:
    """Token buckets by key, bounded to ``max_keys`` (least recently used dropped)."""

    def __init__(
        self,
        rate: Rate,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """0 when allowed (one token taken); otherwise the seconds until one is available."""
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self.rate.burst, now))
        tokens = min(self.rate.burst, tokens + (now - last) * self.rate.per_second)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / self.rate.per_second
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass
class Limits:
    per_address: Buckets
    per_person: Buckets
    new_identities: Buckets

    @classmethod
    def default(cls) -> Limits:
        return cls(Buckets(PER_ADDRESS), Buckets(PER_PERSON), Buckets(NEW_IDENTITIES))


LIMITS_KEY = web.AppKey("limits", Limits)
Authenticated = Callable[[web.Request], bool]
# Requests a channel has authenticated (the Telegram webhook with its secret token): Telegram
# paces its own deliveries and sends them from a few addresses, so the per-address limit would
# cap a busy bot at 5 updates a second (docs/benchmarks.md). Everyone else stays limited.
AUTHENTICATED_KEY = web.AppKey("authenticated", list[Authenticated])


def _too_many(wait: float) -> web.HTTPTooManyRequests:
    return web.HTTPTooManyRequests(
        headers={"Retry-After": str(max(1, int(wait + 0.999))), "Cache-Control": "no-store"},
        text="Even rustig aan: probeer het zo opnieuw.",
    )


def _has_identity(request: web.Request) -> bool:
    token = request.cookies.get(COOKIE)
    return bool(token) and 20 <= len(token or "") <= 100


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    guarded = request.path.startswith(GUARDED_PREFIXES)
    if not guarded:
        return await handler(request)
    limits = request.app[LIMITS_KEY]
    address = request.remote or "?"
    if not any(check(request) for check in request.app.get(AUTHENTICATED_KEY, ())):
        wait = limits.per_address.take(address)
        if wait:
            raise _too_many(wait)
    if request.method == "POST" and request.path == "/api/input":
        if _has_identity(request):
            person = hashlib.sha256(request.cookies[COOKIE].encode()).hexdigest()[:24]
            wait = limits.per_person.take(person)
        else:
            # A new anonymous identity: its first input makes a session row.
            wait = limits.new_identities.take(address)
        if wait:
            raise _too_many(wait)
    try:
        if request.can_read_body:
            async with asyncio.timeout(BODY_SECONDS):
                await request.read()
        response = await handler(request)
    except web.HTTPException as error:
        error.headers["Cache-Control"] = "no-store"
        raise
    except TimeoutError:
        raise web.HTTPRequestTimeout(headers={"Cache-Control": "no-store"}) from None
    except PARSE_ERRORS as error:
        log.info("malformed request path=%s error=%s", request.path, type(error).__name__)
        raise web.HTTPBadRequest(headers={"Cache-Control": "no-store"}) from None
    except Exception as error:
        log.error("request failed path=%s error=%s", request.path, describe(error))
        raise web.HTTPServiceUnavailable(
            headers={"Retry-After": "5", "Cache-Control": "no-store"}
        ) from None
    if not response.prepared:
        response.headers["Cache-Control"] = "no-store"
    return response


def install_limits(app: web.Application, limits: Limits | None = None) -> None:
    app[LIMITS_KEY] = limits or Limits.default()
    app.middlewares.append(guard)


# --- slow and idle connections ---------------------------------------------------------------


class _GuardedHandler(RequestHandler):
    """aiohttp's handler, plus a watchdog: no request in progress for ``IDLE_SECONDS`` (idle
    keep-alive, or headers that trickle in) closes the connection."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._idle_since = self._loop.time()
        self._watch_handle: asyncio.TimerHandle | None = self._loop.call_later(1.0, self._watch)

    def _watch(self) -> None:
        now = self._loop.time()
        if self._request_in_progress or self._messages:
            self._idle_since = now
        elif now - self._idle_since > IDLE_SECONDS:
            self._watch_handle = None
            self.force_close()
            return
        self._watch_handle = self._loop.call_later(1.0, self._watch)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._watch_handle is not None:
            self._watch_handle.cancel()
            self._watch_handle = None
        super().connection_lost(exc)


class _GuardedServer(Server):
    __slots__ = ()

    def __call__(self) -> RequestHandler:
        return _GuardedHandler(self, loop=self._loop, **self._kwargs)


class GuardedAppRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections have the watchdog above."""

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        server.__class__ = _GuardedServer
        return server
