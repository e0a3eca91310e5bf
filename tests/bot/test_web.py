"""The web chat routes: identity cookie, JSON-only input, buttons, long poll, /healthz."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FrozenClock
from bot.service import ConversationService, OutgoingMessage
from bot.web.app import CHANNEL_KEY, CLOCK_KEY, COOKIE, SECURE_KEY, SERVICE_KEY, add_routes
from bot.web.channel import WebChannel, person_for_token
from flows.hello import FLOW as HELLO
from storage.memory import MemoryStorage
from tests.bot.fakes import id_translator

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def app_of(client: TestClient) -> web.Application:  # type: ignore[type-arg]
    server = client.server
    assert isinstance(server, TestServer)
    return server.app


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    channel = WebChannel()
    clock = FrozenClock(T0)
    service = ConversationService(
        storage=MemoryStorage(),
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
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_the_page_sets_an_identity_cookie_and_a_strict_csp(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/")
    assert response.status == 200
    assert "Content-Security-Policy" in response.headers
    morsel = response.cookies[COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Strict"
    body = await response.text()
    assert "safety.button" in body  # the help button is on the page from the start


async def test_open_then_button_then_text_completes_the_flow(client: TestClient) -> None:  # type: ignore[type-arg]
    opened = await (await client.post("/api/input", json={"kind": "open"})).json()
    assert [m["text"] for m in opened["messages"]] == ["hello.greet", "hello.mood.ask"]
    buttons = opened["messages"][-1]["buttons"]
    assert buttons[0][0] == {"label": "hello.mood.good", "value": "mood=good"}
    pressed = await (await client.post(
        "/api/input", json={"kind": "button", "value": "mood=good", "after": opened["last"]}
    )).json()
    assert [m["text"] for m in pressed["messages"]] == ["hello.name.ask"]
    typed = await (await client.post(
        "/api/input", json={"kind": "text", "text": "Anna", "after": pressed["last"]}
    )).json()
    assert [m["text"] for m in typed["messages"]] == ["hello.thanks"]


async def test_reopening_shows_the_current_question_again(client: TestClient) -> None:  # type: ignore[type-arg]
    await client.post("/api/input", json={"kind": "open"})
    await client.post("/api/input", json={"kind": "button", "value": "mood=good"})
    again = await (await client.post("/api/input", json={"kind": "open"})).json()
    assert [m["text"] for m in again["messages"]] == ["hello.name.ask"]


async def test_commands_typed_in_the_web_chat_work(client: TestClient) -> None:  # type: ignore[type-arg]
    opened = await client.post("/api/input", json={"kind": "open"})
    person = person_for_token(opened.cookies[COOKIE].value)
    await client.post("/api/input", json={"kind": "text", "text": "/stop"})
    async with app_of(client)[SERVICE_KEY].storage.transaction() as tx:
        session = await tx.sessions.get(person)
    assert session is not None and session.status == "paused"


async def test_form_posts_are_refused(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/input", data={"kind": "text", "text": "hoi"})
    assert response.status == 415


@pytest.mark.parametrize("payload", [[1, 2], {"kind": "nope"}, {"kind": "text", "text": 5},
                                     {"kind": "button", "value": "x" * 65}])
async def test_bad_input_is_a_400(client: TestClient, payload: object) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/input", json=payload)
    assert response.status == 400


async def test_long_poll_returns_a_message_delivered_later(client: TestClient) -> None:  # type: ignore[type-arg]
    first = await client.post("/api/input", json={"kind": "open"})
    token = first.cookies[COOKIE].value
    last = (await first.json())["last"]
    channel = app_of(client)[CHANNEL_KEY]
    poll = asyncio.create_task(client.get(f"/api/messages?after={last}&wait=5"))
    await asyncio.sleep(0.05)
    await channel.deliver(person_for_token(token), OutgoingMessage("later"))
    response = await poll
    assert [m["text"] for m in (await response.json())["messages"]] == ["later"]


async def test_healthz(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["database"] is True


async def test_the_page_speaks_the_browser_language(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/", headers={"Accept-Language": "ar,en;q=0.5"})
    body = await response.text()
    assert '<html lang="ar" dir="rtl">' in body
    assert "{{" not in body
