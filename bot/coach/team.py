"""A partnership's coaches as assignment sees them, and coaches' own working hours.

Rules of this module:

* Working hours are written like ``"mon-fri 09:00-17:00; sat 10:00-12:00"``: segments separated
  by ``;``, each a day, a range of days (``mon-fri``) or a list (``mon,wed``), then one or more
  intervals separated by ``,``. Errors are one line (for ``opstap coach invite --hours``).
* A coach without own hours works the partnership's hours (``directory.yaml``); deadlines are
  counted in the hours of the coach who has the offer, in the partnership's time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time

from flows.ids import PartnershipId
from flows.routing.assign import CoachProfile
from flows.routing.directory import Partnership
from flows.routing.hours import (
    WEEKDAYS,
    HoursSpec,
    add_working_hours,
    check_hours_spec,
    parse_interval,
)
from storage.ports import Transaction
from storage.routing_port import CoachRecord


def parse_hours(text: str) -> HoursSpec:
    """``"mon-fri 09:00-17:00"`` -> a weekly spec; ``ValueError`` with one readable line."""
    found: dict[int, list[tuple[time, time]]] = {}
    for segment in (part.strip() for part in text.split(";")):
        if not segment:
            continue
        days_text, _, intervals_text = segment.partition(" ")
        days = _days(days_text.strip().lower())
        intervals = [parse_interval(item) for item in intervals_text.split(",") if item.strip()]
        if not intervals:
            raise ValueError(f"{segment!r}: give hours after the days, e.g. mon-fri 09:00-17:00")
        for day in days:
            found.setdefault(day, []).extend(intervals)
    result: HoursSpec = {day: tuple(sorted(found[day])) for day in sorted(found)}
    problems = check_hours_spec(result)
    if problems:
        raise ValueError("; ".join(problems))
    return result


def _days(text: str) -> list[int]:
    days: list[int] = []
    for item in text.split(","):
        first, dash, last = item.partition("-")
        if first not in WEEKDAYS or (dash and last not in WEEKDAYS):
            raise ValueError(f"{text!r}: use days like mon, mon-fri or mon,wed")
        start = WEEKDAYS.index(first)
        end = WEEKDAYS.index(last) if dash else start
        if end < start:
            raise ValueError(f"{item!r}: a range of days goes from early to late in the week")
        days.extend(range(start, end + 1))
    return days


def profile(
    coach: CoachRecord, load: int, *, unreachable: bool = False, now: datetime | None = None
) -> CoachProfile:
    return CoachProfile(
        id=coach.id,
        domains=frozenset(coach.domains),
        languages=frozenset(coach.languages),
        capacity=coach.capacity,
        load=load,
        last_assigned_at=coach.last_assigned_at,
        role=coach.role,
        active=coach.active,
        reachable=coach.person is not None and not unreachable,
        # Absence mode (set in the team dashboard): no new offers until the date.
        absent=now is not None and coach.is_absent(now),
    )


async def team(
    tx: Transaction, partnership: PartnershipId
) -> list[tuple[CoachRecord, CoachProfile]]:
    coaches = await tx.coaches.of_partnership(partnership)
    loads = await tx.cases.loads(tuple(c.id for c in coaches))
    return [(c, profile(c, loads[c.id])) for c in coaches]


async def reachable_team(
    tx: Transaction, partnership: PartnershipId, now: datetime | None = None
) -> list[tuple[CoachRecord, CoachProfile]]:
    """:func:`team`, with coaches whose chat blocked the bot marked unreachable (and, given
    ``now``, absent coaches marked absent)."""
    coaches = await tx.coaches.of_partnership(partnership)
    loads = await tx.cases.loads(tuple(c.id for c in coaches))
    found = []
    for coach in coaches:
        blocked = coach.person is not None and await tx.reachability.get(coach.person) is not None
        found.append((coach, profile(coach, loads[coach.id], unreachable=blocked, now=now)))
    return found


def deadline(
    start: datetime,
    hours: float,
    partnership: Partnership,
    coach: CoachRecord | None,
    holidays: frozenset[date],
) -> datetime:
    """``hours`` working hours after ``start`` in the coach's (else the partnership's) hours."""
    spec = partnership.hours.spec
    if coach is not None and coach.hours:
        spec = parse_hours(coach.hours)
    return add_working_hours(start, hours, spec, holidays, partnership.hours.timezone)
