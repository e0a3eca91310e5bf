"""The coach's appointment proposal, step by step, carried in the buttons themselves.

Rules of this module:

* Pure: the caller passes "now", the time zone, the working hours and the public holidays.
* The draft (case, options chosen so far, the step) lives in the button value, not in a
  process: a coach can press the next button after a restart, or on another process behind
  the same bot, and nothing was lost. Values stay within Telegram's 64 bytes
  (:data:`MAX_VALUE`): ``apb=<case>:<options>:<step>``, an option is ``YYMMDDHHMM`` local wall
  time plus one character for the place (``0``-``9`` an office of the partnership, ``t`` phone,
  ``v`` video), options are joined with ``.``.
* Steps: ``d`` pick a day, ``t<YYMMDD>`` pick a time that day, ``p<YYMMDDHHMM>`` pick the
  place, ``m`` look at the options (add one, send, start over), ``s`` send, ``x`` stop.
* Days are working days of the coach (their own hours, else the partnership's), public holidays
  excluded, that still have a start time after "now". Times start every :data:`STEP` from
  opening until :data:`STEP` before closing, local wall time; a time in a daylight saving gap
  does not exist on the wall and is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from flows.appointments import MAX_OPTIONS, PlaceKind
from flows.routing.hours import HoursSpec

PREFIX = "apb"
MAX_VALUE = 64
STEP = timedelta(minutes=30)
DAYS_SHOWN = 6
# How far ahead to look for working days (a long holiday period, a coach working one day).
_SEARCH_DAYS = 60
PHONE, VIDEO = "t", "v"

StepKind = Literal["day", "time", "place", "more", "send", "stop"]


@dataclass(frozen=True)
class Option:
    day: date
    at: time
    # "0".."9": the partnership's office with that index; "t": phone; "v": video.
    place: str

    @property
    def kind(self) -> PlaceKind:
        if self.place == PHONE:
            return "phone"
        if self.place == VIDEO:
            return "video"
        return "office"

    @property
    def office(self) -> int | None:
        return int(self.place) if self.place.isdigit() else None

    def starts_at(self, tz: tzinfo) -> datetime:
        return local_start(self.day, self.at, tz)

    def encode(self) -> str:
        return f"{self.day:%y%m%d}{self.at:%H%M}{self.place}"


@dataclass(frozen=True)
class Draft:
    case: str
    options: tuple[Option, ...] = ()
    step: StepKind = "day"
    day: date | None = None
    at: time | None = None

    def to(self, step: StepKind, *, day: date | None = None, at: time | None = None) -> Draft:
        return replace(self, step=step, day=day, at=at)

    def with_option(self, option: Option) -> Draft:
        return replace(self, options=(*self.options, option), step="more", day=None, at=None)

    @property
    def full(self) -> bool:
        return len(self.options) >= MAX_OPTIONS

    def value(self) -> str:
        """The button value for this draft (at most :data:`MAX_VALUE` bytes)."""
        if self.step == "time" and self.day is not None:
            step = f"t{self.day:%y%m%d}"
        elif self.step == "place" and self.day is not None and self.at is not None:
            step = f"p{self.day:%y%m%d}{self.at:%H%M}"
        else:
            step = {"day": "d", "more": "m", "send": "s", "stop": "x"}.get(self.step, "d")
        options = ".".join(o.encode() for o in self.options)
        value = f"{PREFIX}={self.case}:{options}:{step}"
        if len(value.encode()) > MAX_VALUE:
            raise ValueError("booking button value longer than 64 bytes")
        return value


def _day(text: str) -> date | None:
    if len(text) != 6 or not text.isdigit():
        return None
    try:
        return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def _time(text: str) -> time | None:
    if len(text) != 4 or not text.isdigit():
        return None
    try:
        return time(int(text[:2]), int(text[2:]))
    except ValueError:
        return None


def _option(text: str) -> Option | None:
    if len(text) != 11:
        return None
    day, at, place = _day(text[:6]), _time(text[6:10]), text[10]
    if day is None or at is None or not (place.isdigit() or place in (PHONE, VIDEO)):
        return None
    return Option(day, at, place)


def decode(value: str) -> Draft | None:
    """A button value back to its draft; ``None`` for anything malformed (a stale or forged
    button is answered with a kind "start again", never with an exception)."""
    prefix, _, rest = value.partition("=")
    parts = rest.split(":")
    if prefix != PREFIX or len(parts) != 3 or not parts[0].isdigit():
        return None
    case, options_text, step = parts
    options: list[Option] = []
    for item in options_text.split(".") if options_text else ():
        option = _option(item)
        if option is None:
            return None
        options.append(option)
    if len(options) > MAX_OPTIONS:
        return None
    draft = Draft(case, tuple(options))
    simple: dict[str, StepKind] = {"d": "day", "m": "more", "s": "send", "x": "stop"}
    if step in simple:
        return draft.to(simple[step])
    if step.startswith("t"):
        day = _day(step[1:])
        return None if day is None else draft.to("time", day=day)
    if step.startswith("p"):
        day, at = _day(step[1:7]), _time(step[7:])
        return None if day is None or at is None else draft.to("place", day=day, at=at)
    return None


def local_start(day: date, at: time, tz: tzinfo) -> datetime:
    """A local wall-clock start as an aware UTC instant."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _exists(day: date, at: time, tz: tzinfo) -> bool:
    # A wall time in the spring-forward gap (02:30 on the last Sunday of March) comes back
    # from a round trip through UTC as another wall time: it does not exist.
    start = local_start(day, at, tz).astimezone(tz)
    return (start.date(), start.time().replace(tzinfo=None)) == (day, at)


def times(
    day: date, now: datetime, tz: tzinfo, spec: HoursSpec, holidays: frozenset[date]
) -> tuple[time, ...]:
    """Start times on ``day``: every :data:`STEP` from opening until a step before closing,
    after ``now``."""
    if day in holidays:
        return ()
    found: list[time] = []
    for opens, closes in spec.get(day.weekday(), ()):
        moment = datetime.combine(day, opens)
        last = datetime.combine(day, closes) - STEP
        while moment <= last:
            at = moment.time()
            if _exists(day, at, tz) and local_start(day, at, tz) > now:
                found.append(at)
            moment += STEP
    return tuple(found)


def days(
    now: datetime, tz: tzinfo, spec: HoursSpec, holidays: frozenset[date], count: int = DAYS_SHOWN
) -> tuple[date, ...]:
    """The next ``count`` working days that still have a start time (today included)."""
    today = now.astimezone(tz).date()
    found: list[date] = []
    for offset in range(_SEARCH_DAYS):
        day = today + timedelta(days=offset)
        if times(day, now, tz, spec, holidays):
            found.append(day)
            if len(found) >= count:
                break
    return tuple(found)
