"""The partnership directory: which lokaal partnerschap serves which part of Flanders.

Rules of this module:

* Pure. ``bot/routing/gazetteer.py`` reads ``flows/routing/data/directory.yaml`` and passes the
  loaded mapping and a :class:`~flows.routing.places.Gazetteer` to :func:`parse_directory`.
* An area is listed in 2025 NIS codes. A part is a whole municipality, or only the named places
  and/or postcodes of one municipality (Herent: only Winksele). ``name`` beside each code is
  there for the human reviewer and is checked against the code.
* No municipality (or part of one) is served by two partnerships: the young person gets one
  answer. Municipalities served by none are *blind spots* and get the general
  :class:`Fallback`.
* Every contact carries ``verified_on``: a date when the partnership confirmed it, ``null``
  while it is a placeholder. Contacts in the shipped data are fictional placeholders
  (``example.org``); never put a real person's data here without their consent.
* Each partnership says whom it serves: ``target_group`` (:data:`TARGET_GROUPS`: ``youth``, the
  ESF youth partnerships, 18-30; ``complex``, a Europa WSE partnership that also serves adults
  with a complex problem) and ``ages`` (``{min: 18, max: 30}``; ``max: null`` is no upper
  bound). Both may be left out: then the target group's default range holds.
* :func:`check_directory` reports every problem, one clear line each; :func:`parse_directory`
  refuses a directory with any problem (:class:`DirectoryError`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property

from flows.ids import PartnershipId
from flows.routing.hours import (
    WEEKDAYS,
    HoursSpec,
    add_working_hours,
    check_hours_spec,
    is_working_time,
    next_working_time,
    parse_interval,
    zone,
)
from flows.routing.places import Gazetteer, MunicipalityNis, normalize

__all__ = [
    "FALLBACK_REGIONS",
    "TARGET_GROUPS",
    "AgeRange",
    "AreaPart",
    "Coordinator",
    "Directory",
    "DirectoryCoach",
    "DirectoryError",
    "Fallback",
    "FallbackContact",
    "FallbackRegion",
    "Office",
    "Partnership",
    "WorkingHours",
    "check_directory",
    "parse_directory",
]


@dataclass(frozen=True)
class AgeRange:
    """The ages a partnership serves, both ends included; ``high`` ``None``: no upper bound."""

    low: int
    high: int | None

    def holds(self, age: int) -> bool:
        return age >= self.low and (self.high is None or age <= self.high)

    def widen(self, other: AgeRange) -> AgeRange:
        """The smallest range holding both."""
        high = None if self.high is None or other.high is None else max(self.high, other.high)
        return AgeRange(min(self.low, other.low), high)


# Target groups and the ages each serves unless a partnership says otherwise: the ESF youth
# partnerships (18-30, seed 000 and 001) and, from 2024, Europa WSE partnerships that also serve
# adults (non-working people and job seekers) with a complex problem (seed 002).
TARGET_GROUPS: Mapping[str, AgeRange] = {
    "youth": AgeRange(18, 30),
    "complex": AgeRange(18, None),
}


@dataclass(frozen=True)
class AreaPart:
    """One municipality of a partnership's area: all of it, or only some places/postcodes."""

    municipality_nis: MunicipalityNis
    municipality_name: str
    places: tuple[str, ...] = ()
    postcodes: tuple[str, ...] = ()
    note: str | None = None

    @property
    def whole(self) -> bool:
        return not self.places and not self.postcodes


@dataclass(frozen=True)
class Coordinator:
    name: str
    email: str
    phone: str | None
    verified_on: date | None


@dataclass(frozen=True)
class VdabContact:
    """The region's VDAB jongerenconsulent, who receives the warm handover (issue #15).
    ``telegram_chat``: their Telegram chat id when they use the bot; otherwise the handover's
    PDF waits on the dashboard's case page for the coordinator to send."""

    name: str
    email: str | None
    phone: str | None
    telegram_chat: int | None
    verified_on: date | None


@dataclass(frozen=True)
class Office:
    name: str
    street: str
    postcode: str
    municipality_nis: MunicipalityNis
    placeholder: bool
    verified_on: date | None


