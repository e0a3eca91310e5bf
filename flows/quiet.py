"""Quiet hours: nothing automatic reaches a young person at night.

Pure: the time zone arrives as a ``tzinfo`` (``zoneinfo.ZoneInfo("Europe/Brussels")`` in
``bot/``). Daylight saving is handled by converting to local wall time and back, so "08:00" is
08:00 on the wall on the last Sundays of March and October too.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo


def quiet_until(now: datetime, tz: tzinfo, start_hour: int, end_hour: int) -> datetime | None:
    """When ``now`` (aware) falls in quiet hours, the aware UTC moment they end; else None.

    ``start_hour`` 22 and ``end_hour`` 8 mean 22:00 up to (not including) 08:00 local time.
    Equal hours mean no quiet hours at all.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if start_hour == end_hour:
        return None
    local = now.astimezone(tz)
    hour = local.hour
    overnight = start_hour > end_hour
    quiet = (
        (hour >= start_hour or hour < end_hour) if overnight else (start_hour <= hour < end_hour)
    )
    if not quiet:
        return None
    end_day = local.date()
    if overnight and hour >= start_hour:
        end_day = end_day + timedelta(days=1)
    wall = datetime.combine(end_day, time(end_hour), tzinfo=tz)
    # Round-trip through UTC so a wall time in a DST gap or fold resolves to a real instant.
    return wall.astimezone(UTC)
