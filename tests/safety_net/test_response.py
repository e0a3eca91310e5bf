"""The pure composer and the help line data: 24/7 always, chats only when open and verified."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.safety.helplines import load_helplines, load_helplines_mapping
from flows.safety.helplines import HelpLinesError, parse_helplines
from flows.safety.response import CONTINUE, TALK, crisis_response
from flows.text import Msg

BRUSSELS = ZoneInfo("Europe/Brussels")
CATEGORIES = (None, "suicide", "self_harm", "abuse_violence", "acute_danger")
# Monday 23 November 2026, 00:00 local; the tests walk the week hour by hour.
MONDAY = datetime(2026, 11, 23, 0, 0, tzinfo=BRUSSELS)


def numbers(messages: tuple[Msg, ...]) -> set[str]:
    return {str(m.param("number")) for m in messages if m.param("number") is not None}


def with_chat(verified_on: str | None) -> Mapping[str, Any]:
    data = dict(load_helplines_mapping())
    lines = [dict(line) for line in data["lines"]]  # type: ignore[attr-defined]
    lines[0]["chat"] = {
        "url": "https://chat.example.org",
        "hours": {day: ["17:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "verified_on": verified_on,
    }
    data["lines"] = lines
    return data


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_response_at_every_hour_has_the_day_and_night_numbers(category: str | None) -> None:
    lines = load_helplines()
    for hour in range(7 * 24):
        response = crisis_response(category, MONDAY + timedelta(hours=hour), lines)
        assert {"1813", "106", "112"} <= numbers(response.day_and_night)
        assert response.next_step.param("number") in {"1813", "106", "112"}
        assert [b.value for row in response.buttons for b in row] == [TALK, CONTINUE]


def test_1712_only_for_violence_or_abuse_and_never_called_open() -> None:
    lines = load_helplines()
    for category in CATEGORIES:
        response = crisis_response(category, MONDAY + timedelta(hours=10), lines)
        offered = numbers(response.for_category)
        assert ("1712" in offered) == (category == "abuse_violence")
    abuse = crisis_response("abuse_violence", MONDAY + timedelta(hours=10), lines)
    # Its hours are not verified, so the one next step is a line open day and night.
    assert abuse.next_step.param("number") == "106"
    assert abuse.intro.id == "safety.intro.abuse"


def test_acute_danger_points_to_112() -> None:
    response = crisis_response("acute_danger", MONDAY, load_helplines())
    assert response.next_step.id == "safety.next.emergency"
    assert response.next_step.param("number") == "112"


def test_the_shipped_chat_lines_are_never_offered_while_unverified() -> None:
    lines = load_helplines()
    for hour in range(7 * 24):
        for category in CATEGORIES:
            assert crisis_response(category, MONDAY + timedelta(hours=hour), lines).chats == ()


def test_a_verified_chat_line_is_offered_only_while_it_is_open() -> None:
    lines = parse_helplines(with_chat("2026-11-20"))
    evening = crisis_response("suicide", MONDAY + timedelta(hours=20), lines)
    assert [m.id for m in evening.chats] == ["safety.chat.open"]
    assert evening.chats[0].param("url") == "https://chat.example.org"
    assert crisis_response("suicide", MONDAY + timedelta(hours=12), lines).chats == ()
    # Saturday evening: not in its hours.
    assert crisis_response("suicide", MONDAY + timedelta(days=5, hours=20), lines).chats == ()
    # 23:59 is still open ("24:00" is the end of the day).
    late = MONDAY + timedelta(hours=23, minutes=59)
    assert crisis_response(None, late, lines).chats != ()


def test_an_unverified_chat_line_is_not_offered_even_in_its_hours() -> None:
    lines = parse_helplines(with_chat(None))
    assert crisis_response("suicide", MONDAY + timedelta(hours=20), lines).chats == ()


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        crisis_response(None, datetime(2026, 11, 23, 12), load_helplines())


def _broken(**changes: Any) -> Mapping[str, Any]:
    data = dict(load_helplines_mapping())
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            _broken(lines=[{"id": "x", "name": "X", "phone": "1", "phone_hours": None}]),
            "open day and night",
        ),
        (_broken(next_step={"suicide": ["zelfmoordlijn"]}), "at least 'default'"),
        (_broken(next_step={"default": ["line-1712"]}), "end with a line open day and night"),
        (_broken(next_step={"default": ["nowhere"]}), "unknown lines"),
        (
            _broken(next_step={"default": ["zelfmoordlijn"], "boredom": ["zelfmoordlijn"]}),
            "unknown category",
        ),
    ],
)
def test_bad_data_is_refused_with_a_clear_problem(data: Mapping[str, Any], problem: str) -> None:
    with pytest.raises(HelpLinesError, match=problem):
        parse_helplines(data)


def test_bad_hours_are_refused() -> None:
    data = with_chat("2026-11-20")
    data["lines"][0]["chat"]["hours"] = {"mon": ["22:00-02:00"]}
    with pytest.raises(HelpLinesError, match="cross midnight"):
        parse_helplines(data)
