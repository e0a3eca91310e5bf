"""Appointments as a pure state machine, and the reminders they need.

Rules (h11 style):

* An :class:`Appointment` is a frozen value. Every transition function returns a new value
  and a tuple of :class:`Decision` values for ``bot/`` to carry out; an illegal transition
  (attendance for a cancelled appointment, picking an option that was not offered) raises
  :class:`IllegalAppointment` and changes nothing.
* Times are aware UTC. Reminder keys carry the appointment id and the ``revision``; when an
  appointment moves, its revision grows, so a reminder row of the old time is recognised as
  stale by :func:`reminder_is_current` and never sent (goflow's timers).
* Reminders go to the young person only while the appointment is booked and still ahead.
  Quiet hours are applied by the scheduler tick, not here.
* Two missed appointments in a row: the coach is told and automatic nudges stop.
* When the service was down or a hold deferred them, several lead reminders of one appointment
  can be due at once: only the one with the shortest lead goes out
  (:func:`lead_superseded`), so nobody gets "tomorrow" and "in two hours" back to back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal, NewType

from flows.effects import CancelReminders, ScheduleReminder
from flows.ids import CaseId, CoachId, PersonId, ReminderKey

AppointmentId = NewType("AppointmentId", int)
PlaceKind = Literal["office", "phone", "video"]
Status = Literal["proposed", "booked", "cancelled", "attended", "missed", "rescheduled"]
Attendance = Literal["came", "missed", "rescheduled"]

MAX_OPTIONS = 3
# When the coach is asked whether the young person came: a while after the start.
ATTENDANCE_DELAY = timedelta(hours=1)
# A nudge after a missed appointment waits a little, so it does not feel like a reprimand.
MISSED_NUDGE_DELAY = timedelta(hours=2)
MAX_MISSED_IN_ROW = 2


class IllegalAppointment(Exception):
    """The transition does not apply to the appointment in its current state."""


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    kind: PlaceKind
    # An office address from the directory, or empty for phone and video.
    place: str = ""
    minutes: int = 45

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None:
            raise ValueError("slot times must be timezone-aware")


@dataclass(frozen=True)
class Appointment:
    id: AppointmentId
    case: CaseId
    person: PersonId
    coach: CoachId
    options: tuple[Slot, ...]
    status: Status = "proposed"
    slot: Slot | None = None
    revision: int = 0
    # Missed appointments in a row for this case, carried from the previous appointment.
    missed_in_row: int = 0


@dataclass(frozen=True)
class Tell:
    """Tell someone something; ``what`` names the message (``bot/`` renders it)."""

    to: Literal["person", "coach"]
    what: Literal[
        "proposed",
        "booked",
        "cancelled",
        "missed_nudge",
        "two_missed",
        "person_wants_other",
        "person_cannot_come",
        "person_confirmed",
        "ask_attendance",
    ]


Decision = ScheduleReminder | CancelReminders | Tell
"""What ``bot/`` carries out: reminder rows on the young person (the effects every flow uses,
:mod:`flows.effects`) and the appointment's own messages (:class:`Tell`)."""


def key_prefix(appointment_id: AppointmentId) -> str:
    return f"appt:{appointment_id}:"


def lead_key(appointment: Appointment, lead: timedelta) -> str:
    return f"{key_prefix(appointment.id)}r{appointment.revision}:lead:{int(lead.total_seconds())}"


def attendance_key(appointment: Appointment) -> str:
    return f"{key_prefix(appointment.id)}r{appointment.revision}:attendance"


def missed_key(appointment: Appointment) -> str:
    return f"{key_prefix(appointment.id)}r{appointment.revision}:missed"


def audience(key: str) -> Literal["person", "coach"]:
    """Whom an appointment reminder is for: the coach's attendance question, else the young
    person (every row is kept on the young person, see ``bot/appointments/context.py``)."""
    parsed = parse_key(key)
    return "coach" if parsed is not None and parsed[2] == "attendance" else "person"


def parse_key(key: str) -> tuple[AppointmentId, int, str] | None:
    """``appt:12:r3:lead:86400`` -> (12, 3, "lead:86400"); anything else -> None."""
    parts = key.split(":", 3)
    if len(parts) != 4 or parts[0] != "appt" or not parts[2].startswith("r"):
        return None
    try:
        return AppointmentId(int(parts[1])), int(parts[2][1:]), parts[3]
    except ValueError:
        return None


