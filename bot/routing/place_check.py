"""The intake's place check: a :class:`~flows.routing.places.Resolution` as a
:class:`~flows.intake.flow.PlaceCheck`, and the routing value it stores.

Rules of this module:

* The value the intake stores for a place is ``"<nis>:<partnership>"`` (``"24062:boest-your-
  future"``), or ``"<nis>:"`` when no partnership serves that place (a blind spot). The handoff
  reads it back with :func:`parse_place_value`. It must stay under :data:`MAX_VALUE_BYTES`
  bytes, because a candidate's value travels in a button; a longer one is cut to ``"<nis>:"``
  and the handoff finds the partnership again from the municipality.
* Labels are what the young person sees on the summary and the buttons: the municipality, or
  "place (municipality)" when a place was named that is not the municipality itself.
* ``status`` is the resolver's: ``ok``, ``ambiguous`` (candidates to pick), ``unknown``,
  ``outside_flanders`` (``region`` says which).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.routing.gazetteer import load_directory
from flows.ids import PartnershipId
from flows.intake.flow import REGIONS, Coverage, PlaceCheck, PlaceChecker, RegionHelp, Targets
from flows.routing.directory import FALLBACK_REGIONS, Directory
from flows.routing.places import Candidate, Resolution, Resolver

__all__ = [
    "MAX_VALUE_BYTES",
    "PlaceValue",
    "coverage_of",
    "load_coverage",
    "load_targets",
    "make_place_check",
    "parse_place_value",
    "place_check_of",
    "place_value",
    "targets_of",
]

MAX_VALUE_BYTES = 35


@dataclass(frozen=True)
class PlaceValue:
    municipality_nis: str
    partnership: PartnershipId | None


def place_value(nis: str, partnership: str | None) -> str:
    value = f"{nis}:{partnership or ''}"
    if len(value.encode()) > MAX_VALUE_BYTES:
        return f"{nis}:"
    return value


def parse_place_value(value: object) -> PlaceValue | None:
    """The stored value back; ``None`` for anything that is not one (skipped, old data)."""
    if not isinstance(value, str):
        return None
    nis, sep, partnership = value.partition(":")
    if not sep or len(nis) != 5 or not nis.isdigit():
        return None
    return PlaceValue(nis, PartnershipId(partnership) if partnership else None)


def _label(candidate: Candidate, named: str | None) -> str:
    place = candidate.place or named
    if place and place.casefold() != candidate.municipality.casefold():
        return f"{place} ({candidate.municipality})"
    return candidate.municipality


def place_check_of(resolution: Resolution) -> PlaceCheck:
    if resolution.status == "ok" and resolution.candidates:
        chosen = resolution.candidates[0]
        return PlaceCheck(
            "ok",
            label=_label(chosen, resolution.place),
            value=place_value(chosen.municipality_nis, chosen.partnership),
            partnership=chosen.partnership_name if chosen.partnership else None,
        )
    if resolution.status == "ambiguous" and resolution.candidates:
        pairs: list[tuple[str, str]] = []
        partners: list[tuple[str, str]] = []
        for candidate in resolution.candidates:
            pair = (
                place_value(candidate.municipality_nis, candidate.partnership),
                _label(candidate, resolution.place),
            )
            if pair[0] not in {value for value, _ in pairs}:
                pairs.append(pair)
                if candidate.partnership and candidate.partnership_name:
                    partners.append((pair[0], candidate.partnership_name))
        return PlaceCheck("ambiguous", candidates=tuple(pairs), partners=tuple(partners))
    if resolution.status == "outside_flanders":
        return PlaceCheck("outside_flanders", region=resolution.region)
    return PlaceCheck("unknown")


def coverage_of(directory: Directory) -> Coverage:
    """The intake's :class:`Coverage`: per region the general lines and the fallback team's
    name, from the directory's ``fallback``."""
    regions: dict[str, RegionHelp] = {}
    for region in REGIONS:
        found = directory.fallback.for_region(region if region in FALLBACK_REGIONS else None)
        team = directory.partnership(found.team) if found.team is not None else None
        regions[region] = RegionHelp(
            services=tuple((c.name, c.phone) for c in found.contacts),
            team=team.name if team is not None else None,
        )
    return Coverage(regions)


def load_coverage() -> Coverage:
    return coverage_of(load_directory())


def targets_of(directory: Directory) -> Targets:
    """The intake's :class:`Targets`: the ages each partnership (and fallback team) serves, by
    the name the intake shows (the directory checks that names are unique)."""
    return Targets({p.name: p.ages for p in directory.partnerships})


def load_targets() -> Targets:
    return targets_of(load_directory())


def make_place_check(resolver: Resolver) -> PlaceChecker:
    """The ``place_check`` for :func:`flows.intake.flow.build_intake_flow`."""

    def check(text: str) -> PlaceCheck:
        return place_check_of(resolver.resolve(text))

    return check
