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
* Counts come from SQL aggregates (:meth:`storage.team_sql.SqlTeam.stats_facts`): no case is
  decrypted for them; the life domains are kept counts (``team_domain_counts``: every intake
  the partnership received, also of cases erased since), and progress decrypts only the cases
  with a rating after the intake.
* Per source (a partner's link or poster, a coach's personal invitation): how many young people
  started, sent an intake and got a case (:meth:`storage.referral.ReferralRepository.
  source_counts`), for the partnership only.
* Small counts are suppressed before anything is shown or exported (:func:`publish`): a count
  from 1 to ``minimum - 1`` (``OPSTAP_REPORT_MIN_COUNT``, 5) becomes ``"<5"``, and a median,
  rate or mean over fewer than ``minimum`` cases is left out, so that a person cannot be
  singled out (one intake in a week, the waiting time of the one accepted case). A zero is
  shown: it singles out nobody. Charts plot what the tables show (a suppressed bar is absent).
  A rate is left out when one of its counts is hidden (it would give that count away).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.ids import CaseId
from flows.intake.domains import DOMAIN_IDS
from flows.routing.card import rated_domains
from flows.routing.outcomes import REPORTING
from storage.appointments_port import RatingRecord
from storage.referral_port import SourceCount
from storage.routing_port import CaseRecord
from storage.team_sql import StatsFacts


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
class SourceRow:
    """Where young people came from (a partner's link, or a coach's personal invitation)."""

    kind: str  # "link" or "invite"
    source: str  # the partner or the place of the poster; for an invitation the organisation
    arrivals: int
    intakes: int
    cases: int


@dataclass(frozen=True)
class Stats:
    intakes_per_week: tuple[tuple[str, int], ...]
    cases: int
    accepted: int
    hours_to_acceptance: float | None
    hours_to_first_contact: float | None
    acceptance_base: int  # the cases the median time to acceptance is over
    first_contact_base: int  # the cases the median time to first contact is over
    appointments_attended: int
    appointments_missed: int
    domains: tuple[tuple[str, int], ...]
    outcomes: tuple[tuple[str, int], ...]
    progress: tuple[DomainProgress, ...]
    blind_spots: tuple[tuple[str, int], ...]
    sources: tuple[SourceRow, ...] = ()

    @property
    def no_show_rate(self) -> float | None:
        total = self.appointments_attended + self.appointments_missed
        return None if total == 0 else round(self.appointments_missed / total, 3)