def propose(
    appointment_id: AppointmentId,
    case: CaseId,
    person: PersonId,
    coach: CoachId,
    options: tuple[Slot, ...],
    now: datetime,
    *,
    missed_in_row: int = 0,
) -> tuple[Appointment, tuple[Decision, ...]]:
    if not 1 <= len(options) <= MAX_OPTIONS:
        raise IllegalAppointment(f"propose 1 to {MAX_OPTIONS} options")
    if any(slot.starts_at <= now for slot in options):
        raise IllegalAppointment("every option must be in the future")
    appointment = Appointment(
        appointment_id, case, person, coach, options, missed_in_row=missed_in_row
    )
    return appointment, (Tell("person", "proposed"),)


def book(
    appointment: Appointment,
    choice: int,
    now: datetime,
    leads: tuple[timedelta, ...],
    tz: tzinfo,
) -> tuple[Appointment, tuple[Decision, ...]]:
    if appointment.status != "proposed":
        raise IllegalAppointment(f"cannot book an appointment that is {appointment.status}")
    if not 0 <= choice < len(appointment.options):
        raise IllegalAppointment("that option was not offered")
    slot = appointment.options[choice]
    if slot.starts_at <= now:
        raise IllegalAppointment("that moment has passed")
    booked = replace(appointment, status="booked", slot=slot, revision=appointment.revision + 1)
    decisions: list[Decision] = [Tell("person", "booked"), Tell("coach", "booked")]
    decisions.extend(reminders(booked, now, leads, tz))
    return booked, tuple(decisions)


def reminders(
    appointment: Appointment, now: datetime, leads: tuple[timedelta, ...], tz: tzinfo
) -> tuple[Decision, ...]:
    """The reminders of a booked appointment: one per lead still ahead, then the coach's
    attendance question. A lead already past (booked at short notice) is skipped."""
    if appointment.status != "booked" or appointment.slot is None:
        return ()
    start = appointment.slot.starts_at
    planned: list[Decision] = []
    for lead in sorted(set(leads), reverse=True):
        due = lead_due(start, lead, tz)
        if due > now:
            planned.append(ScheduleReminder(ReminderKey(lead_key(appointment, lead)), due))
    planned.append(
        ScheduleReminder(ReminderKey(attendance_key(appointment)), start + ATTENDANCE_DELAY)
    )
    return tuple(planned)


def lead_due(start: datetime, lead: timedelta, tz: tzinfo) -> datetime:
    """When a reminder ``lead`` before ``start`` is due.

    Whole days count on the wall clock: "a day before" a 10:00 appointment is 10:00 the day
    before, also across a daylight saving change. Other leads (2 hours, 1 minute) are real
    elapsed time.
    """
    day = timedelta(days=1)
    if lead >= day and lead % day == timedelta(0):
        local = start.astimezone(tz)
        wall = local.replace(tzinfo=None) - lead
        return wall.replace(tzinfo=tz).astimezone(UTC)
    return start - lead


def reschedule_request(appointment: Appointment) -> tuple[Appointment, tuple[Decision, ...]]:
    """The young person asks for another moment (before or instead of booking, or after a
    missed appointment, from the nudge's one-tap button). A missed appointment stays
    ``missed`` (it is a fact for the coach); its revision grows so its nudge is stale."""
    if appointment.status == "missed":
        asked = replace(appointment, revision=appointment.revision + 1)
        return asked, (
            CancelReminders(key_prefix(appointment.id)),
            Tell("coach", "person_wants_other"),
        )
    if appointment.status not in ("proposed", "booked"):
        raise IllegalAppointment(f"cannot reschedule an appointment that is {appointment.status}")
    what: Literal["person_wants_other", "person_cannot_come"] = (
        "person_wants_other" if appointment.status == "proposed" else "person_cannot_come"
    )
    moved = replace(appointment, status="rescheduled", revision=appointment.revision + 1)
    return moved, (CancelReminders(key_prefix(appointment.id)), Tell("coach", what))


