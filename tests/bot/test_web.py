"""The web chat routes: identity cookie, JSON-only input, buttons, long poll, /healthz."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FrozenClock
from bot.service import ConversationService, OutgoingMessage
from bot.web.app import CHANNEL_KEY, CLOCK_KEY, COOKIE, SECURE_KEY, SERVICE_KEY, add_routes
from bot.web.channel import WebChannel, person_for_token
from flows.hello import FLOW as HELLO
from flows.ids import PersonId
from storage.memory import MemoryStorage
from storage.web_transcript_port import WEB_TRANSCRIPT_KEY
from tests.bot.fakes import id_translator

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def app_of(client: TestClient) -> web.Application:  # type: ignore[type-arg]
    server = client.server
    assert isinstance(server, TestServer)
    return server.app


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
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


def bot_texts(answer: dict[str, Any]) -> list[str]:
    return [m["text"] for m in answer["messages"] if m["side"] == "bot"]


async def test_open_then_button_then_text_completes_the_flow(client: TestClient) -> None:  # type: ignore[type-arg]
    opened = await (await client.post("/api/input", json={"kind": "open"})).json()
    assert bot_texts(opened) == ["hello.greet", "hello.mood.ask"]
    buttons = opened["messages"][-1]["buttons"]
    assert buttons[0][0] == {"label": "hello.mood.good", "value": "mood=good"}
    pressed = await (
        await client.post(
            "/api/input",
            json={
                "kind": "button",
                "value": "mood=good",
                "label": "Goed",
                "after": opened["last"],
                "ref": "press-ref-0001",
            },
        )
    ).json()
    # The young person's own press comes back first, with the ref the page gave it.
    assert [(m["side"], m["text"]) for m in pressed["messages"]] == [
        ("me", "Goed"),
        ("bot", "hello.name.ask"),
    ]
    assert pressed["messages"][0]["ref"] == "press-ref-0001"
    typed = await (
        await client.post(
            "/api/input", json={"kind": "text", "text": "Anna", "after": pressed["last"]}
        )
    ).json()
    assert [(m["side"], m["text"]) for m in typed["messages"]] == [
        ("me", "Anna"),
        ("bot", "hello.thanks"),
    ]
    ids = [m["id"] for a in (opened, pressed, typed) for m in a["messages"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_a_reload_gets_everything_and_the_question_once(client: TestClient) -> None:  # type: ignore[type-arg]
    await client.post("/api/input", json={"kind": "open"})
    await client.post("/api/input", json={"kind": "button", "value": "mood=good", "label": "Goed"})
    # A reload: the page opens again from nothing.
    again = await (await client.post("/api/input", json={"kind": "open", "after": 0})).json()
    assert [(m["side"], m["text"]) for m in again["messages"]] == [
        ("bot", "hello.greet"),
        ("bot", "hello.mood.ask"),
        ("me", "Goed"),
        ("bot", "hello.name.ask"),
    ]


async def test_an_input_sent_again_after_a_lost_answer_is_taken_once(client: TestClient) -> None:  # type: ignore[type-arg]
    await client.post("/api/input", json={"kind": "open"})
    payload = {"kind": "button", "value": "mood=good", "label": "Goed", "ref": "retry-ref-001"}
    await client.post("/api/input", json=payload)
    again = await (
        await client.post("/api/input", json={**payload, "retry": True, "after": 0})
    ).json()
    assert [m["text"] for m in again["messages"]].count("Goed") == 1
    assert bot_texts(again).count("hello.name.ask") == 1


async def test_every_answer_with_a_conversation_is_no_store(client: TestClient) -> None:  # type: ignore[type-arg]
    page = await client.get("/")
    assert page.headers["Cache-Control"] == "no-store"
    posted = await client.post("/api/input", json={"kind": "open"})
    assert posted.headers["Cache-Control"] == "no-store"
    polled = await client.get("/api/messages?after=0")
    assert polled.headers["Cache-Control"] == "no-store"


async def test_the_page_follows_the_conversation_language(client: TestClient) -> None:  # type: ignore[type-arg]
    opened = await (await client.post("/api/input", json={"kind": "open"})).json()
    assert (opened["lang"], opened["dir"]) == ("nl", "ltr")
    await client.post("/api/input", json={"kind": "text", "text": "/taal"})
    switched = await (
        await client.post(
            "/api/input", json={"kind": "button", "value": "_language=ar", "label": "العربية"}
        )
    ).json()
    assert (switched["lang"], switched["dir"]) == ("ar", "rtl")
    assert set(switched["labels"]) >= {"help", "placeholder", "send", "exit", "log", "input"}
    page = await (await client.get("/")).text()
    assert '<html lang="ar" dir="rtl">' in page


async def test_a_coach_message_waits_in_the_transcript_until_read(client: TestClient) -> None:  # type: ignore[type-arg]
    opened = await client.post("/api/input", json={"kind": "open"})
    person = person_for_token(opened.cookies[COOKIE].value)
    last = (await opened.json())["last"]
    # Delivered while no page is open, by "another process": only the database has it.
    app = client.app
    other = WebChannel(app[SERVICE_KEY].storage)
    await other.deliver(person, OutgoingMessage("routing.from_coach"))
    found = await (await client.get(f"/api/messages?after={last}")).json()
    assert bot_texts(found) == ["routing.from_coach"]
    async with app[SERVICE_KEY].storage.transaction() as tx:
        stored = await tx[WEB_TRANSCRIPT_KEY].after(person, last)
    assert stored[0].seen_at is not None


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


@pytest.mark.parametrize(
    "payload",
    [[1, 2], {"kind": "nope"}, {"kind": "text", "text": 5}, {"kind": "button", "value": "x" * 65}],
)
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
    assert response.headers["Cache-Control"] == "no-store"


async def test_healthz(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["database"] is True


async def test_the_page_speaks_the_browser_language(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/", headers={"Accept-Language": "ar,en;q=0.5"})
    body = await response.text()
    assert '<html lang="ar" dir="rtl">' in body
    assert "{{" not in body


async def test_the_web_gets_its_own_wording_of_a_text() -> None:
    storage = MemoryStorage()
    clock = FrozenClock(T0)
    channel = WebChannel(storage, clock=clock)
    service = ConversationService(
        storage=storage,
        flows={HELLO.id: HELLO},
        entry=HELLO.id,
        channels={"web": channel},
        translator=id_translator(entries={"web.hello.greet": "Hallo van de webchat"}),
        clock=clock,
    )
    person = PersonId("web:anna")
    await service.open(person)
    texts = [e.body["text"] for e in (await channel.read(person, 0)).entries]
    assert texts == ["Hallo van de webchat", "hello.mood.ask"]
    # Other channels keep the plain text.
    assert service.translator_for(PersonId("tg:1")).lookup("hello.greet", "nl") == "hello.greet"
