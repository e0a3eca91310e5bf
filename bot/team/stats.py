"""Statistics of a partnership, computed from stored records: pure functions, no I/O.

Rules of this module:

* Input are the records the data layer returns for one scope; output are counts, medians and
  rates, never a person id, a name or an answer. The CSV export (:func:`export_rows`) is
  these aggregates only (ESF / Europa WSE reporting), one metric per row.
* Time to acceptance is ``accepted_at - created_at`` of cases that were accepted; time to first
  contact runs to the first message a coach wrote to the young person. Both are medians in
  hours (calendar time: what the young person waits).
* The no-show rate is missed / (attended + missed) appointments.
* Progress compares, per life domain, the intake rating with the latest later rating of the
  same case (1-5 only; "skip" and "I don't know" are left out).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.appointments import Appointment
from flows.ids import CaseId
from flows.intake.domains import DOMAIN_IDS
from flows.routing.card import rated_domains
from flows.routing.outcomes import REPORTING
from storage.ports import CaseRecord, RatingRecord


@dataclass(frozen=True)
class DomainProgress:
    domain: str
    cases: int
    intake_mean: float
    latest_mean: float

    @property
    def change(self) -> float:
        return round(self.latest_mean - self.intake_mean, 2)


@dataclass(frozen=True)
class Stats:
    intakes_per_week: tuple[tuple[str, int], ...]
    cases: int
    accepted: int
    hours_to_acceptance: float | None
    hours_to_first_contact: float | None
    appointments_attended: int
    appointments_missed: int
    domains: tuple[tuple[str, int], ...]
    outcomes: tuple[tuple[str, int], ...]
    progress: tuple[DomainProgress, ...]
    blind_spots: tuple[tuple[str, int], ...]

    @property
    def no_show_rate(self) -> float | None:
        total = self.appointments_attended + self.appointments_missed
        return None if total == 0 else round(self.appointments_missed / total, 3)


def week_of(moment: datetime, tz: ZoneInfo) -> str:
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def _median_hours(deltas: Iterable[timedelta]) -> float | None:
    hours = [d.total_seconds() / 3600 for d in deltas if d.total_seconds() >= 0]
    return round(statistics.median(hours), 1) if hours else None


def _score(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and 1 <= int(value) <= 5 else None


def intake_scores(case: CaseRecord, ratings: Sequence[RatingRecord]) -> dict[str, int]:
    """The intake's 1-5 ratings per domain: the stored intake rating, else the card's."""
    for record in ratings:
        if record.kind == "intake":
            found = {d: s for d, v in record.ratings.items() if (s := _score(v)) is not None}
            if found:
                return found
    return {r.domain: int(r.rating) for r in rated_domains(case.intake) if r.rating.isdigit()}


def latest_scores(ratings: Sequence[RatingRecord]) -> dict[str, int]:
    """The newest later rating (three months, closing) per domain."""
    found: dict[str, int] = {}
    for record in sorted(ratings, key=lambda r: (r.taken_at, r.id)):
        if record.kind == "intake":
            continue
        for domain, value in record.ratings.items():
            score = _score(value)
            if score is not None:
                found[domain] = score
    return found


def compute(
    cases: Sequence[CaseRecord],
    first_contacts: Mapping[CaseId, datetime],
    appointments: Sequence[Appointment],
    ratings: Mapping[CaseId, Sequence[RatingRecord]],
    blind_spot_counts: Mapping[str, int],
    now: datetime,
    tz: ZoneInfo,
    weeks: int = 12,
) -> Stats:
    week_labels = [week_of(now - timedelta(weeks=back), tz) for back in range(weeks - 1, -1, -1)]
    per_week = Counter(week_of(c.created_at, tz) for c in cases)
    accepted = [c for c in cases if c.accepted_at is not None]
    domains: Counter[str] = Counter()
    for case in cases:
        listed = case.intake.get("domains")
        if isinstance(listed, list):
            domains.update(d for d in listed if isinstance(d, str) and d in DOMAIN_IDS)
    outcomes = Counter(c.outcome for c in cases if c.status == "closed" and c.outcome)
    sums: dict[str, list[tuple[int, int]]] = {}
    for case in cases:
        records = ratings.get(case.id, ())
        start, latest = intake_scores(case, records), latest_scores(records)
        for domain, before in start.items():
            if domain in latest:
                sums.setdefault(domain, []).append((before, latest[domain]))
    progress = tuple(
        DomainProgress(
            domain,
            len(pairs),
            round(statistics.fmean(p[0] for p in pairs), 2),
            round(statistics.fmean(p[1] for p in pairs), 2),
        )
        for domain, pairs in sorted(sums.items())
    )
    return Stats(
        intakes_per_week=tuple((label, per_week.get(label, 0)) for label in week_labels),
        cases=len(cases),
        accepted=len(accepted),
        hours_to_acceptance=_median_hours(
            c.accepted_at - c.created_at for c in accepted if c.accepted_at is not None
        ),
        hours_to_first_contact=_median_hours(
            first_contacts[c.id] - c.created_at for c in cases if c.id in first_contacts
        ),
        appointments_attended=sum(1 for a in appointments if a.status == "attended"),
        appointments_missed=sum(1 for a in appointments if a.status == "missed"),
        domains=tuple(sorted(domains.items(), key=lambda kv: (-kv[1], kv[0]))),
        outcomes=tuple(sorted(outcomes.items())),
        progress=progress,
        blind_spots=tuple(sorted(blind_spot_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def export_rows(partnership: str, stats: Stats) -> list[tuple[str, str, str, str]]:
    """``(partnership, metric, key, value)`` rows: anonymous aggregates only."""
    rows: list[tuple[str, str, str, str]] = [
        (partnership, "cases", "total", str(stats.cases)),
        (partnership, "cases", "accepted", str(stats.accepted)),
        (partnership, "hours_to_acceptance", "median", _number(stats.hours_to_acceptance)),
        (partnership, "hours_to_first_contact", "median", _number(stats.hours_to_first_contact)),
        (partnership, "appointments", "attended", str(stats.appointments_attended)),
        (partnership, "appointments", "missed", str(stats.appointments_missed)),
        (partnership, "no_show_rate", "all", _number(stats.no_show_rate)),
    ]
    rows += [(partnership, "intakes_per_week", week, str(n)) for week, n in stats.intakes_per_week]
    rows += [(partnership, "domain", domain, str(n)) for domain, n in stats.domains]
    rows += [(partnership, "outcome", outcome, str(n)) for outcome, n in stats.outcomes]
    # The same counts under the categories reporting uses ("niet bereikt", "doorverwezen").
    reporting: dict[str, int] = {}
    for outcome, n in stats.outcomes:
        label = REPORTING.get(outcome, outcome)  # type: ignore[call-overload]
        reporting[label] = reporting.get(label, 0) + n
    rows += [
        (partnership, "outcome_reporting", label, str(n)) for label, n in sorted(reporting.items())
    ]
    for item in stats.progress:
        rows.append((partnership, "progress_cases", item.domain, str(item.cases)))
        rows.append((partnership, "progress_change", item.domain, _number(item.change)))
    rows += [(partnership, "blind_spot", nis, str(n)) for nis, n in stats.blind_spots]
    return rows


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
