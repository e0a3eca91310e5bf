"""Every timestamp comes from the injected clock: the bookkeeping columns of the reminders
(``created_at``, ``updated_at``) follow the clock handed to ``open_storage``, not the wall."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from flows.ids import PersonId, ReminderKey
from storage.migrate import upgrade
from storage.sql import open_storage
from storage.team_sql import SqlTeamStore

LONG_AGO = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


async def test_reminder_bookkeeping_uses_the_injected_clock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'clock.db'}"
    await upgrade(url)
    storage = await open_storage(url, now=lambda: LONG_AGO)
    person = PersonId("tg:1")
    try:
        async with storage.transaction() as tx:
            await tx.reminders.schedule(person, ReminderKey("nudge.1"), LONG_AGO, 1)
            await tx.reminders.cancel(person, "nudge.")
        async with storage.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT created_at, updated_at FROM reminders"))).all()
    finally:
        await storage.close()
    assert rows, "no reminder row"
    for created, updated in rows:
        assert str(created).startswith("2001-02-03 04:05:06")
        assert str(updated).startswith("2001-02-03 04:05:06")


async def test_the_team_dashboards_transactions_use_the_injected_clock_too(tmp_path: Path) -> None:
    # The dashboard's store once opened its own transactions without the storage's clock, so a
    # reminder scheduled from the dashboard was stamped by the wall clock.
    url = f"sqlite+aiosqlite:///{tmp_path / 'team-clock.db'}"
    await upgrade(url)
    storage = await open_storage(url, now=lambda: LONG_AGO)
    try:
        async with SqlTeamStore(storage).transaction() as t:
            await t.core.reminders.schedule(PersonId("tg:2"), ReminderKey("x.1"), LONG_AGO, 1)
        async with storage.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT created_at, updated_at FROM reminders"))).all()
    finally:
        await storage.close()
    assert rows, "no reminder row"
    assert all(str(value).startswith("2001-02-03 04:05:06") for row in rows for value in row)