@dataclass(frozen=True)
class WorkingHours:
    """Opening hours in local time; ``weekly[0]`` is Monday."""

    timezone: str
    weekly: tuple[tuple[tuple[time, time], ...], ...]

    @property
    def spec(self) -> HoursSpec:
        return {day: intervals for day, intervals in enumerate(self.weekly) if intervals}

    def deadline(self, start: datetime, hours: float, holidays: frozenset[date]) -> datetime:
        return add_working_hours(start, hours, self.spec, holidays, self.timezone)

    def is_open(self, moment: datetime, holidays: frozenset[date]) -> bool:
        return is_working_time(moment, self.spec, holidays, self.timezone)

    def next_open(self, moment: datetime, holidays: frozenset[date]) -> datetime:
        return next_working_time(moment, self.spec, holidays, self.timezone)


@dataclass(frozen=True)
class DirectoryCoach:
    """A coach as the directory lists them. Demo coaches are fictional first names."""

    id: str
    first_name: str
    demo: bool


@dataclass(frozen=True)
class Partnership:
    id: PartnershipId
    name: str
    programme: str | None
    """Several partnerships of one programme: the four local sites of "Ik droom. Ik durf. Jij
    ook?" are four partnerships (one local team and project manager each)."""
    area: tuple[AreaPart, ...]
    partners: tuple[str, ...]
    coordinator: Coordinator
    offices: tuple[Office, ...]
    hours: WorkingHours
    coaches: tuple[DirectoryCoach, ...]
    notes: tuple[str, ...] = ()
    # "fallback": a team that takes questions from where no partnership works (no area).
    role: str | None = None
    # Whom it serves (see the module rules): a key of TARGET_GROUPS and the age range.
    target_group: str = "youth"
    ages: AgeRange = field(default_factory=lambda: TARGET_GROUPS["youth"])
    vdab: VdabContact | None = None


@dataclass(frozen=True)
class FallbackContact:
    id: str
    name: str
    phone: str
    url: str | None
    note: str | None
    verified_on: date | None


@dataclass(frozen=True)
class FallbackRegion:
    """Outside the partnerships' areas, per region (``brussels``, ``wallonia``, ``other``):
    the general lines of that region and the team that still reads a question from there."""

    contacts: tuple[FallbackContact, ...]
    team: PartnershipId | None = None


# Regions a fallback can be configured for; "flanders" (a blind spot) and "unknown" (no or an
# unknown place) use the top-level contacts and team.
FALLBACK_REGIONS = ("brussels", "wallonia", "other")


@dataclass(frozen=True)
class Fallback:
    """Who a young person in a blind spot can turn to: general VDAB and JAC/CAW lines, and the
    fallback team (a partnership with ``role: fallback``) that answers their question honestly;
    ``regions`` overrides both for a place outside Flanders."""

    contacts: tuple[FallbackContact, ...]
    note: str | None = None
    team: PartnershipId | None = None
    regions: Mapping[str, FallbackRegion] = field(default_factory=dict)

    def for_region(self, region: str | None) -> FallbackRegion:
        """The contacts and team for a :data:`flows.intake.flow.REGIONS` key."""
        found = self.regions.get(region or "")
        if found is None:
            return FallbackRegion(self.contacts, self.team)
        return FallbackRegion(found.contacts, found.team or self.team)


