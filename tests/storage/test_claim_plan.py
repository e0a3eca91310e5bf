"""``claim_due`` on SQLite reads due reminders in the order of ``ix_reminders_status_due_at``.

An ORDER BY the index cannot serve makes SQLite sort every due row before it takes the first
fifty (with 10,000 due that costs a tick tens of milliseconds, each batch again). The plan of
the statements ``claim_due`` really runs is asked from SQLite itself: no timing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from flows.ids import PersonId, ReminderKey
from storage.migrate import upgrade
from storage.sql import open_storage

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def test_claim_due_selects_in_index_order_without_sorting(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'plan.db'}"
    await upgrade(url)
    storage = await open_storage(url)
    selects: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM reminders" in statement:
            selects.append((statement, parameters))

    event.listen(storage.engine.sync_engine, "before_cursor_execute", remember)
    try:
        async with storage.transaction() as tx:
            for n in range(30):
                await tx.reminders.schedule(
                    PersonId(f"tg:{n}"), ReminderKey("nudge"), NOW - timedelta(minutes=n), 1
                )
        async with storage.transaction() as tx:
            claimed = await tx.reminders.claim_due(
                NOW, worker="w", limit=10, prefixes=("tg:", "web:")
            )
        assert [r.person for r in claimed] == [f"tg:{n}" for n in range(29, 19, -1)]
        event.remove(storage.engine.sync_engine, "before_cursor_execute", remember)
        # Both kinds of claimable rows (expired claims, then pending ones) were selected.
        assert len(selects) == 2
        async with storage.engine.connect() as conn:
            for statement, parameters in selects:
                rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = " | ".join(str(row[-1]) for row in rows)
                assert "USING INDEX ix_reminders_status_due_at" in plan, plan
                assert "TEMP B-TREE" not in plan, plan
    finally:
        await storage.close()
