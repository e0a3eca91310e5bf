"""The web chat's durable inbox (issue #16, deliverable 1, for the web channel): the page hears
200 only once the young person's words are stored; what a crash cut off is handled once after
the restart; a message the page sends again is handled once; with the database down the page
hears 503 and sends the words again, while a crisis phrase still gets the help lines at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FrozenClock
from bot.inbound import Inbound
from bot.safety.helplines import load_helplines
from bot.safety.lexicon import load_screener
from bot.safety.responder import HelpLineResponder
from bot.service import ConversationService
from bot.web.app import (
    CHANNEL_KEY,
    CLOCK_KEY,
    COOKIE,
    INBOX_KEY,
    SECURE_KEY,
    SERVICE_KEY,
    add_routes,
)
from bot.web.channel import WebChannel, person_for_token
from bot.web.inbox import CHANNEL, WebInbox, update_key
from flows.hello import FLOW as HELLO
from flows.session import JsonValue
from storage.memory import MemoryStorage
from storage.migrate import upgrade
from storage.ports import Storage
from storage.sql import open_storage
from tests.bot.fakes import id_translator
from tests.safety_net.conftest import CRISIS

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
TOKEN = "a-web-token-of-the-young-person-0001"
PRESS = {"kind": "button", "value": "mood=good", "label": "Goed", "ref": "press-ref-000001"}


@dataclass
class Page:
    """A page of the web chat against one process (its identity cookie given)."""

    client: TestClient[web.Request, web.Application]
    service: ConversationService
    inbox: WebInbox

    async def post(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(
            "/api/input", json={"after": 0, **payload}, cookies={COOKIE: TOKEN}
        )
        return response.status, await response.json()

    async def transcript(self) -> list[tuple[str, str]]:
        response = await self.client.get("/api/messages?after=0", cookies={COOKIE: TOKEN})
        return [(m["side"], m["text"]) for m in (await response.json())["messages"]]


@asynccontextmanager
async def page_on(storage: Storage, *, screen: bool = False) -> AsyncIterator[Page]:
    """One process of the service (its own channel, pipeline and inbox) over ``storage``."""
    clock = FrozenClock(T0)
    translator = id_translator()
    channel = WebChannel(storage, clock=clock)
    service = ConversationService(
        storage=storage,
        flows={HELLO.id: HELLO},
        entry=HELLO.id,
        channels={"web": channel},
        translator=translator,
        clock=clock,
        screener=load_screener() if screen else None,
        crisis=HelpLineResponder(translator, load_helplines()) if screen else None,
    )
    app = web.Application()
    app[SERVICE_KEY] = service
    app[CHANNEL_KEY] = channel
    app[CLOCK_KEY] = clock
    app[SECURE_KEY] = False
    add_routes(app)
    async with TestClient(TestServer(app)) as client:
        yield Page(client, service, app[INBOX_KEY])


@contextmanager
def database_down(storage: Storage) -> Iterator[None]:
    """Every transaction fails (as with the database down) until the block ends."""

    def refused() -> Any:
        raise ConnectionError("database down")

    storage.transaction = refused  # type: ignore[method-assign]
    try:
        yield
    finally:
        del storage.transaction


async def sqlite(tmp_path: Path) -> Storage:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    return await open_storage(url)


async def test_an_input_stored_and_then_cut_off_by_a_crash_is_handled_once_after_the_restart(
    tmp_path: Path,
) -> None:
    first = await sqlite(tmp_path)
    released = asyncio.Event()
    try:
        async with page_on(first) as before:
            await before.post({"kind": "open"})

            async def killed(inbound: Inbound) -> None:
                # The process dies here: stored, not handled (nothing after this runs).
                await released.wait()
                raise RuntimeError("killed")

            before.service.pipeline._dedupe_and_route = killed  # type: ignore[method-assign]
            # The page's request never gets its answer (the process is gone).
            sending = asyncio.create_task(before.post(PRESS))
            person = person_for_token(TOKEN)
            for _ in range(100):
                async with first.transaction() as tx:
                    pending = await tx.updates.pending(CHANNEL)
                if pending:
                    break
                await asyncio.sleep(0.02)
            assert [(p.update_key, p.person) for p in pending] == [
                (update_key(person, str(PRESS["ref"])), person)
            ]

            # The restart: a new process over the same database file.
            second = await sqlite(tmp_path)
            try:
                async with page_on(second) as after:
                    assert await after.inbox.replay(stale_only=False) == 1
                    for _ in range(100):
                        if ("bot", "hello.name.ask") in await after.transcript():
                            break
                        await asyncio.sleep(0.02)
                    # The page sends it again (its answer was lost): taken, not handled again.
                    status, _ = await after.post({**PRESS, "retry": True})
                    assert status == 200
                    # Also the next start finds nothing left.
                    assert await after.inbox.replay(stale_only=False) == 0
                    assert await after.transcript() == [
                        ("bot", "hello.greet"),
                        ("bot", "hello.mood.ask"),
                        ("me", "Goed"),
                        ("bot", "hello.name.ask"),
                    ]
                    async with second.transaction() as tx:
                        assert await tx.updates.pending(CHANNEL) == []
                        assert await tx.updates.seen(
                            CHANNEL, update_key(person, "press-ref-000001")
                        )
                    # The conversation moved on once: the next answer finishes it.
                    status, typed = await after.post(
                        {"kind": "text", "text": "Anna", "ref": "text-ref-0000001"}
                    )
                    assert status == 200
                    assert [m["text"] for m in typed["messages"]][-1] == "hello.thanks"
            finally:
                await second.close()
            released.set()
            await asyncio.gather(sending, return_exceptions=True)
    finally:
        await first.close()


async def test_a_message_the_page_sends_again_is_handled_once() -> None:
    async with page_on(MemoryStorage()) as page:
        await page.post({"kind": "open"})
        for again in (False, False, True, True):
            status, _ = await page.post({**PRESS, "retry": again})
            assert status == 200
        text = {"kind": "text", "text": "Anna", "ref": "text-ref-0000001"}
        for again in (False, True, False):
            status, _ = await page.post({**text, "retry": again})
            assert status == 200
        assert await page.transcript() == [
            ("bot", "hello.greet"),
            ("bot", "hello.mood.ask"),
            ("me", "Goed"),
            ("bot", "hello.name.ask"),
            ("me", "Anna"),
            ("bot", "hello.thanks"),
        ]


async def test_the_same_ref_of_two_people_is_two_messages() -> None:
    async with page_on(MemoryStorage()) as page:
        await page.post({"kind": "open"})
        await page.post(PRESS)
        other = {COOKIE: "another-web-token-of-someone-0002"}
        await page.client.post("/api/input", json={"kind": "open"}, cookies=other)
        answer = await page.client.post("/api/input", json={**PRESS, "after": 0}, cookies=other)
        assert answer.status == 200
        texts = [m["text"] for m in (await answer.json())["messages"]]
        assert texts[-2:] == ["Goed", "hello.name.ask"]


async def test_with_the_database_down_the_page_hears_503_and_its_retry_is_handled_once() -> None:
    storage = MemoryStorage()
    async with page_on(storage) as page:
        await page.post({"kind": "open"})
        with database_down(storage):
            response = await page.client.post(
                "/api/input", json={**PRESS, "after": 0}, cookies={COOKIE: TOKEN}
            )
            assert response.status == 503
            assert response.headers["Cache-Control"] == "no-store"
            # Nothing was handled: not even the words are shown as taken.
            assert (await response.json()) == {"stored": False}
            again = await page.client.post(
                "/api/input", json={**PRESS, "retry": True}, cookies={COOKIE: TOKEN}
            )
            assert again.status == 503
        # The page keeps sending it (chat.js); now the database takes it.
        status, _ = await page.post({**PRESS, "retry": True})
        assert status == 200
        status, _ = await page.post({**PRESS, "retry": True})
        assert status == 200
        assert await page.transcript() == [
            ("bot", "hello.greet"),
            ("bot", "hello.mood.ask"),
            ("me", "Goed"),
            ("bot", "hello.name.ask"),
        ]


async def test_a_crisis_phrase_gets_the_help_lines_with_the_database_down_and_once() -> None:
    storage = MemoryStorage()
    async with page_on(storage, screen=True) as page:
        await page.post({"kind": "open"})
        crisis = {"kind": "text", "text": CRISIS, "ref": "crisis-ref-00001"}
        with database_down(storage):
            status, answer = await page.post(crisis)
            # At once, from memory: the screen waits for nothing.
            assert status == 200
            assert any(m["crisis"] for m in answer["messages"])
        # Handled by the screen: recorded once the database is back, and a retry of the page
        # (its answer lost) does not get the help lines a second time.
        await page.service.relay.flush()
        status, again = await page.post({**crisis, "retry": True})
        assert status == 200
        shown = [m for m in again["messages"]]
        assert [m["text"] for m in shown].count(CRISIS) == 1
        assert sum(1 for m in shown if m["crisis"]) == 1


async def test_a_retry_of_an_input_left_pending_and_not_in_hand_is_handled_at_once() -> None:
    storage = MemoryStorage()
    async with page_on(storage) as page:
        await page.post({"kind": "open"})
        person = person_for_token(TOKEN)
        # Stored just before a crash of another worker: pending, nobody here works on it.
        stored: dict[str, JsonValue] = {"kind": "button", "value": "mood=good", "label": "Goed"}
        taking = page.inbox.take(person, str(PRESS["ref"]), stored, "nl")
        assert await taking.outcome() is True
        page.inbox.done(taking)
        # The page sends it again: handled now, so its next input comes after it.
        status, answer = await page.post({**PRESS, "retry": True})
        assert status == 200
        assert [m["text"] for m in answer["messages"]][-2:] == ["Goed", "hello.name.ask"]
        async with storage.transaction() as tx:
            assert await tx.updates.pending(CHANNEL) == []
        assert await page.inbox.replay(stale_only=False) == 0
