"""The ten life domains the intake asks about, in youth-facing words, mapped to ZRM 2017.

Rules of this module:

* The order of :data:`DOMAINS` is the order of the questions after the domains the young
  person named themselves (those come first).
* ``sensitive`` domains (health, addiction, justice: special-category or judicial data) are only
  asked after explicit consent, one consent per :data:`CONSENT_CATEGORIES` entry (health covers
  how they feel and their body); a "no" skips that category and the intake goes on.
  :func:`shared` is the one test of whether a coach may see a domain's answers; an intake from
  before per-category consent carries one ``consent_sensitive`` answer for all three.
* A young person's self-rating is not the coach's ZRM score. ``zrm`` says which ZRM 2017
  domains a coach may look at first; it never turns a self-rating into a ZRM score.
* ZRM "Basale ADL" (self-care) is not asked: it is for the coach to judge, not a question a
  young person can answer in one tap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NewType

from flows.text import Msg, msg

DomainId = NewType("DomainId", str)

ZrmDomain = Literal[
    "Financiën",
    "Werk & Opleiding",
    "Tijdsbesteding",
    "Huisvesting",
    "Huiselijke relaties",
    "Geestelijke gezondheid",
    "Lichamelijke gezondheid",
    "Middelengebruik",
    "Basale ADL",
    "Instrumentele ADL",
    "Sociaal netwerk",
    "Maatschappelijke participatie",
    "Justitie",
]


@dataclass(frozen=True)
class Domain:
    id: DomainId
    # Short noun for cards and buttons ("Geldzaken").
    label: Msg
    # The "how is it going?" question in the young person's words.
    ask: Msg
    zrm: tuple[ZrmDomain, ...]
    # The consent category that must be "yes" before this domain is asked (None: no consent).
    consent: str | None = None

    @property
    def sensitive(self) -> bool:
        return self.consent is not None


DOMAINS: tuple[Domain, ...] = (
    Domain(
        DomainId("work"),
        msg("intake.domain.work.label"),
        msg("intake.domain.work.ask"),
        ("Werk & Opleiding",),
    ),
    Domain(
        DomainId("money"),
        msg("intake.domain.money.label"),
        msg("intake.domain.money.ask"),
        ("Financiën",),
    ),
    Domain(
        DomainId("housing"),
        msg("intake.domain.housing.label"),
        msg("intake.domain.housing.ask"),
        ("Huisvesting",),
    ),
    Domain(
        DomainId("home"),
        msg("intake.domain.home.label"),
        msg("intake.domain.home.ask"),
        ("Huiselijke relaties",),
    ),
    Domain(
        DomainId("mental"),
        msg("intake.domain.mental.label"),
        msg("intake.domain.mental.ask"),
        ("Geestelijke gezondheid",),
        consent="health",
    ),
    Domain(
        DomainId("physical"),
        msg("intake.domain.physical.label"),
        msg("intake.domain.physical.ask"),
        ("Lichamelijke gezondheid",),
        consent="health",
    ),
    Domain(
        DomainId("addiction"),
        msg("intake.domain.addiction.label"),
        msg("intake.domain.addiction.ask"),
        ("Middelengebruik",),
        consent="addiction",
    ),
    Domain(
        DomainId("leisure"),
        msg("intake.domain.leisure.label"),
        msg("intake.domain.leisure.ask"),
        # "Daily activities and leisure": how the days are filled and the daily chores.
        ("Tijdsbesteding", "Instrumentele ADL"),
    ),
    Domain(
        DomainId("network"),
        msg("intake.domain.network.label"),
        msg("intake.domain.network.ask"),
        # Friends and people around them, and taking part in society (clubs, volunteering).
        ("Sociaal netwerk", "Maatschappelijke participatie"),
    ),
    Domain(
        DomainId("justice"),
        msg("intake.domain.justice.label"),
        msg("intake.domain.justice.ask"),
        ("Justitie",),
        consent="justice",
    ),
)

BY_ID: dict[DomainId, Domain] = {d.id: d for d in DOMAINS}
DOMAIN_IDS: tuple[DomainId, ...] = tuple(d.id for d in DOMAINS)
SENSITIVE: frozenset[DomainId] = frozenset(d.id for d in DOMAINS if d.sensitive)
ZRM_NOT_ASKED: tuple[ZrmDomain, ...] = ("Basale ADL",)

# The consent asked before the intake had one consent per category; its records and answers
# ("consent_sensitive") still mean all three categories at once.
LEGACY_CONSENT = "sensitive_domains"
LEGACY_CONSENT_KEY = "consent_sensitive"
CONSENT_CATEGORIES: tuple[str, ...] = ("health", "addiction", "justice")
# Consent category -> the domains that need it (the legacy category covers them all).
CONSENT_DOMAINS: Mapping[str, frozenset[DomainId]] = {
    **{c: frozenset(d.id for d in DOMAINS if d.consent == c) for c in CONSENT_CATEGORIES},
    LEGACY_CONSENT: SENSITIVE,
}


def consent_key(category: str) -> str:
    """The answer key that holds "yes"/"no" for a consent category."""
    return LEGACY_CONSENT_KEY if category == LEGACY_CONSENT else f"consent_{category}"


def consent_answer(answers: Mapping[str, object], domain_id: str) -> str | None:
    """ "yes", "no" or None (not asked yet) for the consent a domain needs; "yes" for a domain
    that needs none."""
    found = BY_ID.get(DomainId(domain_id))
    if found is None or found.consent is None:
        return "yes"
    value = answers.get(consent_key(found.consent))
    if value is None:
        value = answers.get(LEGACY_CONSENT_KEY)
    if value == "yes" or value == "no":
        return value
    return None


def shared(answers: Mapping[str, object], domain_id: str) -> bool:
    """True when a coach may see this domain's answers (the young person said yes to it)."""
    return consent_answer(answers, domain_id) == "yes"


def domain(domain_id: str) -> Domain:
    """The domain with this id; ``KeyError`` for an unknown id (a bug, not bad input)."""
    return BY_ID[DomainId(domain_id)]
