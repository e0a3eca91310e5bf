"""Working hours: deadlines across evenings, weekends, public holidays and DST changes.

Hours are Monday to Friday 09:00-17:00 in Europe/Brussels unless a test says otherwise. The
holidays are passed in, as the pure code expects; ``test_cli.py`` checks the set belgica gives.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.routing.hours import (
    HoursSpec,
    add_working_days,
    add_working_hours,
    check_hours_spec,
    is_working_time,
    next_opening_day,
    next_working_time,
    parse_interval,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
TZ = "Europe/Brussels"
OFFICE: HoursSpec = {day: [(time(9), time(17))] for day in range(5)}
# Two holidays around New Year, Christmas, and Easter Monday 2027 (the day after the DST change)
HOLIDAYS = frozenset({date(2026, 12, 25), date(2027, 1, 1), date(2027, 3, 29)})


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Brussels wall-clock time, as the aware UTC instant the code works with."""
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS).astimezone(UTC)


def deadline(start: datetime, hours: float, holidays: frozenset[date] = HOLIDAYS) -> datetime:
    return add_working_hours(start, hours, OFFICE, holidays, TZ)


def test_within_one_day() -> None:
    assert deadline(local(2026, 6, 1, 10), 2) == local(2026, 6, 1, 12)  # Monday


def test_exactly_to_closing_time() -> None:
    assert deadline(local(2026, 6, 1, 9), 8) == local(2026, 6, 1, 17)


def test_over_the_evening() -> None:
    assert deadline(local(2026, 6, 1, 16), 2) == local(2026, 6, 2, 10)


def test_starting_at_night_counts_from_opening() -> None:
    assert deadline(local(2026, 6, 1, 22), 1) == local(2026, 6, 2, 10)
    assert deadline(local(2026, 6, 2, 6), 1) == local(2026, 6, 2, 10)


def test_over_the_weekend() -> None:
    assert deadline(local(2026, 6, 5, 16), 2) == local(2026, 6, 8, 10)  # Friday -> Monday


def test_starting_on_sunday() -> None:
    assert deadline(local(2026, 6, 7, 12), 3) == local(2026, 6, 8, 12)


def test_several_days() -> None:
    # 24 working hours = three working days: Wednesday 12:00 -> Monday 12:00
    assert deadline(local(2026, 6, 3, 12), 24) == local(2026, 6, 8, 12)


def test_fractions_of_an_hour() -> None:
    assert deadline(local(2026, 6, 1, 16, 30), 0.75) == local(2026, 6, 2, 9, 15)


def test_christmas() -> None:
    # Thursday 24 December 16:00; Friday the 25th is a holiday; then the weekend
    assert deadline(local(2026, 12, 24, 16), 2) == local(2026, 12, 28, 10)


def test_new_year() -> None:
    assert deadline(local(2026, 12, 31, 16), 2) == local(2027, 1, 4, 10)


def test_easter_monday_and_the_spring_dst_change_together() -> None:
    # Friday 26 March 2027 16:00 CET; DST starts Sunday the 28th; Monday the 29th is Easter
    # Monday; so Tuesday 10:00 CEST, which is 08:00 UTC (on Friday 16:00 local was 15:00 UTC)
    result = deadline(local(2027, 3, 26, 16), 2)
    assert result == datetime(2027, 3, 30, 8, tzinfo=UTC)
    assert result.astimezone(BRUSSELS).hour == 10


def test_without_the_holiday_the_same_start_ends_on_monday() -> None:
    assert deadline(local(2027, 3, 26, 16), 2, frozenset()) == local(2027, 3, 29, 10)


def test_spring_dst_change_last_sunday_of_march() -> None:
    # 27 March 2026 (Friday) 16:00 CET = 15:00 UTC -> Monday 30 March 10:00 CEST = 08:00 UTC
    result = deadline(local(2026, 3, 27, 16), 2)
    assert result == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_autumn_dst_change_last_sunday_of_october() -> None:
    # 23 October 2026 (Friday) 16:00 CEST = 14:00 UTC -> Monday 26 October 10:00 CET = 09:00 UTC
    result = deadline(local(2026, 10, 23, 16), 2)
    assert result == datetime(2026, 10, 26, 9, tzinfo=UTC)


def test_working_time_on_the_dst_night_is_real_elapsed_time() -> None:
    # A service open all Sunday: on 29 March 2026 the clock jumps from 02:00 to 03:00, so two
    # working hours from 01:00 end at 04:00 local time; on 25 October 2026 it falls back from
    # 03:00 to 02:00, so three hours from midnight end at the second 02:00 (01:00 UTC).
    sunday: HoursSpec = {6: [(time(0), time(23, 59))]}
    spring = add_working_hours(local(2026, 3, 29, 1), 2, sunday, frozenset(), TZ)
    assert spring == datetime(2026, 3, 29, 2, tzinfo=UTC)
    assert spring.astimezone(BRUSSELS).hour == 4
    autumn = add_working_hours(local(2026, 10, 25, 0), 3, sunday, frozenset(), TZ)
    assert autumn == datetime(2026, 10, 25, 1, tzinfo=UTC)
    assert autumn.astimezone(BRUSSELS).strftime("%H:%M %Z") == "02:00 CET"


