"""The privacy ports (consents, access log, counts, person-wide erase and purge) on memory,
SQLite and PostgreSQL alike, and the core PersonalData parts over them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flows.ids import FlowId, PersonId, ReminderKey, StepId
from flows.session import Session
from storage.help_keyboard_port import HELP_KEYBOARD_KEY
from storage.ports import ConsentRecord, RetentionPolicy, Storage, months_back
from tests.privacy.conftest import ANNA, T0

BEN = PersonId("web:ben")
HASH = "c" * 64


def session(person: PersonId = ANNA, **changes: object) -> Session:
    base = Session(
        person=person,
        flow=FlowId("intake"),
        step=StepId("mood"),
        language="nl",
        started_at=T0,
        updated_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def consent(person: PersonId, given: bool, minutes: int, category: str = "sensitive_domains"):  # type: ignore[no-untyped-def]
    return ConsentRecord(person, category, given, "2026-11", HASH, T0 + timedelta(minutes=minutes))


async def test_consents_keep_history_and_the_newest_holds(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.consents.record(consent(ANNA, True, 0))
        await tx.consents.record(consent(ANNA, False, 5))
        await tx.consents.record(consent(ANNA, True, 1, category="other"))
        await tx.consents.record(consent(BEN, True, 2))
    async with storage.transaction() as tx:
        history = await tx.consents.history(ANNA)
        current = await tx.consents.current(ANNA)
    assert [(c.category, c.given) for c in history] == [
        ("sensitive_domains", True),
        ("other", True),
        ("sensitive_domains", False),
    ]
    assert history[0] == consent(ANNA, True, 0)
    assert {k: v.given for k, v in current.items()} == {"sensitive_domains": False, "other": True}


async def test_the_access_log_and_counts(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.privacy.record_access(ANNA, "kortrijk", None, "received", T0)
        later = T0 + timedelta(hours=1)
        await tx.privacy.record_access(ANNA, "kortrijk", "coach-7", "viewed", later)
        await tx.privacy.record_access(BEN, "gent", None, "received", T0)
        await tx.privacy.add_count("2026-11", "privacy.erasures")
        await tx.privacy.add_count("2026-11", "privacy.erasures", 2)
        await tx.privacy.add_count("2026-12", "privacy.erasures")
    async with storage.transaction() as tx:
        accesses = await tx.privacy.accesses(ANNA)
        counts = await tx.privacy.counts()
        assert await tx.privacy.erase_accesses(ANNA) == 2
        assert await tx.privacy.accesses(ANNA) == []
        assert len(await tx.privacy.accesses(BEN)) == 1
    assert [(a.partnership, a.coach, a.action) for a in accesses] == [
        ("kortrijk", None, "received"),
        ("kortrijk", "coach-7", "viewed"),
    ]
    assert counts == {("2026-11", "privacy.erasures"): 3, ("2026-12", "privacy.erasures"): 1}


async def test_erasing_a_person_leaves_the_others(storage: Storage) -> None:
    async with storage.transaction() as tx:
        for person in (ANNA, BEN):
            await tx.sessions.save(session(person), expected_version=None)
            await tx.reminders.schedule(person, ReminderKey("nudge"), T0, 1)
            await tx.consents.record(consent(person, True, 0))
            await tx.privacy.record_access(person, "kortrijk", None, "received", T0)
            await tx.outbox.add(person, {"text": "Hoe gaat het?"}, T0)
            await tx.updates.hold("telegram", person, person, '{"text": "goed"}', T0)
            await tx[HELP_KEYBOARD_KEY].record({person: "nl"}, T0)
        sent = await tx.reminders.schedule(ANNA, ReminderKey("old"), T0, 1)
        await tx.reminders.cancel(ANNA, "old")
        assert sent
    async with storage.transaction() as tx:
        rows = {part.name: await part.erase(tx, ANNA) for part in storage.personal_data_parts}
    assert rows == {
        "session": 1,
        "reminders": 2,
        "consents": 1,
        "data_access": 1,
        "delivery": 2,  # the message waiting to be sent and the update not handled yet
        "help_keyboard": 1,
    }
    async with storage.transaction() as tx:
        left = {part.name: await part.export(tx, ANNA) for part in storage.personal_data_parts}
        ben = {part.name: await part.export(tx, BEN) for part in storage.personal_data_parts}
    assert left == {
        "session": None,
        "reminders": [],
        "consents": [],
        "data_access": [],
        "delivery": [],
        "help_keyboard": [],
    }
    assert all(value for value in ben.values())
    async with storage.transaction() as tx:
        assert [p.person for p in await tx.updates.pending("telegram")] == [BEN]


async def test_reminders_all_of_lists_every_status(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.reminders.schedule(ANNA, ReminderKey("a"), T0, 1)
        await tx.reminders.schedule(ANNA, ReminderKey("b"), T0 + timedelta(hours=1), 1)
        await tx.reminders.cancel(ANNA, "a")
    async with storage.transaction() as tx:
        found = await tx.reminders.all_of(ANNA)
    assert [(r.key, r.status) for r in found] == [("a", "cancelled"), ("b", "pending")]


async def test_purges_follow_the_policy(storage: Storage) -> None:
    now = T0 + timedelta(days=400)
    policy = RetentionPolicy()
    old, young = now - timedelta(days=31), now - timedelta(days=29)
    async with storage.transaction() as tx:
        await tx.sessions.save(session(PersonId("web:old"), updated_at=old), expected_version=None)
        await tx.sessions.save(
            session(PersonId("web:young"), updated_at=young), expected_version=None
        )
        await tx.sessions.save(
            session(PersonId("web:done"), status="done", step=None, updated_at=old),
            expected_version=None,
        )
        closed = months_back(now, 12) - timedelta(days=1)
        await tx.sessions.save(
            session(PersonId("web:closed"), status="done", step=None, updated_at=closed),
            expected_version=None,
        )
    async with storage.transaction() as tx:
        purged = await tx.sessions.purge(
            unfinished_before=policy.abandoned_before(now),
            finished_before=policy.closed_before(now),
        )
        assert purged == 2
        assert await tx.sessions.get(PersonId("web:old")) is None
        assert await tx.sessions.get(PersonId("web:closed")) is None
        assert await tx.sessions.get(PersonId("web:young")) is not None
        assert await tx.sessions.get(PersonId("web:done")) is not None


async def test_consent_records_outlive_nothing_they_cover(storage: Storage) -> None:
    # Records of a person with a session stay; without one, they go 12 months after the newest.
    async with storage.transaction() as tx:
        await tx.sessions.save(session(ANNA), expected_version=None)
        await tx.consents.record(consent(ANNA, True, 0))
        await tx.consents.record(consent(BEN, True, 0))
        await tx.consents.record(consent(PersonId("web:recent"), True, 60 * 24 * 300))
    async with storage.transaction() as tx:
        assert await tx.consents.purge(T0 + timedelta(days=1)) == 1
        assert len(await tx.consents.history(ANNA)) == 1
        assert await tx.consents.history(BEN) == []
        assert len(await tx.consents.history(PersonId("web:recent"))) == 1


async def test_finished_reminders_and_accesses_are_purged(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.reminders.schedule(ANNA, ReminderKey("done"), T0, 1)
        await tx.reminders.cancel(ANNA, "done")
        await tx.reminders.schedule(ANNA, ReminderKey("later"), T0, 1)
        await tx.privacy.record_access(ANNA, "kortrijk", None, "received", T0)
    # Reminder bookkeeping uses the wall clock, so purge with "everything before tomorrow".
    from datetime import UTC, datetime

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    async with storage.transaction() as tx:
        assert await tx.reminders.purge_finished(tomorrow) == 1
        assert [r.key for r in await tx.reminders.all_of(ANNA)] == ["later"]
        assert await tx.privacy.purge_accesses(T0) == 0
        assert await tx.privacy.purge_accesses(T0 + timedelta(seconds=1)) == 1


def test_months_back_clamps_the_day() -> None:
    from datetime import UTC, datetime

    assert months_back(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_back(datetime(2026, 1, 15, tzinfo=UTC), 12) == datetime(2025, 1, 15, tzinfo=UTC)
    assert months_back(datetime(2024, 2, 29, tzinfo=UTC), 12) == datetime(2023, 2, 28, tzinfo=UTC)
