"""Follow-ups: the check-in, the three-month and closing re-ratings, progress for both sides,
and the personal-data parts of the appointment tables."""

from __future__ import annotations

from datetime import timedelta

from flows.ids import CaseId, PersonId
from storage.appointments import AppointmentPart, RatingPart, ReachabilityPart
from storage.ports import RetentionPolicy
from tests.appointments.conftest import (
    YOUNG,
    AppointmentHarness,
    buttons_of,
    local,
    make,
    option,
)


async def test_submitting_stores_the_intake_numbers_and_plans_the_follow_ups(
    h: AppointmentHarness,
) -> None:
    async with h.storage.transaction() as tx:
        [intake] = await tx.ratings.of_case(h.case)
    assert intake.kind == "intake"
    assert intake.ratings == {"work": "1", "money": "2", "housing": "4"}
    planned = {str(r.key): r.due_at for r in await h.pending()}
    assert planned[f"followup.{h.case}.checkin"] == local(2026, 11, 29, 10)
    assert planned[f"followup.{h.case}.rerate.three_months"] == local(2027, 2, 24, 10)


async def test_the_check_in_days_are_a_setting() -> None:
    h = await make(checkin_days="2")
    planned = {str(r.key): r.due_at for r in await h.pending()}
    assert planned[f"followup.{h.case}.checkin"] == local(2026, 11, 26, 10)


async def test_the_check_in_asks_and_the_coach_hears_the_answer(h: AppointmentHarness) -> None:
    h.clock.set(local(2026, 11, 29, 10))
    before = len(h.to(YOUNG))
    await h.run_tick()
    [checkin] = h.to(YOUNG)[before:]
    assert checkin.text.startswith("Hoi! Hoe gaat het met je?")
    assert "nog geen afspraak met Lotte" in checkin.text
    assert buttons_of(checkin) == [f"followup={h.case}:appt", f"followup={h.case}:later"]
    await h.young_presses(f"followup={h.case}:appt")
    assert h.last(YOUNG).text.startswith("Oké! We vragen het aan Lotte.")
    told = h.last(h.me)
    assert "Sam wil graag een afspraak" in told.text
    assert buttons_of(told) == [f"apb={h.case}::d"]


async def test_no_check_in_once_there_is_an_appointment(h: AppointmentHarness) -> None:
    await h.propose(option(2026, 12, 1, 10))
    h.clock.set(local(2026, 11, 29, 10))
    before = len(h.to(YOUNG))
    await h.run_tick()
    assert h.to(YOUNG)[before:] == []


async def answer_all(h: AppointmentHarness, values: dict[str, str]) -> None:
    for _ in values:
        question = h.last(YOUNG)
        value = buttons_of(question)[0]
        rating, domain, _ = value.partition("=")[2].split(":")
        await h.young_presses(f"rerate={rating}:{domain}:{values[domain]}")


async def test_three_months_later_the_young_person_rates_again_and_both_see_progress(
    h: AppointmentHarness,
) -> None:
    h.clock.set(local(2027, 2, 24, 10))
    await h.run_tick()
    first = h.last(YOUNG)
    assert first.text.startswith("Hoi! Hoe gaat het nu met je? Je bent drie maanden bezig.")
    assert "Vraag 1 van 3" in first.text and "Hoe gaat het met werk of school?" in first.text
    assert [label for row in first.buttons for label, _ in row] == [
        "😟 Heel slecht",
        "🙁 Niet goed",
        "😐 Gaat wel",
        "🙂 Goed",
        "😄 Heel goed",
        "🤐 Zeg ik liever niet",
    ]
    await answer_all(h, {"work": "3", "money": "4", "housing": "skip"})
    done = h.last(YOUNG)
    assert done.text == (
        "Dank je! Zo gaat het nu, vergeleken met het begin:\n"
        "Werk en school: 1😟 → 3😐\nGeld: 2🙁 → 4🙂"
    )
    assert "Sam gaf nieuwe scores: Werk en school: 1😟 → 3😐 · Geld: 2🙁 → 4🙂" in h.last(h.me).text
    # A button of an answered question asks what is still open (nothing): kindly stale.
    rating = buttons_of(first)[0].partition("=")[2].split(":")[0]
    await h.young_presses(f"rerate={rating}:work:5")
    assert h.last(YOUNG).text.startswith("Deze knop werkt niet meer")
    # The coach's /case view shows it from now on, with the appointment button.
    await h.coach_command("case", h.case)
    view = h.last(h.me)
    assert "📈 Vooruitgang: Werk en school: 1😟 → 3😐 · Geld: 2🙁 → 4🙂" in view.text
    assert buttons_of(view) == [f"apb={h.case}::d"]
    async with h.storage.transaction() as tx:
        kinds = [(r.kind, r.taken_at) for r in await tx.ratings.of_case(h.case)]
    assert kinds == [("intake", local(2026, 11, 24, 10)), ("three_months", local(2027, 2, 24, 10))]


