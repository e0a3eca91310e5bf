"""Migration 0007_escalation widens the checks of ``cases`` and ``offers`` without touching a
row: on SQLite a rebuilt ``cases`` table would cascade-delete every offer and message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import make_engine
from storage.migrate import downgrade, upgrade
from tests.storage.conftest import create_database, drop_database

BEFORE = "0005_appointments"
NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
        return
    request.getfixturevalue("postgres_server")
    name, url = await create_database("opstap_escalation")
    try:
        yield url
    finally:
        await drop_database(name)


async def run(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    rows: list[tuple[object, ...]] = []
    try:
        async with engine.begin() as conn:
            for statement in statements:
                result = await conn.execute(text(statement), {"now": NOW})
                if result.returns_rows:
                    rows = [tuple(r) for r in result.all()]
    finally:
        await engine.dispose()
    return rows


CASE = (
    "INSERT INTO cases (id, person, partnership, language, status, intake, created_at,"
    " updated_at, reopened) VALUES (1, 'tg:1', 'p', 'nl', 'offered', '{}', :now, :now, 0)"
)
COACH = (
    "INSERT INTO coaches (id, partnership, first_name, organisation, domains, languages,"
    " capacity, role, active, created_at) VALUES ('c', 'p', 'C', 'O', '[]', '[]', 1, 'coach',"
    " true, :now)"
)
OFFER = (
    "INSERT INTO offers (id, case_id, coach_id, status, reasons, sent_at, deadline_at)"
    " VALUES (1, 1, 'c', 'open', '{}', :now, :now)"
)
MESSAGE = (
    "INSERT INTO relay_messages (id, case_id, direction, text, at, delivered)"
    " VALUES (1, 1, 'to_coach', 'x', :now, false)"
)


async def test_rows_survive_and_the_new_values_are_allowed(empty_url: str) -> None:
    await upgrade(empty_url, BEFORE)
    await run(empty_url, COACH, CASE, OFFER, MESSAGE)
    with pytest.raises(IntegrityError):
        await run(empty_url, "UPDATE cases SET status = 'escalated' WHERE id = 1")
    await upgrade(empty_url)
    assert await run(empty_url, "SELECT id, status FROM offers") == [(1, "open")]
    assert await run(empty_url, "SELECT id FROM relay_messages") == [(1,)]
    await run(
        empty_url,
        "UPDATE cases SET status = 'escalated', escalated_at = :now WHERE id = 1",
        "UPDATE cases SET outcome = 'not_reached' WHERE id = 1",
        "UPDATE cases SET outcome = 'ongoing' WHERE id = 1",
        "UPDATE offers SET status = 'withdrawn' WHERE id = 1",
    )
    # The checks still refuse what nobody declared.
    with pytest.raises(IntegrityError):
        await run(empty_url, "UPDATE cases SET status = 'lost' WHERE id = 1")
    with pytest.raises(IntegrityError):
        await run(empty_url, "UPDATE offers SET status = 'lost' WHERE id = 1")
    # Down again: the new values become their nearest old meaning, nothing is lost.
    await downgrade(empty_url, BEFORE)
    assert await run(empty_url, "SELECT status, outcome FROM cases") == [("waiting", "other")]
    assert await run(empty_url, "SELECT status FROM offers") == [("expired",)]
    assert await run(empty_url, "SELECT id FROM relay_messages") == [(1,)]
