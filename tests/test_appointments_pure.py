"""The appointment state machine and its reminders, with injected times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.appointments import (
    AppointmentId,
    IllegalAppointment,
    Slot,
    Tell,
    audience,
    book,
    cancel,
    confirm,
    lead_due,
    lead_superseded,
    propose,
    record_attendance,
    reminder_is_current,
    reschedule_request,
    supersede,
)
from flows.effects import CancelReminders, ScheduleReminder
from flows.ids import CaseId, CoachId, PersonId

BRUSSELS = ZoneInfo("Europe/Brussels")
LEADS = (timedelta(hours=24), timedelta(hours=2))
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS).astimezone(UTC)  # type: ignore[misc, arg-type]


def proposed(*starts: datetime, missed_in_row: int = 0):  # type: ignore[no-untyped-def]
    options = tuple(Slot(s, "office", "Stationsstraat 1, Leuven") for s in starts)
    return propose(
        AppointmentId(1),
        CaseId("7"),
        PersonId("tg:1"),
        CoachId("c1"),
        options,
        NOW,
        missed_in_row=missed_in_row,
    )


def test_booking_plans_both_leads_and_the_attendance_question() -> None:
    start = at(2026, 11, 27, 14, 0)
    appointment, _ = proposed(start, at(2026, 11, 28, 10, 0))
    booked, decisions = book(appointment, 0, NOW, LEADS, BRUSSELS)
    assert booked.status == "booked" and booked.slot is not None
    assert booked.slot.starts_at == start
    reminds = [d for d in decisions if isinstance(d, ScheduleReminder)]
    assert [(r.due_at, audience(r.key)) for r in reminds] == [
        (at(2026, 11, 26, 14, 0), "person"),
        (at(2026, 11, 27, 12, 0), "person"),
        (start + timedelta(hours=1), "coach"),
    ]
    assert Tell("person", "booked") in decisions and Tell("coach", "booked") in decisions


def test_a_lead_already_past_is_skipped() -> None:
    soon = NOW + timedelta(hours=3)
    appointment, _ = proposed(soon)
    _, decisions = book(appointment, 0, NOW, LEADS, BRUSSELS)
    leads = [
        d for d in decisions if isinstance(d, ScheduleReminder) and audience(d.key) == "person"
    ]
    assert [r.due_at for r in leads] == [soon - timedelta(hours=2)]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # The day after spring forward (Sunday 29 March 2026): still 10:00 the day before.
        (at(2026, 3, 30, 10, 0), at(2026, 3, 29, 10, 0)),
        (at(2026, 3, 29, 10, 0), at(2026, 3, 28, 10, 0)),
        # Fall back (Sunday 25 October 2026).
        (at(2026, 10, 26, 10, 0), at(2026, 10, 25, 10, 0)),
        (at(2026, 10, 25, 10, 0), at(2026, 10, 24, 10, 0)),
    ],
)
def test_a_day_before_is_the_same_wall_clock_time_across_dst(
    start: datetime, expected: datetime
) -> None:
    assert lead_due(start, timedelta(hours=24), BRUSSELS) == expected


def test_hour_leads_are_real_time_across_dst() -> None:
    start = at(2026, 3, 29, 4, 0)  # 04:00 CEST, two real hours after 01:00 CET
    assert lead_due(start, timedelta(hours=2), BRUSSELS) == start - timedelta(hours=2)
    assert lead_due(start, timedelta(hours=2), BRUSSELS).astimezone(BRUSSELS).hour == 1


def test_a_moved_or_cancelled_appointment_never_sends_its_old_reminders() -> None:
    appointment, _ = proposed(at(2026, 11, 27, 14, 0))
    booked, decisions = book(appointment, 0, NOW, LEADS, BRUSSELS)
    keys = [d.key for d in decisions if isinstance(d, ScheduleReminder)]
    assert all(reminder_is_current(booked, key, NOW) for key in keys)
    cancelled, cancel_decisions = cancel(booked)
    assert CancelReminders("appt:1:") in cancel_decisions
    assert not any(reminder_is_current(cancelled, key, NOW) for key in keys)
    moved, _ = reschedule_request(booked)
    assert not any(reminder_is_current(moved, key, NOW) for key in keys)


def test_a_reminder_after_the_start_is_not_sent() -> None:
    start = at(2026, 11, 27, 14, 0)
    appointment, _ = proposed(start)
    booked, decisions = book(appointment, 0, NOW, LEADS, BRUSSELS)
    lead = next(
        d for d in decisions if isinstance(d, ScheduleReminder) and audience(d.key) == "person"
    )
    assert not reminder_is_current(booked, lead.key, start + timedelta(minutes=1))


def test_missed_nudges_once_then_two_in_a_row_tells_the_coach() -> None:
    appointment, _ = proposed(at(2026, 11, 27, 14, 0))
    booked, _ = book(appointment, 0, NOW, LEADS, BRUSSELS)
    missed, decisions = record_attendance(booked, "missed", NOW)
    nudge = next(d for d in decisions if isinstance(d, ScheduleReminder))
    assert audience(nudge.key) == "person" and reminder_is_current(missed, nudge.key, NOW)
    second, _ = proposed(at(2026, 12, 2, 14, 0), missed_in_row=missed.missed_in_row)
    booked2, _ = book(second, 0, NOW, LEADS, BRUSSELS)
    missed2, decisions2 = record_attendance(booked2, "missed", NOW)
    assert Tell("coach", "two_missed") in decisions2
    assert not any(isinstance(d, ScheduleReminder) for d in decisions2)
    assert missed2.missed_in_row == 2


def test_came_resets_the_missed_count() -> None:
    appointment, _ = proposed(at(2026, 11, 27, 14, 0), missed_in_row=1)
    booked, _ = book(appointment, 0, NOW, LEADS, BRUSSELS)
    attended, _ = record_attendance(booked, "came", NOW)
    assert attended.missed_in_row == 0 and attended.status == "attended"


@pytest.mark.parametrize("bad", ["past", "four", "twice", "attendance_first", "option"])
def test_illegal_transitions_raise(bad: str) -> None:
    future = at(2026, 11, 27, 14, 0)
    if bad == "past":
        with pytest.raises(IllegalAppointment):
            proposed(NOW - timedelta(hours=1))
    elif bad == "four":
        with pytest.raises(IllegalAppointment):
            proposed(future, future, future, future)
    elif bad == "twice":
        booked, _ = book(proposed(future)[0], 0, NOW, LEADS, BRUSSELS)
        with pytest.raises(IllegalAppointment):
            book(booked, 0, NOW, LEADS, BRUSSELS)
    elif bad == "attendance_first":
        with pytest.raises(IllegalAppointment):
            record_attendance(proposed(future)[0], "came", NOW)
    else:
        with pytest.raises(IllegalAppointment):
            book(proposed(future)[0], 2, NOW, LEADS, BRUSSELS)


def test_another_moment_after_a_missed_appointment_keeps_it_missed() -> None:
    booked, _ = book(proposed(at(2026, 11, 27, 14, 0))[0], 0, NOW, LEADS, BRUSSELS)
    missed, decisions = record_attendance(booked, "missed", NOW)
    nudge = next(d for d in decisions if isinstance(d, ScheduleReminder))
    asked, told = reschedule_request(missed)
    assert asked.status == "missed" and asked.missed_in_row == 1
    assert Tell("coach", "person_wants_other") in told and CancelReminders("appt:1:") in told
    assert not reminder_is_current(asked, nudge.key, NOW)


def test_a_new_proposal_supersedes_the_booked_one_silently() -> None:
    booked, decisions = book(proposed(at(2026, 11, 27, 14, 0))[0], 0, NOW, LEADS, BRUSSELS)
    moved, moved_decisions = supersede(booked)
    assert moved.status == "rescheduled" and moved_decisions == (CancelReminders("appt:1:"),)
    keys = [d.key for d in decisions if isinstance(d, ScheduleReminder)]
    assert not any(reminder_is_current(moved, key, NOW) for key in keys)
    with pytest.raises(IllegalAppointment):
        supersede(moved)


def test_i_come_tells_the_coach_and_changes_nothing() -> None:
    booked, _ = book(proposed(at(2026, 11, 27, 14, 0))[0], 0, NOW, LEADS, BRUSSELS)
    same, decisions = confirm(booked, NOW)
    assert same == booked and decisions == (Tell("coach", "person_confirmed"),)
    with pytest.raises(IllegalAppointment):
        confirm(booked, at(2026, 11, 27, 14, 0))


def test_after_downtime_only_the_shortest_due_lead_goes() -> None:
    start = at(2026, 11, 27, 14, 0)
    booked, decisions = book(proposed(start)[0], 0, NOW, LEADS, BRUSSELS)
    day, two_hours = (
        d.key for d in decisions if isinstance(d, ScheduleReminder) and audience(d.key) == "person"
    )
    # Back on Friday 12:30: both are due; only the two-hour one is said.
    back = at(2026, 11, 27, 12, 30)
    assert lead_superseded(booked, day, back, LEADS, BRUSSELS)
    assert not lead_superseded(booked, two_hours, back, LEADS, BRUSSELS)
    # On time, the day-before reminder is not superseded.
    assert not lead_superseded(booked, day, at(2026, 11, 26, 14, 0), LEADS, BRUSSELS)
