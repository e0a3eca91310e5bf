"""By when: a deadline as a young person or coach reads it, in their language.

Rules: local time of the configured zone (Europe/Brussels); weekday and date come from babel
in the person's language ("donderdag 26 november", "jeudi 26 novembre"), the sentence around
them from the catalog (``routing.when.*``), so the word order is the translator's. Today and
tomorrow are said as such.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton

from bot.i18n import Translator
from flows.text import Verbatim, msg


def when_text(
    translator: Translator, moment: datetime, now: datetime, language: str, timezone: str
) -> str:
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    today = now.astimezone(zone).date()
    time = format_skeleton("Hm", local, tzinfo=zone, locale=language)
    if local.date() == today:
        return translator.render(msg("routing.when.today", time=Verbatim(time)), language)
    if local.date() == today + timedelta(days=1):
        return translator.render(msg("routing.when.tomorrow", time=Verbatim(time)), language)
    weekday = format_datetime(local, "EEEE", tzinfo=zone, locale=language)
    day = format_skeleton("MMMMd", local, tzinfo=zone, locale=language)
    return translator.render(
        msg("routing.when.day", weekday=Verbatim(weekday), date=Verbatim(day), time=Verbatim(time)),
        language,
    )
