"""The routing ports, one contract for memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.ids import CaseId, CoachId, PartnershipId, PersonId
from storage.crypto import Keyring
from storage.ports import Storage
from storage.routing import CASES, OFFERS, RELAY_MESSAGES
from storage.routing_port import CoachRecord
from storage.sql import open_storage
from tests.storage.conftest import Backend, backend, postgres_database, postgres_server

__all__ = ["backend", "postgres_database", "postgres_server"]

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
YOUNG = PersonId("tg:4242")
P = PartnershipId("boest-your-future")
HASH = "a" * 64


def coach(name: str, person: str | None = None) -> CoachRecord:
    return CoachRecord(
        id=CoachId(name),
        partnership=P,
        first_name=name.title(),
        organisation="JAC",
        domains=("work", "money"),
        languages=("nl", "ar"),
        capacity=3,
        role="coach",
        hours=None,
        active=True,
        person=None if person is None else PersonId(person),
        current_case=None,
        last_assigned_at=None,
        created_at=T0,
    )


@pytest.fixture
async def storage(backend: Backend) -> Storage:
    return await backend.open()


async def test_coaches_and_invites(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.coaches.add(coach("lotte"))
        await tx.coaches.add(coach("bert"))
        await tx.coaches.add_invite(HASH, CoachId("lotte"), T0, T0 + timedelta(days=7))
    async with storage.transaction() as tx:
        assert await tx.coaches.redeem_invite("b" * 64, T0) is None
        assert await tx.coaches.redeem_invite(HASH, T0 + timedelta(days=1)) == "lotte"
        # Once.
        assert await tx.coaches.redeem_invite(HASH, T0 + timedelta(days=1)) is None
        await tx.coaches.bind(CoachId("lotte"), PersonId("tg:5001"))
        await tx.coaches.mark_assigned(CoachId("lotte"), T0)
        await tx.coaches.set_current_case(CoachId("lotte"), CaseId("7"))
    async with storage.transaction() as tx:
        found = await tx.coaches.by_person(PersonId("tg:5001"))
        assert found is not None and found.id == "lotte" and found.languages == ("nl", "ar")
        assert found.last_assigned_at == T0 and found.current_case == "7"
        assert [c.id for c in await tx.coaches.of_partnership(P)] == ["bert", "lotte"]
        assert [c.id for c in await tx.coaches.all()] == ["bert", "lotte"]
        await tx.coaches.set_active(CoachId("bert"), False)
        bert = await tx.coaches.get(CoachId("bert"))
        assert bert is not None and not bert.active
    with pytest.raises(ValueError, match="sha256"):
        async with storage.transaction() as tx:
            await tx.coaches.add_invite("c_raw-token", CoachId("lotte"), T0, T0)


async def test_an_expired_invite_does_not_work(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.coaches.add(coach("lotte"))
        await tx.coaches.add_invite(HASH, CoachId("lotte"), T0, T0 + timedelta(days=7))
    async with storage.transaction() as tx:
        assert await tx.coaches.redeem_invite(HASH, T0 + timedelta(days=7)) is None


async def test_cases_offers_loads_and_messages(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.coaches.add(coach("lotte", "tg:5001"))
        await tx.coaches.add(coach("bert", "tg:5002"))
        case = await tx.cases.create(YOUNG, P, "24062", "ar", {"name": "Sam", "age": 23}, T0)
        assert case.status == "waiting" and case.intake == {"name": "Sam", "age": 23}
        offer = await tx.cases.add_offer(
            case.id, CoachId("lotte"), {"decided_by": "only"}, T0, T0 + timedelta(hours=8)
        )
        await tx.cases.set_status(case.id, "offered", T0)
        assert await tx.cases.loads((CoachId("lotte"), CoachId("bert"))) == {"lotte": 1, "bert": 0}
    async with storage.transaction() as tx:
        # Compare-and-set: the first answer wins.
        assert await tx.cases.answer_offer(offer.id, "accepted", T0 + timedelta(hours=1))
        assert not await tx.cases.answer_offer(offer.id, "expired", T0 + timedelta(hours=9))
        await tx.cases.accept(case.id, CoachId("lotte"), T0 + timedelta(hours=1))
        await tx.cases.promise(case.id, T0 + timedelta(hours=8))
        assert await tx.cases.loads((CoachId("lotte"),)) == {"lotte": 1}
        first = await tx.cases.add_message(case.id, "to_coach", "Hallo 👋", T0, delivered=False)
        await tx.cases.add_message(case.id, "to_young", "Dag Sam", T0, delivered=True)
        await tx.cases.mark_delivered((first.id,))
    async with storage.transaction() as tx:
        stored = await tx.cases.get(case.id)
        assert stored is not None and stored.status == "open" and stored.coach == "lotte"
        assert stored.promised_at == T0 + timedelta(hours=8)
        [answered] = await tx.cases.offers_of(case.id)
        assert answered.status == "accepted" and answered.reasons == {"decided_by": "only"}
        assert [(m.text, m.delivered) for m in await tx.cases.messages_of(case.id)] == [
            ("Hallo 👋", True),
            ("Dag Sam", True),
        ]
        assert [c.id for c in await tx.cases.of_coach(CoachId("lotte"), ("open",))] == [case.id]
        await tx.cases.close(case.id, "work", T0 + timedelta(days=3))
        await tx.cases.reopen(case.id, T0 + timedelta(days=4))
        await tx.cases.close(case.id, "training", T0 + timedelta(days=5))
        await tx.cases.set_intake(case.id, {"name": "Sam"})
    async with storage.transaction() as tx:
        again = await tx.cases.latest_of(YOUNG)
        assert again is not None and again.reopened == 1 and again.outcome == "training"
        assert again.intake == {"name": "Sam"}
        assert await tx.cases.get(CaseId("999")) is None and await tx.cases.get(CaseId("x")) is None


async def test_erase_and_purge_take_offers_and_messages_along(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.coaches.add(coach("lotte", "tg:5001"))
        old = await tx.cases.create(YOUNG, P, None, "nl", {}, T0)
        await tx.cases.add_offer(old.id, CoachId("lotte"), {}, T0, T0)
        await tx.cases.add_message(old.id, "to_coach", "x", T0, delivered=True)
        await tx.cases.close(old.id, "other", T0)
        other = await tx.cases.create(PersonId("tg:1"), P, None, "nl", {}, T0)
        await tx.cases.add_message(other.id, "to_coach", "y", T0, delivered=True)
        await tx.coaches.set_current_case(CoachId("lotte"), other.id)
    async with storage.transaction() as tx:
        assert await tx.cases.purge_closed(T0 - timedelta(days=1)) == 0
        assert await tx.cases.purge_closed(T0 + timedelta(days=1)) == 1
        assert await tx.cases.messages_of(old.id) == [] and await tx.cases.offers_of(old.id) == []
        assert await tx.cases.erase(PersonId("tg:1")) == 1
        assert await tx.cases.all_of(PersonId("tg:1")) == []
        lotte = await tx.coaches.get(CoachId("lotte"))
        assert lotte is not None and lotte.current_case is None


async def test_sql_seals_the_intake_and_messages_with_the_keyring(backend: Backend) -> None:
    if backend.url is None:
        pytest.skip("encryption at rest is a property of the SQL adapter")
    keyring = Keyring.parse(Keyring.generate("k1"))
    storage = await open_storage(backend.url, keyring)
    try:
        async with storage.transaction() as tx:
            case = await tx.cases.create(YOUNG, P, None, "nl", {"own_words": "schulden"}, T0)
            await tx.cases.add_message(case.id, "to_young", "geheim", T0, delivered=True)
            await tx.coaches.add(coach("lotte"))
            await tx.cases.add_offer(
                case.id, CoachId("lotte"), {"expertise": ["addiction"]}, T0, T0
            )
        async with storage.engine.connect() as conn:
            raw = (await conn.execute(CASES.select())).mappings().one()["intake"]
            text = (await conn.execute(RELAY_MESSAGES.select())).mappings().one()["text"]
            reasons = (await conn.execute(OFFERS.select())).mappings().one()["reasons"]
        assert raw.startswith("enc:v1:k1:") and text.startswith("enc:v1:k1:")
        assert reasons.startswith("enc:v1:k1:") and "addiction" not in reasons
        async with storage.transaction() as tx:
            stored = await tx.cases.get(case.id)
            assert stored is not None and stored.intake == {"own_words": "schulden"}
            assert [m.text for m in await tx.cases.messages_of(case.id)] == ["geheim"]
            [offer] = await tx.cases.offers_of(case.id)
            assert offer.reasons == {"expertise": ["addiction"]}
    finally:
        await storage.close()


async def test_the_team_queue_fallback_and_coach_messages(storage: Storage) -> None:
    later = T0 + timedelta(days=1)
    async with storage.transaction() as tx:
        await tx.coaches.add(coach("lotte", "tg:5001"))
        case = await tx.cases.create(YOUNG, P, "24062", "nl", {"name": "Sam"}, T0)
        offer = await tx.cases.add_offer(case.id, CoachId("lotte"), {}, T0, later)
        assert await tx.cases.escalate(case.id, T0) is True
        assert await tx.cases.escalate(case.id, later) is False  # keeps its first time
        assert await tx.cases.answer_offer(offer.id, "withdrawn", T0)
    async with storage.transaction() as tx:
        found = await tx.cases.get(case.id)
        assert found is not None and found.status == "escalated" and found.escalated_at == T0
        assert [c.id for c in await tx.cases.of_partnership(P, ("escalated",))] == [case.id]
        assert await tx.cases.of_partnership(P, ("open",)) == []
        assert [
            o.status for o in await tx.cases.offers_of_coach(CoachId("lotte"), ("withdrawn",))
        ] == ["withdrawn"]
        assert await tx.cases.mark_fallback(case.id, later) is True
        assert await tx.cases.mark_fallback(case.id, later) is False
        await tx.cases.add_coach_message(
            case.id, CoachId("lotte"), PersonId("tg:5001"), 77, "card", T0
        )
        await tx.cases.add_coach_message(
            case.id, CoachId("lotte"), PersonId("tg:5001"), 78, "relay", T0
        )
    async with storage.transaction() as tx:
        found = await tx.cases.get(case.id)
        assert found is not None and found.fallback_at == later
        refs = await tx.cases.coach_messages_of(case.id)
        assert [(r.message_id, r.kind, r.redacted) for r in refs] == [
            (77, "card", False),
            (78, "relay", False),
        ]
        await tx.cases.mark_redacted((refs[0].id,))
    async with storage.transaction() as tx:
        assert [r.redacted for r in await tx.cases.coach_messages_of(case.id)] == [True, False]
        await tx.cases.record_erased(case, later)
        assert await tx.cases.erase(YOUNG) == 1
        assert await tx.cases.coach_messages_of(case.id) == []
    async with storage.transaction() as tx:
        [erased] = await tx.cases.erased_of(P)
        assert erased.case == case.id and erased.coach is None and erased.erased_at == later
        assert await tx.cases.purge_erased(later) == 0
        assert await tx.cases.purge_erased(later + timedelta(seconds=1)) == 1
        assert await tx.cases.erased_of(P) == []


async def test_blind_spot_counts(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.cases.count_blind_spot("2026-11", "blind_spot", "44021", "")
        await tx.cases.count_blind_spot("2026-11", "blind_spot", "44021", "")
        await tx.cases.count_blind_spot("2026-11", "blind_spot", "24038", "boest-your-future")
    async with storage.transaction() as tx:
        counts = await tx.cases.blind_spots()
    assert [(c.municipality_nis, c.partnership, c.count) for c in counts] == [
        ("24038", "boest-your-future", 1),
        ("44021", "", 2),
    ]
