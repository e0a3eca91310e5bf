"""Booking through the coach desk and the young person's buttons, on memory storage."""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Calendar

from flows.appointments import AppointmentId
from flows.booking import Draft
from flows.ids import PersonId
from flows.inputs import ButtonPressed
from tests.appointments.conftest import (
    YOUNG,
    AppointmentHarness,
    buttons_of,
    local,
    make,
    option,
)


async def test_the_coach_builds_a_proposal_with_buttons(h: AppointmentHarness) -> None:
    await h.coach_command("afspraak", h.case)
    days = h.last(h.me)
    assert "Kies een dag" in days.text
    # Tuesday 10:00: today still has times; the weekend is not offered.
    labels = [label for row in days.buttons for label, _ in row]
    assert labels[:6] == [
        "di 24 nov",
        "wo 25 nov",
        "do 26 nov",
        "vr 27 nov",
        "ma 30 nov",
        "di 1 dec",
    ]
    thursday = next(v for row in days.buttons for label, v in row if label == "do 26 nov")
    await h.coach_presses(thursday)
    times = h.last(h.me)
    hours = [label for row in times.buttons for label, _ in row if ":" in label]
    assert hours[0] == "09:00" and hours[-1] == "16:30"
    two = next(v for row in times.buttons for label, v in row if label == "14:00")
    await h.coach_presses(two)
    places = h.last(h.me)
    assert [label for row in places.buttons for label, _ in row][:3] == [
        "Onthaal Leuven (placeholder)",
        "📞 Telefoon",
        "💻 Video",
    ]
    await h.coach_presses(places.buttons[0][0][1])
    overview = h.last(h.me)
    assert (
        "donderdag 26 november om 14:00 · Onthaal Leuven (placeholder), Voorbeeldstraat 1"
        in overview.text
    )
    send = next(v for v in buttons_of(overview) if v.endswith(":s"))
    assert len(send.encode()) <= 64
    await h.coach_presses(send)
    proposal = h.last(YOUNG)
    assert proposal.text.startswith("Lotte stelt een afspraak voor.")
    assert "1. donderdag 26 november om 14:00\n📍 Onthaal Leuven (placeholder)" in proposal.text
    assert buttons_of(proposal) == ["appt=1:pick:0", "appt=1:other"]
    assert "Voorstel verstuurd naar Sam" in h.last(h.me).text


async def test_today_offers_only_later_times() -> None:
    h = await make(at=local(2026, 11, 24, 15, 10))
    await h.coach_presses(Draft(h.case).to("time", day=date(2026, 11, 24)).value())
    hours = [label for row in h.last(h.me).buttons for label, _ in row if ":" in label]
    assert hours == ["15:30", "16:00", "16:30"]


async def test_picking_confirms_both_sends_a_calendar_file_and_plans_reminders(
    h: AppointmentHarness,
) -> None:
    appointment = await h.book(
        option(2026, 11, 26, 14), option(2026, 11, 27, 10, place="t"), choice=0
    )
    booked = h.to(YOUNG)[-1]
    assert booked.text.startswith("Top! Je afspraak met Lotte is donderdag 26 november om 14:00.")
    [(_person, filename, content, caption)] = [d for d in h.base.channel.documents if d[0] == YOUNG]
    assert filename == "afspraak.ics"
    assert caption == "Zet de afspraak in je agenda."
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert str(event["summary"]) == "Afspraak met Lotte"
    assert "Voorbeeldstraat 1, 3000 Leuven" in str(event["location"])
    assert event.decoded("dtstart") == local(2026, 11, 26, 14)
    assert event.decoded("dtend") == local(2026, 11, 26, 14, 45)
    for text in (str(event["summary"]), caption):
        assert "Opstap" not in text
    assert "Sam koos donderdag 26 november om 14:00" in h.last(h.me).text
    keys = [(r.key, r.due_at) for r in await h.pending()]
    assert (f"appt:{appointment}:r1:lead:86400", local(2026, 11, 25, 14)) in keys
    assert (f"appt:{appointment}:r1:lead:7200", local(2026, 11, 26, 12)) in keys
    assert (f"appt:{appointment}:r1:attendance", local(2026, 11, 26, 15)) in keys


