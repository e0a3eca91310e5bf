"""/wis: after a confirmation, everything personal goes in one transaction.

The proof scans EVERY table of the schema (``SQLModel.metadata``) for the canary answer and the
chat id, on SQLite and on PostgreSQL, and finds neither; only an anonymous count is left.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.web.channel import WebChannel
from flows.ids import PersonId, ReminderKey
from flows.inputs import ButtonPressed, CommandReceived, TextReceived
from storage import tables as _registered  # noqa: F401  (all tables on SQLModel.metadata)
from storage.memory import MemoryStorage
from storage.migrate import upgrade
from storage.sql import SqlStorage, open_storage
from tests.privacy.conftest import ANNA, CANARY, CHAT_ID, T0, Harness, make_harness
from tests.storage.conftest import truncate_all

BEN = PersonId("tg:55501")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def sql_storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStorage]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
        await upgrade(url)
    else:
        url = request.getfixturevalue("postgres_database")
        await truncate_all(url)
    storage = await open_storage(url)  # no key: the scan must be able to see plaintext
    try:
        yield storage
    finally:
        await storage.close()


async def fill(harness: Harness, person: PersonId, name: str) -> None:
    """A whole conversation (with consent to a sensitive question) plus every kind of row."""
    service = harness.service
    await service.handle(person, CommandReceived("start", "", T0))
    await service.handle(person, ButtonPressed("mood=bad", T0))
    await service.handle(person, ButtonPressed("consent=yes", T0))
    await service.handle(person, ButtonPressed("domain_mental=2", T0))
    await service.handle(person, TextReceived(name, T0))
    async with harness.storage.transaction() as tx:
        await tx.reminders.schedule(person, ReminderKey("appointment.1"), T0, 1)
        await tx.reminders.schedule(person, ReminderKey("sensitive_domains.check"), T0, 1)
        await tx.privacy.record_access(person, "kortrijk", "coach-3", "received", T0)
        await tx.privacy.record_access(person, "kortrijk", "coach-3", "viewed", T0)


async def everything(storage: SqlStorage) -> list[tuple[str, str]]:
    """(table, value) for every value in every table of the schema."""
    found: list[tuple[str, str]] = []
    async with storage.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                found.extend((table.name, str(value)) for value in row)
    return found


def traces(values: list[tuple[str, str]], needle: str) -> list[str]:
    return sorted({table for table, value in values if needle in value})


async def test_erasure_leaves_no_trace_in_any_table(sql_storage: SqlStorage) -> None:
    harness = make_harness(sql_storage)
    await fill(harness, ANNA, CANARY)
    await fill(harness, BEN, "Ben")
    before = await everything(sql_storage)
    # The scan sees the data (no key, so plaintext), in many tables.
    assert traces(before, CANARY) == ["sessions"]
    assert set(traces(before, str(CHAT_ID))) >= {
        "sessions",
        "reminders",
        "consents",
        "data_access_log",
    }

    await harness.service.handle(ANNA, CommandReceived("wis", "", T0))
    ask = harness.channel.last(ANNA)
    assert ask.text == "privacy.erase.ask"
    assert [v for row in ask.buttons for _, v in row] == ["privacy=erase:yes", "privacy=erase:no"]
    assert traces(await everything(sql_storage), CANARY) == ["sessions"]  # nothing yet

    await harness.service.handle(ANNA, ButtonPressed("privacy=erase:yes", T0))

    after = await everything(sql_storage)
    assert traces(after, CANARY) == []
    assert traces(after, str(CHAT_ID)) == []
    # Only an anonymous count remains of Anna; Ben is untouched.
    async with sql_storage.transaction() as tx:
        assert await tx.privacy.counts() == {("2026-11", "privacy.erasures"): 1}
        ben = await tx.sessions.get(BEN)
        assert ben is not None and ben.answers["name"] == "Ben"
        assert len(await tx.consents.history(BEN)) == 1
        assert len(await tx.reminders.pending(BEN)) == 2
    # The coach was looked up before the erasure and told after it; the channel forgot Anna.
    assert harness.notifier.looked_up == [ANNA]
    assert harness.notifier.told == ["case-1"]
    assert harness.channel.forgotten == [ANNA]
    assert harness.channel.last(ANNA).text == "privacy.erase.done"


async def test_saying_no_erases_nothing() -> None:
    harness = make_harness(MemoryStorage())
    await fill(harness, ANNA, CANARY)
    await harness.service.handle(ANNA, CommandReceived("wis", "", T0))
    await harness.service.handle(ANNA, ButtonPressed("privacy=erase:no", T0))
    texts = harness.channel.texts(ANNA)
    assert texts[-1] == "privacy.erase.kept"
    async with harness.storage.transaction() as tx:
        assert await tx.sessions.get(ANNA) is not None
        assert await tx.privacy.counts() == {}
    assert harness.notifier.looked_up == []


async def test_after_an_erasure_the_person_starts_afresh() -> None:
    harness = make_harness(MemoryStorage())
    await fill(harness, ANNA, CANARY)
    await harness.service.handle(ANNA, ButtonPressed("privacy=erase:yes", T0))
    await harness.service.handle(ANNA, TextReceived("hoi", T0))
    assert harness.channel.texts(ANNA)[-1] == "hello.mood.ask"
    async with harness.storage.transaction() as tx:
        session = await tx.sessions.get(ANNA)
        assert session is not None and session.answers == {}
        assert await tx.consents.history(ANNA) == []


async def test_a_failing_coach_notice_does_not_undo_the_erasure() -> None:
    harness = make_harness(MemoryStorage())
    await fill(harness, ANNA, CANARY)

    async def broken() -> None:
        raise ConnectionError("coach channel down")

    async def case_erased(tx: object, person: PersonId):  # type: ignore[no-untyped-def]
        return broken

    harness.desk.notifier.case_erased = case_erased  # type: ignore[method-assign]
    await harness.service.handle(ANNA, ButtonPressed("privacy=erase:yes", T0))
    assert harness.channel.last(ANNA).text == "privacy.erase.done"
    async with harness.storage.transaction() as tx:
        assert await tx.sessions.get(ANNA) is None


async def test_a_failing_part_rolls_back_the_whole_erasure() -> None:
    storage = MemoryStorage()
    harness = make_harness(storage)
    await fill(harness, ANNA, CANARY)

    class Broken:
        name = "broken"

        async def export(self, tx: object, person: PersonId) -> None:
            return None

        async def erase(self, tx: object, person: PersonId) -> int:
            raise RuntimeError("disk full")

        async def purge_expired(self, tx: object, now: object, policy: object) -> int:
            return 0

        async def withdraw(self, tx: object, person: PersonId, category: str) -> int:
            return 0

    storage.personal_data_parts.append(Broken())
    await harness.service.handle(ANNA, ButtonPressed("privacy=erase:yes", T0))
    assert harness.channel.last(ANNA).text == "channel.error"
    async with storage.transaction() as tx:
        session = await tx.sessions.get(ANNA)
        assert session is not None and session.answers["name"] == CANARY
        assert len(await tx.consents.history(ANNA)) == 1
        assert await tx.privacy.counts() == {}
    assert harness.notifier.told == []


async def test_the_web_channel_forgets_its_transcript_and_files() -> None:
    storage = MemoryStorage()
    channel = WebChannel(storage)
    person = PersonId("web:anna")
    from bot.service import OutgoingMessage

    await channel.deliver(person, OutgoingMessage(CANARY))
    await channel.deliver_document(person, "export.json", CANARY.encode(), "caption")
    before = await channel.read(person, 0)
    download = before.entries[-1].body["download"]
    assert isinstance(download, list) and isinstance(download[0], str)
    async with storage.transaction() as tx:
        for part in storage.personal_data_parts:
            await part.erase(tx, person)
    channel.forget(person)
    assert (await channel.read(person, 0)).entries == []
    assert channel.take_download(download[0].rsplit("/", 1)[1], person) is None
    # A message after the erasure gets a higher id than any before: the open page sees its old
    # ids gone (below "first") and clears its screen.
    await channel.deliver(person, OutgoingMessage("privacy.erase.done"))
    after = await channel.read(person, 0)
    assert [e.body["text"] for e in after.entries] == ["privacy.erase.done"]
    assert before.last is not None and after.first is not None and after.first > before.last
