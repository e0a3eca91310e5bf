"""The HTTP server holds (issue #16, deliverable 8): rate limits per address and per person, a
bound on new anonymous identities, slow and idle connections closed, 4xx (never 500) for
malformed requests, also on the Telegram webhook, and ``no-store`` on every API answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import bot.web.limits as limits_module
from bot.clock import FrozenClock
from bot.service import ConversationService
from bot.telegram.app import SECRET_HEADER, WEBHOOK_PATH, TelegramFrontDoor
from bot.web.app import CHANNEL_KEY, CLOCK_KEY, COOKIE, SECURE_KEY, SERVICE_KEY, add_routes
from bot.web.channel import WebChannel
from bot.web.limits import Buckets, GuardedAppRunner, Limits, Rate, install_limits
from flows.hello import FLOW as HELLO
from storage.memory import MemoryStorage
from tests.bot.fakes import id_translator

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
SECRET = "s" * 32
Client = TestClient[web.Request, web.Application]


def make_app(limits: Limits | None = None) -> tuple[web.Application, MemoryStorage]:
    clock = FrozenClock(T0)
    storage = MemoryStorage()
    channel = WebChannel(storage, clock=clock)
    service = ConversationService(
        storage=storage,
        flows={HELLO.id: HELLO},
        entry=HELLO.id,
        channels={"web": channel},
        translator=id_translator(),
        clock=clock,
    )
    app = web.Application()
    app[SERVICE_KEY] = service
    app[CHANNEL_KEY] = channel
    app[CLOCK_KEY] = clock
    app[SECURE_KEY] = False
    add_routes(app)
    front = TelegramFrontDoor(
        token=TOKEN,
        api_url="http://127.0.0.1:9",
        service=service,
        clock=clock,
        webhook_url="https://example.org/telegram/webhook",
        webhook_secret=SECRET,
    )
    front.add_routes(app)
    install_limits(app, limits)
    return app, storage


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    app, _ = make_app()
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def test_a_bucket_refills_and_forgets_the_least_recent_keys() -> None:
    now = [0.0]
    buckets = Buckets(Rate(burst=2, per_second=1), max_keys=3, clock=lambda: now[0])
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") == pytest.approx(1.0)
    now[0] = 1.0
    assert buckets.take("a") == 0
    for key in "bcdef":
        buckets.take(key)
    assert len(buckets) == 3


async def test_a_flood_from_one_address_gets_429_not_more_work() -> None:
    limits = Limits(
        Buckets(Rate(burst=5, per_second=0.01)), Buckets(Rate(100, 100)), Buckets(Rate(100, 100))
    )
    app, _ = make_app(limits)
    async with TestClient(TestServer(app)) as client:
        statuses = [(await client.get("/api/messages")).status for _ in range(8)]
        assert statuses[:5] == [200] * 5
        assert statuses[5:] == [429] * 3
        refused = await client.get("/api/messages")
        assert refused.headers["Retry-After"].isdigit()
        # The page itself and /healthz are not API answers: not limited.
        assert (await client.get("/healthz")).status == 200


async def test_one_person_typing_too_fast_is_slowed_down() -> None:
    limits = Limits(
        Buckets(Rate(1000, 1000)), Buckets(Rate(burst=3, per_second=0.01)), Buckets(Rate(9, 9))
    )
    app, _ = make_app(limits)
    async with TestClient(TestServer(app)) as client:
        client.session.cookie_jar.update_cookies({COOKIE: "x" * 40})
        statuses = [
            (await client.post("/api/input", json={"kind": "text", "text": "hoi"})).status
            for _ in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429]


async def test_anonymous_visits_cannot_make_unbounded_sessions() -> None:
    limits = Limits(
        Buckets(Rate(1000, 1000)),
        Buckets(Rate(1000, 1000)),
        Buckets(Rate(burst=4, per_second=0.001)),
    )
    app, _ = make_app(limits)
    async with TestClient(TestServer(app)) as client:
        statuses = []
        for _ in range(20):
            client.session.cookie_jar.clear()
            response = await client.post("/api/input", json={"kind": "open"})
            statuses.append(response.status)
    assert statuses.count(200) == 4
    assert statuses.count(429) == 16


MALFORMED_WEB = [
    ("POST", "/api/input", b"\xff\xfe not utf-8", "application/json"),
    ("POST", "/api/input", b"[1, 2]", "application/json"),
    ("POST", "/api/input", b'{"kind": "text", "text": 5}', "application/json"),
    ("POST", "/api/input", b'{"kind": "button", "value": ""}', "application/json"),
    ("POST", "/api/input", b'{"kind": "text", "text": "a", "after": "x"}', "application/json"),
    ("POST", "/api/input", b"{", "application/json"),
    ("POST", "/api/input", b"kind=text", "application/x-www-form-urlencoded"),
    ("GET", "/api/messages?after=1e999", b"", ""),
    ("GET", "/api/messages?after=99999999999999999999999999&wait=nan", b"", ""),
    ("GET", "/api/messages?wait=-inf", b"", ""),
]


@pytest.mark.parametrize(("method", "path", "body", "content_type"), MALFORMED_WEB)
async def test_a_malformed_web_request_gets_a_4xx(
    client: Client, method: str, path: str, body: bytes, content_type: str
) -> None:
    client.session.cookie_jar.update_cookies({COOKIE: "y" * 40})
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.request(method, path, data=body, headers=headers)
    assert response.status < 500
    assert response.headers.get("Cache-Control") == "no-store"


NOT_UPDATES = [
    b"[]",
    b"null",
    b"42",
    b'"x"',
    b"{}",
    b'{"update_id": "x"}',
    b'{"update_id": 1, "message": 5}',
    b'{"update_id": 1, "message": {"chat": []}}',
    b'{"update_id": 1e400}',
    b"{",
    b"\xff",
]


@pytest.mark.parametrize("body", NOT_UPDATES)
async def test_json_that_is_not_an_update_gets_a_4xx_on_the_webhook(
    client: Client, body: bytes
) -> None:
    response = await client.post(
        WEBHOOK_PATH,
        data=body,
        headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
    )
    assert 400 <= response.status < 500, await response.text()


async def test_every_api_answer_is_no_store(client: Client) -> None:
    opened = await client.post("/api/input", json={"kind": "open"})
    assert opened.status == 200
    assert opened.headers["Cache-Control"] == "no-store"
    polled = await client.get("/api/messages?after=0")
    assert polled.headers["Cache-Control"] == "no-store"
    body = json.dumps({"update_id": 1})
    webhook = await client.post(WEBHOOK_PATH, data=body, headers={SECRET_HEADER: "wrong"})
    assert webhook.status == 401 and webhook.headers["Cache-Control"] == "no-store"


async def test_slow_and_idle_connections_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits_module, "IDLE_SECONDS", 1.5)
    app, _ = make_app()
    runner = GuardedAppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        # Headers that trickle in and never end (slowloris), and a connection that says nothing.
        slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", port)
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
        slow_writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for _ in range(3):
            await asyncio.sleep(0.5)
            slow_writer.write(b"X-a: b\r\n")
            await slow_writer.drain()
        closed = await asyncio.wait_for(
            asyncio.gather(slow_reader.read(), idle_reader.read()), timeout=6
        )
        assert list(closed) == [b"", b""]
        slow_writer.close()
        idle_writer.close()
    finally:
        await runner.cleanup()


async def test_telegrams_webhook_deliveries_are_not_limited_per_address_but_guesses_are() -> None:
    limits = Limits(
        Buckets(Rate(burst=3, per_second=0.01)), Buckets(Rate(100, 100)), Buckets(Rate(100, 100))
    )
    app, _ = make_app(limits)
    async with TestClient(TestServer(app)) as client:
        # Telegram (the right secret) delivers far more than the address's burst: none refused.
        for update_id in range(10):
            response = await client.post(
                WEBHOOK_PATH, json={"update_id": update_id}, headers={SECRET_HEADER: SECRET}
            )
            assert response.status == 200
        # Someone guessing the secret from the same address is limited as before.
        wrong = [
            (
                await client.post(WEBHOOK_PATH, json={"update_id": 1}, headers={SECRET_HEADER: "x"})
            ).status
            for _ in range(5)
        ]
        assert wrong == [401, 401, 401, 429, 429]
