"""The calendar file (.ics) a young person (and their coach) gets with a confirmed appointment.

Rules of this module:

* Neutral on a lock screen and in a shared calendar: the summary is "Afspraak met <coach's
  first name>" in the young person's language, the location is the office address (or phone or
  video); nothing names the service or a problem. No description, no attendees, no link.
* The UID is stable per appointment and ``SEQUENCE`` is its revision, so a calendar app that
  imports the file for a moved appointment updates the event instead of adding a second one.
* Times are UTC (``...Z``): every calendar app shows them in its own zone, also across a
  daylight saving change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from flows.appointments import Appointment

FILENAME = "afspraak.ics"


def coach_filename(case: str) -> str:
    """The coach's copy: the case number tells the files of their cases apart."""
    return f"afspraak-dossier-{case}.ics"


PRODID = "-//afspraak//ics 1.0//NL"


def calendar_file(appointment: Appointment, *, summary: str, location: str, now: datetime) -> bytes:
    slot = appointment.slot
    if slot is None:
        raise ValueError("only a booked appointment has a calendar file")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"afspraak-{appointment.id}@ics.invalid")
    event.add("sequence", appointment.revision)
    event.add("dtstamp", now)
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.starts_at + timedelta(minutes=slot.minutes))
    event.add("summary", summary)
    if location:
        event.add("location", location)
    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
