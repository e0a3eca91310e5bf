"""Retention: the daily purge deletes what may no longer be kept and logs counts only."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.retention import policy_from, purge
from bot.runtime import build_runtime
from bot.settings import Settings, load_settings
from flows.ids import FlowId, PersonId, StepId
from flows.session import Session
from storage.help_keyboard_port import HELP_KEYBOARD_KEY
from storage.memory import MemoryStorage
from storage.migrate import upgrade
from storage.ports import ConsentRecord, RetentionPolicy, Storage, Transaction
from tests.privacy.conftest import CANARY

NOW = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)
ABANDONED = PersonId("tg:111111")
RECENT = PersonId("tg:222222")
CLOSED = PersonId("tg:333333")
DONE_RECENTLY = PersonId("tg:444444")


def session(person: PersonId, updated_at: datetime, *, done: bool = False) -> Session:
    base = Session(
        person=person,
        flow=FlowId("intake"),
        step=None if done else StepId("age"),
        language="nl",
        started_at=updated_at,
        updated_at=updated_at,
        answers={"own_words": CANARY},
    )
    return replace(base, status="done") if done else base


async def seed(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.sessions.save(session(ABANDONED, NOW - timedelta(days=31)), expected_version=None)
        await tx.sessions.save(session(RECENT, NOW - timedelta(days=29)), expected_version=None)
        await tx.sessions.save(
            session(CLOSED, NOW - timedelta(days=400), done=True), expected_version=None
        )
        await tx.sessions.save(
            session(DONE_RECENTLY, NOW - timedelta(days=300), done=True), expected_version=None
        )
        for person, at in ((ABANDONED, NOW - timedelta(days=400)), (RECENT, NOW)):
            await tx.consents.record(
                ConsentRecord(person, "sensitive_domains", True, "2026-11", "0" * 64, at)
            )
        await tx.privacy.record_access(
            CLOSED, "kortrijk", None, "received", NOW - timedelta(days=400)
        )
        await tx.privacy.record_access(
            DONE_RECENTLY, "gent", "c1", "viewed", NOW - timedelta(days=300)
        )
        await tx.updates.first_time("telegram", "1", NOW - timedelta(days=8))
        await tx.updates.first_time("telegram", "2", NOW - timedelta(days=6))
        await tx.privacy.add_count("2026-01", "privacy.erasures", 4)
        # The help button shown over 12 months ago, and lately.
        await tx[HELP_KEYBOARD_KEY].record({CLOSED: "nl"}, NOW - timedelta(days=400))
        await tx[HELP_KEYBOARD_KEY].record({RECENT: "nl"}, NOW)


async def persons_with_sessions(storage: Storage) -> set[PersonId]:
    found = set()
    async with storage.transaction() as tx:
        for person in (ABANDONED, RECENT, CLOSED, DONE_RECENTLY):
            if await tx.sessions.get(person) is not None:
                found.add(person)
    return found


async def test_the_purge_follows_the_policy(caplog: pytest.LogCaptureFixture) -> None:
    storage = MemoryStorage()
    await seed(storage)
    caplog.set_level(logging.DEBUG)
    counts = await purge(storage, NOW, RetentionPolicy())
    assert counts == {
        "session": 2,  # abandoned after 30 days; finished after 12 months
        "reminders": 0,
        "consents": 1,  # the abandoned person's, now that their session is gone
        "data_access": 1,
        "processed_updates": 1,
        "delivery": 0,  # pending updates and unsent messages stuck for a week
        "help_keyboard": 1,  # shown over 12 months ago (the hint may come once more)
    }
    assert await persons_with_sessions(storage) == {RECENT, DONE_RECENTLY}
    async with storage.transaction() as tx:
        assert await tx.consents.history(ABANDONED) == []
        assert len(await tx.consents.history(RECENT)) == 1
        assert await tx.privacy.accesses(CLOSED) == []
        assert len(await tx.privacy.accesses(DONE_RECENTLY)) == 1
        assert await tx.privacy.counts() == {("2026-01", "privacy.erasures"): 4}
    # The log counts, nothing more: no person, no answer.
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "session=2" in logged
    for person in (ABANDONED, RECENT, CLOSED, DONE_RECENTLY):
        assert person.split(":")[1] not in logged
    assert CANARY not in logged


async def test_the_periods_come_from_the_settings() -> None:
    settings = load_settings(
        {"OPSTAP_RETENTION_ABANDONED_DAYS": "10", "OPSTAP_RETENTION_CLOSED_MONTHS": "6"},
        env_file=None,
    )
    policy = policy_from(settings)
    assert policy.abandoned == timedelta(days=10)
    assert policy.closed_before(NOW) == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    defaults = policy_from(load_settings({}, env_file=None))
    assert defaults.abandoned == timedelta(days=30) and defaults.closed_months == 12
    storage = MemoryStorage()
    await seed(storage)
    await purge(storage, NOW, policy)
    assert await persons_with_sessions(storage) == set()


@pytest.mark.parametrize(
    ("name", "value"),
    [("OPSTAP_RETENTION_ABANDONED_DAYS", "0"), ("OPSTAP_RETENTION_CLOSED_MONTHS", "twelve")],
)
def test_bad_retention_settings_are_refused(name: str, value: str) -> None:
    from bot.settings import SettingsError

    with pytest.raises(SettingsError, match=f"^{name}: '{value}' is not a whole number"):
        load_settings({name: value}, env_file=None)


async def test_a_failing_part_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    storage = MemoryStorage()
    await seed(storage)

    class Broken:
        name = "broken"

        async def purge_expired(self, tx: Transaction, now: datetime, policy: object) -> int:
            raise RuntimeError(CANARY)

    storage.personal_data_parts.insert(0, Broken())  # type: ignore[arg-type]
    counts = await purge(storage, NOW, RetentionPolicy())
    assert "broken" not in counts and counts["session"] == 2
    assert "retention purge failed part=broken error=RuntimeError" in caplog.text
    assert CANARY not in caplog.text


async def test_the_runtime_purges_daily_at_half_past_three_in_brussels(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    settings = Settings(database_url=url, http_port=0)
    runtime = await build_runtime(settings)
    await runtime.start()
    try:
        scheduler = runtime._scheduler
        assert scheduler is not None
        job = scheduler.get_job("retention-purge")
        assert job is not None
        trigger = str(job.trigger)
        assert "hour='3'" in trigger and "minute='30'" in trigger
        assert str(job.trigger.timezone) == "Europe/Brussels"
        await runtime._retention()  # runs against the real storage without failing
    finally:
        await runtime.stop()
