"""The appointment ports' contract, on memory, SQLite and PostgreSQL (the storage suite's
backends), and encryption at rest on SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from flows.appointments import AppointmentId, Slot, book, propose
from flows.ids import CaseId, CoachId, PersonId
from storage.appointments import APPOINTMENTS, RATINGS
from storage.crypto import Keyring
from storage.sql import SqlStorage, open_storage
from tests.storage.conftest import Backend, backend, postgres_database, postgres_server

__all__ = ["backend", "postgres_database", "postgres_server"]

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")
SAM, NOOR = PersonId("tg:1"), PersonId("tg:2")
LEADS = (timedelta(hours=24), timedelta(hours=2))


def options() -> tuple[Slot, ...]:
    return (
        Slot(NOW + timedelta(days=2), "office", "Onthaal Leuven, Voorbeeldstraat 1, 3000 Leuven"),
        Slot(NOW + timedelta(days=3), "phone"),
    )


async def test_appointments_round_trip_and_save_is_compare_and_set(backend: Backend) -> None:
    storage = await backend.open()
    proposed, _ = propose(AppointmentId(0), CaseId("7"), SAM, CoachId("lotte"), options(), NOW)
    async with storage.transaction() as tx:
        stored = await tx.appointments.add(proposed, NOW)
        other = await tx.appointments.add(replace(proposed, person=NOOR), NOW)
    assert stored.id != other.id
    assert stored == replace(proposed, id=stored.id)
    booked, _ = book(stored, 1, NOW, LEADS, BRUSSELS)
    async with storage.transaction() as tx:
        assert await tx.appointments.save(booked, expected=stored, now=NOW)
        # A second writer that read the proposed appointment loses.
        assert not await tx.appointments.save(booked, expected=stored, now=NOW)
        again = await tx.appointments.get(stored.id)
    assert again == booked and again.slot == options()[1]
    async with storage.transaction() as tx:
        assert [a.id for a in await tx.appointments.of_case(CaseId("7"))] == [stored.id, other.id]
        [record] = await tx.appointments.all_of(SAM)
        assert record.appointment == booked and record.created_at == NOW
        assert await tx.appointments.case_ids() == [CaseId("7")]
        assert await tx.appointments.erase(SAM) == 1
        assert await tx.appointments.erase_case(CaseId("7")) == 1
        assert await tx.appointments.get(stored.id) is None


async def test_ratings_and_reachability(backend: Backend) -> None:
    storage = await backend.open()
    async with storage.transaction() as tx:
        first = await tx.ratings.add(CaseId("7"), SAM, "intake", {"work": "1", "money": "2"}, NOW)
        later = await tx.ratings.add(
            CaseId("7"),
            SAM,
            "three_months",
            {"work": None, "money": None},
            NOW + timedelta(days=90),
        )
        await tx.ratings.set_ratings(later.id, {"work": "3", "money": None})
        got = await tx.ratings.get(later.id)
        assert got is not None and got.ratings == {"work": "3", "money": None}
        assert not got.complete
        assert [r.id for r in await tx.ratings.of_case(CaseId("7"))] == [first.id, later.id]
        assert [r.kind for r in await tx.ratings.all_of(SAM)] == ["intake", "three_months"]
        assert await tx.ratings.case_ids() == [CaseId("7")]
        assert await tx.ratings.erase_case(CaseId("7")) == 2
        assert await tx.reachability.mark_unreachable(SAM, NOW)
        assert not await tx.reachability.mark_unreachable(SAM, NOW + timedelta(hours=1))
        mark = await tx.reachability.get(SAM)
        assert mark is not None and mark.unreachable_since == NOW
        assert await tx.reachability.purge(NOW) == 0
        assert await tx.reachability.purge(NOW + timedelta(seconds=1)) == 1
        assert not await tx.reachability.mark_reachable(SAM)


async def test_places_and_ratings_are_encrypted_at_rest(backend: Backend) -> None:
    if backend.url is None:
        pytest.skip("memory storage keeps values, encryption is the SQL adapters' job")
    keyring = Keyring.parse(Keyring.generate("t1"))
    storage = await open_storage(backend.url, keyring)
    try:
        proposed, _ = propose(AppointmentId(0), CaseId("7"), SAM, CoachId("lotte"), options(), NOW)
        async with storage.transaction() as tx:
            stored = await tx.appointments.add(proposed, NOW)
            booked, _ = book(stored, 0, NOW, LEADS, BRUSSELS)
            await tx.appointments.save(booked, expected=stored, now=NOW)
            await tx.ratings.add(CaseId("7"), SAM, "intake", {"mental": "1"}, NOW)
        assert isinstance(storage, SqlStorage)
        async with storage.engine.connect() as conn:
            row = (await conn.execute(select(APPOINTMENTS))).mappings().one()
            rating = (await conn.execute(select(RATINGS))).mappings().one()
        for value in (row["options"], row["place"], rating["ratings"]):
            assert value.startswith("enc:v1:t1:")
        assert "Voorbeeldstraat" not in row["options"] and "mental" not in rating["ratings"]
        async with storage.transaction() as tx:
            again = await tx.appointments.get(stored.id)
        assert again == booked
    finally:
        await storage.close()
