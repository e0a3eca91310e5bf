"""The ten life domains the intake asks about, in youth-facing words, mapped to ZRM 2017.

Rules of this module:

* The order of :data:`DOMAINS` is the order of the questions after the domains the young
  person named themselves (those come first).
* ``sensitive`` domains (health, addiction, justice: special-category or judicial data) are only
  asked after explicit consent; a "no" skips them and the intake goes on.
* A young person's self-rating is not the coach's ZRM score. ``zrm`` says which ZRM 2017
  domains a coach may look at first; it never turns a self-rating into a ZRM score.
* ZRM "Basale ADL" (self-care) is not asked: it is for the coach to judge, not a question a
  young person can answer in one tap.
"""

from __future__ import annotations

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
    sensitive: bool = False


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
        sensitive=True,
    ),
    Domain(
        DomainId("physical"),
        msg("intake.domain.physical.label"),
        msg("intake.domain.physical.ask"),
        ("Lichamelijke gezondheid",),
        sensitive=True,
    ),
    Domain(
        DomainId("addiction"),
        msg("intake.domain.addiction.label"),
        msg("intake.domain.addiction.ask"),
        ("Middelengebruik",),
        sensitive=True,
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
        sensitive=True,
    ),
)

BY_ID: dict[DomainId, Domain] = {d.id: d for d in DOMAINS}
DOMAIN_IDS: tuple[DomainId, ...] = tuple(d.id for d in DOMAINS)
SENSITIVE: frozenset[DomainId] = frozenset(d.id for d in DOMAINS if d.sensitive)
ZRM_NOT_ASKED: tuple[ZrmDomain, ...] = ("Basale ADL",)


def domain(domain_id: str) -> Domain:
    """The domain with this id; ``KeyError`` for an unknown id (a bug, not bad input)."""
    return BY_ID[DomainId(domain_id)]