def test_split_hours_with_a_lunch_break() -> None:
    spec: HoursSpec = {0: [(time(13), time(17)), (time(9), time(12))]}  # order does not matter
    assert add_working_hours(local(2026, 6, 1, 11), 2, spec, frozenset(), TZ) == local(
        2026, 6, 1, 14
    )


def test_result_is_utc_whatever_the_input_zone() -> None:
    start = datetime(2026, 6, 1, 10, tzinfo=BRUSSELS)
    result = add_working_hours(start, 1, OFFICE, HOLIDAYS, TZ)
    assert result.tzinfo is UTC
    assert result == local(2026, 6, 1, 11)


def test_zero_hours_is_the_start() -> None:
    start = local(2026, 6, 6, 12)  # a Saturday
    assert deadline(start, 0) == start


def test_refuses_naive_negative_and_never_open() -> None:
    with pytest.raises(ValueError, match="aware"):
        deadline(datetime(2026, 6, 1, 10), 1)
    with pytest.raises(ValueError, match="negative"):
        deadline(local(2026, 6, 1, 10), -1)
    with pytest.raises(ValueError, match="no working time"):
        add_working_hours(local(2026, 6, 1, 10), 1, {}, frozenset(), TZ)
    with pytest.raises(ValueError, match="unknown time zone"):
        add_working_hours(local(2026, 6, 1, 10), 1, OFFICE, frozenset(), "Mars/Olympus")


def test_a_year_of_holidays_cannot_loop_for_ever() -> None:
    every_day = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(5 * 366))
    with pytest.raises(ValueError, match="no working time"):
        deadline(local(2026, 1, 1, 10), 1, every_day)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 6, 1, 9), True),  # opening time is inside
        (local(2026, 6, 1, 16, 59), True),
        (local(2026, 6, 1, 17), False),  # closing time is outside
        (local(2026, 6, 1, 8, 59), False),
        (local(2026, 6, 6, 12), False),  # Saturday
        (local(2026, 12, 25, 12), False),  # Christmas
        (local(2027, 3, 29, 12), False),  # Easter Monday
        (local(2027, 3, 30, 9, 30), True),
    ],
)
def test_is_working_time(moment: datetime, expected: bool) -> None:
    assert is_working_time(moment, OFFICE, HOLIDAYS, TZ) is expected


def test_next_working_time() -> None:
    assert next_working_time(local(2026, 12, 24, 18), OFFICE, HOLIDAYS, TZ) == local(
        2026, 12, 28, 9
    )
    inside = local(2026, 6, 1, 10, 15)
    assert next_working_time(inside, OFFICE, HOLIDAYS, TZ) == inside


def test_parse_interval() -> None:
    assert parse_interval("09:00-17:00") == (time(9), time(17))
    assert parse_interval(" 8:30 - 12:00 ") == (time(8, 30), time(12))
    for bad in ("9-17", "17:00-09:00", "09:00-09:00", "24:00-25:00", ""):
        with pytest.raises(ValueError):
            parse_interval(bad)


def test_check_hours_spec() -> None:
    assert check_hours_spec(OFFICE) == []
    assert check_hours_spec({}) == ["never open: no opening hours on any day"]
    assert check_hours_spec({0: [(time(9), time(13)), (time(12), time(17))]}) == [
        "mon: 09:00-13:00 overlaps 12:00-17:00"
    ]
    assert check_hours_spec({7: [(time(9), time(17))]})[0] == "unknown weekday 7"


def test_working_days_end_at_closing_time_and_skip_weekends_and_holidays() -> None:
    # Tuesday 10:00 + 5 working days: Wednesday to Tuesday, at closing time.
    assert add_working_days(local(2026, 6, 2, 10), 5, OFFICE, HOLIDAYS, TZ) == local(2026, 6, 9, 17)
    # From Wednesday 23 December: Thursday 24, (Christmas, weekend), Monday 28, Tuesday 29.
    assert add_working_days(local(2026, 12, 23, 16), 3, OFFICE, HOLIDAYS, TZ) == local(
        2026, 12, 29, 17
    )
    with pytest.raises(ValueError):
        add_working_days(local(2026, 6, 2, 10), 0, OFFICE, HOLIDAYS, TZ)


def test_the_next_opening_day() -> None:
    # Friday afternoon -> Monday 09:00; Thursday 24 December -> Monday 28 (Christmas, weekend).
    assert next_opening_day(local(2026, 6, 5, 15), OFFICE, HOLIDAYS, TZ) == local(2026, 6, 8, 9)
    assert next_opening_day(local(2026, 12, 24, 8), OFFICE, HOLIDAYS, TZ) == local(2026, 12, 28, 9)
    # Across the DST change: opening stays 09:00 local.
    assert next_opening_day(local(2027, 3, 26, 12), OFFICE, HOLIDAYS, TZ) == local(2027, 3, 30, 9)