async def test_the_coach_gets_a_calendar_file_too_without_the_young_persons_name(
    h: AppointmentHarness,
) -> None:
    await h.book(option(2026, 11, 26, 14), choice=0)
    [(_person, filename, content, caption)] = [d for d in h.base.channel.documents if d[0] == h.me]
    assert filename == f"afspraak-dossier-{h.case}.ics"
    assert caption == f"📁 Dossier #{h.case} · de afspraak voor je agenda."
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert str(event["summary"]) == f"Afspraak dossier #{h.case}"
    assert "Sam" not in content.decode()
    assert "Voorbeeldstraat 1, 3000 Leuven" in str(event["location"])
    assert event.decoded("dtstart") == local(2026, 11, 26, 14)
    young = next(d for d in h.base.channel.documents if d[0] == YOUNG)
    # The same event: a moved appointment updates it in both calendars.
    assert event["uid"] == Calendar.from_ical(young[2]).walk("VEVENT")[0]["uid"]


async def test_a_second_tap_and_a_tap_on_another_option_do_not_book_twice(
    h: AppointmentHarness,
) -> None:
    appointment = await h.book(option(2026, 11, 26, 14), option(2026, 11, 27, 10))
    await h.young_presses(f"appt={appointment}:pick:1")
    assert h.last(YOUNG).text == "Deze knop werkt niet meer. Kijk naar het laatste bericht."
    assert len([d for d in h.base.channel.documents if d[0] == YOUNG]) == 1
    leads = [r for r in await h.pending() if ":lead:" in r.key]
    assert len(leads) == 2


async def test_another_moment_tells_the_coach_with_a_button_for_a_new_proposal(
    h: AppointmentHarness,
) -> None:
    appointment = await h.propose(option(2026, 11, 26, 14))
    await h.young_presses(f"appt={appointment}:other")
    assert "We vragen Lotte om een ander moment" in h.last(YOUNG).text
    told = h.last(h.me)
    assert "Sam vraagt een ander moment" in told.text
    assert buttons_of(told) == [Draft(h.case).value()]


async def test_a_new_proposal_moves_the_booked_appointment_and_its_reminders_go(
    h: AppointmentHarness,
) -> None:
    first = await h.book(option(2026, 11, 26, 14))
    second = await h.book(option(2026, 11, 30, 9, 30))
    keys = [r.key for r in await h.pending()]
    assert not [k for k in keys if k.startswith(f"appt:{first}:")]
    assert f"appt:{second}:r1:lead:86400" in keys
    async with h.storage.transaction() as tx:
        moved = await tx.appointments.get(AppointmentId(first))
    assert moved is not None and moved.status == "rescheduled"


async def test_the_coach_cancels_and_the_young_person_is_told(h: AppointmentHarness) -> None:
    appointment = await h.book(option(2026, 11, 26, 14))
    await h.coach_command("afspraak")  # the current case
    current = h.last(h.me)
    assert "Afspraak met Sam (vastgelegd)" in current.text
    await h.coach_presses(f"apc={appointment}:cancel")
    assert h.last(YOUNG).text.startswith(
        "Je afspraak van donderdag 26 november om 14:00 gaat niet door."
    )
    assert "Afspraak geannuleerd" in h.last(h.me).text
    assert not [r for r in await h.pending() if r.key.startswith("appt:")]


async def test_an_option_in_the_past_is_refused_at_sending(h: AppointmentHarness) -> None:
    h.clock.advance(timedelta(days=3))  # Friday 27 November
    await h.coach_presses(Draft(h.case, (option(2026, 11, 26, 14),)).to("send").value())
    assert "Een moment is al voorbij" in h.last(h.me).text
    async with h.storage.transaction() as tx:
        assert await tx.appointments.of_case(h.case) == []


async def test_a_stranger_cannot_use_coach_or_young_buttons(h: AppointmentHarness) -> None:
    appointment = await h.propose(option(2026, 11, 26, 14))
    stranger = PersonId("tg:999")
    await h.young_presses(f"appt={appointment}:pick:0", person=stranger)
    assert h.texts(stranger) == ["Deze knop werkt niet meer. Kijk naar het laatste bericht."]
    await h.base.service.handle(stranger, ButtonPressed(f"apc={appointment}:cancel", h.clock.now()))
    assert h.texts(stranger) == ["Deze knop werkt niet meer. Kijk naar het laatste bericht."]
    async with h.storage.transaction() as tx:
        stored = await tx.appointments.get(AppointmentId(appointment))
    assert stored is not None and stored.status == "proposed"


async def test_a_full_draft_offers_no_fourth_option(h: AppointmentHarness) -> None:
    full = Draft(
        h.case, (option(2026, 11, 26, 9), option(2026, 11, 26, 10), option(2026, 11, 26, 11))
    )
    await h.coach_presses(full.to("day").value())
    overview = h.last(h.me)
    assert "Voorstel voor Sam" in overview.text
    assert not [v for v in buttons_of(overview) if v.endswith(":d") and v != f"apb={h.case}::d"]
