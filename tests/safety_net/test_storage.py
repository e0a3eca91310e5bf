"""The SafetyEventRepository contract, on memory storage and on a migrated SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from flows.ids import CaseId, PersonId
from storage.crypto import Keyring, is_encrypted
from storage.memory import MemoryStorage
from storage.migrate import upgrade
from storage.ports import RetentionPolicy, Storage
from storage.safety import SafetyEventPart
from storage.sql import open_storage

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ANNA = PersonId("tg:1")
BEN = PersonId("web:ben")
COACH = PersonId("tg:99")


@pytest.fixture(params=["memory", "sqlite"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    sql = await open_storage(url)
    try:
        yield sql
    finally:
        await sql.close()


async def test_one_open_event_per_person_a_new_flag_updates_it(storage: Storage) -> None:
    async with storage.transaction() as tx:
        first, opened = await tx.safety.open_or_get(ANNA, "suicide", T0)
        assert opened and first.flags == 1 and first.case_id is None
        again, opened_again = await tx.safety.open_or_get(
            ANNA, "self_harm", T0 + timedelta(minutes=5), case_id=CaseId("7")
        )
    assert not opened_again
    assert again.id == first.id
    assert (again.category, again.flags, again.case_id) == ("self_harm", 2, "7")
    assert again.categories == ("suicide", "self_harm")
    assert again.opened_at == T0 and again.last_flag_at == T0 + timedelta(minutes=5)
    async with storage.transaction() as tx:
        assert await tx.safety.is_open(ANNA)
        assert not await tx.safety.is_open(BEN)
        current = await tx.safety.current(ANNA)
        assert current == again


async def test_acknowledge_keeps_the_first_and_close_ends_it(storage: Storage) -> None:
    async with storage.transaction() as tx:
        event, _ = await tx.safety.open_or_get(ANNA, "suicide", T0)
        acked = await tx.safety.acknowledge(event.id, COACH, T0 + timedelta(minutes=1))
        second = await tx.safety.acknowledge(event.id, PersonId("tg:5"), T0 + timedelta(minutes=2))
        assert acked is not None and second is not None
        assert second.acknowledged_by == COACH
        assert second.acknowledged_at == T0 + timedelta(minutes=1)
        closed = await tx.safety.close(event.id, COACH, T0 + timedelta(hours=1))
        assert closed is not None and not closed.is_open and closed.closed_by == COACH
        # Closing twice changes nothing.
        again = await tx.safety.close(event.id, PersonId("tg:5"), T0 + timedelta(hours=2))
        assert again == closed
        assert await tx.safety.current(ANNA) is None
        # A flag after closing opens a new event.
        fresh, opened = await tx.safety.open_or_get(ANNA, "abuse_violence", T0 + timedelta(days=1))
        assert opened and fresh.id != event.id
        assert [e.id for e in await tx.safety.of(ANNA)] == [event.id, fresh.id]
        assert await tx.safety.get(12345) is None
        assert await tx.safety.acknowledge(12345, COACH, T0) is None


async def test_close_without_acknowledgement_counts_as_taking_it_up(storage: Storage) -> None:
    async with storage.transaction() as tx:
        event, _ = await tx.safety.open_or_get(ANNA, "suicide", T0)
        await tx.safety.mark_escalated(event.id, T0 + timedelta(minutes=15))
        closed = await tx.safety.close(event.id, COACH, T0 + timedelta(minutes=20))
    assert closed is not None
    assert closed.acknowledged_by == COACH and closed.escalated_at == T0 + timedelta(minutes=15)


async def test_open_events_erase_and_purge(storage: Storage) -> None:
    async with storage.transaction() as tx:
        old, _ = await tx.safety.open_or_get(ANNA, "suicide", T0)
        await tx.safety.close(old.id, COACH, T0 + timedelta(hours=1))
        await tx.safety.open_or_get(ANNA, "self_harm", T0 + timedelta(days=400))
        await tx.safety.open_or_get(BEN, "acute_danger", T0)
        assert [e.person for e in await tx.safety.open_events()] == [BEN, ANNA]
        # Closed long ago: purged; open ones never.
        assert await tx.safety.purge_closed(T0 + timedelta(days=300)) == 1
        assert len(await tx.safety.of(ANNA)) == 1
        assert await tx.safety.erase(ANNA) == 1
        assert await tx.safety.of(ANNA) == []
        assert len(await tx.safety.of(BEN)) == 1


async def test_no_text_can_be_stored_as_a_category(storage: Storage) -> None:
    with pytest.raises(ValueError, match="short code"):
        async with storage.transaction() as tx:
            await tx.safety.open_or_get(ANNA, "ik wil dood", T0)


async def test_a_rolled_back_transaction_leaves_no_event(storage: Storage) -> None:
    with pytest.raises(RuntimeError):
        async with storage.transaction() as tx:
            await tx.safety.open_or_get(ANNA, "suicide", T0)
            raise RuntimeError("boom")
    async with storage.transaction() as tx:
        assert await tx.safety.of(ANNA) == []


async def test_two_concurrent_flags_open_one_event(storage: Storage) -> None:
    async def open_one() -> None:
        async with storage.transaction() as tx:
            await tx.safety.open_or_get(ANNA, "suicide", T0)

    await asyncio.gather(open_one(), open_one(), open_one())
    async with storage.transaction() as tx:
        [event] = await tx.safety.of(ANNA)
    assert event.flags == 3


async def test_the_personal_data_part_exports_erases_and_purges(storage: Storage) -> None:
    part = SafetyEventPart()
    async with storage.transaction() as tx:
        event, _ = await tx.safety.open_or_get(ANNA, "suicide", T0, case_id=CaseId("3"))
        await tx.safety.acknowledge(event.id, COACH, T0 + timedelta(minutes=2))
        exported = await part.export(tx, ANNA)
        assert exported == [
            {
                "category": "suicide",
                "categories": ["suicide"],
                "opened_at": T0.isoformat(),
                "last_flag_at": T0.isoformat(),
                "flags": 1,
                "case": "3",
                "acknowledged_at": (T0 + timedelta(minutes=2)).isoformat(),
                "escalated_at": None,
                "closed_at": None,
            }
        ]
        # The coach's chat is the coach's data, not in the young person's export.
        assert "tg:99" not in repr(exported)
        assert await part.withdraw(tx, ANNA, "sensitive_domains") == 0
        policy = RetentionPolicy()
        assert await part.purge_expired(tx, T0 + timedelta(days=1000), policy) == 0
        await tx.safety.close(event.id, COACH, T0 + timedelta(hours=1))
        assert await part.purge_expired(tx, T0 + timedelta(days=1000), policy) == 1
        await tx.safety.open_or_get(ANNA, "suicide", T0)
        assert await part.erase(tx, ANNA) == 1


async def test_the_category_is_encrypted_at_rest(tmp_path: Path) -> None:
    keyring = Keyring.parse(Keyring.generate("k1"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'sealed.db'}"
    await upgrade(url)
    for storage in (MemoryStorage(keyring=keyring), await open_storage(url, keyring)):
        try:
            async with storage.transaction() as tx:
                event, _ = await tx.safety.open_or_get(ANNA, "suicide", T0)
                await tx.safety.open_or_get(ANNA, "self_harm", T0)
                assert event.category == "suicide"
                [again] = await tx.safety.of(ANNA)
                assert again.category == "self_harm"
        finally:
            await storage.close()
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            raw = (await conn.execute(text("SELECT category FROM safety_events"))).scalar_one()
            kept = (await conn.execute(text("SELECT categories FROM safety_events"))).scalar_one()
    finally:
        await engine.dispose()
    assert "self_harm" not in raw and is_encrypted(raw)
    assert "suicide" not in kept and is_encrypted(kept)


async def test_the_event_keeps_every_category_once_in_order(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.safety.open_or_get(ANNA, "suicide", T0)
        await tx.safety.open_or_get(ANNA, "overdose", T0, flagged="overdose")
        await tx.safety.open_or_get(ANNA, "overdose", T0, flagged="suicide")
        event, _ = await tx.safety.open_or_get(ANNA, "overdose", T0, flagged="abuse_violence")
    assert event.category == "overdose"
    assert event.categories == ("suicide", "overdose", "abuse_violence")
    async with storage.transaction() as tx:
        with pytest.raises(ValueError):
            await tx.safety.open_or_get(ANNA, "suicide", T0, flagged="ik wil dood")
