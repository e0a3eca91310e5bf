"""The web channel: delivering is appending to the transcript, in order, and nothing is lost
when the database fails (the page gets it from memory; a reminder goes back to its queue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from bot.clock import FrozenClock
from bot.delivery import strict_delivery
from bot.service import OutgoingMessage
from bot.web.channel import WebChannel
from flows.ids import PersonId
from storage.memory import MemoryStorage
from storage.ports import Transaction
from storage.web_transcript_port import WEB_TRANSCRIPT_KEY

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
ANNA = PersonId("web:anna")


class FlakyStorage(MemoryStorage):
    """Memory storage whose transactions fail while ``broken`` is set."""

    broken = False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        if self.broken:
            raise ConnectionError("database down")
        async with super().transaction() as tx:
            yield tx

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        if self.broken:
            raise ConnectionError("database down")
        async with super().reading() as tx:
            yield tx


async def test_the_young_persons_words_are_stored_before_the_reply() -> None:
    storage = MemoryStorage()
    channel = WebChannel(storage, clock=FrozenClock(T0))
    channel.received(ANNA, "page-ref-0001", {"text": "ik zoek werk"})
    await channel.deliver(ANNA, OutgoingMessage("Oké", ((("Ja", "x=yes"),),), prompt=True))
    page = await channel.read(ANNA, 0)
    assert [(e.side, e.body["text"]) for e in page.entries] == [
        ("young", "ik zoek werk"),
        ("bot", "Oké"),
    ]
    assert page.entries[0].ref == "page-ref-0001"
    assert page.entries[1].body["buttons"] == [[["Ja", "x=yes"]]]
    # An input nothing answered is stored by flush.
    channel.received(ANNA, "page-ref-0002", {"text": "hallo?"})
    await channel.flush(ANNA)
    assert (await channel.read(ANNA, page.last or 0)).entries[0].body["text"] == "hallo?"


async def test_a_failing_database_keeps_the_messages_in_memory_until_it_is_back() -> None:
    storage = FlakyStorage()
    channel = WebChannel(storage, clock=FrozenClock(T0))
    await channel.deliver(ANNA, OutgoingMessage("eerst"))
    storage.broken = True
    channel.received(ANNA, "page-ref-crisis", {"text": "ik wil dood"})
    await channel.deliver(ANNA, OutgoingMessage("Bel 1813", crisis=True))
    down = await channel.read(ANNA, 0)
    # The page still gets the crisis reply, without an id and without bounds.
    assert [(e.id, e.body["text"]) for e in down.entries] == [
        (None, "ik wil dood"),
        (None, "Bel 1813"),
    ]
    assert down.last is None
    storage.broken = False
    await channel.deliver(ANNA, OutgoingMessage("daarna"))
    up = await channel.read(ANNA, 0)
    assert [e.body["text"] for e in up.entries] == ["eerst", "ik wil dood", "Bel 1813", "daarna"]
    assert all(e.id is not None for e in up.entries)
    # The refs did not change: the page that showed them from memory shows them once.
    assert {e.ref for e in down.entries} <= {e.ref for e in up.entries}


async def test_a_reminder_is_not_taken_while_the_database_fails() -> None:
    storage = FlakyStorage()
    channel = WebChannel(storage, clock=FrozenClock(T0))
    storage.broken = True
    with strict_delivery(), pytest.raises(ConnectionError):
        await channel.deliver(ANNA, OutgoingMessage("herinnering"))
    storage.broken = False
    # Not kept in memory either: the reminder queue sends it again.
    assert (await channel.read(ANNA, 0)).entries == []


async def test_a_long_poll_wakes_up_for_a_delivery() -> None:
    import asyncio

    storage = MemoryStorage()
    channel = WebChannel(storage, clock=FrozenClock(T0))
    waiting = asyncio.create_task(channel.wait(ANNA, 0, 5.0))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await channel.deliver(ANNA, OutgoingMessage("later"))
    page = await asyncio.wait_for(waiting, 1.0)
    assert [e.body["text"] for e in page.entries] == ["later"]
    async with storage.transaction() as tx:
        assert (await tx[WEB_TRANSCRIPT_KEY].after(ANNA, 0))[0].seen_at == T0