async def test_closing_cancels_what_is_planned_and_asks_a_last_time(
    h: AppointmentHarness,
) -> None:
    appointment = await h.book(option(2026, 11, 30, 10))
    await h.coach_presses(f"case={h.case}:close:work")
    texts = h.texts(YOUNG)
    assert any(
        t.startswith("Je afspraak van maandag 30 november om 10:00 gaat niet door.") for t in texts
    )
    keys = [r.key for r in await h.pending()]
    assert keys == [f"followup.{h.case}.rerate.closing"]
    async with h.storage.transaction() as tx:
        stored = await tx.appointments.of_case(h.case)
    assert [a.status for a in stored] == ["cancelled"] and stored[0].id == appointment
    h.clock.advance(timedelta(minutes=10))
    await h.run_tick()
    assert h.last(YOUNG).text.startswith("Hoi! Hoe gaat het nu met je? Je traject is klaar.")
    await answer_all(h, {"work": "5", "money": "2", "housing": "4"})
    assert "Werk en school: 1😟 → 5😄" in h.last(YOUNG).text


async def test_the_accepted_message_gets_the_appointment_button() -> None:
    h = await make()
    accepted = [m for m in h.to(h.me) if "is van jou" in m.text]
    assert buttons_of(accepted[-1]) == [f"apb={h.case}::d"]


async def test_personal_data_parts_export_erase_withdraw_and_purge(
    h: AppointmentHarness,
) -> None:
    await h.book(option(2026, 11, 26, 14))
    async with h.storage.transaction() as tx:
        await tx.ratings.add(
            CaseId(h.case), YOUNG, "three_months", {"work": "3", "mental": "2"}, h.clock.now()
        )
        await tx.reachability.mark_unreachable(YOUNG, h.clock.now())
        exported = {
            p.name: await p.export(tx, YOUNG)
            for p in (AppointmentPart(), RatingPart(), ReachabilityPart())
        }
    appointments = exported["appointments"]
    assert isinstance(appointments, list)
    [appointment] = appointments
    assert isinstance(appointment, dict) and isinstance(appointment["place"], str)
    assert appointment["status"] == "booked" and appointment["place"].startswith("Onthaal")
    assert len(exported["ratings"]) == 2  # type: ignore[arg-type]
    assert exported["reachability"] == [{"unreachable_since": local(2026, 11, 24, 10).isoformat()}]
    # Withdrawing the consent for sensitive domains drops their numbers.
    async with h.storage.transaction() as tx:
        assert await RatingPart().withdraw(tx, YOUNG, "sensitive_domains") == 1
        latest = (await tx.ratings.of_case(CaseId(h.case)))[-1]
    assert latest.ratings == {"work": "3"}
    # The retention job removes rows whose case is gone; the case's own retention decides.
    policy = RetentionPolicy()
    async with h.storage.transaction() as tx:
        assert await AppointmentPart().purge_expired(tx, h.clock.now(), policy) == 0
        await tx.cases.erase(YOUNG)
        assert await AppointmentPart().purge_expired(tx, h.clock.now(), policy) == 1
        assert await RatingPart().purge_expired(tx, h.clock.now(), policy) == 2
        assert await ReachabilityPart().erase(tx, YOUNG) == 1
    assert {p.name for p in h.storage.personal_data_parts} >= {
        "appointments",
        "ratings",
        "reachability",
    }


async def test_wis_erases_appointments_ratings_and_reachability(h: AppointmentHarness) -> None:
    await h.book(option(2026, 11, 26, 14))
    async with h.storage.transaction() as tx:
        for part in h.storage.personal_data_parts:
            await part.erase(tx, YOUNG)
        assert await tx.appointments.all_of(YOUNG) == []
        assert await tx.ratings.all_of(YOUNG) == []
        assert await tx.reachability.get(PersonId(YOUNG)) is None
