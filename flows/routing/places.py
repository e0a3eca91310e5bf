"""Where-you-live resolver: free text -> municipality -> lokaal partnerschap.

Rules of this module:

* Pure. No file I/O, no clock, no logging. The :class:`Gazetteer` (municipalities, postcodes,
  named places, former municipalities) and the :class:`~flows.routing.directory.Directory` are
  built by ``bot/routing/gazetteer.py`` and handed in already parsed.
* One answer per text: :meth:`Resolver.resolve` returns a :class:`Resolution` whose ``status``
  is the only thing a caller needs to branch on:

  - ``ok``: one municipality (and, if the directory knows it, one partnership). ``candidates[0]``
    is that answer; further candidates are *less likely readings* a bot may offer ("Halle near
    Zoersel?"), never a reason to doubt the answer.
  - ``ambiguous``: several readings of equal weight; ask the young person to pick.
  - ``outside_flanders``: Brussels-Capital or Wallonia (``region`` says which).
  - ``unknown``: nothing recognisable. Never guess a town from nonsense.

* Ambiguity rules (the reasons are in ``docs/directory.md``):

  1. A postcode is exact: a name that agrees with it only narrows it down; a name that disagrees
     makes the answer ambiguous rather than silently picking one.
  2. Names rank in three tiers: a 2025 municipality (Dutch or French name), then a municipality
     that merged on 1 January 2025, then a place inside a municipality. The best tier wins;
     lower tiers become alternative candidates. So "Halle" is the municipality Halle, with
     Halle (Zoersel) as an alternative, while "Deurne" (only ever a place: Antwerpen and Diest)
     is ambiguous. Exception: a name whose best reading is outside Flanders but which is also
     a Flemish place ("Vorst": Brussels and Laakdal) is ambiguous, never ``outside_flanders``.
  3. A municipality the directory covers only in part (Herent: only Winksele) is ``ok`` when the
     text names a place or postcode that decides it, and ``ambiguous`` otherwise.
  4. Typos are corrected only when no name matched exactly, only for words of five letters or
     more that are not ordinary words, with the first letter right and at most one edit per
     five letters or so (see :func:`_allowed_edits`). A corrected reading is always
     ``ambiguous`` ("bedoel je Leuven?"), never ``ok``: many real places the gazetteer does not
     know are one letter from another town (Linden/Landen, Itegem/Izegem).
  5. Short names that are also ordinary words ("Boom", "As", "Mol", "Berg") count only when
     nothing else in the text points somewhere, or right after "in", "te", "uit" ("ik woon in
     Boom").
  6. A name must be a whole written word: "Waver" inside "Onze-Lieve-Vrouw-Waver" or "Mechelen"
     inside "Mechelen-Bovelingen" is not a match ("Leuven-Centrum" still is).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal, NewType

from rapidfuzz import process
from rapidfuzz.distance import OSA

from flows.ids import PartnershipId

if TYPE_CHECKING:
    from flows.routing.directory import AreaPart, Directory, Partnership

__all__ = [
    "Candidate",
    "FormerMunicipality",
    "Gazetteer",
    "GazetteerMunicipality",
    "GazetteerPlace",
    "MunicipalityNis",
    "PartnershipId",
    "PlaceKind",
    "Region",
    "Resolution",
    "Resolver",
    "Status",
    "normalize",
    "places_from_mapping",
]

MunicipalityNis = NewType("MunicipalityNis", str)
"""A municipality's REFNIS code as of 1 January 2025, e.g. ``"24062"`` (Leuven)."""

Status = Literal["ok", "ambiguous", "unknown", "outside_flanders"]
Region = Literal["flanders", "brussels", "wallonia"]
PlaceKind = Literal["place", "district", "colloquial"]

MAX_QUERY_CHARS = 300
"""Longer text is cut: an answer to "where do you live?" is short, and fuzzy matching costs
grow with the number of words."""

_BRUSSELS_POSTCODES = range(1000, 1300)
"""bpost gives Brussels-Capital the postcodes 1000-1299; a code there that Statbel's table does
not list (a company or PO box code) is still in Brussels."""