@dataclass(frozen=True)
class Directory:
    partnerships: tuple[Partnership, ...]
    fallback: Fallback
    updated_on: date | None = None

    @cached_property
    def _coverage(self) -> Mapping[str, tuple[tuple[Partnership, AreaPart], ...]]:
        found: dict[str, list[tuple[Partnership, AreaPart]]] = {}
        for partnership in self.partnerships:
            for part in partnership.area:
                found.setdefault(part.municipality_nis, []).append((partnership, part))
        return {nis: tuple(parts) for nis, parts in found.items()}

    def partnership(self, partnership_id: str) -> Partnership | None:
        return next((p for p in self.partnerships if p.id == partnership_id), None)

    def coverage(self, nis: str) -> tuple[tuple[Partnership, AreaPart], ...]:
        """The partnerships serving (part of) a municipality, with the part each serves."""
        return self._coverage.get(nis, ())

    def covered_municipalities(self) -> frozenset[MunicipalityNis]:
        return frozenset(MunicipalityNis(nis) for nis in self._coverage)

    def partially_covered(self) -> tuple[MunicipalityNis, ...]:
        """Municipalities of which only some places are served (the rest is a blind spot)."""
        return tuple(
            sorted(
                MunicipalityNis(nis)
                for nis, parts in self._coverage.items()
                if not any(part.whole for _, part in parts)
            )
        )

    def blind_spots(self, all_flemish_nis: Iterable[str]) -> tuple[MunicipalityNis, ...]:
        """The municipalities no partnership serves at all (*blinde vlekken*)."""
        return tuple(sorted(MunicipalityNis(n) for n in set(all_flemish_nis) - set(self._coverage)))

    def fallback_for(self, nis: str) -> Fallback:
        """General contacts for a young person no partnership serves. The same everywhere for
        now; taking the code lets regional CAW/JAC numbers be added without changing callers."""
        return self.fallback

    def unverified(self) -> tuple[str, ...]:
        """Every contact still marked ``verified_on: null``, as readable labels."""
        found: list[str] = []
        for p in self.partnerships:
            if p.coordinator.verified_on is None:
                found.append(f"{p.id}: coordinator")
            found.extend(
                f"{p.id}: office {office.name!r}" for office in p.offices if not office.verified_on
            )
            if p.vdab is not None and p.vdab.verified_on is None:
                found.append(f"{p.id}: vdab")
        found.extend(f"fallback: {c.id}" for c in self.fallback.contacts if c.verified_on is None)
        return tuple(found)


class DirectoryError(ValueError):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid partnership directory:\n" + "\n".join(self.problems))


def check_directory(mapping: Mapping[str, object], gazetteer: Gazetteer) -> list[str]:
    """Every problem in a loaded ``directory.yaml``, one line each (empty when valid)."""
    return _Parser(gazetteer).parse(mapping)[1]


def parse_directory(mapping: Mapping[str, object], gazetteer: Gazetteer) -> Directory:
    """The directory, or :class:`DirectoryError` listing every problem."""
    directory, problems = _Parser(gazetteer).parse(mapping)
    if problems or directory is None:
        raise DirectoryError(problems or ["directory could not be read"])
    return directory


# --------------------------------------------------------------------------------------------
# Parsing: collect every problem instead of stopping at the first, so one run of
# `opstap directory check` shows the maintainer everything to fix.

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NIS = re.compile(r"^\d{5}$")
_POSTCODE = re.compile(r"^\d{4}$")

_TOP_KEYS = {"version", "updated_on", "sources", "fallback", "partnerships"}
_PARTNERSHIP_KEYS = {
    "id",
    "name",
    "programme",
    "area",
    "partners",
    "coordinator",
    "offices",
    "working_hours",
    "coaches",
    "notes",
    "source",
    "role",
    "target_group",
    "ages",
    "vdab",
}
_PARTNERSHIP_REQUIRED = ("id", "name", "area", "partners", "coordinator", "working_hours")
_AREA_KEYS = {"nis", "name", "places", "postcodes", "note"}
_COORDINATOR_KEYS = {"name", "email", "phone", "verified_on"}
_VDAB_KEYS = {"name", "email", "phone", "telegram_chat", "verified_on"}
_OFFICE_KEYS = {"name", "street", "postcode", "nis", "placeholder", "verified_on"}
_COACH_KEYS = {"id", "first_name", "demo"}
_HOURS_KEYS = {"timezone", *WEEKDAYS}
_FALLBACK_KEYS = {"note", "contacts", "team", "regions"}
_REGION_KEYS = {"contacts", "team"}
_CONTACT_KEYS = {"id", "name", "phone", "url", "note", "verified_on"}
_AGES_KEYS = {"min", "max"}
# Ages a partnership may name at all: a typo such as 180 must not pass.
_AGE_LIMITS = (12, 120)


