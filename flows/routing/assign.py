"""Choosing the coach for a submitted intake, inside one partnership.

Rules of this module:

* Pure: the caller passes the coaches as :class:`CoachProfile` values with their current load
  (open cases plus open offers) and the time of their last assignment; nothing is read here.
* Candidates are active coaches (role ``coach``) reachable in a chat, not absent, with room:
  ``load < capacity``. A coach at capacity is never offered a case, so an acceptance can never
  take a coach above capacity. Coaches who already had an offer for this case are skipped.
* Order, the first difference decides: **expertise** (how many of the wanted domains the coach
  covers: the young person's own-words domains and their lowest-rated domains), a **shared
  language**, **load** against capacity (lower share first), **fairness** (longest since the
  last assignment; never assigned counts as longest), then the id (stable results).
* Escalation has an end: at most :data:`MAX_COACH_OFFERS` coaches get an offer for one case;
  after that, or when no coach has room, each coordinator of the partnership (active,
  reachable, not absent) gets it once, in id order. When everyone was asked (or nobody can be
  reached), :func:`next_offer` answers ``None``: the case goes to the partnership's team queue.
  A coordinator who declined or let it expire is never asked again for the same case.
* Explainable: a :class:`Choice` says what decided it (``decided_by``) and what matched, as data;
  ``bot/coach/card.py`` turns that into the "why you" line of the card.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Literal

from flows.ids import CoachId
from flows.intake.domains import DOMAIN_IDS, shared
from flows.session import JsonValue

__all__ = [
    "MAX_COACH_OFFERS",
    "Choice",
    "CoachProfile",
    "Criterion",
    "Need",
    "choose_coach",
    "need_from_answers",
    "next_offer",
    "rank_coaches",
]

Role = Literal["coach", "coordinator"]
Criterion = Literal["expertise", "language", "load", "fairness", "order", "only", "escalation"]

MAX_COACH_OFFERS = 2
"""A case goes to the best coach, then to the next one; then to the coordinator."""

# A rating of 4 or 5 is not a need, even when it is the lowest one.
_NEED_AT_MOST = 3
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CoachProfile:
    """A coach as assignment sees them: expertise, languages, load and history."""

    id: CoachId
    domains: frozenset[str]
    languages: frozenset[str]
    capacity: int
    load: int
    """Open cases plus open offers."""
    last_assigned_at: datetime | None = None
    role: Role = "coach"
    active: bool = True
    reachable: bool = True
    """Bound to a chat that has not blocked the bot: otherwise nobody reads the card."""
    absent: bool = False
    """Away (holiday, sick leave): no offers until back."""

    @property
    def available(self) -> bool:
        return self.active and self.reachable and not self.absent

    @property
    def has_room(self) -> bool:
        return self.load < self.capacity


@dataclass(frozen=True)
class Need:
    """What the young person asked for, as far as assignment is concerned."""

    language: str
    named: tuple[str, ...] = ()
    """Domains found in their own words (and confirmed)."""
    lowest: tuple[str, ...] = ()
    """The domains with their lowest self-rating (3 or lower)."""

    @property
    def wanted(self) -> tuple[str, ...]:
        return tuple(d for d in DOMAIN_IDS if d in set(self.named) | set(self.lowest))


@dataclass(frozen=True)
class Choice:
    coach: CoachProfile
    decided_by: Criterion
    """What set this coach apart from the runner-up (``only``: nobody else had room;
    ``escalation``: the coordinator, because no coach (more) could take it)."""
    expertise: tuple[str, ...] = ()
    """Wanted domains this coach covers."""
    language: str | None = None
    """The shared language, when the coach speaks the young person's language."""

    def to_json(self) -> dict[str, JsonValue]:
        """The reasons as stored with an offer: ids and numbers only."""
        return {
            "decided_by": self.decided_by,
            "expertise": list(self.expertise),
            "language": self.language,
            "load": self.coach.load,
            "capacity": self.coach.capacity,
            "role": self.coach.role,
        }


