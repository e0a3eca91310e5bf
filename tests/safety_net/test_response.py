"""The pure composer and the help line data: 24/7 always, chats only when open and verified."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.safety.helplines import load_helplines, load_helplines_mapping
from flows.safety.helplines import HelpLinesError, parse_helplines
from flows.safety.response import (
    CONTINUE,
    TALK,
    check_no_signal,
    check_question,
    crisis_response,
)
from flows.text import Msg

BRUSSELS = ZoneInfo("Europe/Brussels")
CATEGORIES = (None, "suicide", "overdose", "self_harm", "abuse_violence", "acute_danger")
# Monday 23 November 2026, 00:00 local; the tests walk the week hour by hour.
MONDAY = datetime(2026, 11, 23, 0, 0, tzinfo=BRUSSELS)


def numbers(messages: tuple[Msg, ...]) -> set[str]:
    return {str(m.param("number")) for m in messages if m.param("number") is not None}


def offered(response: Any) -> set[str]:
    """Every phone number the response offers, wherever it stands."""
    danger = (response.danger_now,) if response.danger_now is not None else ()
    return numbers((*response.first, *danger, *response.for_category, *response.day_and_night))


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
        assert {"1813", "106", "112"} <= offered(response)
        assert response.next_step.param("number") in {"1813", "106", "112"}
        assert [b.value for row in response.buttons for b in row] == [TALK, CONTINUE]


def test_1712_only_for_violence_or_abuse_and_never_called_open() -> None:
    lines = load_helplines()
    for category in CATEGORIES:
        response = crisis_response(category, MONDAY + timedelta(hours=10), lines)
        assert ("1712" in offered(response)) == (category == "abuse_violence")
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


# --- the right help for the situation (issue #13) -----------------------------------------


def test_an_overdose_gets_112_and_the_antigifcentrum_first() -> None:
    response = crisis_response("overdose", MONDAY + timedelta(hours=3), load_helplines())
    assert response.intro.id == "safety.intro.overdose"
    assert [m.param("number") for m in response.first] == ["112", "070 245 245"]
    assert response.next_step.id == "safety.next.emergency"
    assert response.next_step.param("number") == "112"
    assert "1813" in offered(response)  # still a line to talk to, day and night


def test_violence_gets_1712_first_and_112_when_in_danger_now() -> None:
    response = crisis_response("abuse_violence", MONDAY + timedelta(hours=10), load_helplines())
    assert [m.param("number") for m in response.first] == ["1712"]
    assert response.first[0].id == "safety.line.abuse"  # named for what it is, no hours
    assert response.danger_now is not None and response.danger_now.param("number") == "112"


def test_suicide_gets_1813_first_and_112_when_in_danger_now() -> None:
    response = crisis_response("suicide", MONDAY + timedelta(hours=10), load_helplines())
    assert [m.param("number") for m in response.first] == ["1813"]
    assert response.danger_now is not None and response.danger_now.param("number") == "112"
    assert response.next_step.param("number") == "1813"
    assert "1813" not in numbers(response.day_and_night)  # not twice


def test_every_line_says_which_languages_it_speaks() -> None:
    response = crisis_response("suicide", MONDAY, load_helplines(), "en")
    for message in (*response.first, *response.day_and_night):
        spoken = message.param("languages")
        assert isinstance(spoken, Msg) and spoken.id.startswith("safety.speaks.")
        assert all(isinstance(v, Msg) and v.id.startswith("safety.lang.") for _, v in spoken.params)
    zelfmoordlijn = response.first[0].param("languages")
    assert isinstance(zelfmoordlijn, Msg)
    assert [v.id for _, v in zelfmoordlijn.params if isinstance(v, Msg)] == ["safety.lang.nl"]


def test_french_speakers_also_get_french_language_lines() -> None:
    lines = load_helplines()
    fr = crisis_response("suicide", MONDAY, lines, "fr")
    nl = crisis_response("suicide", MONDAY, lines, "nl")
    assert {"0800 32 123", "107"} <= offered(fr)
    assert not {"0800 32 123", "107"} & offered(nl)
    abuse_fr = crisis_response("abuse_violence", MONDAY, lines, "fr")
    assert "0800 30 030" in offered(abuse_fr) and "1712" in offered(abuse_fr)


def test_unverified_lines_are_listed_for_the_team_and_never_called_verified() -> None:
    lines = load_helplines()
    unverified = {line.id for line in lines.unverified()}
    assert {"antigif", "cps", "tele-accueil", "line-1712"} <= unverified
    assert all(not line.verified for line in lines.lines if line.id in unverified)
    # No message of any response claims a verification.
    for category in CATEGORIES:
        for language in ("nl", "fr"):
            response = crisis_response(category, MONDAY, lines, language)
            assert not any("verif" in m.id for m in response.messages)


def test_bad_languages_are_refused() -> None:
    data: dict[str, Any] = dict(load_helplines_mapping())
    data["lines"] = [dict(line) for line in data["lines"]]
    data["lines"][0]["languages"] = ["Dutch"]
    with pytest.raises(HelpLinesError, match="ISO codes"):
        parse_helplines(data)


@pytest.mark.parametrize(
    ("category", "question", "signal"),
    [
        ("suicide", "safety.check.question", "safety.alert.check_no"),
        ("self_harm", "safety.check.question", "safety.alert.check_no"),
        ("overdose", "safety.check.question", "safety.alert.check_no"),
        ("abuse_violence", "safety.check.danger", "safety.alert.check_no_danger"),
        ("acute_danger", "safety.check.danger", "safety.alert.check_no_danger"),
    ],
)
def test_the_check_question_fits_the_category(category: str, question: str, signal: str) -> None:
    assert check_question(category).id == question
    assert check_no_signal(category, "geweld", "01-01 10:00").id == signal
