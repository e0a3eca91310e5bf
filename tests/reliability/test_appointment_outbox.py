"""The young person's appointment buttons go through the outbox (issue #16, deliverable 2):
their answer (a booking, "another moment", "I cannot come") is written with the appointment's
change, so a kill between the commit and the send delays the messages, never loses them. The
calendar files are sent directly (not stored)."""

from __future__ import annotations

from bot.appointments.wiring import install_appointments
from bot.settings import load_settings
from flows.booking import Draft
from storage.memory import MemoryStorage
from storage.ports import Storage
from tests.appointments.conftest import AppointmentHarness, buttons_of, make, option
from tests.bot.fakes import killed_at_first_send
from tests.routing2.conftest import YOUNG, Harness, local, make_harness


async def killed_while_pressing(h: AppointmentHarness, value: str) -> None:
    await killed_at_first_send(h.base.service.channels, h.young_presses(value))


async def restart(storage: Storage) -> Harness:
    again = make_harness(storage)
    side = install_appointments(
        again.service,
        load_settings({}, env_file=None),
        directory=again.side.handoff.directory,
        holidays=again.side.handoff.holidays,
    )
    again.side.desk.extensions.append(side.desk)
    await again.service.relay.sweep(everything=True)
    return again


async def test_a_kill_after_asking_another_moment_still_tells_both() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    appointment = await h.propose(option(2026, 11, 26, 14))
    await h.base.service.relay.flush()
    await killed_while_pressing(h, f"appt={appointment}:other")
    async with storage.transaction() as tx:
        stored = await tx.appointments.get(appointment)  # type: ignore[arg-type]
    assert stored is not None and stored.status != "proposed"  # committed before the kill

    again = await restart(storage)
    young = again.texts(YOUNG)
    assert len(young) == 1 and "We vragen Lotte om een ander moment" in young[0]
    told = again.sent(h.me)
    assert len(told) == 1 and "Sam vraagt een ander moment" in told[0].text
    assert buttons_of(told[0]) == [Draft(h.case).value()]


async def test_a_kill_after_booking_still_confirms_it_to_both() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    appointment = await h.propose(option(2026, 11, 26, 14))
    await h.base.service.relay.flush()
    await killed_while_pressing(h, f"appt={appointment}:pick:0")

    again = await restart(storage)
    assert len(again.texts(YOUNG)) == 1
    assert len(again.texts(h.me)) == 1 and f"#{h.case}" in again.texts(h.me)[0]


async def test_booking_without_a_kill_sends_each_message_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    before_young, before_coach = len(h.to(YOUNG)), len(h.to(h.me))
    await h.book(option(2026, 11, 26, 14))
    await h.base.service.relay.flush()
    # The proposal and the confirmation; the coach's proposal overview and the booking.
    assert len(h.to(YOUNG)) == before_young + 2
    assert len([d for d in h.base.channel.documents if d[0] == YOUNG]) == 1
    after = await restart(storage)
    assert after.sent(YOUNG) == [] and after.sent(h.me) == []
    assert len(h.to(h.me)) > before_coach


async def test_a_kill_after_the_check_in_answer_still_tells_the_coach() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    h.clock.set(local(2026, 11, 29, 10))
    await h.run_tick()
    await h.base.service.relay.flush()
    await killed_while_pressing(h, f"followup={h.case}:appt")

    again = await restart(storage)
    young = again.texts(YOUNG)
    assert len(young) == 1 and young[0].startswith("Oké! We vragen het aan Lotte.")
    told = again.sent(h.me)
    assert len(told) == 1 and "Sam wil graag een afspraak" in told[0].text
    assert buttons_of(told[0]) == [f"apb={h.case}::d"]


async def test_a_kill_after_the_last_new_score_still_shows_both_the_progress() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    h.clock.set(local(2027, 2, 24, 10))
    await h.run_tick()
    for domain, value in (("work", "3"), ("money", "4")):
        question = h.last(YOUNG)
        rating = buttons_of(question)[0].partition("=")[2].split(":")[0]
        assert f":{domain}:" in buttons_of(question)[0]
        await h.young_presses(f"rerate={rating}:{domain}:{value}")
    await h.base.service.relay.flush()
    await killed_while_pressing(h, f"rerate={rating}:housing:skip")

    again = await restart(storage)
    assert again.texts(YOUNG) == [
        "Dank je! Zo gaat het nu, vergeleken met het begin:\n"
        "Werk en school: 1😟 → 3😐\nGeld: 2🙁 → 4🙂"
    ]
    assert len(again.texts(h.me)) == 1 and "Sam gaf nieuwe scores" in again.texts(h.me)[0]


async def test_a_kill_after_a_new_score_still_asks_the_next_question() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    h.clock.set(local(2027, 2, 24, 10))
    await h.run_tick()
    first = h.last(YOUNG)
    rating = buttons_of(first)[0].partition("=")[2].split(":")[0]
    await h.base.service.relay.flush()
    await killed_while_pressing(h, f"rerate={rating}:work:3")

    again = await restart(storage)
    [question] = again.sent(YOUNG)
    assert "Vraag 2 van 3" in question.text and buttons_of(question)
