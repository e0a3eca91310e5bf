"""The coach side's operations as plain functions (what the dashboard calls): accept, decline,
assign to a named colleague, close with a reporting outcome, reopen; results read back from
the stored case."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.coach.operations import CaseOperations
from flows.ids import CaseId, CoachId, PartnershipId, PersonId
from tests.routing2.conftest import YOUNG, Harness, local

CASE = CaseId("1")


def ops(h: Harness) -> CaseOperations:
    return CaseOperations(h.side.handoff, h.side.relay)


async def test_accept_and_decline_without_a_chat(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work", "money"))
    yusuf = await h.add_coach("Yusuf", chat=5002)
    await h.submit()
    # Lotte works from the dashboard only: her chat plays no part.
    web_lotte = replace(lotte, person=None)
    done = await ops(h).decline(CASE, web_lotte)
    assert done.ok and done.case is not None and done.case.status == "offered"
    assert h.case_of_card(yusuf) == "1"
    # Declining what you do not hold is refused and changes nothing.
    assert not (await ops(h).decline(CASE, web_lotte)).ok
    done = await ops(h).accept(CASE, replace(yusuf, person=None))
    assert done.ok and done.case is not None and done.case.coach == "yusuf"
    assert h.texts(YOUNG)[-1].startswith("Goed nieuws! Yusuf")
    assert not (await ops(h).accept(CaseId("99"), yusuf)).ok


async def test_assign_to_a_named_colleague(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work", "money"))
    noor = await h.add_coach("Noor", chat=5003)
    await h.submit()
    await h.young_says("Is er al iemand?")
    done = await ops(h).assign_to(CASE, noor.id)
    assert done.ok and done.case is not None
    assert done.case.status == "open" and done.case.coach == "noor"
    noor_texts = h.texts(noor.person)  # type: ignore[arg-type]
    assert any("door het team aan jou gegeven" in t for t in noor_texts)
    assert any("alle gegevens" in t and "Sam" in t for t in noor_texts)
    assert any("Is er al iemand?" in t for t in noor_texts)  # the kept message is handed over
    assert h.texts(YOUNG)[-1].startswith("Goed nieuws! Noor")
    async with h.storage.transaction() as tx:
        offers = await tx.cases.offers_of(CASE)
        assert [(o.coach, o.status) for o in offers] == [("lotte", "withdrawn")]
        assert await tx.reminders.pending(YOUNG) == []
    # Handing it on again: Noor hears it moved; Lotte now has it.
    done = await ops(h).assign_to(CASE, lotte.id)
    assert done.ok and done.case is not None and done.case.coach == "lotte"
    assert "nu bij een collega" in h.last_text(noor.person)  # type: ignore[arg-type]
    assert (await h.coach(noor.id)).current_case is None


async def test_assign_refuses_what_the_rules_refuse(harness: Harness) -> None:
    h = harness
    await h.add_coach("Lotte", chat=5001)
    full = await h.add_coach("Full", chat=5002, capacity=0)
    other = await h.add_coach("Noor", chat=5003, partnership=PartnershipId("dash"))
    gone = await h.add_coach("Gone", chat=5004)
    async with h.storage.transaction() as tx:
        await tx.coaches.set_active(gone.id, False)
    await h.submit()
    for coach_id in (full.id, other.id, gone.id, CoachId("nobody")):
        done = await ops(h).assign_to(CASE, coach_id)
        assert not done.ok and done.case is not None and done.case.status == "offered"


async def test_close_with_a_reporting_outcome_and_reopen(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.submit()
    await h.coach_presses(lotte, "case=1:accept")
    assert not (await ops(h).close(CASE, "gewonnen")).ok
    done = await ops(h).close(CASE, "not_reached")
    assert done.ok and done.case is not None and done.case.outcome == "not_reached"
    assert h.texts(YOUNG)[-1].startswith("Lotte heeft je dossier afgesloten")
    assert (await h.counts())[("2026-11", "cases.closed.not_reached")] == 1
    assert not (await ops(h).close(CASE, "ongoing")).ok  # already closed
    done = await ops(h).reopen(CASE)
    assert done.ok and done.case is not None and done.case.status == "open"
    assert done.case.outcome is None and done.case.coach == "lotte"
    assert "opnieuw hulp nodig" in h.last_text(lotte.person)  # type: ignore[arg-type]
    assert not (await ops(h).reopen(CASE)).ok  # open already


async def test_an_absent_coach_loses_open_offers_and_gets_no_new_ones(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work", "money"))
    yusuf = await h.add_coach("Yusuf", chat=5002)
    boss = await h.add_coach("Bert", chat=5009, role="coordinator")
    await h.submit()
    assert h.case_of_card(lotte) == "1"
    back = h.clock.now() + timedelta(days=7)
    absence = await ops(h).set_absent(lotte.id, back)
    assert absence.ok and absence.moved == (CASE,)
    assert h.case_of_card(yusuf) == "1"
    # Away: no offers for Lotte, nor may she be handed a case.
    await h.submit(PersonId("tg:4343"))
    assert h.case_of_card(yusuf) == "2"
    assert not (await ops(h).assign_to(CaseId("2"), lotte.id)).ok
    # An absent coordinator gets no digest of the team queue.
    await ops(h).set_absent(boss.id, back)
    assert not (await ops(h).set_absent(CoachId("nobody"), back)).ok
    # Back: offers again.
    assert (await ops(h).set_absent(lotte.id, None)).ok
    await h.submit(PersonId("tg:4444"))
    assert h.case_of_card(lotte) == "3"
    assert (await h.coach(lotte.id)).absent_until is None


async def test_an_absent_coordinator_gets_no_digest(harness: Harness) -> None:
    h = harness
    anna = await h.add_coach("Anna", chat=5008, role="coordinator")
    bert = await h.add_coach("Bert", chat=5009, role="coordinator")
    await h.submit()
    await h.coach_presses(anna, "case=1:decline")
    await h.coach_presses(bert, "case=1:decline")
    await ops(h).set_absent(bert.id, local(2026, 12, 31))
    h.clock.set(local(2026, 11, 25, 9))
    assert anna.person is not None and bert.person is not None
    before_anna, before_bert = len(h.texts(anna.person)), len(h.texts(bert.person))
    await h.tick()
    assert len(h.texts(anna.person)) == before_anna + 1
    assert len(h.texts(bert.person)) == before_bert
