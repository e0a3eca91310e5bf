"""The handoff: case, card, deadline, escalation under an injected clock, and the fallback."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.coach.handoff import offer_key
from flows.ids import CaseId, PartnershipId, PersonId, ReminderKey
from storage.ports import ReminderRecord
from storage.routing_memory import RoutingState
from tests.routing2.conftest import YOUNG, Harness, local, make_harness


async def pending_keys(h: Harness, person: PersonId = YOUNG) -> list[tuple[str, object]]:
    async with h.storage.transaction() as tx:
        return [(r.key, r.due_at) for r in await tx.reminders.pending(person)]


async def test_submit_makes_a_case_sends_the_card_and_says_when(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work", "money"))
    await h.add_coach("Yusuf", chat=5002, domains=("housing",))
    await h.submit()
    case = await h.case()
    assert case is not None and case.status == "offered" and case.partnership == "boest-your-future"
    assert case.municipality_nis == "24062"
    # Tuesday 10:00 + 8 working hours = Wednesday 10:00, told in plain words.
    assert case.promised_at == local(2026, 11, 25, 10)
    assert h.texts(YOUNG)[-1] == (
        "Een coach van Boest! Your Future bekijkt je vraag. Je hoort van ons ten laatste morgen"
        " om 10:00."
    )
    card = h.card_of(lotte)
    # Before acceptance no name, phone or own words (see test_card.py).
    assert "Dossier #1" in card.text and "Sam" not in card.text
    assert h.texts(PersonId("tg:5002")) == []
    assert await pending_keys(h) == [("handoff.1.offer.1", local(2026, 11, 25, 10))]
    async with h.storage.transaction() as tx:
        accesses = await tx.privacy.accesses(YOUNG)
    assert [(a.partnership, a.coach, a.action) for a in accesses] == [
        ("boest-your-future", "lotte", "received")
    ]


async def test_the_promise_is_in_the_young_persons_language() -> None:
    h = make_harness()
    await h.add_coach("Lotte", chat=5001)
    h.clock.set(local(2026, 11, 26, 15))  # Thursday 15:00: 2 hours today, 6 on Friday
    await h.submit(language="fr")
    assert h.texts(YOUNG)[-1].endswith("au plus tard demain à 15:00.")
    h2 = make_harness()
    await h2.add_coach("Lotte", chat=5001)
    h2.clock.set(local(2026, 11, 27, 15))  # Friday 15:00: the deadline is on Monday
    await h2.submit(language="uk")
    assert "понеділок, 30 листопада о 15:00" in h2.texts(YOUNG)[-1]


async def test_no_answer_in_time_goes_to_the_next_coach_then_the_coordinator() -> None:
    h = make_harness()
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work", "money"))
    yusuf = await h.add_coach("Yusuf", chat=5002, domains=("work",))
    boss = await h.add_coach("Bert", chat=5009, role="coordinator")
    await h.submit()
    # Not yet due: nothing happens.
    h.clock.set(local(2026, 11, 25, 9, 59))
    assert await h.tick() == 0
    # Past the deadline: Yusuf gets the card, Lotte hears it moved, Sam is told again.
    h.clock.set(local(2026, 11, 25, 10, 1))
    assert await h.tick() == 1
    assert "Dossier #1" in h.card_of(yusuf).text
    assert "ging naar een collega" in h.last_text(lotte.person)  # type: ignore[arg-type]
    assert h.texts(YOUNG)[-1].startswith("Het duurt iets langer dan we dachten. Sorry!")
    assert "morgen om 10:01" in h.texts(YOUNG)[-1]
    # Yusuf does not answer either: the coordinator.
    h.clock.set(local(2026, 11, 26, 10, 2))
    assert await h.tick() == 1
    card = h.card_of(boss)
    assert "niemand nam dit op tijd op" in card.text and "jij bent coördinator" in card.text
    case = await h.case()
    assert case is not None
    async with h.storage.transaction() as tx:
        offers = await tx.cases.offers_of(case.id)
    assert [(o.coach, o.status) for o in offers] == [
        ("lotte", "expired"),
        ("yusuf", "expired"),
        ("bert", "open"),
    ]
    told = len(h.texts(YOUNG))
    # Bert does not answer either: the team queue, not Bert again.
    h.clock.set(local(2026, 11, 27, 10, 3))
    assert await h.tick() == 1
    case = await h.case()
    assert case is not None and case.status == "escalated"
    assert len([m for m in h.sent(boss.person) if m.buttons]) == 1  # type: ignore[arg-type]
    # One message for Sam: a later promise (the warm fallback's time), with one apology.
    assert len(h.texts(YOUNG)) == told + 1
    assert h.texts(YOUNG)[-1].startswith("Nog niemand kon je vraag op tijd opnemen. Sorry!")


async def test_deadlines_skip_weekends_and_public_holidays() -> None:
    h = make_harness()
    await h.add_coach("Lotte", chat=5001)
    # Thursday 24 December 15:00: 2 hours on Thursday; Christmas (Friday) and the weekend do
    # not count; 6 hours on Monday 28 December.
    h.clock.set(local(2026, 12, 24, 15))
    await h.submit()
    case = await h.case()
    assert case is not None and case.promised_at == local(2026, 12, 28, 15)
    assert h.texts(YOUNG)[-1].endswith("ten laatste maandag 28 december om 15:00.")
    # Armistice Day (Wednesday 11 November) is skipped as well.
    h2 = make_harness()
    await h2.add_coach("Lotte", chat=5001)
    h2.clock.set(local(2026, 11, 10, 16))
    await h2.submit()
    case2 = await h2.case()
    assert case2 is not None and case2.promised_at == local(2026, 11, 12, 16)


async def test_a_coach_with_own_hours_gets_a_deadline_in_those_hours() -> None:
    h = make_harness()
    await h.add_coach("Lotte", chat=5001, hours="tue 09:00-12:00; thu 09:00-17:00")
    await h.submit()  # Tuesday 10:00: 2 hours on Tuesday, 6 on Thursday
    case = await h.case()
    assert case is not None and case.promised_at == local(2026, 11, 26, 15)


async def test_a_reminder_whose_offer_was_answered_does_nothing(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.add_coach("Yusuf", chat=5002)
    await h.submit()
    await h.coach_presses(lotte, f"case={h.case_of_card(lotte)}:accept")
    assert await pending_keys(h) == []  # accepting cancels the deadline
    before = len(h.channel.sent)
    # Even a reminder row that survived (another process scheduled it) finds the offer answered.
    key = offer_key(CaseId("1"), 1)
    stale = ReminderRecord(99, YOUNG, key, local(2026, 11, 25, 10), 0, "claimed", 1)
    assert await h.side.handoff.on_reminder(stale) is True
    h.clock.set(local(2026, 11, 30, 12))
    assert await h.tick() == 0
    assert len(h.channel.sent) == before
    case = await h.case()
    assert case is not None and case.status == "open" and case.coach == "lotte"


async def test_other_reminders_are_left_to_the_conversation(harness: Harness) -> None:
    other = ReminderRecord(1, YOUNG, ReminderKey("nudge"), local(2026, 11, 25), 3, "claimed", 1)
    assert await harness.side.handoff.on_reminder(other) is False


async def test_niet_voor_mij_goes_to_the_next_coach_at_once(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work",))
    yusuf = await h.add_coach("Yusuf", chat=5002)
    await h.submit()
    h.clock.advance(timedelta(hours=1))
    await h.coach_presses(lotte, "case=1:decline")
    assert "Dossier #1 gaat naar een collega" in h.last_text(lotte.person)  # type: ignore[arg-type]
    assert "Dossier #1" in h.card_of(yusuf).text
    # A new deadline later than promised: Sam is told honestly.
    assert h.texts(YOUNG)[-1].startswith("Het duurt iets langer")
    assert await pending_keys(h) == [("handoff.1.offer.2", local(2026, 11, 25, 11))]
    # Lotte's old buttons no longer work.
    await h.coach_presses(lotte, "case=1:accept")
    assert "niet meer open voor jou" in h.last_text(lotte.person)  # type: ignore[arg-type]


async def test_capacity_is_respected_when_offering_and_accepting(harness: Harness) -> None:
    h = harness
    full = await h.add_coach("Full", chat=5001, domains=("work", "money"), capacity=1)
    free = await h.add_coach("Free", chat=5002, capacity=3)
    await h.submit()
    assert "Dossier #1" in h.card_of(full).text
    # While Full has an open offer, Full is at capacity: the next case goes to Free.
    other = PersonId("tg:4343")
    await h.submit(other)
    assert "Dossier #2" in h.card_of(free).text
    assert h.case_of_card(full) == "1"
    # Full accepts case 1 (now 1 of 1) and can take no more.
    await h.coach_presses(full, "case=1:accept")
    third = PersonId("tg:4444")
    await h.submit(third)
    assert h.case_of_card(free) == "3"


async def test_accepting_above_capacity_is_refused(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, capacity=1)
    await h.submit()
    # The capacity was lowered to 0 after the offer went out (there is no port for that yet:
    # the memory state is edited directly).
    state = h.storage.database.state.part(RoutingState)  # type: ignore[attr-defined]
    state.coaches[lotte.id] = replace(lotte, capacity=0)
    await h.coach_presses(lotte, "case=1:accept")
    assert "je hebt al 0 van 0 dossiers" in h.last_text(lotte.person)  # type: ignore[arg-type]
    case = await h.case()
    assert case is not None and case.status == "offered"


async def test_fairness_spreads_equal_cases() -> None:
    h = make_harness()
    a = await h.add_coach("Anna", chat=5001)
    b = await h.add_coach("Bram", chat=5002)
    for n in range(4):
        h.clock.advance(timedelta(minutes=5))
        await h.submit(PersonId(f"tg:{6000 + n}"))
    got_a = [m for m in h.sent(a.person) if m.buttons]  # type: ignore[arg-type]
    got_b = [m for m in h.sent(b.person) if m.buttons]  # type: ignore[arg-type]
    assert len(got_a) == 2 and len(got_b) == 2


async def test_an_uncovered_municipality_gets_the_fallback_and_is_counted(
    harness: Harness,
) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.submit(place="44021:", place_label="Gent", place_text="Gent")
    assert await h.case() is None
    text = h.texts(YOUNG)[-1]
    assert text.startswith("Eerlijk gezegd: in Gent werkt nog geen lokaal partnerschap")
    assert "VDAB: 0800 30 700" in text and "CAW / JAC: 0800 13 500" in text
    assert h.texts(lotte.person) == []  # type: ignore[arg-type]
    await h.submit(PersonId("tg:4343"), place="24038:", place_label="Herent", place_text="3020")
    counts = await h.counts()
    assert counts[("2026-11", "routing.blind_spot")] == 2
    assert counts[("2026-11", "routing.blind_spot.44021")] == 1
    assert counts[("2026-11", "routing.blind_spot.24038")] == 1
    assert ("2026-11", "cases.created") not in counts


async def test_outside_flanders_and_no_place_are_told_honestly(harness: Harness) -> None:
    h = harness
    await h.submit(
        place=None,
        place_label=None,
        place_status="outside_flanders",
        place_region="brussels",
        place_text="Brussel",
    )
    assert h.texts(YOUNG)[-1].startswith("Opstap werkt alleen in Vlaanderen.")
    other = PersonId("tg:4343")
    await h.submit(other, place=None, place_label=None, place_status=None, place_text="_skipped")
    assert h.texts(other)[-1].startswith("We weten niet in welke gemeente je woont.")
    counts = await h.counts()
    assert counts[("2026-11", "routing.outside_flanders")] == 1
    assert counts[("2026-11", "routing.no_place")] == 1


async def test_the_typed_place_is_resolved_when_the_flow_had_no_place_check(
    harness: Harness,
) -> None:
    h = harness
    await h.add_coach("Lotte", chat=5001)
    await h.submit(place=None, place_label=None, place_status=None, place_text="3010 Kessel-Lo")
    case = await h.case()
    assert case is not None and case.partnership == "boest-your-future"
    assert case.intake["place_label"] == "Kessel-Lo (Leuven)"


async def test_without_any_coach_the_case_goes_to_the_team_queue(harness: Harness) -> None:
    h = harness
    await h.submit()
    case = await h.case()
    assert case is not None and case.status == "escalated"
    assert case.escalated_at == local(2026, 11, 24, 10)
    # Five working days after Tuesday 24 November: Tuesday 1 December at closing time.
    assert case.promised_at == local(2026, 12, 1, 17)
    assert h.texts(YOUNG)[-1] == (
        "Nog niemand kon je vraag op tijd opnemen. Sorry! Het team van Boest! Your Future zoekt"
        " nu iemand voor je. Je hoort van ons ten laatste dinsdag 1 december om 17:00."
    )
    assert await pending_keys(h) == [("handoff.1.fallback", local(2026, 12, 1, 17))]
    assert await pending_keys(h, PersonId("tg:team.boest-your-future")) == [
        ("handoff.digest.boest-your-future", local(2026, 11, 25, 9))
    ]


async def test_an_unbound_coach_gets_no_card(harness: Harness) -> None:
    h = harness
    await h.add_coach("Invited", chat=None, domains=("work", "money"))
    bound = await h.add_coach("Bound", chat=5002)
    await h.submit()
    assert h.case_of_card(bound) == "1"


async def test_sending_again_refreshes_the_open_case(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.submit()
    await h.coach_presses(lotte, "case=1:accept")
    await h.submit(own_words="Ik zoek nu vooral een woning")
    case = await h.case()
    assert case is not None and case.id == "1" and case.status == "open"
    assert case.intake["own_words"] == "Ik zoek nu vooral een woning"
    assert h.texts(YOUNG)[-1] == "Dank je! Lotte ziet je nieuwe antwoorden."
    assert "stuurde de vragen opnieuw in" in h.last_text(lotte.person)  # type: ignore[arg-type]


async def test_two_cases_of_one_person_keep_their_own_deadlines(harness: Harness) -> None:
    """A second case (another partnership) neither cancels nor is cancelled by the first."""
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.add_coach("Noor", chat=5002, partnership=PartnershipId("dash"))
    await h.submit()
    await h.submit(place="24020:dash", place_label="Diest", place_text="Diest")
    assert [key for key, _ in await pending_keys(h)] == ["handoff.1.offer.1", "handoff.2.offer.2"]
    await h.coach_presses(lotte, "case=1:accept")
    assert [key for key, _ in await pending_keys(h)] == ["handoff.2.offer.2"]


VANGNET = PartnershipId("opstap-vangnet")


@pytest.mark.parametrize(
    "answers",
    [
        {"place": "44021:", "place_label": "Gent", "place_text": "Gent", "place_status": "ok"},
        {
            "place": None,
            "place_label": None,
            "place_status": "outside_flanders",
            "place_region": "brussels",
            "place_text": "Brussel",
        },
        {
            "place": None,
            "place_label": None,
            "place_status": "withheld",
            "place_text": "_rather_not",
        },
    ],
    ids=["blind-spot", "brussels", "withheld"],
)
async def test_a_question_sent_to_the_fallback_team_becomes_a_case_for_that_team(
    harness: Harness, answers: dict[str, Any]
) -> None:
    # Issue 14: where no partnership works, the young person chose at the place question to
    # send their question anyway; the fallback team the flow named gets a case and a card.
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001)
    vera = await h.add_coach("Vera", chat=5009, partnership=VANGNET)
    await h.submit(YOUNG, **answers, place_route="fallback", place_team="Opstap Vangnet")
    case = await h.case()
    assert case is not None and case.partnership == VANGNET
    assert h.texts(lotte.person) == []  # type: ignore[arg-type]
    assert any("Dossier #" in t for t in h.texts(vera.person))  # type: ignore[arg-type]
    assert "Opstap Vangnet" in h.texts(YOUNG)[-1]
    counts = await h.counts()
    assert counts[("2026-11", "routing.fallback_team")] == 1


async def test_without_the_fallback_choice_no_case_is_made(harness: Harness) -> None:
    h = harness
    await h.add_coach("Vera", chat=5009, partnership=VANGNET)
    await h.submit(place="44021:", place_label="Gent", place_text="Gent", place_route="stop")
    assert await h.case() is None
