"""The pure parts of booking and follow-ups: stateless drafts in buttons, days and times in
working hours (daylight saving included), follow-up keys and dates, progress."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from flows import booking, followups
from flows.booking import Draft, Option
from flows.routing.hours import HoursSpec

BRUSSELS = ZoneInfo("Europe/Brussels")
NINE_TO_FIVE: HoursSpec = {day: ((time(9), time(17)),) for day in range(5)}


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS).astimezone(UTC)  # type: ignore[misc, arg-type]


def test_a_full_draft_fits_in_a_button_and_comes_back() -> None:
    options = (
        Option(date(2026, 11, 26), time(14), "0"),
        Option(date(2026, 11, 27), time(9, 30), booking.PHONE),
        Option(date(2026, 11, 30), time(16, 30), booking.VIDEO),
    )
    for step in ("day", "more", "send", "stop"):
        draft = Draft("123456", options).to(step)
        value = draft.value()
        assert len(value.encode()) <= booking.MAX_VALUE
        assert booking.decode(value) == draft
    placing = Draft("123456", options[:2]).to("place", day=date(2026, 12, 1), at=time(10))
    assert len(placing.value().encode()) <= booking.MAX_VALUE
    assert booking.decode(placing.value()) == placing
    assert options[1].kind == "phone" and options[0].office == 0


@pytest.mark.parametrize(
    "value",
    [
        "apb=1::q",
        "apb=x::d",
        "apb=1:2611261400z:m",
        "apb=1:261326140000:m",
        "case=1::d",
        "apb=1:2611261400:m",
        "apb=1::t261340",
        "apb=1::p2611262500",
        "apb=1:2611261400t.2611261400t.2611261400t.2611261400t:m",
    ],
)
def test_a_malformed_or_forged_value_is_refused(value: str) -> None:
    assert booking.decode(value) is None


def test_days_skip_weekends_holidays_and_today_after_closing() -> None:
    friday_evening = at(2026, 11, 27, 16, 45)
    days = booking.days(
        friday_evening, BRUSSELS, NINE_TO_FIVE, frozenset({date(2026, 12, 1)}), count=3
    )
    assert days == (date(2026, 11, 30), date(2026, 12, 2), date(2026, 12, 3))


def test_times_are_wall_clock_on_a_dst_monday_and_after_now() -> None:
    times = booking.times(
        date(2026, 3, 30), at(2026, 3, 30, 15, 0), BRUSSELS, NINE_TO_FIVE, frozenset()
    )
    assert times == (time(15, 30), time(16), time(16, 30))
    assert Option(date(2026, 3, 30), time(10), "0").starts_at(BRUSSELS) == datetime(
        2026, 3, 30, 8, tzinfo=UTC
    )
    assert Option(date(2026, 3, 27), time(10), "0").starts_at(BRUSSELS) == datetime(
        2026, 3, 27, 9, tzinfo=UTC
    )


def test_a_wall_time_in_the_spring_gap_is_not_offered() -> None:
    night: HoursSpec = {6: ((time(1), time(4)),)}  # a Sunday night shift, for the sake of it
    offered = booking.times(date(2026, 3, 29), at(2026, 3, 28, 12), BRUSSELS, night, frozenset())
    assert time(2) not in offered and time(2, 30) not in offered
    assert offered == (time(1), time(1, 30), time(3), time(3, 30))


def test_follow_up_keys_and_dates() -> None:
    intake = at(2026, 11, 30, 10, 0)
    checkin, rerate = followups.plan_after_intake("7", intake, 5, BRUSSELS)
    assert checkin == followups.Planned("followup.7.checkin", at(2026, 12, 5, 10, 0))
    # Three calendar months later, clipped to the month's end, same wall time.
    assert rerate == followups.Planned("followup.7.rerate.three_months", at(2027, 2, 28, 10))
    assert followups.parse_key("followup.7.rerate.closing") == ("7", "closing")
    assert followups.parse_key("followup.7.checkin") == ("7", "checkin")
    assert followups.parse_key("followup.x.checkin") is None
    assert followups.parse_key("followup.7.other") is None
    assert not "followup.12.checkin".startswith(followups.case_prefix("1"))
    # Across the change to summer time the check-in keeps its wall-clock hour.
    assert followups.days_later(at(2026, 3, 27, 10), 5, BRUSSELS) == at(2026, 4, 1, 10)


def test_a_rerating_asks_the_numbered_domains_and_shows_progress() -> None:
    intake = {
        "rating_money": "2",
        "rating_work": "1",
        "rating_housing": "dont_know",
        "rating_mental": "rather_not",
    }
    baseline = followups.intake_ratings(intake)
    assert baseline == {"work": "1", "money": "2"}
    asked = followups.to_ask(baseline)
    assert followups.next_domain(asked) == "work"
    step = followups.answer(asked, "work", "3")
    assert step is not None and followups.next_domain(step) == "money"
    assert followups.answer(step, "work", "4") is None  # answered already
    assert followups.answer(step, "housing", "4") is None  # not asked
    assert followups.answer(step, "money", "9") is None
    done = followups.answer(step, "money", followups.SKIP)
    assert done is not None and followups.next_domain(done) is None
    assert followups.progress(baseline, done) == (followups.Change("work", "1", "3"),)
