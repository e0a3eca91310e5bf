"""Two service processes on one PostgreSQL database never send the same reminder twice.

Each "process" has its own engine (its own connection pool), storage, conversation service,
appointment feature, recording channel and tick with its own worker name, as two ``opstap run``
on one database would. Many appointment reminders fall due at once; both ticks run
concurrently, round after round, until nothing is due. Every young person gets exactly one
reminder, whichever process sent it (``FOR UPDATE SKIP LOCKED`` in ``claim_due``).

A fresh database per test (``tests/storage/conftest.py``); an unreachable PostgreSQL skips the
test, but fails it when ``CI`` is set.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.appointments.context import apply_decisions
from bot.appointments.wiring import install_appointments
from bot.clock import FrozenClock
from bot.scheduler import ReminderTick
from bot.settings import load_settings
from flows.appointments import AppointmentId, Slot, book, propose
from flows.ids import CoachId, PartnershipId, PersonId
from storage.migrate import upgrade
from storage.routing_port import CoachRecord
from storage.sql import SqlStorage, open_storage
from tests.routing2.conftest import intake_answers, local, make_harness
from tests.storage.conftest import create_database, drop_database, postgres_server

__all__ = ["postgres_server"]

PEOPLE = 120
START = local(2026, 11, 24, 10, 2)
BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture
async def database(postgres_server: None) -> AsyncIterator[str]:
    name, url = await create_database("opstap_appointments")
    try:
        await upgrade(url)
        yield url
    finally:
        await drop_database(name)


async def seed(storage: SqlStorage, clock: FrozenClock) -> None:
    """A coach, and per young person an open case with an appointment booked two minutes
    ahead whose 1-minute reminder is due: the rows as the booking writes them."""
    now = clock.now()
    coach = CoachRecord(
        id=CoachId("lotte"),
        partnership=PartnershipId("boest-your-future"),
        first_name="Lotte",
        organisation="JAC Leuven",
        domains=("work",),
        languages=("nl",),
        capacity=999,
        role="coach",
        hours=None,
        active=True,
        person=PersonId("tg:5001"),
        current_case=None,
        last_assigned_at=None,
        created_at=now,
    )
    leads = (timedelta(minutes=1),)
    async with storage.transaction() as tx:
        await tx.coaches.add(coach)
        for number in range(PEOPLE):
            person = PersonId(f"tg:{10_000 + number}")
            case = await tx.cases.create(
                person, coach.partnership, "24062", "nl", intake_answers(), now
            )
            await tx.cases.accept(case.id, coach.id, now)
            slot = Slot(START, "phone")
            proposed, _ = propose(AppointmentId(0), case.id, person, coach.id, (slot,), now)
            stored = await tx.appointments.add(proposed, now)
            booked, decisions = book(stored, 0, now, leads, BRUSSELS)
            assert await tx.appointments.save(booked, expected=stored, now=now)
            # The same code the booking uses turns the plan into reminder rows.
            await apply_decisions(tx, booked, decisions)


@pytest.mark.postgres
async def test_two_processes_deliver_every_due_reminder_exactly_once(database: str) -> None:
    clock = FrozenClock(local(2026, 11, 24, 10, 0))
    settings = load_settings({"OPSTAP_REMINDER_LEADS": "1m"}, env_file=None)
    storages = [await open_storage(database), await open_storage(database)]
    try:
        await seed(storages[0], clock)
        processes = []
        for index, storage in enumerate(storages):
            base = make_harness(storage)
            base.clock.set(clock.now())
            side = install_appointments(
                base.service,
                settings,
                directory=base.side.handoff.directory,
                holidays=base.side.handoff.holidays,
            )
            tick = ReminderTick(
                storage,
                base.service,
                base.clock,
                worker=f"process-{index}",
                handlers=(base.side.handoff.on_reminder, *side.handlers),
            )
            processes.append((base, tick))
        for base, _ in processes:
            base.clock.set(local(2026, 11, 24, 10, 1))  # the reminders are due
        rounds = 0
        while True:
            sent = await asyncio.gather(*(tick.run_once() for _, tick in processes))
            rounds += 1
            if sum(sent) == 0:
                break
            assert rounds < 20
        delivered = Counter(
            person
            for base, _ in processes
            for person, message in base.channel.sent
            if message.text.startswith("Je hebt vandaag om 10:02 een afspraak.")
        )
        assert len(delivered) == PEOPLE
        assert set(delivered.values()) == {1}
        # Both processes did part of the work, and every row ended as sent.
        assert all(base.channel.sent for base, _ in processes)
        statuses: Counter[str] = Counter()
        async with storages[0].transaction() as tx:
            for number in range(PEOPLE):
                for row in await tx.reminders.all_of(PersonId(f"tg:{10_000 + number}")):
                    if ":lead:" in row.key:
                        statuses[row.status] += 1
        assert statuses == {"sent": PEOPLE}
    finally:
        for storage in storages:
            await storage.close()