# --------------------------------------------------------------------------------------------
# Gazetteer: pure data


@dataclass(frozen=True)
class GazetteerMunicipality:
    nis: MunicipalityNis
    name_nl: str
    name_fr: str
    region: Region


@dataclass(frozen=True)
class GazetteerPlace:
    """A named place inside a 2025 municipality (a deelgemeente, an Antwerp district, ...)."""

    name: str
    municipality_nis: MunicipalityNis
    postcodes: tuple[str, ...]
    kind: PlaceKind = "place"
    also_known_as: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormerMunicipality:
    """A municipality that merged on 1 January 2025 (or kept its name but got a new NIS code)."""

    name: str
    old_nis: str
    municipality_nis: MunicipalityNis
    also_known_as: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gazetteer:
    """Everything the resolver knows about Belgian geography, as plain data."""

    municipalities: tuple[GazetteerMunicipality, ...]
    postcodes: tuple[tuple[str, MunicipalityNis], ...]
    places: tuple[GazetteerPlace, ...] = ()
    former_municipalities: tuple[FormerMunicipality, ...] = ()

    # cached_property writes to the instance __dict__ directly, so it works on a frozen dataclass
    @cached_property
    def _by_nis(self) -> Mapping[MunicipalityNis, GazetteerMunicipality]:
        return {m.nis: m for m in self.municipalities}

    @cached_property
    def _by_postcode(self) -> Mapping[str, tuple[MunicipalityNis, ...]]:
        found: dict[str, list[MunicipalityNis]] = {}
        for postcode, nis in self.postcodes:
            found.setdefault(postcode, []).append(nis)
        return {code: tuple(sorted(set(nis))) for code, nis in found.items()}

    @cached_property
    def _postcodes_by_nis(self) -> Mapping[MunicipalityNis, tuple[str, ...]]:
        found: dict[MunicipalityNis, set[str]] = {}
        for postcode, nis in self.postcodes:
            found.setdefault(nis, set()).add(postcode)
        return {nis: tuple(sorted(codes)) for nis, codes in found.items()}

    def municipality(self, nis: str) -> GazetteerMunicipality | None:
        return self._by_nis.get(MunicipalityNis(nis))

    def municipalities_for_postcode(self, postcode: str) -> tuple[MunicipalityNis, ...]:
        return self._by_postcode.get(postcode, ())

    def postcodes_of(self, nis: str) -> tuple[str, ...]:
        return self._postcodes_by_nis.get(MunicipalityNis(nis), ())

    def places_in(self, nis: str) -> tuple[GazetteerPlace, ...]:
        return tuple(p for p in self.places if p.municipality_nis == nis)

    def former_in(self, nis: str) -> tuple[FormerMunicipality, ...]:
        return tuple(f for f in self.former_municipalities if f.municipality_nis == nis)

    def flemish_nis(self) -> tuple[MunicipalityNis, ...]:
        return tuple(sorted(m.nis for m in self.municipalities if m.region == "flanders"))

    def problems(self) -> list[str]:
        """Inconsistencies between the named places and the postcode table, one line each."""
        problems: list[str] = []
        seen: set[tuple[str, str]] = set()
        for place in self.places:
            label = f"place {place.name!r} ({place.municipality_nis})"
            municipality = self.municipality(place.municipality_nis)
            if municipality is None:
                problems.append(f"{label}: unknown NIS code {place.municipality_nis}")
                continue
            key = (normalize(place.name), place.municipality_nis)
            if key in seen:
                problems.append(f"{label}: listed twice")
            seen.add(key)
            if not place.postcodes:
                problems.append(f"{label}: no postcode")
            for postcode in place.postcodes:
                if place.municipality_nis not in self.municipalities_for_postcode(postcode):
                    problems.append(
                        f"{label}: postcode {postcode} is not a postcode of {municipality.name_nl}"
                    )
        for former in self.former_municipalities:
            if self.municipality(former.municipality_nis) is None:
                problems.append(
                    f"former municipality {former.name!r}: unknown NIS code "
                    f"{former.municipality_nis}"
                )
            if self.municipality(former.old_nis) is not None and (
                former.old_nis != former.municipality_nis
            ):
                # An old code that is still a current code would make two readings of one code
                problems.append(
                    f"former municipality {former.name!r}: old NIS code {former.old_nis} is "
                    "still a current municipality"
                )
        return problems


