"""The team dashboard's data layer on SQLite and PostgreSQL (it is SQL only: no memory run).

Accounts, the TOTP step compare-and-set, sessions, throttling counts, the append-only audit,
notes that go with their case, and the scope in every query of cases and coaches.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.appointments import AppointmentId, Slot, propose
from flows.ids import CoachId, PartnershipId, PersonId
from storage.crypto import Keyring
from storage.routing_port import CoachRecord
from storage.sql import SqlStorage, open_storage
from storage.team_personal import TeamPart
from storage.team_sql import SqlTeamStore, TeamScope
from tests.storage.conftest import Backend

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
A, B = PartnershipId("boest-your-future"), PartnershipId("elders")


def _coach(coach_id: str, partnership: PartnershipId) -> CoachRecord:
    return CoachRecord(
        CoachId(coach_id),
        partnership,
        coach_id,
        "JAC",
        ("work",),
        ("nl",),
        8,
        "coach",
        None,
        True,
        None,
        None,
        None,
        T0,
    )


@pytest.fixture
async def store(backend: Backend) -> SqlTeamStore:
    if backend.url is None:
        pytest.skip("the team dashboard runs on SQL only")
    storage = await open_storage(backend.url, Keyring.parse(Keyring.generate("k1")))
    backend.opened.append(storage)
    assert isinstance(storage, SqlStorage)
    return SqlTeamStore(storage)


async def test_accounts_totp_steps_and_sessions(store: SqlTeamStore) -> None:
    async with store.transaction() as t:
        user = await t.team.add_user(
            email=" An@Example.org ",
            name="An",
            role="coordinator",
            partnership=A,
            coach=None,
            password_hash="$argon2id$x",
            totp_secret="SECRET",
            now=T0,
        )
        assert user.email == "an@example.org" and user.totp_secret == "SECRET"
        assert await t.team.use_totp_step(user.id, 100)
        assert not await t.team.use_totp_step(user.id, 100)
        assert not await t.team.use_totp_step(user.id, 99)
        await t.team.start_session("a" * 64, user.id, T0, "127.0.0.1")
        await t.team.start_session("b" * 64, user.id, T0 - timedelta(hours=13), "127.0.0.1")
        await t.team.touch_session("a" * 64, T0 + timedelta(minutes=5))
    async with store.transaction() as t:
        session = await t.team.session("a" * 64)
        assert session is not None and session.last_seen_at == T0 + timedelta(minutes=5)
        assert (
            await t.team.purge_sessions(T0 - timedelta(minutes=30), T0 - timedelta(hours=12)) == 1
        )
        await t.team.set_user_active(user.id, False)
        assert await t.team.session("a" * 64) is None


async def test_failed_logins_count_until_a_success(store: SqlTeamStore) -> None:
    async with store.transaction() as t:
        for minute in range(3):
            await t.team.record_attempt("account:x", T0 + timedelta(minutes=minute), success=False)
        assert await t.team.failures_since("account:x", T0) == 3
        assert await t.team.failures_since("account:x", T0 + timedelta(minutes=1)) == 2
        await t.team.record_attempt("account:x", T0 + timedelta(minutes=4), success=True)
        await t.team.record_attempt("account:x", T0 + timedelta(minutes=5), success=False)
        assert await t.team.failures_since("account:x", T0) == 1
        assert await t.team.purge_attempts(T0 + timedelta(minutes=3)) == 3


async def test_scope_audit_and_notes(store: SqlTeamStore) -> None:
    async with store.transaction() as t:
        await t.core.coaches.add(_coach("lotte", A))
        await t.core.coaches.add(_coach("noor", A))
        await t.core.coaches.add(_coach("ward", B))
        mine = await t.core.cases.create(PersonId("web:1"), A, "24062", "nl", {}, T0)
        other = await t.core.cases.create(PersonId("web:2"), A, "24062", "nl", {}, T0)
        unclaimed = await t.core.cases.create(PersonId("web:3"), A, "24062", "nl", {}, T0)
        elsewhere = await t.core.cases.create(PersonId("web:4"), B, "11002", "nl", {}, T0)
        await t.core.cases.accept(mine.id, CoachId("lotte"), T0)
        await t.core.cases.accept(other.id, CoachId("noor"), T0)
        await t.core.cases.add_message(
            mine.id, "to_young", "Hallo", T0 + timedelta(hours=3), delivered=True
        )
        coordinator = await t.team.add_user(
            email="co@a.example",
            name="Co",
            role="coordinator",
            partnership=A,
            coach=None,
            password_hash="x",
            totp_secret="S",
            now=T0,
        )
    coach = TeamScope(2, "coach", A, CoachId("lotte"))
    admin = TeamScope(3, "admin", None, None)
    scope = coordinator.scope()
    async with store.transaction() as t:
        assert {c.id for c in await t.team.cases(coach)} == {mine.id, unclaimed.id}
        assert await t.team.case(coach, other.id) is None
        assert {c.id for c in await t.team.cases(scope)} == {mine.id, other.id, unclaimed.id}
        assert await t.team.case(scope, elsewhere.id) is None
        assert await t.team.cases(admin) == []
        assert {c.id for c in await t.team.coaches(scope)} == {"lotte", "noor"}
        assert await t.team.coach(scope, CoachId("ward")) is None
        facts = await t.team.stats_facts(scope, [T0 - timedelta(days=7), T0, T0 + timedelta(1)])
        # Three cases in scope, all of them this week; two accepted at once; one written to.
        assert (facts.cases, facts.per_week) == (3, (0, 3))
        assert facts.hours_to_acceptance == (0.0, 0.0)
        assert facts.hours_to_first_contact == (3.0,)
        await t.team.add_note(mine.id, coordinator, "Belt na 16u", T0)
        assert [n.text for n in await t.team.notes(scope, mine.id)] == ["Belt na 16u"]
        assert await t.team.notes(TeamScope(9, "coordinator", B, None), mine.id) == []
        await t.team.audit(
            at=T0,
            user=coordinator,
            action="case.view",
            address="10.0.0.1",
            case=mine.id,
            partnership=A,
        )
        await t.team.audit(at=T0, user=None, action="user.add", address="cli", target="1")
    async with store.transaction() as t:
        rows = await t.team.audit_rows(scope)
        assert [(r.action, r.case, r.actor, r.address) for r in rows] == [
            ("case.view", mine.id, "co@a.example", "10.0.0.1")
        ]
        assert [r.action for r in await t.team.audit_rows(admin)] == ["user.add"]
        assert await t.team.audit_rows(coach) == []
        assert await t.team.purge_audit(T0 + timedelta(days=1)) == 2
        # Erasing the case takes its notes with it (ON DELETE CASCADE, and the team part).
        assert await TeamPart().erase(t.core, PersonId("web:1")) == 1
        await t.core.cases.erase(PersonId("web:1"))
        assert await t.team.notes_of_cases((mine.id,)) == []


async def test_blind_spots_are_read_per_partnership(store: SqlTeamStore) -> None:
    async with store.transaction() as t:
        for _ in range(2):
            await t.core.cases.count_blind_spot("2026-11", "blind_spot", "11002", A)
        await t.core.cases.count_blind_spot("2026-12", "blind_spot", "11002", A)
        await t.core.cases.count_blind_spot("2026-11", "blind_spot", "11002", B)
        await t.core.cases.count_blind_spot("2026-11", "blind_spot", "24062", B)
        await t.core.cases.count_blind_spot("2026-11", "outside_flanders", "", A)
        # The monthly report counts are not read any more.
        await t.core.privacy.add_count("2026-11", "routing.blind_spot.11002", 7)
    async with store.transaction() as t:
        assert await t.team.blind_spots(TeamScope(1, "coordinator", A, None)) == {"11002": 3}
        assert await t.team.blind_spots(TeamScope(2, "coordinator", B, None)) == {
            "11002": 1,
            "24062": 1,
        }
        assert await t.team.blind_spots(TeamScope(3, "admin", None, None)) == {}


async def test_appointments_counted_and_ratings_read_for_progress_of_the_scope_only(
    store: SqlTeamStore,
) -> None:
    async with store.transaction() as t:
        await t.core.coaches.add(_coach("lotte", A))
        mine = await t.core.cases.create(PersonId("web:1"), A, "24062", "nl", {}, T0)
        elsewhere = await t.core.cases.create(PersonId("web:2"), B, "11002", "nl", {}, T0)
        for case in (mine, elsewhere):
            proposed, _ = propose(
                AppointmentId(0),
                case.id,
                case.person,
                CoachId("lotte"),
                (Slot(T0 + timedelta(days=1), "phone"),),
                T0,
            )
            await t.core.appointments.add(proposed, T0)
            await t.core.ratings.add(case.id, case.person, "intake", {"work": "2"}, T0)
            await t.core.ratings.add(
                case.id, case.person, "three_months", {"work": "4"}, T0 + timedelta(days=90)
            )
        # A case with only its intake rating is not needed for progress (nor decrypted).
        only_intake = await t.core.cases.create(PersonId("web:3"), A, "24062", "nl", {}, T0)
        await t.core.ratings.add(only_intake.id, only_intake.person, "intake", {"work": "1"}, T0)
    scope = TeamScope(1, "coordinator", A, None)
    async with store.transaction() as t:
        facts = await t.team.stats_facts(scope, [T0, T0 + timedelta(days=7)])
        cases, ratings = await t.team.progress_inputs(scope)
        page = await t.team.ratings_by_case(scope, (mine.id, elsewhere.id))
    assert facts.appointments == {"proposed": 1}
    assert [c.id for c in cases] == [mine.id]
    assert list(ratings) == [mine.id]
    assert [r.ratings for r in ratings[mine.id]] == [{"work": "2"}, {"work": "4"}]
    assert list(page) == [mine.id]
