"""Follow-ups after the intake: a check-in, and re-rating the life domains to show progress.

Rules of this module:

* Pure: times come in, keys, due times and comparisons go out.
* Reminder keys carry the case id only: ``followup.<case>.checkin`` (N days after the intake,
  sent only when the case is open and has no appointment yet), ``followup.<case>.rerate.
  three_months`` (three calendar months after the intake, same wall-clock time) and
  ``followup.<case>.rerate.closing`` (just after the coach closes the case). The dot after the
  number ends it, so cancelling case 1's follow-ups never touches case 12's.
* A re-rating asks again only the domains the young person rated with a number at the intake
  (so a sensitive domain is asked again only when they consented then), one message per
  domain, in the intake's domain order. "Liever niet" is an answer too (:data:`SKIP`), so the
  round always ends.
* Progress compares a domain's number at the intake with the latest number ("Geld 2 → 4");
  a young person's self-rating is not a coach's ZRM score and is never shown as one.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from flows.intake.domains import DOMAIN_IDS
from flows.intake.flow import rating_key
from flows.session import JsonValue

PREFIX = "followup."
RatingKind = Literal["intake", "three_months", "closing"]
RerateKind = Literal["three_months", "closing"]
FollowUpKind = Literal["checkin", "three_months", "closing"]
NUMBERS = ("1", "2", "3", "4", "5")
SKIP = "skip"
RERATE_AFTER_MONTHS = 3
# The closing re-rating follows the closing message, not in the same second.
CLOSING_DELAY = timedelta(minutes=10)

Ratings = Mapping[str, str | None]
"""Domain id -> "1".."5", :data:`SKIP`, or ``None`` while not answered yet."""


def case_prefix(case_id: str) -> str:
    return f"{PREFIX}{case_id}."


def checkin_key(case_id: str) -> str:
    return f"{case_prefix(case_id)}checkin"


def rerate_key(case_id: str, kind: RerateKind) -> str:
    return f"{case_prefix(case_id)}rerate.{kind}"


def parse_key(key: str) -> tuple[str, FollowUpKind] | None:
    """``followup.7.checkin`` -> ("7", "checkin"); ``followup.7.rerate.closing`` -> ("7",
    "closing"); anything else -> None."""
    if not key.startswith(PREFIX):
        return None
    case_id, _, rest = key.removeprefix(PREFIX).partition(".")
    if not case_id.isdigit():
        return None
    if rest == "checkin":
        return case_id, "checkin"
    if rest == "rerate.three_months":
        return case_id, "three_months"
    if rest == "rerate.closing":
        return case_id, "closing"
    return None


def days_later(moment: datetime, days: int, tz: tzinfo) -> datetime:
    """The same local wall-clock time ``days`` days later (a DST change does not move it)."""
    local = moment.astimezone(tz).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=tz).astimezone(UTC)


def months_later(moment: datetime, months: int, tz: tzinfo) -> datetime:
    """The same local wall-clock time ``months`` calendar months later (30 November + 3 =
    28 February)."""
    local = moment.astimezone(tz).replace(tzinfo=None)
    index = local.year * 12 + local.month - 1 + months
    year, month0 = divmod(index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    later = local.replace(year=year, month=month0 + 1, day=min(local.day, last_day))
    return later.replace(tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Planned:
    key: str
    due_at: datetime


def plan_after_intake(
    case_id: str, submitted_at: datetime, checkin_days: int, tz: tzinfo
) -> tuple[Planned, ...]:
    """The follow-ups a new case gets: the check-in and the three-month re-rating."""
    return (
        Planned(checkin_key(case_id), days_later(submitted_at, checkin_days, tz)),
        Planned(
            rerate_key(case_id, "three_months"),
            months_later(submitted_at, RERATE_AFTER_MONTHS, tz),
        ),
    )


def intake_ratings(intake: Mapping[str, JsonValue]) -> dict[str, str | None]:
    """The numbers the young person gave at the intake, from a case's card answers (which
    already leave out sensitive domains without consent), in the intake's domain order."""
    found: dict[str, str | None] = {}
    for domain_id in DOMAIN_IDS:
        value = intake.get(rating_key(domain_id))
        if isinstance(value, str) and value in NUMBERS:
            found[domain_id] = value
    return found


def to_ask(baseline: Ratings) -> dict[str, str | None]:
    """A new, empty re-rating of the domains rated with a number at the intake."""
    return {domain_id: None for domain_id, value in baseline.items() if value in NUMBERS}


def next_domain(ratings: Ratings) -> str | None:
    """The first domain not answered yet (intake order), or None when the round is done."""
    return next((domain_id for domain_id, value in ratings.items() if value is None), None)


def answer(ratings: Ratings, domain_id: str, value: str) -> dict[str, str | None] | None:
    """The ratings with this answer; ``None`` when the domain is not asked, already answered
    (a button pressed twice) or the value is not a rating."""
    if domain_id not in ratings or ratings[domain_id] is not None:
        return None
    if value not in NUMBERS and value != SKIP:
        return None
    return {**ratings, domain_id: value}


@dataclass(frozen=True)
class Change:
    domain: str
    before: str
    after: str


def progress(baseline: Ratings, latest: Ratings) -> tuple[Change, ...]:
    """Per domain with a number at the intake and a number now: before and after."""
    changes: list[Change] = []
    for domain_id, before in baseline.items():
        after = latest.get(domain_id)
        if before in NUMBERS and after in NUMBERS:
            assert before is not None and after is not None
            changes.append(Change(domain_id, before, after))
    return tuple(changes)