def places_from_mapping(
    mapping: Mapping[str, object],
) -> tuple[tuple[GazetteerPlace, ...], tuple[FormerMunicipality, ...]]:
    """Parse ``flows/routing/data/places.yaml`` (already loaded). Raises ``ValueError`` on a
    malformed entry: this file is ours, so a mistake in it is a bug, not user input."""
    places: list[GazetteerPlace] = []
    for index, raw in enumerate(_list(mapping.get("places"), "places")):
        entry = _dict(raw, f"places[{index}]")
        kind = str(entry.get("kind", "place"))
        if kind not in ("place", "district", "colloquial"):
            raise ValueError(f"places[{index}]: unknown kind {kind!r}")
        places.append(
            GazetteerPlace(
                name=_text(entry, "name", f"places[{index}]"),
                municipality_nis=MunicipalityNis(_text(entry, "nis", f"places[{index}]")),
                postcodes=tuple(str(p) for p in _list(entry.get("postcodes"), "postcodes")),
                kind=kind,  # type: ignore[arg-type]  # checked just above
                also_known_as=tuple(str(a) for a in _list(entry.get("also_known_as", []), "aka")),
            )
        )
    former: list[FormerMunicipality] = []
    for index, raw in enumerate(_list(mapping.get("former_municipalities"), "former")):
        entry = _dict(raw, f"former_municipalities[{index}]")
        where = f"former_municipalities[{index}]"
        former.append(
            FormerMunicipality(
                name=_text(entry, "name", where),
                old_nis=_text(entry, "old_nis", where),
                municipality_nis=MunicipalityNis(_text(entry, "nis", where)),
                also_known_as=tuple(str(a) for a in _list(entry.get("also_known_as", []), "aka")),
            )
        )
    return tuple(places), tuple(former)


