"""Quiet hours in Europe/Brussels, including both daylight saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flows.quiet import quiet_until

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)  # type: ignore[misc, arg-type]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 11, 24, 21, 59), None),
        (local(2026, 11, 24, 22, 0), local(2026, 11, 25, 8, 0)),
        (local(2026, 11, 25, 3, 0), local(2026, 11, 25, 8, 0)),
        (local(2026, 11, 25, 8, 0), None),
        # Spring forward (29 March 2026, 02:00 -> 03:00): still 08:00 on the wall.
        (local(2026, 3, 28, 23, 30), local(2026, 3, 29, 8, 0)),
        # Fall back (25 October 2026, 03:00 -> 02:00).
        (local(2026, 10, 24, 23, 30), local(2026, 10, 25, 8, 0)),
    ],
)
def test_quiet_until(now: datetime, expected: datetime | None) -> None:
    result = quiet_until(now.astimezone(UTC), BRUSSELS, 22, 8)
    assert result == (expected.astimezone(UTC) if expected else None)


def test_the_end_of_quiet_hours_moves_with_daylight_saving() -> None:
    before = quiet_until(local(2026, 3, 27, 23, 0).astimezone(UTC), BRUSSELS, 22, 8)
    after = quiet_until(local(2026, 3, 29, 23, 0).astimezone(UTC), BRUSSELS, 22, 8)
    assert before is not None and after is not None
    assert before.hour == 7 and after.hour == 6  # 08:00 CET is 07:00 UTC, CEST 06:00 UTC


def test_daytime_quiet_hours_and_none() -> None:
    assert quiet_until(local(2026, 1, 5, 13, 0).astimezone(UTC), BRUSSELS, 12, 14) == local(
        2026, 1, 5, 14, 0
    ).astimezone(UTC)
    assert quiet_until(local(2026, 1, 5, 23, 0).astimezone(UTC), BRUSSELS, 8, 8) is None


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        quiet_until(datetime(2026, 1, 1, 12), BRUSSELS, 22, 8)