class _Parser:
    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    # ---- generic readers

    def mapping(self, value: object, where: str) -> Mapping[str, object] | None:
        if not isinstance(value, Mapping):
            self.problem(where, f"expected a mapping, got {_kind(value)}")
            return None
        return value

    def keys(self, entry: Mapping[str, object], allowed: set[str], where: str) -> None:
        for key in entry:
            # "x-..." keys hold YAML anchors (shared office hours), as in docker-compose files
            if key not in allowed and not str(key).startswith("x-"):
                self.problem(
                    where, f"unknown field {key!r} (allowed: {', '.join(sorted(allowed))})"
                )

    def required(self, entry: Mapping[str, object], keys: Iterable[str], where: str) -> bool:
        ok = True
        for key in keys:
            if key not in entry:
                self.problem(where, f"missing field {key!r}")
                ok = False
            elif entry[key] is None or entry[key] == "" or entry[key] == []:
                self.problem(where, f"field {key!r} is empty")
                ok = False
        return ok

    def text(self, entry: Mapping[str, object], key: str, where: str) -> str:
        value = entry.get(key)
        if value is None:
            return ""
        if not isinstance(value, str | int):
            self.problem(where, f"field {key!r} must be text, got {_kind(value)}")
            return ""
        return str(value).strip()

    def optional_text(self, entry: Mapping[str, object], key: str, where: str) -> str | None:
        return self.text(entry, key, where) or None

    def text_list(self, entry: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
        value = entry.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(where, f"field {key!r} must be a list, got {_kind(value)}")
            return ()
        items = []
        for item in value:
            if not isinstance(item, str | int) or str(item).strip() == "":
                self.problem(where, f"field {key!r} has an empty or non-text item")
                continue
            items.append(str(item).strip())
        return tuple(items)

    def verified_on(self, entry: Mapping[str, object], where: str) -> date | None:
        # The key must be there even when null: it records that nobody has checked yet
        if "verified_on" not in entry:
            self.problem(where, "missing field 'verified_on' (use null while unverified)")
            return None
        value = entry["verified_on"]
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(where, f"verified_on must be a date (YYYY-MM-DD) or null, got {value!r}")
        return None

    def nis(self, value: object, where: str) -> MunicipalityNis | None:
        code = str(value).strip() if isinstance(value, str | int) else ""
        if not _NIS.match(code):
            self.problem(where, f"NIS code must be five digits, got {value!r}")
            return None
        if self.gazetteer.municipality(code) is None:
            self.problem(where, f"unknown NIS code {code} (not a municipality on 1 January 2025)")
            return None
        return MunicipalityNis(code)

    # ---- the document

    def parse(self, raw: object) -> tuple[Directory | None, list[str]]:
        top = self.mapping(raw, "directory")
        if top is None:
            return None, self.problems
        self.keys(top, _TOP_KEYS, "directory")
        fallback = self.fallback(top.get("fallback"))
        partnerships: list[Partnership] = []
        raw_list = top.get("partnerships")
        if not isinstance(raw_list, list) or not raw_list:
            self.problem("directory", "missing field 'partnerships' (a non-empty list)")
            raw_list = []
        seen_ids: dict[str, int] = {}
        for index, item in enumerate(raw_list):
            # Checked on the raw entries, so a duplicate is reported even when the entry has
            # other problems too
            raw_id = item.get("id") if isinstance(item, Mapping) else None
            if not isinstance(raw_id, str) or not raw_id:
                continue
            if raw_id in seen_ids:
                self.problem(
                    f"partnerships[{index}]",
                    f"duplicate id {raw_id!r} (also partnerships[{seen_ids[raw_id]}])",
                )
            seen_ids.setdefault(raw_id, index)
        for index, item in enumerate(raw_list):
            partnership = self.partnership(item, index)
            if partnership is not None:
                partnerships.append(partnership)
        self.overlaps(partnerships)
        self.unique_names(partnerships)
        if fallback is not None:
            self.fallback_teams(fallback, partnerships)
        updated_on = top.get("updated_on")
        directory = (
            Directory(
                partnerships=tuple(partnerships),
                fallback=fallback,
                updated_on=updated_on if isinstance(updated_on, date) else None,
            )
            if fallback is not None
            else None
        )
        return directory, self.problems

    def fallback(self, raw: object) -> Fallback | None:
        where = "fallback"
        if raw is None:
            self.problem("directory", "missing field 'fallback' (general contacts for blind spots)")
            return None
        entry = self.mapping(raw, where)
        if entry is None:
            return None
        self.keys(entry, _FALLBACK_KEYS, where)
        raw_contacts = entry.get("contacts")
        if not isinstance(raw_contacts, list) or not raw_contacts:
            self.problem(where, "missing field 'contacts' (at least one general contact)")
            raw_contacts = []
        contacts = self.contacts(raw_contacts, where)
        regions: dict[str, FallbackRegion] = {}
        raw_regions = entry.get("regions")
        if raw_regions is not None:
            region_map = self.mapping(raw_regions, f"{where}.regions")
            for name, raw_region in (region_map or {}).items():
                at = f"{where}.regions.{name}"
                if name not in FALLBACK_REGIONS:
                    self.problem(at, f"unknown region; known: {', '.join(FALLBACK_REGIONS)}")
                    continue
                region = self.mapping(raw_region, at)
                if region is None:
                    continue
                self.keys(region, _REGION_KEYS, at)
                listed = region.get("contacts")
                team = self.optional_text(region, "team", at)
                regions[str(name)] = FallbackRegion(
                    tuple(self.contacts(listed if isinstance(listed, list) else [], at)),
                    PartnershipId(team) if team else None,
                )
        team = self.optional_text(entry, "team", where)
        return Fallback(
            contacts=tuple(contacts),
            note=self.optional_text(entry, "note", where),
            team=PartnershipId(team) if team else None,
            regions=regions,
        )

    def fallback_teams(self, fallback: Fallback, partnerships: Sequence[Partnership]) -> None:
        """Every team named in the fallback is a partnership with ``role: fallback``."""
        teams = {p.id: p for p in partnerships}
        named = [("fallback.team", fallback.team)] + [
            (f"fallback.regions.{r}.team", region.team) for r, region in fallback.regions.items()
        ]
        for where, team in named:
            if team is None:
                continue
            found = teams.get(team)
            if found is None:
                self.problem(where, f"no partnership with id {team!r}")
            elif found.role != "fallback":
                self.problem(where, f"partnership {team!r} needs 'role: fallback'")

    def contacts(self, raw_contacts: list[object], where: str) -> list[FallbackContact]:
        contacts: list[FallbackContact] = []
        for index, item in enumerate(raw_contacts):
            at = f"{where}.contacts[{index}]"
            contact = self.mapping(item, at)
            if contact is None:
                continue
            self.keys(contact, _CONTACT_KEYS, at)
            self.required(contact, ("id", "name", "phone"), at)
            contacts.append(
                FallbackContact(
                    id=self.text(contact, "id", at),
                    name=self.text(contact, "name", at),
                    phone=self.text(contact, "phone", at),
                    url=self.optional_text(contact, "url", at),
                    note=self.optional_text(contact, "note", at),
                    verified_on=self.verified_on(contact, at),
                )
            )
        return contacts

    def partnership(self, raw: object, index: int) -> Partnership | None:
        entry = self.mapping(raw, f"partnerships[{index}]")
        if entry is None:
            return None
        raw_id = self.text(entry, "id", f"partnerships[{index}]")
        where = f"partnership {raw_id!r}" if raw_id else f"partnerships[{index}]"
        self.keys(entry, _PARTNERSHIP_KEYS, where)
        role = self.optional_text(entry, "role", where)
        if role not in (None, "fallback"):
            self.problem(where, "role must be 'fallback' or absent")
        # A fallback team works where no partnership does: it has no area of its own.
        needed = [k for k in _PARTNERSHIP_REQUIRED if not (role == "fallback" and k == "area")]
        self.required(entry, needed, where)
        if raw_id and not _SLUG.match(raw_id):
            self.problem(where, "id must be a slug: lower-case letters, digits and hyphens")
        area = self.area(entry.get("area"), where)
        coordinator = self.coordinator(entry.get("coordinator"), f"{where} coordinator")
        hours = self.hours(entry.get("working_hours"), f"{where} working_hours")
        offices = self.offices(entry.get("offices"), where)
        coaches = self.coaches(entry.get("coaches"), where)
        target_group, ages = self.target(entry, where)
        if coordinator is None or hours is None:
            return None
        return Partnership(
            id=PartnershipId(raw_id),
            name=self.text(entry, "name", where),
            programme=self.optional_text(entry, "programme", where),
            area=area,
            partners=self.text_list(entry, "partners", where),
            coordinator=coordinator,
            offices=offices,
            hours=hours,
            coaches=coaches,
            notes=self.text_list(entry, "notes", where),
            role=role,
            target_group=target_group,
            ages=ages,
            vdab=self.vdab(entry.get("vdab"), f"{where} vdab"),
        )

    def target(self, entry: Mapping[str, object], where: str) -> tuple[str, AgeRange]:
        """``target_group`` and ``ages`` (both optional: the youth partnerships' 18-30)."""
        group = self.optional_text(entry, "target_group", where) or "youth"
        if group not in TARGET_GROUPS:
            self.problem(
                where, f"target_group must be one of {', '.join(TARGET_GROUPS)}, got {group!r}"
            )
            group = "youth"
        default = TARGET_GROUPS[group]
        raw = entry.get("ages")
        if raw is None:
            return group, default
        ages = self.mapping(raw, f"{where} ages")
        if ages is None:
            return group, default
        self.keys(ages, _AGES_KEYS, f"{where} ages")
        low, high = ages.get("min", default.low), ages.get("max", default.high)
        lowest, highest = _AGE_LIMITS
        if not isinstance(low, int) or isinstance(low, bool) or not lowest <= low <= highest:
            self.problem(where, f"ages.min must be a whole number {lowest}-{highest}, got {low!r}")
            return group, default
        if high is not None and (
            not isinstance(high, int) or isinstance(high, bool) or not low <= high <= highest
        ):
            self.problem(
                where, f"ages.max must be null or a whole number {low}-{highest}, got {high!r}"
            )
            return group, default
        return group, AgeRange(low, high)

    def area(self, raw: object, where: str) -> tuple[AreaPart, ...]:
        if not isinstance(raw, list):
            return ()  # reported by `required`
        parts: list[AreaPart] = []
        seen: set[str] = set()
        for index, item in enumerate(raw):
            at = f"{where} area[{index}]"
            entry = self.mapping(item, at)
            if entry is None:
                continue
            self.keys(entry, _AREA_KEYS, at)
            if "nis" not in entry:
                self.problem(at, "missing field 'nis'")
                continue
            nis = self.nis(entry["nis"], at)
            if nis is None:
                continue
            municipality = self.gazetteer.municipality(nis)
            assert municipality is not None  # self.nis checked it
            if municipality.region != "flanders":
                self.problem(at, f"{municipality.name_nl} ({nis}) is not in Flanders")
            name = self.text(entry, "name", at)
            if name and normalize(name) not in {
                normalize(municipality.name_nl),
                normalize(municipality.name_fr),
            }:
                self.problem(at, f"NIS code {nis} is {municipality.name_nl}, not {name!r}")
            if nis in seen:
                self.problem(at, f"{municipality.name_nl} ({nis}) is listed twice in this area")
            seen.add(nis)
            places = self.text_list(entry, "places", at)
            postcodes = self.text_list(entry, "postcodes", at)
            for place in places:
                self.check_place(place, nis, municipality.name_nl, at)
            for postcode in postcodes:
                if not _POSTCODE.match(postcode):
                    self.problem(at, f"postcode must be four digits, got {postcode!r}")
                elif nis not in self.gazetteer.municipalities_for_postcode(postcode):
                    self.problem(
                        at, f"postcode {postcode} is not in {municipality.name_nl} ({nis})"
                    )
            parts.append(
                AreaPart(
                    municipality_nis=nis,
                    municipality_name=municipality.name_nl,
                    places=places,
                    postcodes=postcodes,
                    note=self.optional_text(entry, "note", at),
                )
            )
        return tuple(parts)

    def check_place(self, place: str, nis: str, municipality: str, where: str) -> None:
        key = normalize(place)
        inside = [p for p in self.gazetteer.places_in(nis) if normalize(p.name) == key] + [
            f for f in self.gazetteer.former_in(nis) if normalize(f.name) == key
        ]
        if inside:
            return
        elsewhere = sorted(
            {
                found.name_nl
                for p in self.gazetteer.places
                if normalize(p.name) == key
                and (found := self.gazetteer.municipality(p.municipality_nis)) is not None
            }
        )
        hint = f" (it is in {', '.join(elsewhere)})" if elsewhere else " (unknown place)"
        self.problem(where, f"place {place!r} is not in {municipality} ({nis}){hint}")

    def coordinator(self, raw: object, where: str) -> Coordinator | None:
        if raw is None:
            return None  # reported by `required`
        entry = self.mapping(raw, where)
        if entry is None:
            return None
        self.keys(entry, _COORDINATOR_KEYS, where)
        self.required(entry, ("name", "email"), where)
        email = self.text(entry, "email", where)
        if email and "@" not in email:
            self.problem(where, f"email {email!r} is not an e-mail address")
        return Coordinator(
            name=self.text(entry, "name", where),
            email=email,
            phone=self.optional_text(entry, "phone", where),
            verified_on=self.verified_on(entry, where),
        )

    def vdab(self, raw: object, where: str) -> VdabContact | None:
        if raw is None:
            return None
        entry = self.mapping(raw, where)
        if entry is None:
            return None
        self.keys(entry, _VDAB_KEYS, where)
        self.required(entry, ("name",), where)
        email = self.optional_text(entry, "email", where)
        if email is not None and "@" not in email:
            self.problem(where, f"email {email!r} is not an e-mail address")
        chat = entry.get("telegram_chat")
        if chat is not None and (isinstance(chat, bool) or not isinstance(chat, int)):
            self.problem(where, f"telegram_chat must be a number or null, got {chat!r}")
            chat = None
        return VdabContact(
            name=self.text(entry, "name", where),
            email=email,
            phone=self.optional_text(entry, "phone", where),
            telegram_chat=chat,
            verified_on=self.verified_on(entry, where),
        )

    def entries(
        self, raw: object, field: str, where: str
    ) -> Iterator[tuple[str, Mapping[str, object]]]:
        """The mappings of an optional list field, each with where it stands; a missing field is
        an empty list, anything else that is not a list of mappings is a problem."""
        if raw is None:
            return
        if not isinstance(raw, list):
            self.problem(where, f"field {field!r} must be a list, got {_kind(raw)}")
            return
        for index, item in enumerate(raw):
            at = f"{where} {field}[{index}]"
            entry = self.mapping(item, at)
            if entry is not None:
                yield at, entry

    def offices(self, raw: object, where: str) -> tuple[Office, ...]:
        offices: list[Office] = []
        for at, entry in self.entries(raw, "offices", where):
            self.keys(entry, _OFFICE_KEYS, at)
            if not self.required(entry, ("name", "street", "postcode", "nis"), at):
                continue
            nis = self.nis(entry["nis"], at)
            postcode = self.text(entry, "postcode", at)
            if nis is not None and nis not in self.gazetteer.municipalities_for_postcode(postcode):
                self.problem(at, f"postcode {postcode} is not in municipality {nis}")
            placeholder = entry.get("placeholder", False)
            if not isinstance(placeholder, bool):
                self.problem(at, "placeholder must be true or false")
                placeholder = True
            offices.append(
                Office(
                    name=self.text(entry, "name", at),
                    street=self.text(entry, "street", at),
                    postcode=postcode,
                    municipality_nis=nis or MunicipalityNis(""),
                    placeholder=placeholder,
                    verified_on=self.verified_on(entry, at),
                )
            )
        return tuple(offices)

    def coaches(self, raw: object, where: str) -> tuple[DirectoryCoach, ...]:
        coaches: list[DirectoryCoach] = []
        for at, entry in self.entries(raw, "coaches", where):
            self.keys(entry, _COACH_KEYS, at)
            self.required(entry, ("id", "first_name"), at)
            demo = entry.get("demo")
            if not isinstance(demo, bool):
                # Explicit, so a fictional demo coach can never pass for a real one
                self.problem(at, "field 'demo' must be true or false")
                demo = True
            coaches.append(
                DirectoryCoach(
                    id=self.text(entry, "id", at),
                    first_name=self.text(entry, "first_name", at),
                    demo=demo,
                )
            )
        ids = [c.id for c in coaches]
        for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
            self.problem(where, f"duplicate coach id {duplicate!r}")
        return tuple(coaches)

    def hours(self, raw: object, where: str) -> WorkingHours | None:
        if raw is None:
            return None  # reported by `required`
        entry = self.mapping(raw, where)
        if entry is None:
            return None
        before = len(self.problems)
        for key in entry:
            if key not in _HOURS_KEYS:
                self.problem(where, f"bad hours: unknown key {key!r} (use timezone, mon ... sun)")
        tz = self.text(entry, "timezone", where)
        if not tz:
            self.problem(where, "bad hours: missing field 'timezone' (e.g. Europe/Brussels)")
        else:
            try:
                zone(tz)
            except ValueError as error:
                self.problem(where, f"bad hours: {error}")
        weekly: list[tuple[tuple[time, time], ...]] = []
        for day in WEEKDAYS:
            intervals: list[tuple[time, time]] = []
            raw_day = entry.get(day)
            if raw_day is None:
                weekly.append(())
                continue
            if not isinstance(raw_day, list):
                self.problem(where, f"bad hours: {day} must be a list like ['09:00-17:00']")
                weekly.append(())
                continue
            for text in raw_day:
                try:
                    intervals.append(parse_interval(str(text)))
                except ValueError as error:
                    self.problem(where, f"bad hours: {day}: {error}")
            weekly.append(tuple(sorted(intervals)))
        spec: HoursSpec = {day: intervals for day, intervals in enumerate(weekly)}
        for message in check_hours_spec(spec):
            self.problem(where, f"bad hours: {message}")
        if len(self.problems) > before:
            return None
        return WorkingHours(timezone=tz, weekly=tuple(weekly))

    # ---- across partnerships

    def unique_names(self, partnerships: Sequence[Partnership]) -> None:
        """Young people see the name, and the intake knows a partnership by it."""
        seen: dict[str, str] = {}
        for partnership in partnerships:
            key = normalize(partnership.name)
            if key in seen:
                self.problem(
                    f"partnership {partnership.id!r}",
                    f"name {partnership.name!r} is also the name of {seen[key]!r}",
                )
            seen.setdefault(key, partnership.id)

    def overlaps(self, partnerships: Sequence[Partnership]) -> None:
        by_nis: dict[str, list[tuple[Partnership, AreaPart]]] = {}
        for partnership in partnerships:
            for part in partnership.area:
                by_nis.setdefault(part.municipality_nis, []).append((partnership, part))
        for nis, parts in sorted(by_nis.items()):
            owners = sorted({p.id for p, _ in parts})
            if len(owners) < 2:
                continue
            name = parts[0][1].municipality_name
            for (first, a), (second, b) in _pairs(parts):
                if first.id == second.id:
                    continue
                if a.whole or b.whole:
                    self.problem(
                        "",
                        f"municipality {name} ({nis}) is covered twice: by {first.id!r} and "
                        f"{second.id!r}",
                    )
                    continue
                shared = sorted(
                    {normalize(x) for x in a.places} & {normalize(x) for x in b.places}
                    | set(a.postcodes) & set(b.postcodes)
                )
                if shared:
                    self.problem(
                        "",
                        f"municipality {name} ({nis}) is covered twice: {', '.join(shared)} by "
                        f"{first.id!r} and {second.id!r}",
                    )


def _pairs(
    items: Sequence[tuple[Partnership, AreaPart]],
) -> list[tuple[tuple[Partnership, AreaPart], tuple[Partnership, AreaPart]]]:
    return [(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items))]


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
