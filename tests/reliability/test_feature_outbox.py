"""Messages of features go through the outbox (issue #16, deliverable 2): what a state change
of a feature causes (the coach's card, the young person's promise, the relay between young
person and coach) is written in the transaction of that change, so a kill between the commit
and the send delays it, never loses it."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from flows.ids import CaseId, PersonId
from storage.memory import MemoryStorage
from tests.bot.fakes import killed_at_first_send
from tests.routing2.conftest import YOUNG, Harness, make_harness


async def killed_while_sending(harness: Harness, act: Coroutine[Any, Any, object]) -> None:
    """Run ``act`` (a coroutine) until its first send, then kill it."""
    await killed_at_first_send(harness.service.channels, act)


async def restart(storage: MemoryStorage) -> Harness:
    """The next process on the same database; its start sweeps the outbox."""
    again = make_harness(storage)
    await again.service.relay.sweep(everything=True)
    return again


async def test_a_kill_after_the_submission_loses_neither_the_card_nor_the_promise() -> None:
    # What an undisturbed submission sends.
    calm = make_harness()
    lotte = await calm.add_coach("Lotte", chat=900)
    await calm.submit()
    expected_young = calm.texts(YOUNG)
    assert "Dossier #1" in calm.card_of(lotte).text

    storage = MemoryStorage()
    first = make_harness(storage)
    lotte = await first.add_coach("Lotte", chat=900)
    await killed_while_sending(first, first.submit())
    # Committed: the case exists and the coach has an offer; nothing reached anyone yet.
    assert await first.case() is not None

    again = await restart(storage)
    assert "Dossier #1" in again.card_of(lotte).text
    # The young person hears everything, in the same order as without the kill.
    assert again.texts(YOUNG) == expected_young


async def test_a_kill_after_a_young_persons_message_still_reaches_the_coach() -> None:
    storage = MemoryStorage()
    first = make_harness(storage)
    lotte = await first.add_coach("Lotte", chat=900)
    await first.submit()
    assert await first.coach_presses(lotte, f"case={first.case_of_card(lotte)}:accept")
    await killed_while_sending(first, first.young_says("Hoi Lotte, wanneer kan ik langskomen?"))

    again = await restart(storage)
    relayed = [t for t in again.texts(PersonId("tg:900")) if "wanneer kan ik langskomen" in t]
    assert len(relayed) == 1
    # ... and the young person hears that it went to Lotte.
    assert any("Lotte" in t for t in again.texts(YOUNG))


async def test_a_kill_after_a_coachs_message_still_reaches_the_young_person() -> None:
    storage = MemoryStorage()
    first = make_harness(storage)
    lotte = await first.add_coach("Lotte", chat=900)
    await first.submit()
    assert await first.coach_presses(lotte, f"case={first.case_of_card(lotte)}:accept")
    await killed_while_sending(first, first.coach_says(lotte, "Dag! Kom je dinsdag om 10 uur?"))

    again = await restart(storage)
    assert any("Kom je dinsdag om 10 uur?" in t for t in again.texts(YOUNG))


async def test_a_kill_after_a_reopen_button_still_tells_the_coach_and_the_young_person() -> None:
    storage = MemoryStorage()
    first = make_harness(storage)
    lotte = await first.add_coach("Lotte", chat=900)
    await first.submit()
    assert await first.coach_presses(lotte, "case=1:accept")
    assert await first.coach_presses(lotte, "case=1:close:work")
    await killed_while_sending(first, first.young_presses("case=reopen"))
    case = await first.case()
    assert case is not None and case.status == "open"  # committed before the kill

    again = await restart(storage)
    assert any("#1" in t for t in again.texts(PersonId("tg:900")))
    assert any("Lotte" in t for t in again.texts(YOUNG))


async def test_a_kill_after_yes_to_the_case_team_still_reaches_everyone() -> None:
    storage = MemoryStorage()
    first = make_harness(storage)
    lotte = await first.add_coach("Lotte", chat=900)
    await first.add_coach("Sara", chat=901, organisation="VDAB")
    await first.submit()
    assert await first.coach_presses(lotte, "case=1:accept")
    assert await first.coach_command(lotte, "meekijken", "1 Sara")
    asked = first.sent(YOUNG)[-1]
    yes = next(value for row in asked.buttons for _, value in row if value.endswith(":yes"))
    await killed_while_sending(first, first.young_presses(yes))

    again = await restart(storage)
    assert any("Sara" in t for t in again.texts(YOUNG))  # "Sara (VDAB) looks along"
    assert any("#1" in t for t in again.texts(PersonId("tg:901")))  # Sara's welcome and card
    assert any("#1" in t for t in again.texts(PersonId("tg:900")))  # Lotte hears it


async def test_a_kill_after_niet_voor_mij_still_tells_the_coach_and_offers_the_next() -> None:
    storage = MemoryStorage()
    first = make_harness(storage)
    lotte = await first.add_coach("Lotte", chat=900)
    sara = await first.add_coach("Sara", chat=901)
    await first.submit()
    declining = lotte if first.sent(PersonId("tg:900")) else sara
    other = PersonId("tg:901") if declining is lotte else PersonId("tg:900")
    await killed_while_sending(first, first.coach_presses(declining, "case=1:decline"))
    # Committed before the kill: the offer was declined.
    async with storage.transaction() as tx:
        offers = await tx.cases.offers_of(CaseId("1"))
    assert any(o.status == "declined" and o.coach == declining.id for o in offers)

    again = await restart(storage)
    assert declining.person is not None
    assert any("#1" in t for t in again.texts(declining.person))  # "niet voor jou" confirmed
    assert any("Dossier #1" in t for t in again.texts(other))  # the next coach's card


async def test_a_kill_after_closing_still_tells_the_coach_and_the_young_person() -> None:
    storage = MemoryStorage()
    first = make_harness(storage)
    lotte = await first.add_coach("Lotte", chat=900)
    await first.submit()
    assert await first.coach_presses(lotte, "case=1:accept")
    await first.service.relay.flush()  # what went out before is marked sent
    await killed_while_sending(first, first.coach_presses(lotte, "case=1:close:work"))
    case = await first.case()
    assert case is not None and case.status == "closed"  # committed before the kill

    again = await restart(storage)
    assert any("#1" in t for t in again.texts(PersonId("tg:900")))
    young = again.sent(YOUNG)
    assert len(young) == 1 and any(v == "case=reopen" for row in young[0].buttons for _, v in row)


async def test_closing_without_a_kill_sends_each_message_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    calm = make_harness(storage)
    lotte = await calm.add_coach("Lotte", chat=900)
    await calm.submit()
    assert await calm.coach_presses(lotte, "case=1:accept")
    before_young = len(calm.sent(YOUNG))
    before_coach = len(calm.sent(PersonId("tg:900")))
    assert await calm.coach_presses(lotte, "case=1:close:work")
    assert len(calm.sent(YOUNG)) == before_young + 1
    await calm.service.relay.flush()
    # A restart finds nothing left to send.
    again = await restart(storage)
    assert again.sent(YOUNG) == [] and again.sent(PersonId("tg:900")) == []
    assert len(calm.sent(PersonId("tg:900"))) > before_coach


async def test_a_kill_after_accepting_still_tells_the_coach_and_the_young_person() -> None:
    storage = MemoryStorage()
    first = make_harness(storage)
    lotte = await first.add_coach("Lotte", chat=900)
    await first.submit()
    await first.service.relay.flush()
    await killed_while_sending(first, first.coach_presses(lotte, "case=1:accept"))
    case = await first.case()
    assert case is not None and case.status == "open"  # committed before the kill

    again = await restart(storage)
    assert any("is van jou" in t for t in again.texts(PersonId("tg:900")))
    welcome = again.texts(YOUNG)
    assert len(welcome) == 1 and "Lotte" in welcome[0]


async def test_the_appointment_button_under_is_van_jou_survives_a_kill() -> None:
    from bot.appointments.wiring import install_appointments
    from bot.settings import load_settings

    def with_appointments(harness: Harness) -> Harness:
        side = install_appointments(
            harness.service,
            load_settings({}, env_file=None),
            directory=harness.side.handoff.directory,
            holidays=harness.side.handoff.holidays,
        )
        harness.side.desk.extensions.append(side.desk)
        return harness

    storage = MemoryStorage()
    first = with_appointments(make_harness(storage))
    lotte = await first.add_coach("Lotte", chat=900)
    await first.submit()
    await first.service.relay.flush()
    await killed_while_sending(first, first.coach_presses(lotte, "case=1:accept"))

    again = with_appointments(make_harness(storage))
    await again.service.relay.sweep(everything=True)
    accepted = [m for m in again.sent(PersonId("tg:900")) if "is van jou" in m.text]
    assert len(accepted) == 1
    assert [v for row in accepted[0].buttons for _, v in row] == ["apb=1::d"]


async def test_accepting_without_a_kill_sends_each_message_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    calm = make_harness(storage)
    lotte = await calm.add_coach("Lotte", chat=900)
    await calm.submit()
    before = len(calm.sent(YOUNG))
    assert await calm.coach_presses(lotte, "case=1:accept")
    assert len(calm.sent(YOUNG)) == before + 1
    assert sum("is van jou" in t for t in calm.texts(PersonId("tg:900"))) == 1
    await calm.service.relay.flush()
    again = await restart(storage)
    assert again.sent(YOUNG) == [] and again.sent(PersonId("tg:900")) == []