def _list(value: object, where: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list")
    return value


def _dict(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a mapping")
    return value


def _text(entry: Mapping[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if value is None or str(value).strip() == "":
        raise ValueError(f"{where}: missing {key}")
    return str(value)


# --------------------------------------------------------------------------------------------
# Text normalisation

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_NOT_WORD = re.compile(r"[^a-z0-9-]+")
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"))
_POSTCODE = re.compile(r"^b?(\d{4})$")  # "3010", and "B-3010"/"B3010" as on envelopes


def normalize(text: str) -> str:
    """Lower case, no accents, every run of punctuation or space one space:
    ``"Sint-Genesius-Rode"`` -> ``"sint genesius rode"``, ``"Liège"`` -> ``"liege"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_ALNUM.sub(" ", stripped.casefold()).split())


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _tokenize(text: str) -> tuple[list[str], list[int]]:
    """Normalised tokens, and for each the number of the written word it came from: the parts
    of "Onze-Lieve-Vrouw-Waver" share a number, so "Waver" alone cannot match inside it."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_DASHES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    tokens: list[str] = []
    groups: list[int] = []
    for number, word in enumerate(_NOT_WORD.sub(" ", stripped).split()):
        for part in word.split("-"):
            if part:
                tokens.append(part)
                groups.append(number)
    return tokens, groups


# "Leuven-Centrum", "Antwerpen-Noord": the rest of a hyphenated word that still means the place
_QUALIFIERS = _word_set(
    """centrum center centre city stad ville noord zuid oost west nord sud est ouest
    linkeroever rechteroever station"""
)


# "St-Pieters-Leeuw", "St.-Truiden", "St Niklaas", "Ste-Ode": abbreviations are indexed as
# variants of the full name rather than expanded in the text, because "st" means "sint" in
# Dutch and "saint" in French.
_ABBREVIATIONS = {"sint": "st", "saint": "st", "sainte": "ste", "sinte": "ste"}


def _variants(name: str) -> set[str]:
    key = normalize(name)
    tokens = key.split()
    variants = {key}
    if any(t in _ABBREVIATIONS for t in tokens):
        variants.add(" ".join(_ABBREVIATIONS.get(t, t) for t in tokens))
    return variants


# Names that are also everyday words. They count only when nothing else in the text matched:
# "ik woon in Boom" is Boom, "Kessel-Lo, ik heb een boom in de tuin" is Kessel-Lo.
_WEAK_NAMES = _word_set(
    """as ath ans bergen berg bever boom bree damme essen geel hal halen ham hamme hoei hoeke
    hove kapellen laar laken lede lens lier lille lint luik mal mol namen peer perk putte spa
    vorst wellen zele"""
)

# A weak name right after one of these is meant as a place: "ik woon in Boom", "j'habite à Spa"
_PLACE_CUES = _word_set("in te uit a en")

# Words never sent to the typo matcher: what people write around a place name. "hallo" is one
# edit from Halle and "thuis" from Thuin; they must not become towns.
_STOPWORDS = _word_set(
    """aan achter al alleen allemaal als ben beetje bij binnen buiten buurt centrum dag dan dat de
    deze dicht die dit dorp drie echt een eigenlijk en ergens gemeente goed goedemorgen goeiedag
    graag groot hallo heb hebben heel hey hier hij hoi huis ik in is ja je jij kan kamer kort
    leven maar mama me mijn moeder momenteel naar naast nee nergens niet nog nu of oke ok omgeving
    ons onze ook op ouders over overal papa postcode regio samen school sinds stad straat te
    thuis tot twee u uit vader van vlakbij voor vriend vriendin waar wat weet wel werk wij wijk
    woon woont wonen zit zo zij zijn
    the i live in near at my home hello hi city town village
    je j habite habiter pres de la le les du des chez moi quartier ville bonjour salut rue"""
)


def _allowed_edits(length: int) -> int:
    """How many typing errors a word of this many characters may have and still be corrected.
    Short words get none: at four letters one edit reaches too many real words."""
    if length < 5:
        return 0
    if length <= 8:
        return 1
    if length <= 13:
        return 2
    return 3


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Candidate:
    municipality: str
    municipality_nis: MunicipalityNis
    partnership: PartnershipId | None
    partnership_name: str | None
    place: str | None = None
    """Python-only (not in the JSON): the covered place when a municipality is covered in part,
    e.g. ``"Winksele"``, so a bot can ask "woon je in Winksele?"."""

    def to_json_dict(self) -> dict[str, object]:
        return {
            "municipality": self.municipality,
            "municipality_nis": self.municipality_nis,
            "partnership": self.partnership,
            "partnership_name": self.partnership_name,
        }


@dataclass(frozen=True)
class Resolution:
    query: str
    status: Status
    postcode: str | None
    place: str | None
    municipality: str | None
    municipality_nis: MunicipalityNis | None
    partnership: PartnershipId | None
    partnership_name: str | None
    candidates: tuple[Candidate, ...]
    region: str | None
    """"brussels"/"wallonia" when outside_flanders; "flanders" when every candidate is Flemish;
    None when the candidates lie in several regions or nothing was found."""

    def to_json_dict(self) -> dict[str, object]:
        """The object ``opstap route`` prints (``region`` is not part of it)."""
        return {
            "query": self.query,
            "status": self.status,
            "postcode": self.postcode,
            "place": self.place,
            "municipality": self.municipality,
            "municipality_nis": self.municipality_nis,
            "partnership": self.partnership,
            "partnership_name": self.partnership_name,
            "candidates": [c.to_json_dict() for c in self.candidates],
        }


# --------------------------------------------------------------------------------------------
# The resolver

_TIER_MUNICIPALITY = 0
_TIER_FORMER = 1
_TIER_PLACE = 2


@dataclass(frozen=True)
class _Entry:
    """One thing a name can mean."""

    municipality_nis: MunicipalityNis
    tier: int
    place: str | None  # None when the municipality itself is named
    postcodes: tuple[str, ...]  # the place's postcodes; () for a municipality


@dataclass(frozen=True)
class _Match:
    key: str
    entries: tuple[_Entry, ...]
    start: int = 0  # index of the first token

    @property
    def primary(self) -> tuple[_Entry, ...]:
        best = min(e.tier for e in self.entries)
        return tuple(e for e in self.entries if e.tier == best)

    @property
    def alternatives(self) -> tuple[_Entry, ...]:
        best = min(e.tier for e in self.entries)
        return tuple(e for e in self.entries if e.tier != best)


@dataclass(frozen=True)
class _Pick:
    """A reading: a municipality, maybe the place named in it, and the postcodes given."""

    nis: MunicipalityNis
    place: str | None
    postcodes: tuple[str, ...]


class Resolver:
    """Resolves where a young person lives. Build once (indexes are made here), call often."""

    MAX_WORDS_PER_NAME = 6  # "Sint-Maria-Lierde", "Neder-Over-Heembeek", ...

    def __init__(self, gazetteer: Gazetteer, directory: Directory) -> None:
        self._gazetteer = gazetteer
        self._directory = directory
        index: dict[str, set[_Entry]] = {}

        def add(name: str, entry: _Entry) -> None:
            for variant in _variants(name):
                if variant:
                    index.setdefault(variant, set()).add(entry)

        for m in gazetteer.municipalities:
            entry = _Entry(m.nis, _TIER_MUNICIPALITY, None, ())
            add(m.name_nl, entry)
            add(m.name_fr, entry)
        for f in gazetteer.former_municipalities:
            codes = gazetteer.postcodes_of(f.municipality_nis)
            current = gazetteer.municipality(f.municipality_nis)
            for name in (f.name, *f.also_known_as):
                if current and normalize(name) in (
                    normalize(current.name_nl),
                    normalize(current.name_fr),
                ):
                    # Hasselt, Lokeren, Tielt, ...: a continuing name is the municipality itself
                    continue
                add(name, _Entry(f.municipality_nis, _TIER_FORMER, f.name, codes))
        for p in gazetteer.places:
            for name in (p.name, *p.also_known_as):
                add(name, _Entry(p.municipality_nis, _TIER_PLACE, p.name, p.postcodes))

        self._index: dict[str, tuple[_Entry, ...]] = {
            key: tuple(sorted(entries, key=_entry_order)) for key, entries in index.items()
        }
        # "kessello", "knokkeheist": the same names written without spaces or hyphens
        compact: dict[str, set[_Entry]] = {}
        for key, entries in self._index.items():
            joined = key.replace(" ", "")
            if len(joined) >= 6:
                compact.setdefault(joined, set()).update(entries)
        self._compact: dict[str, tuple[_Entry, ...]] = {
            key: tuple(sorted(entries, key=_entry_order)) for key, entries in compact.items()
        }
        self._keys: list[str] = sorted(self._index)

    # ---- public

    def resolve(self, text: str) -> Resolution:
        query = text.strip()
        tokens, groups = _tokenize(query[:MAX_QUERY_CHARS])

        postcodes: list[str] = []
        brussels_codes: list[str] = []
        for token in tokens:
            found = _POSTCODE.match(token)
            if found is None:
                continue
            code = found.group(1)
            if self._gazetteer.municipalities_for_postcode(code):
                postcodes.append(code)
            elif int(code) in _BRUSSELS_POSTCODES:
                brussels_codes.append(code)
            # Any other four digits are a year or a house number: ignored.

        matches = self._exact_matches(tokens, groups)
        strong = [
            m
            for m in matches
            if m.key not in _WEAK_NAMES or (m.start > 0 and tokens[m.start - 1] in _PLACE_CUES)
        ]
        if strong or postcodes or brussels_codes:
            matches = strong
        corrected = False
        if not matches and not postcodes and not brussels_codes:
            matches = self._fuzzy_matches(tokens, groups)
            corrected = bool(matches)

        postcode = postcodes[0] if postcodes else (brussels_codes[0] if brussels_codes else None)
        if not postcodes and not matches:
            if brussels_codes:
                return self._brussels_without_municipality(query, brussels_codes[0])
            return _unknown(query)

        picks, alternatives = self._pick(postcodes, matches)
        return self._answer(query, postcode, picks, alternatives, confirm=corrected)

    # ---- matching

    def _exact_matches(self, tokens: Sequence[str], groups: Sequence[int]) -> list[_Match]:
        matches: list[_Match] = []
        i = 0
        while i < len(tokens):
            if tokens[i].isdigit() or _POSTCODE.match(tokens[i]):
                i += 1
                continue
            # Longest name first, so "Oud-Heverlee" is not read as "Heverlee" and "Kessel-Lo"
            # not as "Kessel"
            for n in range(min(self.MAX_WORDS_PER_NAME, len(tokens) - i), 0, -1):
                span = tokens[i : i + n]
                if any(t.isdigit() for t in span) or _splits_word(tokens, groups, i, i + n):
                    continue
                key = " ".join(span)
                entries = self._index.get(key) or self._compact.get("".join(span))
                if entries:
                    matches.append(_Match(key, entries, i))
                    i += n
                    break
            else:
                i += 1
        return matches

    def _fuzzy_matches(self, tokens: Sequence[str], groups: Sequence[int]) -> list[_Match]:
        found: list[tuple[int, int, int, str]] = []  # distance, start, end, key
        for start in range(len(tokens)):
            for n in range(1, 4):
                span = tokens[start : start + n]
                if len(span) < n or any(t in _STOPWORDS or t.isdigit() for t in span):
                    break
                if _splits_word(tokens, groups, start, start + n):
                    continue
                query = " ".join(span)
                allowed = _allowed_edits(len(query.replace(" ", "")))
                if allowed == 0:
                    continue
                for key, distance, _ in process.extract(
                    query, self._keys, scorer=OSA.distance, score_cutoff=allowed, limit=None
                ):
                    # The first letter is rarely the typo; requiring it keeps "dorp" from Dour
                    if key[0] == query[0] and key not in _WEAK_NAMES:
                        found.append((int(distance), start, start + n, key))
        if not found:
            return []
        best = min(distance for distance, *_ in found)
        closest = [(start, end, key) for distance, start, end, key in found if distance == best]
        # At equal distance the longer reading wins: "kesel lo" is Kessel-Lo, not Kessel
        kept = {
            key
            for start, end, key in closest
            if not any(s <= start and end <= e and (s, e) != (start, end) for s, e, _ in closest)
        }
        return [_Match(key, self._index[key], 0) for key in sorted(kept)]

    # ---- deciding

    def _pick(
        self, postcodes: Sequence[str], matches: Sequence[_Match]
    ) -> tuple[list[_Pick], list[_Pick]]:
        """The readings of equal weight, and the less likely alternatives."""
        by_postcode: dict[MunicipalityNis, list[str]] = {}
        for code in postcodes:
            for nis in self._gazetteer.municipalities_for_postcode(code):
                by_postcode.setdefault(nis, []).append(code)

        if by_postcode and matches:
            # Rule 1: the postcode decides; a name may narrow it down (1804 Zemst) or name the
            # place inside it (3010 Kessel-Lo, 2980 Halle).
            agreeing = [
                tuple(e for e in m.entries if e.municipality_nis in by_postcode) for m in matches
            ]
            agreeing = [entries for entries in agreeing if entries]
            if agreeing:
                common = set.intersection(*({e.municipality_nis for e in a} for a in agreeing))
                chosen = [
                    e for a in agreeing for e in a if not common or e.municipality_nis in common
                ]
                picks = self._picks_from(chosen, by_postcode)
                return picks, []
            # The name and the postcode disagree ("3000 Genk"): show both, decide nothing.
            picks = [_Pick(nis, None, tuple(codes)) for nis, codes in by_postcode.items()]
            picks += self._picks_from([e for m in matches for e in m.primary], {})
            return picks, []

        if by_postcode:
            return [_Pick(nis, None, tuple(codes)) for nis, codes in by_postcode.items()], []

        # Names only. Several names that agree ("Kessel-Lo, Leuven") narrow each other down;
        # "Halle, Zoersel" is the place Halle in Zoersel, read through the lower tiers.
        common = set.intersection(*({e.municipality_nis for e in m.primary} for m in matches))
        if not common and len(matches) > 1:
            common = set.intersection(*({e.municipality_nis for e in m.entries} for m in matches))
        if common:
            chosen = [e for m in matches for e in m.entries if e.municipality_nis in common]
            alternatives: list[_Pick] = []
            if len(matches) == 1:
                # Rule 2: "Halle" is the municipality; Halle (Zoersel) stays as an alternative
                lower = matches[0].alternatives
                if not any(self._flemish(e.municipality_nis) for e in chosen) and any(
                    self._flemish(e.municipality_nis) for e in lower
                ):
                    # ... but a name never sends someone out of Flanders while it also names a
                    # Flemish place: "Vorst" is Vorst (Brussels) or Vorst (Laakdal), ask.
                    return self._picks_from([*chosen, *lower], {}), []
                alternatives = self._picks_from(lower, {})
            return self._picks_from(chosen, {}), alternatives
        return self._picks_from([e for m in matches for e in m.primary], {}), []

    def _picks_from(
        self, entries: Iterable[_Entry], by_postcode: Mapping[MunicipalityNis, Sequence[str]]
    ) -> list[_Pick]:
        """One pick per municipality; the place is kept when exactly one place was named."""
        places: dict[MunicipalityNis, set[str]] = {}
        order: list[MunicipalityNis] = []
        for entry in entries:
            if entry.municipality_nis not in places:
                places[entry.municipality_nis] = set()
                order.append(entry.municipality_nis)
            if entry.place is not None:
                places[entry.municipality_nis].add(entry.place)
        picks = []
        for nis in order:
            named = places[nis]
            place = next(iter(named)) if len(named) == 1 else None
            picks.append(_Pick(nis, place, tuple(by_postcode.get(nis, ()))))
        return picks

    def _answer(
        self,
        query: str,
        postcode: str | None,
        picks: Sequence[_Pick],
        alternatives: Sequence[_Pick],
        *,
        confirm: bool = False,
    ) -> Resolution:
        candidates: list[Candidate] = []
        for pick in picks:
            for candidate in self._candidates_for(pick):
                if candidate not in candidates:
                    candidates.append(candidate)
        extra: list[Candidate] = []
        for pick in alternatives:
            for candidate in self._candidates_for(pick):
                if candidate not in candidates and candidate not in extra:
                    extra.append(candidate)

        if not candidates:
            return _unknown(query)
        regions = {self._region(c.municipality_nis) for c in candidates}
        region = next(iter(regions)) if len(regions) == 1 else None
        nis_set = {c.municipality_nis for c in candidates}
        single_nis = next(iter(nis_set)) if len(nis_set) == 1 else None
        places = {p.place for p in picks}

        status: Status
        if confirm:
            # Rule 4: a corrected typo is a question ("bedoel je Leuven?"), never an answer.
            # Flanders is full of real places one letter apart (Linden/Landen, Itegem/Izegem,
            # Elingen/Edingen), and the gazetteer does not know them all.
            status = "ambiguous"
        elif "flanders" not in regions:
            status = "outside_flanders"
        elif len(candidates) == 1:
            status = "ok"
        else:
            status = "ambiguous"
        chosen = candidates[0] if status == "ok" else None
        return Resolution(
            query=query,
            status=status,
            postcode=postcode,
            place=next(iter(places)) if len(places) == 1 else None,
            municipality=self._name(single_nis) if single_nis else None,
            municipality_nis=single_nis,
            partnership=chosen.partnership if chosen else None,
            partnership_name=chosen.partnership_name if chosen else None,
            # Alternatives only after a firm answer: with status ok, candidates[0] is the answer
            candidates=(*candidates, *extra) if chosen else tuple(candidates),
            region=region,
        )

    # ---- partnerships

    def _candidates_for(self, pick: _Pick) -> list[Candidate]:
        """Rule 3: which partnership serves this reading. A partly covered municipality gives
        one candidate per covered part plus one for the rest, unless the place or postcode
        decides."""
        name = self._name(pick.nis)
        if self._region(pick.nis) != "flanders":
            return [Candidate(name, pick.nis, None, None, pick.place)]
        coverage = self._directory.coverage(pick.nis)
        whole = [p for p, part in coverage if part.whole]
        if whole:
            return [_candidate(name, pick.nis, whole[0], pick.place)]
        if not coverage:
            return [Candidate(name, pick.nis, None, None, pick.place)]

        if pick.place is not None:
            for partnership, part in coverage:
                if self._part_covers_place(part, pick.place):
                    return [_candidate(name, pick.nis, partnership, pick.place)]
            return [Candidate(name, pick.nis, None, None, pick.place)]

        possible = list(coverage)
        if pick.postcodes:
            for partnership, part in coverage:
                if any(code in part.postcodes for code in pick.postcodes):
                    return [_candidate(name, pick.nis, partnership, None)]
            possible = [
                (partnership, part)
                for partnership, part in coverage
                if any(code in self._part_postcodes(part) for code in pick.postcodes)
            ]
            if not possible:
                return [Candidate(name, pick.nis, None, None, None)]
        found = [
            _candidate(name, pick.nis, partnership, ", ".join(part.places) or None)
            for partnership, part in possible
        ]
        return [*found, Candidate(name, pick.nis, None, None, None)]

    def _part_covers_place(self, part: AreaPart, place: str) -> bool:
        key = normalize(place)
        if any(normalize(p) == key for p in part.places):
            return True
        # A place all of whose postcodes the part covers is covered ("Scherpenheuvel" by 3270)
        codes = [
            code
            for p in self._gazetteer.places_in(part.municipality_nis)
            if normalize(p.name) == key
            for code in p.postcodes
        ]
        return bool(codes) and all(code in part.postcodes for code in codes)

    def _part_postcodes(self, part: AreaPart) -> set[str]:
        codes = set(part.postcodes)
        wanted = {normalize(p) for p in part.places}
        for place in self._gazetteer.places_in(part.municipality_nis):
            if normalize(place.name) in wanted:
                codes.update(place.postcodes)
        for former in self._gazetteer.former_in(part.municipality_nis):
            if normalize(former.name) in wanted:
                codes.update(self._gazetteer.postcodes_of(part.municipality_nis))
        return codes

    # ---- helpers

    def _name(self, nis: str) -> str:
        municipality = self._gazetteer.municipality(nis)
        return municipality.name_nl if municipality else nis

    def _flemish(self, nis: str) -> bool:
        return self._region(nis) == "flanders"

    def _region(self, nis: str) -> Region | None:
        municipality = self._gazetteer.municipality(nis)
        return municipality.region if municipality else None

    def _brussels_without_municipality(self, query: str, postcode: str) -> Resolution:
        return Resolution(
            query=query,
            status="outside_flanders",
            postcode=postcode,
            place=None,
            municipality=None,
            municipality_nis=None,
            partnership=None,
            partnership_name=None,
            candidates=(),
            region="brussels",
        )


def _candidate(
    name: str, nis: MunicipalityNis, partnership: Partnership, place: str | None
) -> Candidate:
    return Candidate(name, nis, partnership.id, partnership.name, place)


def _splits_word(tokens: Sequence[str], groups: Sequence[int], start: int, end: int) -> bool:
    """Whether tokens[start:end] is only part of a hyphenated word ("Waver" in
    "Onze-Lieve-Vrouw-Waver"). A rest made of qualifiers ("Leuven-Centrum") does not count."""
    before = [t for t, g in zip(tokens[:start], groups[:start], strict=True) if g == groups[start]]
    after = [t for t, g in zip(tokens[end:], groups[end:], strict=True) if g == groups[end - 1]]
    return any(t not in _QUALIFIERS for t in (*before, *after))


def _entry_order(entry: _Entry) -> tuple[int, str, str]:
    return (entry.tier, entry.municipality_nis, entry.place or "")


def _unknown(query: str) -> Resolution:
    return Resolution(
        query=query,
        status="unknown",
        postcode=None,
        place=None,
        municipality=None,
        municipality_nis=None,
        partnership=None,
        partnership_name=None,
        candidates=(),
        region=None,
    )
