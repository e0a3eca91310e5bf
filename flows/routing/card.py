"""The handover card's content: what a coach may see of an intake, and how urgent it looks.

Rules of this module:

* Pure. ``bot/coach/card.py`` renders the result in Dutch and splits it for Telegram.
* :func:`card_answers` is the only way intake answers reach a coach: it keeps the keys the card
  shows and nothing else. Ratings and help wishes of the sensitive domains (health, addiction,
  justice) are kept only when the young person explicitly said yes to sharing that category;
  without that "yes" a sensitive domain is dropped everywhere, also from the domains found in
  their own words. Their own words are kept (they wrote them as their question, and the
  summary told them who will read it), except when they name a sensitive domain and there is
  no "yes": then the words themselves would tell what the young person chose not to share.
* Two stages (:func:`card_view`): before a coach accepts, the card shows only what a coach needs
  to decide (:data:`OFFER_KEYS`: domains and their ratings, the place, the preferred way of
  contact without the number or address, whether sensitive domains were shared; the case adds
  language and urgency). No name, no phone, no e-mail, no own words, no age. After acceptance,
  the coach of the case sees every kept answer.
* Skipped answers (:data:`flows.engine.SKIPPED`) are left out rather than shown as a value.
* Urgency is a reading aid for the coach, computed from the young person's self-ratings: not a
  ZRM score and not a safety assessment (the safety net raises its own alerts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from flows.engine import UNANSWERED
from flows.intake.domains import CONSENT_CATEGORIES, DOMAIN_IDS, consent_key, shared
from flows.session import JsonValue

__all__ = [
    "CARD_KEYS",
    "OFFER_KEYS",
    "CardStage",
    "RatedDomain",
    "Urgency",
    "card_answers",
    "card_view",
    "rated_domains",
    "urgency",
]

Urgency = Literal["high", "medium", "low"]
CardStage = Literal["offer", "accepted"]

CARD_KEYS = (
    "own_words",
    "domains",
    "age",
    "place_label",
    "name",
    "contact",
    "contact_phone",
    "contact_email",
    "moment",
    "consent_sensitive",
    *(consent_key(c) for c in CONSENT_CATEGORIES),
    "place_route",
    "more_domains",
)
OFFER_KEYS = (
    "domains",
    "more_domains",
    "place_label",
    "contact",
    "consent_sensitive",
    *(consent_key(c) for c in CONSENT_CATEGORIES),
)
"""What an offered coach may see besides the ratings (``rating_<domain>``)."""
_NOT_A_NUMBER = ("dont_know", "rather_not")


@dataclass(frozen=True)
class RatedDomain:
    domain: str
    rating: str
    """"1".."5", "dont_know" or "rather_not"."""
    help: str | None = None
    """What would help ("info", "guide", "papers", "talk" or their own words)."""


def _present(value: JsonValue) -> bool:
    if isinstance(value, str):
        return value not in UNANSWERED and value != ""
    return value is not None


def card_answers(answers: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """The answers a coach may see (see the module rules)."""

    def visible(domain: str) -> bool:
        return shared(answers, domain)

    kept: dict[str, JsonValue] = {
        key: answers[key] for key in CARD_KEYS if key in answers and _present(answers[key])
    }
    raw_domains = answers.get("domains")
    if isinstance(raw_domains, list):
        kept["domains"] = [d for d in DOMAIN_IDS if d in raw_domains and visible(d)]
        if any(not visible(d) for d in raw_domains if isinstance(d, str)):
            kept.pop("own_words", None)
    raw_more = answers.get("more_domains")
    if isinstance(raw_more, list):
        kept["more_domains"] = [d for d in DOMAIN_IDS if d in raw_more and visible(d)]
    for domain in DOMAIN_IDS:
        if not visible(domain):
            continue
        for key in (f"rating_{domain}", f"help_{domain}"):
            if key in answers and _present(answers[key]):
                kept[key] = answers[key]
    return kept


def rated_domains(answers: Mapping[str, JsonValue]) -> tuple[RatedDomain, ...]:
    """Rated domains, neediest first: 1 to 5, then "don't know", then "rather not say"."""
    found: list[RatedDomain] = []
    for domain in DOMAIN_IDS:
        rating = answers.get(f"rating_{domain}")
        if not isinstance(rating, str) or not _present(rating):
            continue
        helped = answers.get(f"help_{domain}")
        found.append(
            RatedDomain(
                domain, rating, helped if isinstance(helped, str) and _present(helped) else None
            )
        )

    def order(item: RatedDomain) -> tuple[int, int]:
        if item.rating.isdigit():
            return (0, int(item.rating))
        return (1, _NOT_A_NUMBER.index(item.rating) if item.rating in _NOT_A_NUMBER else 2)

    return tuple(sorted(found, key=order))


def urgency(answers: Mapping[str, JsonValue]) -> Urgency:
    """High: a domain rated 1, or three or more rated 2 or lower. Medium: any rated 2 or
    lower. Low: otherwise (also when nothing was rated)."""
    scores = [int(r.rating) for r in rated_domains(answers) if r.rating.isdigit()]
    low = [s for s in scores if s <= 2]
    if 1 in scores or len(low) >= 3:
        return "high"
    if low:
        return "medium"
    return "low"


def card_view(intake: Mapping[str, JsonValue], stage: CardStage) -> dict[str, JsonValue]:
    """What a coach sees of a case's kept answers at this stage (see the module rules)."""
    if stage == "accepted":
        return dict(intake)
    return {
        key: value
        for key, value in intake.items()
        if key in OFFER_KEYS or key.startswith("rating_")
    }