def supersede(appointment: Appointment) -> tuple[Appointment, tuple[Decision, ...]]:
    """The coach proposes a new moment while this one is still proposed or booked: it moves
    (``rescheduled``, a new revision) and its reminders are never sent. Nobody is told here:
    the new proposal itself is the message."""
    if appointment.status not in ("proposed", "booked"):
        raise IllegalAppointment(f"cannot move an appointment that is {appointment.status}")
    moved = replace(appointment, status="rescheduled", revision=appointment.revision + 1)
    return moved, (CancelReminders(key_prefix(appointment.id)),)


def confirm(appointment: Appointment, now: datetime) -> tuple[Appointment, tuple[Decision, ...]]:
    """ "Ik kom" under a reminder: nothing changes, the coach hears it."""
    slot = appointment.slot
    if appointment.status != "booked" or slot is None or slot.starts_at <= now:
        raise IllegalAppointment(f"cannot confirm an appointment that is {appointment.status}")
    return appointment, (Tell("coach", "person_confirmed"),)


def cancel(appointment: Appointment) -> tuple[Appointment, tuple[Decision, ...]]:
    if appointment.status not in ("proposed", "booked"):
        raise IllegalAppointment(f"cannot cancel an appointment that is {appointment.status}")
    cancelled = replace(appointment, status="cancelled", revision=appointment.revision + 1)
    return cancelled, (CancelReminders(key_prefix(appointment.id)), Tell("person", "cancelled"))


def record_attendance(
    appointment: Appointment, outcome: Attendance, now: datetime
) -> tuple[Appointment, tuple[Decision, ...]]:
    if appointment.status != "booked" or appointment.slot is None:
        raise IllegalAppointment(f"no attendance for an appointment that is {appointment.status}")
    if outcome == "came":
        done = replace(appointment, status="attended", missed_in_row=0)
        return done, (CancelReminders(key_prefix(appointment.id)),)
    if outcome == "rescheduled":
        moved = replace(appointment, status="rescheduled", revision=appointment.revision + 1)
        return moved, (CancelReminders(key_prefix(appointment.id)),)
    missed = replace(appointment, status="missed", missed_in_row=appointment.missed_in_row + 1)
    decisions: list[Decision] = [CancelReminders(key_prefix(appointment.id))]
    if missed.missed_in_row >= MAX_MISSED_IN_ROW:
        # Two in a row: a person looks at it; no more automatic nudges.
        decisions.append(Tell("coach", "two_missed"))
    else:
        decisions.append(
            ScheduleReminder(ReminderKey(missed_key(missed)), now + MISSED_NUDGE_DELAY)
        )
    return missed, tuple(decisions)


def reminder_is_current(appointment: Appointment, key: str, now: datetime) -> bool:
    """Whether a due reminder row still applies: same revision, and for the young person's
    reminders, the appointment is booked and has not started yet."""
    parsed = parse_key(key)
    if parsed is None or parsed[0] != appointment.id or parsed[1] != appointment.revision:
        return False
    kind = parsed[2]
    if kind.startswith("lead:"):
        slot = appointment.slot
        return appointment.status == "booked" and slot is not None and slot.starts_at > now
    if kind == "attendance":
        return appointment.status == "booked"
    if kind == "missed":
        return appointment.status == "missed" and appointment.missed_in_row < MAX_MISSED_IN_ROW
    return False


def lead_of(key: str) -> timedelta | None:
    """The lead of a lead reminder key (``...:lead:86400`` -> 24 hours); else None."""
    parsed = parse_key(key)
    if parsed is None or not parsed[2].startswith("lead:"):
        return None
    seconds = parsed[2].removeprefix("lead:")
    return timedelta(seconds=int(seconds)) if seconds.isdigit() else None


def lead_superseded(
    appointment: Appointment,
    key: str,
    now: datetime,
    leads: tuple[timedelta, ...],
    tz: tzinfo,
) -> bool:
    """Whether a due lead reminder should be dropped because a shorter lead is due too (the
    service was down, or a hold or quiet hours held both): the shorter one says it better."""
    lead = lead_of(key)
    slot = appointment.slot
    if lead is None or slot is None:
        return False
    return any(shorter < lead and lead_due(slot.starts_at, shorter, tz) <= now for shorter in leads)
