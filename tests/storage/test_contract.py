"""The storage contract (storage/ports.py), run against memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flows.ids import FlowId, PersonId, ReminderKey, StepId
from flows.session import Session
from storage.ports import ReminderRecord, Storage, VersionConflict
from tests.storage.conftest import Backend

T0 = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")
ANNA = PersonId("tg:1001")
BEN = PersonId("web:ben")


def session(person: PersonId = ANNA, version: int = 0, **changes: Any) -> Session:
    base = Session(
        person=person,
        flow=FlowId("intake"),
        step=StepId("mood"),
        language="nl",
        started_at=T0,
        updated_at=T0,
        version=version,
    )
    return replace(base, **changes)


def key(name: str) -> ReminderKey:
    return ReminderKey(name)


async def get(storage: Storage, person: PersonId) -> Session | None:
    async with storage.transaction() as tx:
        return await tx.sessions.get(person)


async def save(storage: Storage, value: Session, expected_version: int | None) -> None:
    async with storage.transaction() as tx:
        await tx.sessions.save(value, expected_version=expected_version)


async def schedule(
    storage: Storage, name: str, due_at: datetime, person: PersonId = ANNA, version: int = 1
) -> int:
    async with storage.transaction() as tx:
        return await tx.reminders.schedule(person, key(name), due_at, version)


async def pending(storage: Storage, person: PersonId = ANNA) -> list[ReminderRecord]:
    async with storage.transaction() as tx:
        return await tx.reminders.pending(person)


async def claim(
    storage: Storage,
    now: datetime,
    worker: str = "w1",
    limit: int = 50,
    lease: timedelta = timedelta(minutes=5),
) -> list[ReminderRecord]:
    async with storage.transaction() as tx:
        return await tx.reminders.claim_due(now, worker=worker, limit=limit, lease=lease)


# --- sessions ------------------------------------------------------------------------------


async def test_a_session_comes_back_with_every_field(storage: Storage) -> None:
    original = session(
        step=None,
        status="paused",
        version=7,
        language="ar",
        # Another zone on the way in: the same instant comes back, in UTC.
        started_at=datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=BRUSSELS),
        updated_at=T0,
        answers={
            "name": "مريم",
            "mood": "😊👍🏽",
            "story": "Ik woon in Gent – ça va 🇧🇪",
            "age": 23,
            "score": 0.5,
            "consent": True,
            "skipped": None,
            "domains": ["werk", "wonen"],
            "nested": {"a": [1, {"b": "ç"}]},
        },
        history=(StepId("welcome"), StepId("age"), StepId("mood")),
        return_to=StepId("summary"),
        interrupted=StepId("language"),
        nudges=2,
    )
    await save(storage, original, None)
    loaded = await get(storage, ANNA)
    assert loaded == original
    assert loaded is not None
    assert loaded.started_at.tzinfo is UTC and loaded.updated_at.tzinfo is UTC
    assert loaded.started_at == datetime(2026, 7, 1, 21, 59, 59, 999999, tzinfo=UTC)
    assert loaded.answers["name"] == "مريم" and loaded.answers["mood"] == "😊👍🏽"
    assert isinstance(loaded.history, tuple)


async def test_an_unknown_person_has_no_session(storage: Storage) -> None:
    assert await get(storage, BEN) is None


async def test_a_naive_datetime_is_refused(storage: Storage) -> None:
    with pytest.raises(ValueError, match="naive"):
        await save(storage, session(started_at=datetime(2026, 1, 1, 12, 0)), None)
    with pytest.raises(ValueError, match="naive"):
        await schedule(storage, "nudge", datetime(2026, 1, 1, 12, 0))
    assert await get(storage, ANNA) is None


async def test_inserting_twice_is_a_version_conflict(storage: Storage) -> None:
    await save(storage, session(answers={"first": True}), None)
    with pytest.raises(VersionConflict):
        await save(storage, session(answers={"second": True}), None)
    loaded = await get(storage, ANNA)
    assert loaded is not None and loaded.answers == {"first": True}


async def test_saving_over_a_stale_version_is_a_version_conflict(storage: Storage) -> None:
    await save(storage, session(version=0), None)
    await save(storage, session(version=1, step=StepId("age")), 0)
    with pytest.raises(VersionConflict):
        await save(storage, session(version=1, step=StepId("other")), 0)
    with pytest.raises(VersionConflict):
        await save(storage, session(person=BEN, version=1), 0)  # nothing stored at all
    loaded = await get(storage, ANNA)
    assert loaded is not None and (loaded.version, loaded.step) == (1, "age")
    assert await get(storage, BEN) is None


async def test_concurrent_saves_of_one_version_let_exactly_one_win(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()
    await save(first, session(version=0), None)

    async def attempt(storage: Storage, step: str) -> str:
        try:
            await save(storage, session(version=1, step=StepId(step)), 0)
        except VersionConflict:
            return "conflict"
        return step

    outcomes = await asyncio.gather(attempt(first, "left"), attempt(second, "right"))
    assert sorted(outcomes).count("conflict") == 1
    winner = next(outcome for outcome in outcomes if outcome != "conflict")
    loaded = await get(second, ANNA)
    assert loaded is not None and loaded.step == winner


async def test_concurrent_first_inserts_let_exactly_one_win(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()

    async def attempt(storage: Storage, flow: str) -> bool:
        try:
            await save(storage, session(flow=FlowId(flow)), None)
        except VersionConflict:
            return False
        return True

    assert sorted(await asyncio.gather(attempt(first, "a"), attempt(second, "b"))) == [
        False,
        True,
    ]


async def test_delete_removes_the_session_and_allows_a_fresh_start(storage: Storage) -> None:
    await save(storage, session(version=3), None)
    async with storage.transaction() as tx:
        await tx.sessions.delete(ANNA)
        await tx.sessions.delete(BEN)  # nothing there: no error
    assert await get(storage, ANNA) is None
    await save(storage, session(version=0), None)
    assert await get(storage, ANNA) is not None


# --- transactions --------------------------------------------------------------------------


async def test_an_exception_rolls_back_everything(storage: Storage) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with storage.transaction() as tx:
            await tx.sessions.save(session(), expected_version=None)
            await tx.reminders.schedule(ANNA, key("nudge"), T0, 0)
            assert await tx.updates.first_time("telegram", "42", T0)
            assert await tx.sessions.get(ANNA) is not None  # visible inside the transaction
            raise RuntimeError("boom")
    async with storage.transaction() as tx:
        assert await tx.sessions.get(ANNA) is None
        assert await tx.reminders.pending(ANNA) == []
        assert await tx.updates.first_time("telegram", "42", T0)


async def test_a_version_conflict_rolls_back_the_rest_of_the_transaction(storage: Storage) -> None:
    await save(storage, session(version=1), None)
    with pytest.raises(VersionConflict):
        async with storage.transaction() as tx:
            await tx.reminders.schedule(ANNA, key("nudge"), T0, 2)
            await tx.sessions.save(session(version=2), expected_version=0)
    assert await pending(storage) == []


async def test_a_commit_is_seen_by_another_client(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()
    await save(first, session(), None)
    await schedule(first, "nudge", T0)
    assert await get(second, ANNA) == session()
    assert [r.key for r in await pending(second)] == ["nudge"]


async def test_ping(storage: Storage) -> None:
    assert await storage.ping() is True


# --- reminders: schedule, cancel, pending ----------------------------------------------------


async def test_schedule_creates_a_pending_reminder(storage: Storage) -> None:
    reminder_id = await schedule(storage, "intake.nudge.1", T0.astimezone(BRUSSELS), version=4)
    [record] = await pending(storage)
    assert record == ReminderRecord(
        id=reminder_id,
        person=ANNA,
        key=key("intake.nudge.1"),
        due_at=T0,
        session_version=4,
        status="pending",
        attempts=0,
    )
    assert record.due_at.tzinfo is UTC


async def test_scheduling_the_same_key_again_replaces_the_pending_one(storage: Storage) -> None:
    first = await schedule(storage, "nudge", T0, version=1)
    await schedule(storage, "other", T0, version=1)
    again = await schedule(storage, "nudge", T0 + timedelta(hours=2), version=2)
    assert again == first
    records = {r.key: r for r in await pending(storage)}
    assert set(records) == {"nudge", "other"}
    assert (records[key("nudge")].due_at, records[key("nudge")].session_version) == (
        T0 + timedelta(hours=2),
        2,
    )
    # Same key for another person is another reminder.
    assert await schedule(storage, "nudge", T0, person=BEN) != first


async def test_pending_is_soonest_first_and_per_person(storage: Storage) -> None:
    await schedule(storage, "c", T0 + timedelta(minutes=3))
    await schedule(storage, "a", T0 + timedelta(minutes=1))
    await schedule(storage, "b", T0 + timedelta(minutes=2))
    await schedule(storage, "x", T0, person=BEN)
    assert [r.key for r in await pending(storage)] == ["a", "b", "c"]
    assert [r.key for r in await pending(storage, BEN)] == ["x"]


async def test_cancel_matches_a_literal_case_sensitive_prefix(storage: Storage) -> None:
    for name in ("intake.nudge.1", "intake.nudge.2", "intakeXnudge", "Intake.nudge.3", "other"):
        await schedule(storage, name, T0)
    await schedule(storage, "intake.nudge.1", T0, person=BEN)
    async with storage.transaction() as tx:
        # "_" and "%" are not wildcards.
        assert await tx.reminders.cancel(ANNA, "intake_") == 0
        assert await tx.reminders.cancel(ANNA, "%") == 0
        assert await tx.reminders.cancel(ANNA, "intake.nudge") == 2
        assert await tx.reminders.cancel(ANNA, "intake.nudge") == 0
    assert [r.key for r in await pending(storage)] == ["intakeXnudge", "Intake.nudge.3", "other"]
    assert [r.key for r in await pending(storage, BEN)] == ["intake.nudge.1"]


async def test_cancel_all_cancels_only_that_persons_pending_reminders(storage: Storage) -> None:
    await schedule(storage, "a", T0 - timedelta(minutes=1))
    await schedule(storage, "b", T0 + timedelta(days=1))
    await schedule(storage, "c", T0 + timedelta(days=2))
    await schedule(storage, "a", T0, person=BEN)
    [claimed] = await claim(storage, T0, limit=1)
    assert (claimed.person, claimed.key) == (ANNA, "a")
    async with storage.transaction() as tx:
        assert await tx.reminders.cancel_all(ANNA) == 2  # the claimed one is being sent
    assert await pending(storage) == []
    assert [r.key for r in await pending(storage, BEN)] == ["a"]


async def test_a_reminder_scheduled_while_claimed_is_a_new_row(storage: Storage) -> None:
    old = await schedule(storage, "nudge", T0, version=1)
    [claimed] = await claim(storage, T0)
    new = await schedule(storage, "nudge", T0 + timedelta(hours=1), version=2)
    assert new != old and claimed.id == old
    # The older claim fails and is released: the newer reminder replaced it.
    async with storage.transaction() as tx:
        await tx.reminders.release(old, retry_at=T0 + timedelta(minutes=1), error_code="TimedOut")
    [record] = await pending(storage)
    assert (record.id, record.session_version) == (new, 2)
    assert await claim(storage, T0 + timedelta(minutes=30)) == []


# --- reminders: claiming -------------------------------------------------------------------


async def test_claim_due_claims_only_due_reminders(storage: Storage) -> None:
    late = await schedule(storage, "late", T0 - timedelta(minutes=1))
    exact = await schedule(storage, "exact", T0, person=BEN)
    await schedule(storage, "future", T0 + timedelta(microseconds=1))
    claimed = await claim(storage, T0.astimezone(BRUSSELS), worker="w1")
    assert [(r.id, r.status, r.attempts) for r in claimed] == [
        (late, "claimed", 1),
        (exact, "claimed", 1),
    ]
    assert claimed[0].due_at.tzinfo is UTC
    assert [r.key for r in await pending(storage)] == ["future"]
    assert await claim(storage, T0, worker="w2") == []


async def test_claim_due_respects_the_limit_soonest_first(storage: Storage) -> None:
    ids = [await schedule(storage, f"r{i}", T0 - timedelta(minutes=10 - i)) for i in range(5)]
    batches = [[r.id for r in await claim(storage, T0, limit=2)] for _ in range(4)]
    assert batches == [ids[0:2], ids[2:4], ids[4:5], []]
    assert await claim(storage, T0, limit=0) == []


async def test_an_expired_lease_is_claimed_again(storage: Storage) -> None:
    reminder_id = await schedule(storage, "nudge", T0)
    await claim(storage, T0, worker="crashed")
    lease = timedelta(minutes=5)
    assert await claim(storage, T0 + lease - timedelta(seconds=1), worker="w2", lease=lease) == []
    [again] = await claim(storage, T0 + lease, worker="w2", lease=lease)
    assert (again.id, again.status, again.attempts) == (reminder_id, "claimed", 2)


async def test_the_default_lease_lets_a_killed_workers_reminder_go_within_a_minute(
    storage: Storage,
) -> None:
    reminder_id = await schedule(storage, "nudge", T0)
    async with storage.transaction() as tx:
        await tx.reminders.claim_due(T0, worker="killed")
    async with storage.transaction() as tx:
        [again] = await tx.reminders.claim_due(T0 + timedelta(minutes=1), worker="w2")
    assert (again.id, again.attempts) == (reminder_id, 2)


async def test_claim_due_takes_only_the_persons_of_the_given_channels(storage: Storage) -> None:
    telegram = await schedule(storage, "a", T0 - timedelta(minutes=2), person=ANNA)
    web = await schedule(storage, "b", T0 - timedelta(minutes=1), person=BEN)
    async with storage.transaction() as tx:
        assert await tx.reminders.claim_due(T0, worker="w1", prefixes=()) == []
        only_web = await tx.reminders.claim_due(T0, worker="w1", prefixes=("web:",))
    assert [r.id for r in only_web] == [web]
    async with storage.transaction() as tx:
        rest = await tx.reminders.claim_due(T0, worker="w2", prefixes=("tg:", "web:"))
    assert [r.id for r in rest] == [telegram]


async def test_release_claims_gives_back_what_a_stopping_worker_holds(storage: Storage) -> None:
    mine = await schedule(storage, "mine", T0 - timedelta(minutes=1))
    theirs = await schedule(storage, "theirs", T0 - timedelta(minutes=1), person=BEN)
    await claim(storage, T0, worker="w1", limit=1)
    await claim(storage, T0, worker="w2")
    async with storage.transaction() as tx:
        assert await tx.reminders.release_claims("w1") == 1
        assert await tx.reminders.release_claims("w1") == 0
    [back] = await pending(storage)
    assert (back.id, back.attempts, back.due_at) == (mine, 0, T0 - timedelta(minutes=1))
    assert await pending(storage, BEN) == []
    [again] = await claim(storage, T0, worker="w3")
    assert again.id == mine and theirs != mine


async def test_release_claims_yields_to_a_newer_pending_reminder(storage: Storage) -> None:
    old = await schedule(storage, "nudge", T0)
    await claim(storage, T0, worker="w1")
    newer = await schedule(storage, "nudge", T0 + timedelta(hours=1))
    async with storage.transaction() as tx:
        await tx.reminders.release_claims("w1")
    assert [r.id for r in await pending(storage)] == [newer]
    assert old != newer


async def test_mark_sent_finishes_a_reminder(storage: Storage) -> None:
    reminder_id = await schedule(storage, "nudge", T0)
    await claim(storage, T0)
    async with storage.transaction() as tx:
        await tx.reminders.mark_sent(reminder_id)
    assert await pending(storage) == []
    assert await claim(storage, T0 + timedelta(days=1)) == []


async def test_finishing_calls_do_nothing_unless_claimed(storage: Storage) -> None:
    reminder_id = await schedule(storage, "nudge", T0 + timedelta(hours=1))
    async with storage.transaction() as tx:
        await tx.reminders.mark_sent(reminder_id)
        await tx.reminders.mark_failed(reminder_id, "x")
        await tx.reminders.release(reminder_id, retry_at=T0, error_code="x")
        await tx.reminders.defer(reminder_id, T0)
        await tx.reminders.mark_sent(999_999)
    [record] = await pending(storage)
    assert (record.id, record.due_at, record.attempts) == (reminder_id, T0 + timedelta(hours=1), 0)


async def test_release_retries_later_and_keeps_the_attempt(storage: Storage) -> None:
    reminder_id = await schedule(storage, "nudge", T0)
    await claim(storage, T0)
    retry_at = T0 + timedelta(seconds=60)
    async with storage.transaction() as tx:
        await tx.reminders.release(reminder_id, retry_at=retry_at, error_code="RetryAfter")
    [record] = await pending(storage)
    assert (record.status, record.due_at, record.attempts) == ("pending", retry_at, 1)
    assert await claim(storage, retry_at - timedelta(seconds=1)) == []
    [again] = await claim(storage, retry_at)
    assert again.attempts == 2


async def test_defer_moves_the_reminder_without_counting_an_attempt(storage: Storage) -> None:
    reminder_id = await schedule(storage, "nudge", T0)
    await claim(storage, T0)
    morning = T0 + timedelta(hours=10)
    async with storage.transaction() as tx:
        await tx.reminders.defer(reminder_id, morning)
    [record] = await pending(storage)
    assert (record.status, record.due_at, record.attempts) == ("pending", morning, 0)
    assert await claim(storage, morning - timedelta(seconds=1)) == []
    [again] = await claim(storage, morning)
    assert again.attempts == 1


async def test_mark_failed_gives_up_for_good(storage: Storage) -> None:
    reminder_id = await schedule(storage, "nudge", T0)
    await claim(storage, T0)
    async with storage.transaction() as tx:
        await tx.reminders.mark_failed(reminder_id, "telegram.Forbidden")
    assert await pending(storage) == []
    assert await claim(storage, T0 + timedelta(days=1)) == []


async def test_an_error_code_must_not_be_message_text(storage: Storage) -> None:
    reminder_id = await schedule(storage, "nudge", T0)
    await claim(storage, T0)
    for bad in ("", "Chat not found for Mariam", "x" * 65, "naam=Anna\n"):
        with pytest.raises(ValueError, match="error_code"):
            async with storage.transaction() as tx:
                await tx.reminders.mark_failed(reminder_id, bad)
    async with storage.transaction() as tx:
        await tx.reminders.mark_failed(reminder_id, "x" * 64)


async def test_two_workers_never_claim_the_same_reminder(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()
    async with first.transaction() as tx:
        expected = {
            await tx.reminders.schedule(
                PersonId(f"tg:{i % 17}"), key(f"r{i}"), T0 - timedelta(seconds=i % 13), 0
            )
            for i in range(150)
        }

    async def drain(storage: Storage, worker: str) -> list[int]:
        ids: list[int] = []
        while batch := await claim(storage, T0, worker=worker, limit=7):
            ids.extend(r.id for r in batch)
        return ids

    one, two = await asyncio.gather(drain(first, "w1"), drain(second, "w2"))
    assert len(one) + len(two) == len(expected)
    assert set(one).isdisjoint(two)
    assert set(one) | set(two) == expected


async def test_postgres_workers_skip_rows_locked_by_another(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("row locks: on SQLite and in memory a second writer waits instead")
    first, second = await backend.open(), await backend.open()
    ids = [await schedule(first, f"r{i}", T0 - timedelta(minutes=5 - i)) for i in range(4)]
    async with first.transaction() as held:
        mine = await held.reminders.claim_due(T0, worker="w1", limit=2)
        # w1's transaction is still open: w2 must skip its rows, not wait for them.
        theirs = await asyncio.wait_for(claim(second, T0, worker="w2"), timeout=5)
    assert [r.id for r in mine] == ids[:2]
    assert [r.id for r in theirs] == ids[2:]


# --- update log ---------------------------------------------------------------------------


async def test_the_update_log_reports_each_update_once(storage: Storage) -> None:
    async with storage.transaction() as tx:
        assert await tx.updates.first_time("telegram", "1001", T0)
        assert not await tx.updates.first_time("telegram", "1001", T0 + timedelta(seconds=5))
        assert await tx.updates.first_time("web", "1001", T0)
    async with storage.transaction() as tx:
        assert not await tx.updates.first_time("telegram", "1001", T0 + timedelta(hours=1))


async def test_prune_forgets_old_updates(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.updates.first_time("telegram", "old", T0 - timedelta(days=2))
        await tx.updates.first_time("telegram", "edge", T0)
        await tx.updates.first_time("telegram", "new", T0 + timedelta(hours=1))
    async with storage.transaction() as tx:
        assert await tx.updates.prune(T0) == 1
    async with storage.transaction() as tx:
        assert await tx.updates.first_time("telegram", "old", T0)
        assert not await tx.updates.first_time("telegram", "edge", T0)
        assert not await tx.updates.first_time("telegram", "new", T0)


async def test_concurrent_deliveries_of_one_update_are_processed_once(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()

    async def deliver(storage: Storage) -> bool:
        async with storage.transaction() as tx:
            return await tx.updates.first_time("telegram", "777", T0)

    assert sorted(await asyncio.gather(deliver(first), deliver(second))) == [False, True]
