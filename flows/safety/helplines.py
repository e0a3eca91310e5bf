"""Help lines as data: numbers, opening hours, chat lines, what they are for (pure).

Rules of this module:

* Pure. ``bot/safety/helplines.py`` reads ``flows/safety/helplines.yaml`` and hands the mapping
  to :func:`parse_helplines`; nothing here opens a file or reads a clock.
* Every figure that can change carries ``verified_on``: the date a person checked it with the
  line, ``null`` until then. A chat line is offered only when it is open *and* its hours are
  verified: an unverified "open" could send a young person in crisis to a closed chat.
* A phone line is either open day and night (``phone_hours: always``), open at verified weekly
  hours, or of unknown hours (``null``). Only lines open day and night are offered as "call
  now, day and night"; a line of unknown hours is named without any claim about its hours.
* Hours are local wall-clock times (``17:00-24:00``; ``24:00`` means the end of the day) in the
  file's ``timezone``; an interval never crosses midnight.
* Each line says which ``languages`` it speaks (ISO codes); the response names them, so a
  young person who chose English or Arabic knows what to expect. A line with ``for_speakers``
  is offered only to people who chose one of those languages (French-language lines for
  French speakers).
* ``first`` names, per category, the lines shown first (an overdose already taken: 112 and
  the Antigifcentrum); ``danger_now`` the categories that also get "in danger now? call 112".
* :func:`parse_helplines` refuses bad data with every problem, one line each
  (:class:`HelpLinesError`): the bot must fail at start-up, not in a crisis.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

__all__ = [
    "ALL",
    "HELP",
    "WEEKDAYS",
    "ChatLine",
    "HelpLine",
    "HelpLines",
    "HelpLinesError",
    "Hours",
    "parse_helplines",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The category of a response nobody flagged: /hulp, the help button.
HELP = "help"
# ``categories: all``: the line is offered in every crisis response.
ALL = "all"
KNOWN_CATEGORIES = frozenset(
    {"suicide", "overdose", "self_harm", "abuse_violence", "acute_danger", HELP, "default"}
)
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
END_OF_DAY = time.max
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MESSAGE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")

Interval = tuple[time, time]


class HelpLinesError(ValueError):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid helplines.yaml:\n" + "\n".join(self.problems))


@dataclass(frozen=True)
class Hours:
    """Open day and night (``always``), or at these weekly intervals (Monday first)."""

    always: bool = False
    weekly: tuple[tuple[Interval, ...], ...] = ((),) * 7

    def open_at(self, local: datetime) -> bool:
        """Whether the line is open at this local wall-clock moment."""
        if self.always:
            return True
        now = local.time().replace(tzinfo=None)
        return any(opens <= now < closes for opens, closes in self.weekly[local.weekday()])


@dataclass(frozen=True)
class ChatLine:
    url: str
    hours: Hours
    verified_on: date | None

    def offered_at(self, local: datetime) -> bool:
        """Open now and the hours were verified: only then is a chat offered."""
        return self.verified_on is not None and self.hours.open_at(local)


@dataclass(frozen=True)
class HelpLine:
    id: str
    name: str
    phone: str | None
    phone_hours: Hours | None
    """``None``: the hours are not known (not verified); the line is never said to be open."""
    categories: frozenset[str]
    """Categories this line is offered for; :data:`ALL` for every response; empty: none yet."""
    emergency: bool = False
    about: str | None = None
    """Message id that names what a line of limited hours is for (``safety.line.abuse``)."""
    chat: ChatLine | None = None
    verified_on: date | None = None
    languages: tuple[str, ...] = ("nl",)
    """The languages the line speaks (ISO codes), most used first."""
    for_speakers: frozenset[str] = frozenset()
    """Offered only to people who chose one of these languages; empty: to everyone."""

    @property
    def verified(self) -> bool:
        return self.verified_on is not None

    def offered_to(self, language: str) -> bool:
        return not self.for_speakers or language in self.for_speakers

    @property
    def day_and_night(self) -> bool:
        return self.phone is not None and self.phone_hours is not None and self.phone_hours.always

    def fits(self, category: str) -> bool:
        return ALL in self.categories or category in self.categories

    def reachable_at(self, local: datetime) -> bool:
        """A phone line known to be open now (unknown hours never count)."""
        return (
            self.phone is not None
            and self.phone_hours is not None
            and (self.phone_hours.always or self.verified_on is not None)
            and self.phone_hours.open_at(local)
        )


@dataclass(frozen=True)
class HelpLines:
    timezone: str
    lines: tuple[HelpLine, ...]
    next_step: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Category (or ``default``) -> line ids to suggest, first reachable one wins."""
    first: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Category -> line ids shown before all others (their help comes first)."""
    danger_now: frozenset[str] = frozenset()
    """Categories whose response adds "in danger now? call 112"."""

    def unverified(self) -> tuple[HelpLine, ...]:
        """Lines whose number nobody has checked yet (the team sees them at start-up)."""
        return tuple(line for line in self.lines if line.verified_on is None)

    def line(self, line_id: str) -> HelpLine | None:
        return next((line for line in self.lines if line.id == line_id), None)

    def message_ids(self) -> frozenset[str]:
        """The message ids the data itself refers to (for the catalog test)."""
        return frozenset(line.about for line in self.lines if line.about is not None)


# --- parsing ----------------------------------------------------------------------------------


def _interval(text: str) -> Interval:
    found = _INTERVAL.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM")
    oh, om, ch, cm = (int(part) for part in found.groups())
    opens = time(oh, om)
    closes = END_OF_DAY if (ch, cm) == (24, 0) else time(ch, cm)
    if closes <= opens:
        raise ValueError(f"{text!r} closes before it opens (an interval may not cross midnight)")
    return opens, closes


def _hours(value: object, where: str, problems: list[str]) -> Hours | None:
    if value is None:
        return None
    if value == "always":
        return Hours(always=True)
    if not isinstance(value, Mapping):
        problems.append(f"{where}: use 'always', null or a mapping of weekdays to intervals")
        return None
    weekly: list[tuple[Interval, ...]] = [() for _ in WEEKDAYS]
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            problems.append(f"{where}: unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
            continue
        if not isinstance(intervals, list):
            problems.append(f"{where}.{day}: a list of intervals like ['17:00-24:00']")
            continue
        parsed: list[Interval] = []
        for item in intervals:
            try:
                parsed.append(_interval(str(item)))
            except ValueError as error:
                problems.append(f"{where}.{day}: {error}")
        weekly[WEEKDAYS.index(day)] = tuple(sorted(parsed))
    return Hours(always=False, weekly=tuple(weekly))


def _date(value: object, where: str, problems: list[str]) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: verified_on is a date (YYYY-MM-DD) or null")
        return None


def _categories(value: object, where: str, problems: list[str]) -> frozenset[str]:
    if value == ALL:
        return frozenset({ALL})
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        problems.append(f"{where}: categories is 'all' or a list")
        return frozenset()
    unknown = [str(c) for c in value if c not in KNOWN_CATEGORIES]
    if unknown:
        problems.append(f"{where}: unknown categories {unknown}")
    return frozenset(str(c) for c in value)


def _line(entry: object, index: int, problems: list[str]) -> HelpLine | None:
    where = f"lines[{index}]"
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: expected a mapping")
        return None
    line_id = str(entry.get("id") or "")
    if not line_id:
        problems.append(f"{where}: id is missing")
    where = f"line {line_id or index}"
    name = str(entry.get("name") or "")
    if not name:
        problems.append(f"{where}: name is missing")
    phone = entry.get("phone")
    phone_text = None if phone is None else str(phone)
    if phone_text is not None and not re.fullmatch(r"[0-9 ]{3,20}", phone_text):
        problems.append(f"{where}: phone {phone_text!r} is digits and spaces only")
    about = entry.get("about")
    about_id = None if about is None else str(about)
    if about_id is not None and not _MESSAGE_ID.match(about_id):
        problems.append(f"{where}: about {about_id!r} is a message id like safety.line.abuse")
    chat = None
    raw_chat = entry.get("chat")
    if raw_chat is not None:
        if not isinstance(raw_chat, Mapping) or not str(raw_chat.get("url", "")).startswith(
            "https://"
        ):
            problems.append(f"{where}: chat needs an https url")
        else:
            chat_hours = _hours(raw_chat.get("hours"), f"{where}.chat.hours", problems)
            chat = ChatLine(
                url=str(raw_chat["url"]),
                hours=chat_hours or Hours(),
                verified_on=_date(raw_chat.get("verified_on"), f"{where}.chat", problems),
            )
    raw_languages = entry.get("languages", ["nl"])
    languages: tuple[str, ...] = ()
    if not isinstance(raw_languages, list) or not raw_languages:
        problems.append(f"{where}: languages is a non-empty list of ISO codes like [nl, fr]")
    else:
        languages = tuple(str(code) for code in raw_languages)
        bad = [code for code in languages if not _LANGUAGE.match(code)]
        if bad:
            problems.append(f"{where}: languages {bad} are not ISO codes like nl")
    raw_speakers = entry.get("for_speakers") or []
    if not isinstance(raw_speakers, list):
        problems.append(f"{where}: for_speakers is a list of ISO codes")
        raw_speakers = []
    line = HelpLine(
        id=line_id,
        name=name,
        phone=phone_text,
        phone_hours=_hours(entry.get("phone_hours"), f"{where}.phone_hours", problems),
        categories=_categories(entry.get("categories"), where, problems),
        emergency=bool(entry.get("emergency", False)),
        about=about_id,
        chat=chat,
        verified_on=_date(entry.get("verified_on"), where, problems),
        languages=languages,
        for_speakers=frozenset(str(code) for code in raw_speakers),
    )
    if line.categories and not line.day_and_night and line.about is None and line.chat is None:
        problems.append(f"{where}: a line offered without 24/7 hours needs 'about'")
    return line


def parse_helplines(data: Mapping[str, object]) -> HelpLines:
    """The help lines from the loaded YAML; raises :class:`HelpLinesError` listing every
    problem."""
    problems: list[str] = []
    timezone = str(data.get("timezone") or "")
    if not timezone:
        problems.append("timezone is missing (Europe/Brussels)")
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise HelpLinesError([*problems, "lines: expected a non-empty list"])
    lines = [line for i, e in enumerate(raw_lines) if (line := _line(e, i, problems)) is not None]
    ids = [line.id for line in lines]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        problems.append(f"line ids used twice: {twice}")
    if not any(line.day_and_night and line.fits(HELP) and not line.emergency for line in lines):
        problems.append("no line for everyone open day and night: every response needs one")
    if not any(line.emergency and line.day_and_night and line.fits(HELP) for line in lines):
        problems.append("no emergency number (112) for everyone")
    next_step: dict[str, tuple[str, ...]] = {}
    raw_next = data.get("next_step")
    if not isinstance(raw_next, Mapping) or "default" not in raw_next:
        problems.append("next_step: a mapping with at least 'default'")
    else:
        for category, targets in raw_next.items():
            if category not in KNOWN_CATEGORIES:
                problems.append(f"next_step: unknown category {category!r}")
            chosen = tuple(str(t) for t in (targets if isinstance(targets, list) else [targets]))
            missing = [t for t in chosen if t not in ids]
            if missing:
                problems.append(f"next_step.{category}: unknown lines {missing}")
            # The last choice must always be reachable: a next step is never a closed line.
            last = next((line for line in lines if chosen and line.id == chosen[-1]), None)
            if last is not None and not last.day_and_night:
                problems.append(f"next_step.{category}: end with a line open day and night")
            next_step[str(category)] = chosen
    first: dict[str, tuple[str, ...]] = {}
    raw_first = data.get("first") or {}
    if not isinstance(raw_first, Mapping):
        problems.append("first: a mapping of category -> line ids")
    else:
        for category, targets in raw_first.items():
            if category not in KNOWN_CATEGORIES:
                problems.append(f"first: unknown category {category!r}")
            chosen = tuple(str(t) for t in (targets if isinstance(targets, list) else [targets]))
            missing = [t for t in chosen if t not in ids]
            if missing:
                problems.append(f"first.{category}: unknown lines {missing}")
            first[str(category)] = chosen
    raw_danger = data.get("danger_now") or []
    if not isinstance(raw_danger, list) or any(c not in KNOWN_CATEGORIES for c in raw_danger):
        problems.append("danger_now: a list of categories")
        raw_danger = []
    if problems:
        raise HelpLinesError(problems)
    return HelpLines(
        timezone=timezone,
        lines=tuple(lines),
        next_step=next_step,
        first=first,
        danger_now=frozenset(str(c) for c in raw_danger),
    )