def _listed(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def need_from_answers(answers: Mapping[str, JsonValue], language: str) -> Need:
    """The :class:`Need` of an intake's answers (keys of :mod:`flows.intake.flow`).

    Sensitive domains count only with the explicit consent of the young person.
    """

    def allowed(domain: str) -> bool:
        return domain in DOMAIN_IDS and shared(answers, domain)

    # Named in their own words, or added when asked "Is er nog iets?".
    raw = [*_listed(answers.get("domains")), *_listed(answers.get("more_domains"))]
    named = tuple(d for d in DOMAIN_IDS if d in raw and allowed(d))
    ratings: dict[str, int] = {}
    for domain in DOMAIN_IDS:
        value = answers.get(f"rating_{domain}")
        if isinstance(value, str) and value.isdigit() and allowed(domain):
            ratings[domain] = int(value)
    lowest: tuple[str, ...] = ()
    if ratings:
        bottom = min(ratings.values())
        if bottom <= _NEED_AT_MOST:
            lowest = tuple(d for d, r in ratings.items() if r == bottom)
    return Need(language=language, named=named, lowest=lowest)


def _expertise(coach: CoachProfile, need: Need) -> tuple[str, ...]:
    return tuple(d for d in need.wanted if d in coach.domains)


def _key(coach: CoachProfile, need: Need) -> tuple[int, int, Fraction, datetime, str]:
    return (
        -len(_expertise(coach, need)),
        0 if need.language in coach.languages else 1,
        Fraction(coach.load, max(coach.capacity, 1)),
        coach.last_assigned_at or _NEVER,
        coach.id,
    )


_CRITERIA: tuple[Criterion, ...] = ("expertise", "language", "load", "fairness", "order")


def rank_coaches(
    coaches: Iterable[CoachProfile], need: Need, *, exclude: Iterable[CoachId] = ()
) -> list[CoachProfile]:
    """The candidates (see the module rules), best first."""
    skipped = set(exclude)
    candidates = [
        c
        for c in coaches
        if c.role == "coach" and c.available and c.has_room and c.id not in skipped
    ]
    return sorted(candidates, key=lambda c: _key(c, need))


def choose_coach(
    coaches: Iterable[CoachProfile], need: Need, *, exclude: Iterable[CoachId] = ()
) -> Choice | None:
    """The best candidate and why, or ``None`` when no coach has room."""
    ranked = rank_coaches(coaches, need, exclude=exclude)
    if not ranked:
        return None
    best = ranked[0]
    decided_by: Criterion = "only"
    if len(ranked) > 1:
        mine, theirs = _key(best, need), _key(ranked[1], need)
        decided_by = next(
            (name for name, a, b in zip(_CRITERIA, mine, theirs, strict=True) if a != b), "order"
        )
    return Choice(
        coach=best,
        decided_by=decided_by,
        expertise=_expertise(best, need),
        language=need.language if need.language in best.languages else None,
    )


def next_offer(
    coaches: Sequence[CoachProfile], need: Need, *, offered: Sequence[CoachId]
) -> Choice | None:
    """Who gets the next offer for a case that was offered to ``offered`` (oldest first).

    The best coach with room, for the first :data:`MAX_COACH_OFFERS` offers; then, or when no
    coach has room, a coordinator who has not had it yet. ``None``: everyone who could take it
    was asked (or nobody can be reached): the case goes to the team queue.
    """
    # A coach who left the team since still counts as a coach offer.
    coach_offers = [c for c in offered if _role_of(coaches, c) != "coordinator"]
    if len(coach_offers) < MAX_COACH_OFFERS:
        choice = choose_coach(coaches, need, exclude=offered)
        if choice is not None:
            return choice
    fresh = sorted(
        (
            c
            for c in coaches
            if c.role == "coordinator" and c.available and c.id not in set(offered)
        ),
        key=lambda c: c.id,
    )
    if not fresh:
        return None
    chosen = fresh[0]
    return Choice(
        coach=chosen,
        decided_by="escalation",
        expertise=_expertise(chosen, need),
        language=need.language if need.language in chosen.languages else None,
    )


def _role_of(coaches: Sequence[CoachProfile], coach_id: CoachId) -> Role | None:
    return next((c.role for c in coaches if c.id == coach_id), None)
