"""The partnership directory: the shipped data, its decisions, and every kind of problem that
``check_directory`` must report."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.routing.gazetteer import load_directory, load_directory_mapping, load_gazetteer
from flows.routing.directory import Directory, DirectoryError, check_directory, parse_directory
from flows.routing.places import Gazetteer


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory()


# --------------------------------------------------------------------------- the shipped data


def test_the_shipped_directory_has_no_problems(gazetteer: Gazetteer) -> None:
    assert check_directory(load_directory_mapping(), gazetteer) == []


def test_the_partnerships_of_the_seeds_are_all_there(directory: Directory) -> None:
    assert [p.id for p in directory.partnerships if p.role is None] == [
        "teamwork-halle-asse",
        "teamwork-noord-oostrand",
        "lp-vilvoorde",
        "dash",
        "boest-your-future",
        "aan-boord",
        "steam",
        "ik-droom-genk",
        "ik-droom-hasselt",
        "ik-droom-tongeren",
        "ik-droom-lanaken",
        "k-zien-van-tel",
    ]


def _owner(directory: Directory, nis: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(p.id, part.places) for p, part in directory.coverage(nis)]


def test_leuven_is_covered_whole_including_its_parts(directory: Directory) -> None:
    assert _owner(directory, "24062") == [("boest-your-future", ())]


def test_only_winksele_of_herent_is_covered(directory: Directory) -> None:
    assert _owner(directory, "24038") == [("boest-your-future", ("Winksele",))]
    assert directory.partially_covered() == ("24038",)


def test_scherpenheuvel_zichem_is_covered_whole_by_dash(directory: Directory) -> None:
    assert _owner(directory, "24134") == [("dash", ())]


def test_the_2025_mergers_use_the_new_codes(directory: Directory) -> None:
    assert _owner(directory, "71072") == [("ik-droom-hasselt", ())]  # Hasselt + Kortessem
    assert _owner(directory, "73111") == [("ik-droom-tongeren", ())]  # Tongeren-Borgloon
    for old in ("71022", "73040", "73083", "73009"):
        assert directory.coverage(old) == ()


def test_the_limburg_programme_is_four_local_partnerships(directory: Directory) -> None:
    sites = [p for p in directory.partnerships if p.programme == "Ik droom. Ik durf. Jij ook?"]
    assert [p.area[0].municipality_name for p in sites] == [
        "Genk",
        "Hasselt",
        "Tongeren-Borgloon",
        "Lanaken",
    ]
    assert all("BLM vzw" in p.partners and "VDAB" in p.partners for p in sites)


def test_brugge_region_has_its_eleven_municipalities(directory: Directory) -> None:
    partnership = directory.partnership("k-zien-van-tel")
    assert partnership is not None
    assert len(partnership.area) == 11
    assert "CAW Noord-West-Vlaanderen" in partnership.partners


def test_blind_spots(directory: Directory, gazetteer: Gazetteer) -> None:
    blind = directory.blind_spots(gazetteer.flemish_nis())
    assert "11002" in blind  # Antwerpen
    assert "44021" in blind  # Gent
    assert "24062" not in blind  # Leuven
    assert "24038" not in blind  # Herent: partly covered
    assert len(blind) == 285 - len(directory.covered_municipalities())
    assert directory.blind_spots(["24062", "11002"]) == ("11002",)


def test_fallback_for_a_blind_spot(directory: Directory) -> None:
    fallback = directory.fallback_for("11002")
    assert [(c.name, c.phone, c.verified_on) for c in fallback.contacts] == [
        ("VDAB", "0800 30 700", None),
        ("CAW / JAC", "0800 13 500", None),
    ]


def test_contacts_are_fictional_placeholders(directory: Directory) -> None:
    for partnership in directory.partnerships:
        assert partnership.coordinator.email.endswith("@example.org")
        assert partnership.coordinator.verified_on is None
        assert all(o.placeholder and o.verified_on is None for o in partnership.offices)
        assert all(c.demo for c in partnership.coaches)
        assert partnership.hours.timezone == "Europe/Brussels"
    assert len(directory.unverified()) > 0


# --------------------------------------------------------------------------- problems


def _valid() -> dict[str, Any]:
    hours = {"timezone": "Europe/Brussels", **{d: ["09:00-17:00"] for d in ("mon", "tue")}}
    contact = {"name": "Coördinator", "email": "c@example.org", "phone": None, "verified_on": None}
    return {
        "version": 1,
        "fallback": {
            "contacts": [
                {"id": "vdab", "name": "VDAB", "phone": "0800 30 700", "verified_on": None}
            ]
        },
        "partnerships": [
            {
                "id": "een",
                "name": "Een",
                "area": [
                    {"nis": "24062", "name": "Leuven"},
                    {"nis": "24038", "name": "Herent", "places": ["Winksele"]},
                ],
                "partners": ["VDAB"],
                "coordinator": dict(contact),
                "offices": [
                    {
                        "name": "Onthaal",
                        "street": "Voorbeeldstraat 1",
                        "postcode": "3000",
                        "nis": "24062",
                        "placeholder": True,
                        "verified_on": None,
                    }
                ],
                "working_hours": copy.deepcopy(hours),
                "coaches": [{"id": "c1", "first_name": "Sam", "demo": True}],
            },
            {
                "id": "twee",
                "name": "Twee",
                "area": [{"nis": "71016", "name": "Genk"}],
                "partners": ["VDAB"],
                "coordinator": dict(contact),
                "working_hours": copy.deepcopy(hours),
            },
        ],
    }


def test_the_valid_example_has_no_problems(gazetteer: Gazetteer) -> None:
    assert check_directory(_valid(), gazetteer) == []
    assert len(parse_directory(_valid(), gazetteer).partnerships) == 2


def _one(mapping: dict[str, Any], gazetteer: Gazetteer, expected: str) -> None:
    problems = check_directory(mapping, gazetteer)
    assert any(expected in line for line in problems), problems
    with pytest.raises(DirectoryError) as raised:
        parse_directory(mapping, gazetteer)
    assert raised.value.problems == tuple(problems)


def test_unknown_nis_code(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"].append({"nis": "99999"})
    _one(data, gazetteer, "partnership 'twee' area[1]: unknown NIS code 99999")


def test_an_old_nis_code_is_unknown(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"] = [{"nis": "71022", "name": "Hasselt"}]  # before 2025
    _one(data, gazetteer, "unknown NIS code 71022")


def test_malformed_nis_code(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"] = [{"nis": "7101"}]
    _one(data, gazetteer, "NIS code must be five digits")


def test_municipality_outside_flanders(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"].append({"nis": "21004"})
    _one(data, gazetteer, "Brussel (21004) is not in Flanders")


def test_name_does_not_match_code(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"][0]["name"] = "Hasselt"
    _one(data, gazetteer, "NIS code 71016 is Genk, not 'Hasselt'")


def test_municipality_covered_twice(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"].append({"nis": "24062", "name": "Leuven"})
    _one(data, gazetteer, "municipality Leuven (24062) is covered twice: by 'een' and 'twee'")


def test_whole_and_part_of_a_municipality_overlap(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"].append({"nis": "24038", "name": "Herent"})
    _one(data, gazetteer, "municipality Herent (24038) is covered twice")


def test_the_same_place_covered_twice(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"].append({"nis": "24038", "places": ["winksele"]})
    _one(data, gazetteer, "municipality Herent (24038) is covered twice: winksele")


def test_municipality_listed_twice_in_one_area(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"].append({"nis": "71016"})
    _one(data, gazetteer, "Genk (71016) is listed twice in this area")


def test_place_not_in_its_municipality(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][0]["area"][1]["places"] = ["Kessel-Lo"]
    _one(data, gazetteer, "place 'Kessel-Lo' is not in Herent (24038) (it is in Leuven)")


def test_unknown_place(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][0]["area"][1]["places"] = ["Nergenshuizen"]
    _one(data, gazetteer, "place 'Nergenshuizen' is not in Herent (24038) (unknown place)")


def test_postcode_not_in_its_municipality(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"][0]["postcodes"] = ["3000"]
    _one(data, gazetteer, "postcode 3000 is not in Genk (71016)")


def test_office_postcode_not_in_its_municipality(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][0]["offices"][0]["postcode"] = "3600"
    _one(data, gazetteer, "offices[0]: postcode 3600 is not in municipality 24062")


@pytest.mark.parametrize(
    "field", ["id", "name", "area", "partners", "coordinator", "working_hours"]
)
def test_missing_field(gazetteer: Gazetteer, field: str) -> None:
    data = _valid()
    del data["partnerships"][1][field]
    _one(data, gazetteer, f"missing field {field!r}")


def test_empty_area(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["area"] = []
    _one(data, gazetteer, "partnership 'twee': field 'area' is empty")


def test_missing_coordinator_email(gazetteer: Gazetteer) -> None:
    data = _valid()
    del data["partnerships"][1]["coordinator"]["email"]
    _one(data, gazetteer, "partnership 'twee' coordinator: missing field 'email'")


def test_missing_verified_on(gazetteer: Gazetteer) -> None:
    data = _valid()
    del data["partnerships"][1]["coordinator"]["verified_on"]
    _one(data, gazetteer, "missing field 'verified_on' (use null while unverified)")


def test_bad_verified_on(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["fallback"]["contacts"][0]["verified_on"] = "last week"
    _one(data, gazetteer, "fallback.contacts[0]: verified_on must be a date")


def test_a_verified_date_is_accepted(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["fallback"]["contacts"][0]["verified_on"] = "2025-03-01"
    directory = parse_directory(data, gazetteer)
    assert str(directory.fallback.contacts[0].verified_on) == "2025-03-01"


def test_missing_fallback(gazetteer: Gazetteer) -> None:
    data = _valid()
    del data["fallback"]
    _one(data, gazetteer, "missing field 'fallback'")


def test_fallback_without_contacts(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["fallback"]["contacts"] = []
    _one(data, gazetteer, "fallback: missing field 'contacts'")


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ({"mon": ["9-17"]}, "bad hours: mon: '9-17' is not HH:MM-HH:MM"),
        ({"mon": ["17:00-09:00"]}, "closes before it opens"),
        ({"mon": ["25:00-26:00"]}, "impossible time"),
        (
            {"mon": ["09:00-13:00", "12:00-17:00"]},
            "bad hours: mon: 09:00-13:00 overlaps 12:00-17:00",
        ),
        ({"mon": "09:00-17:00"}, "bad hours: mon must be a list"),
        ({"monday": ["09:00-17:00"]}, "bad hours: unknown key 'monday'"),
        ({"timezone": "Europe/Brussel"}, "bad hours: unknown time zone 'Europe/Brussel'"),
        ({"timezone": None}, "bad hours: missing field 'timezone'"),
        ({"mon": [], "tue": []}, "bad hours: never open"),
    ],
)
def test_bad_hours(gazetteer: Gazetteer, hours: dict[str, Any], expected: str) -> None:
    data = _valid()
    data["partnerships"][1]["working_hours"].update(hours)
    _one(data, gazetteer, expected)


def test_duplicate_id(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["id"] = "een"
    _one(data, gazetteer, "partnerships[1]: duplicate id 'een' (also partnerships[0])")


def test_id_must_be_a_slug(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["id"] = "Twee Partners"
    _one(data, gazetteer, "id must be a slug")


def test_unknown_field(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["aera"] = []
    _one(data, gazetteer, "partnership 'twee': unknown field 'aera'")


def test_coach_demo_flag_is_required(gazetteer: Gazetteer) -> None:
    data = _valid()
    del data["partnerships"][0]["coaches"][0]["demo"]
    _one(data, gazetteer, "coaches[0]: field 'demo' must be true or false")


def test_duplicate_coach_id(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][0]["coaches"].append({"id": "c1", "first_name": "Noor", "demo": True})
    _one(data, gazetteer, "duplicate coach id 'c1'")


def test_every_problem_is_reported_at_once(gazetteer: Gazetteer) -> None:
    data = _valid()
    data["partnerships"][1]["id"] = "een"
    data["partnerships"][1]["area"].append({"nis": "99999"})
    data["partnerships"][1]["working_hours"]["mon"] = ["nonsense"]
    problems = check_directory(data, gazetteer)
    assert len(problems) == 3
    assert all("\n" not in line for line in problems)


def test_not_a_mapping(gazetteer: Gazetteer) -> None:
    assert check_directory([], gazetteer) == ["directory: expected a mapping, got list"]  # type: ignore[arg-type]


def test_every_region_without_a_partnership_has_general_lines_and_a_fallback_team(
    directory: Directory,
) -> None:
    # Issue 14: a young person where no partnership works hears it at once, gets the general
    # lines of their region and can still send their question to a team that answers.
    for region in (None, "brussels", "wallonia", "other"):
        found = directory.fallback.for_region(region)
        assert found.team is not None, region
        team = directory.partnership(found.team)
        assert team is not None and team.role == "fallback" and team.area == ()
    assert directory.fallback.for_region("brussels").contacts[0].name == "Actiris"
    assert directory.fallback.for_region("wallonia").contacts[0].name == "Le Forem"


def test_a_fallback_team_must_be_a_partnership_with_the_fallback_role() -> None:
    import yaml

    from bot.routing.gazetteer import load_directory_mapping, load_gazetteer
    from flows.routing.directory import check_directory

    data = dict(load_directory_mapping())
    raw = data["fallback"]
    assert isinstance(raw, dict)
    fallback = dict(raw)
    fallback["team"] = "boest-your-future"
    data["fallback"] = fallback
    problems = check_directory(yaml.safe_load(yaml.safe_dump(data)), load_gazetteer())
    assert any("needs 'role: fallback'" in p for p in problems)