def week_of(moment: datetime, tz: ZoneInfo) -> str:
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(now: datetime, tz: ZoneInfo, weeks: int) -> list[datetime]:
    """The starts (Monday 00:00 local, in UTC) of the last ``weeks`` weeks up to ``now``'s, and
    the end of ``now``'s week: ``weeks + 1`` bounds."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    days = [monday - timedelta(weeks=back) for back in range(weeks - 1, -2, -1)]
    return [datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC) for day in days]


def _median(hours: list[float]) -> float | None:
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
    facts: StatsFacts,
    progress_cases: Sequence[CaseRecord],
    ratings: Mapping[CaseId, Sequence[RatingRecord]],
    blind_spot_counts: Mapping[str, int],
    now: datetime,
    tz: ZoneInfo,
    weeks: int = 12,
    sources: Sequence[SourceCount] = (),
) -> Stats:
    """The statistics from the aggregates the data layer read in SQL (:class:`StatsFacts`)
    and the cases with a later rating (the only ones progress needs)."""
    week_labels = [week_of(start, tz) for start in week_bounds(now, tz, weeks)[:-1]]
    domains = {d: n for d, n in facts.domains.items() if d in DOMAIN_IDS and n > 0}
    sums: dict[str, list[tuple[int, int]]] = {}
    for case in progress_cases:
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
    to_acceptance = [h for h in facts.hours_to_acceptance if h >= 0]
    to_contact = [h for h in facts.hours_to_first_contact if h >= 0]
    return Stats(
        intakes_per_week=tuple(zip(week_labels, facts.per_week, strict=True)),
        cases=facts.cases,
        accepted=len(facts.hours_to_acceptance),
        hours_to_acceptance=_median(to_acceptance),
        hours_to_first_contact=_median(to_contact),
        acceptance_base=len(to_acceptance),
        first_contact_base=len(to_contact),
        appointments_attended=facts.appointments.get("attended", 0),
        appointments_missed=facts.appointments.get("missed", 0),
        domains=tuple(sorted(domains.items(), key=lambda kv: (-kv[1], kv[0]))),
        outcomes=tuple(sorted((o, n) for o, n in facts.outcomes.items() if n > 0)),
        progress=progress,
        blind_spots=tuple(sorted(blind_spot_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        sources=tuple(
            SourceRow(s.kind, s.source, s.arrivals, s.intakes, s.cases)
            for s in sorted(sources, key=lambda s: (s.kind, s.source))
        ),
    )


def shown(count: int, minimum: int) -> str:
    """A count as it may be published: 1 to ``minimum - 1`` as ``"<minimum"``."""
    return f"<{minimum}" if 0 < count < minimum else str(count)


def plotted(count: int, minimum: int) -> int | None:
    """A count as a chart may plot it: ``None`` (no bar) where the table says ``"<5"``."""
    return None if 0 < count < minimum else count


def _over(value: float | None, base: int, minimum: int) -> float | None:
    return value if base >= minimum else None


@dataclass(frozen=True)
class ShownProgress:
    domain: str
    cases: str
    intake_mean: float | None
    latest_mean: float | None
    change: float | None


@dataclass(frozen=True)
class Report:
    """:class:`Stats` as they may be shown and exported: small counts suppressed (see the
    module rules). Counts are text (``"<5"``); a measure over too few cases is ``None``."""

    minimum: int
    cases: str
    accepted: str
    hours_to_acceptance: float | None
    hours_to_first_contact: float | None
    appointments_attended: str
    appointments_missed: str
    no_show_rate: float | None
    intakes_per_week: tuple[tuple[str, str], ...]
    domains: tuple[tuple[str, str], ...]
    outcomes: tuple[tuple[str, str], ...]
    outcome_reporting: tuple[tuple[str, str], ...]
    progress: tuple[ShownProgress, ...]
    blind_spots: tuple[tuple[str, str], ...]
    sources: tuple[ShownSource, ...] = ()


@dataclass(frozen=True)
class ShownSource:
    kind: str
    source: str
    arrivals: str
    intakes: str
    cases: str


def publish(stats: Stats, minimum: int) -> Report:
    def each(pairs: Iterable[tuple[str, int]]) -> tuple[tuple[str, str], ...]:
        return tuple((key, shown(n, minimum)) for key, n in pairs)

    # The same counts under the categories reporting uses ("niet bereikt", "doorverwezen").
    reporting: dict[str, int] = {}
    for outcome, n in stats.outcomes:
        label = REPORTING.get(outcome, outcome)  # type: ignore[call-overload]
        reporting[label] = reporting.get(label, 0) + n
    appointments = stats.appointments_attended + stats.appointments_missed
    # The rate and one shown count would give away a hidden one (10 came, rate 1/6: 2 missed).
    hidden = any(0 < n < minimum for n in (stats.appointments_attended, stats.appointments_missed))
    return Report(
        minimum=minimum,
        cases=shown(stats.cases, minimum),
        accepted=shown(stats.accepted, minimum),
        hours_to_acceptance=_over(stats.hours_to_acceptance, stats.acceptance_base, minimum),
        hours_to_first_contact=_over(
            stats.hours_to_first_contact, stats.first_contact_base, minimum
        ),
        appointments_attended=shown(stats.appointments_attended, minimum),
        appointments_missed=shown(stats.appointments_missed, minimum),
        no_show_rate=None if hidden else _over(stats.no_show_rate, appointments, minimum),
        intakes_per_week=each(stats.intakes_per_week),
        domains=each(stats.domains),
        outcomes=each(stats.outcomes),
        outcome_reporting=each(sorted(reporting.items())),
        progress=tuple(
            ShownProgress(
                p.domain,
                shown(p.cases, minimum),
                _over(p.intake_mean, p.cases, minimum),
                _over(p.latest_mean, p.cases, minimum),
                _over(p.change, p.cases, minimum),
            )
            for p in stats.progress
        ),
        blind_spots=each(stats.blind_spots),
        sources=tuple(
            ShownSource(
                s.kind,
                s.source,
                shown(s.arrivals, minimum),
                shown(s.intakes, minimum),
                shown(s.cases, minimum),
            )
            for s in stats.sources
        ),
    )


def export_rows(partnership: str, report: Report) -> list[tuple[str, str, str, str]]:
    """``(partnership, metric, key, value)`` rows: anonymous aggregates only, small counts
    suppressed (``"<5"``), a measure over too few cases empty."""
    rows: list[tuple[str, str, str, str]] = [
        (partnership, "cases", "total", report.cases),
        (partnership, "cases", "accepted", report.accepted),
        (partnership, "hours_to_acceptance", "median", _number(report.hours_to_acceptance)),
        (partnership, "hours_to_first_contact", "median", _number(report.hours_to_first_contact)),
        (partnership, "appointments", "attended", report.appointments_attended),
        (partnership, "appointments", "missed", report.appointments_missed),
        (partnership, "no_show_rate", "all", _number(report.no_show_rate)),
    ]
    rows += [(partnership, "intakes_per_week", week, n) for week, n in report.intakes_per_week]
    rows += [(partnership, "domain", domain, n) for domain, n in report.domains]
    rows += [(partnership, "outcome", outcome, n) for outcome, n in report.outcomes]
    rows += [(partnership, "outcome_reporting", label, n) for label, n in report.outcome_reporting]
    for item in report.progress:
        rows.append((partnership, "progress_cases", item.domain, item.cases))
        rows.append((partnership, "progress_change", item.domain, _number(item.change)))
    rows += [(partnership, "blind_spot", nis, n) for nis, n in report.blind_spots]
    for source in report.sources:
        key = f"{source.kind}:{source.source}"
        rows.append((partnership, "source_started", key, source.arrivals))
        rows.append((partnership, "source_intakes", key, source.intakes))
        rows.append((partnership, "source_cases", key, source.cases))
    return rows


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
