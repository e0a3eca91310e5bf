"""End to end, in process: an appointment through the fake Bot API, from /afspraak to the
reminder, with ``OPSTAP_REMINDER_LEADS=1m``.

The runtime is built as ``opstap run`` builds it (``bot.runtime.build_runtime``) with a frozen
clock; the test ticks by hand after moving the clock. Coach Lotte is invited and takes up Sam's
case; she proposes an appointment at 10:00 with ``/afspraak`` and the buttons (day, time, place,
send); at 09:58 Sam picks it and gets the confirmation and the calendar file; at 09:59 the tick
sends the reminder with "Ik kom" and "Ik kan niet, andere afspraak"; Sam cannot come and Lotte
is told. Then Sam blocks the bot and Lotte hears that too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from icalendar import Calendar

from bot.clock import FrozenClock
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings
from bot.telegram.limits import FloodLimiter
from storage.crypto import Keyring
from storage.migrate import upgrade
from tests.e2e.journeys import buttons_of, case_accepted
from tests.e2e.test_routing_e2e import TOKEN, free_port
from tests.fakes.bot_api import FakeBotApi
from tests.routing2.conftest import local

YOUNG, LOTTE = 4242, 5001


@pytest.fixture
async def running(
    fake_bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Runtime, FrozenClock, Settings]]:
    fake_bot_api.token = TOKEN
    # One message per second per chat is the limiter's business (tested elsewhere).
    monkeypatch.setattr(
        "bot.telegram.app.FloodLimiter",
        lambda **options: FloodLimiter(per_chat_per_second=100, **options),
    )
    settings = load_settings(
        {
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake_bot_api.api_root,
            "OPSTAP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}",
            "OPSTAP_HTTP_PORT": str(free_port()),
            "OPSTAP_TICK_SECONDS": "3600",
            "OPSTAP_REMINDER_LEADS": "1m",
            "OPSTAP_SECRET_KEY": Keyring.generate("e2e"),
        },
        env_file=None,
    )
    await upgrade(settings.database_url)
    clock = FrozenClock(local(2026, 11, 24, 9, 40))  # Tuesday, 09:40 in Brussels
    runtime = await build_runtime(settings, clock=clock)
    await runtime.start()
    try:
        yield runtime, clock, settings
    finally:
        await runtime.stop()


async def test_an_appointment_end_to_end(
    fake_bot_api: FakeBotApi, running: tuple[Runtime, FrozenClock, Settings]
) -> None:
    fake = fake_bot_api
    runtime, clock, settings = running
    # Lotte joins; Sam's intake (one topic) in Telegram; Lotte takes the case up and her
    # confirmation carries the appointment button.
    lotte, sam, accepted = await case_accepted(
        fake, settings, clock, words="Ik zoek werk", topics=[("work", "2", "guide")]
    )
    assert "apb=1::d" in buttons_of(accepted)

    # /afspraak: today, 10:00, by phone, send.
    days = await lotte.command("/afspraak", "1", contains="Kies een dag", button="apb=1::t")
    assert days.button_texts()[0] == "di 24 nov"
    await lotte.taps("apb=1::t261124", contains="Kies een uur", button="apb=1::p2611241000")
    places = await lotte.taps("apb=1::p2611241000", contains="Waar?")
    assert "📞 Telefoon" in places.button_texts()
    await lotte.taps("apb=1:2611241000t:m", contains="Voorstel voor Sam")
    before_sam = sam.seen
    await lotte.taps("apb=1:2611241000t:s", contains="Voorstel verstuurd naar Sam")
    proposal = await sam.expect(
        before_sam, contains="Lotte stelt een afspraak voor", button="appt=1:pick:0"
    )
    assert "1. vandaag om 10:00\n📍 Telefoon: Lotte belt je" in proposal.plain_text

    # 09:58: Sam picks it, two minutes ahead; the confirmation and the calendar file arrive.
    clock.set(local(2026, 11, 24, 9, 58))
    before_lotte = lotte.seen
    await sam.taps("appt=1:pick:0", contains="Top! Je afspraak met Lotte is vandaag om 10:00")
    await lotte.expect(before_lotte, contains="Sam koos vandaag om 10:00")
    await fake.wait_idle(0.2)
    [document] = fake.documents(YOUNG)
    assert document.filename == "afspraak.ics"
    event = Calendar.from_ical(document.data).walk("VEVENT")[0]
    assert str(event["summary"]) == "Afspraak met Lotte"
    assert event.decoded("dtstart") == local(2026, 11, 24, 10, 0)

    # 09:59: the tick sends the reminder, with the two buttons.
    clock.set(local(2026, 11, 24, 9, 59))
    before_sam = sam.seen
    assert await runtime.tick.run_once() == 1
    reminder = await sam.expect(
        before_sam, contains="Je hebt vandaag om 10:00 een afspraak.", button="appt=1:come"
    )
    assert reminder.plain_text.split("\n")[0] == "Je hebt vandaag om 10:00 een afspraak."
    assert reminder.button_texts() == ["Ik kom", "Ik kan niet, andere afspraak"]

    # "Ik kan niet": Lotte is told and can propose again with one tap.
    before_lotte = lotte.seen
    await sam.taps("appt=1:cannot", contains="We zeggen het tegen Lotte")
    told = await lotte.expect(before_lotte, contains="Sam kan niet komen op vandaag om 10:00")
    assert "apb=1::d" in buttons_of(told)

    # Sam blocks the bot: Lotte hears it, Sam's follow-ups stop.
    before_lotte = lotte.seen
    fake.user_blocks_bot(YOUNG, first_name="Sam")
    await lotte.expect(before_lotte, contains="Sam heeft de bot geblokkeerd")

    await fake.wait_idle(0.3)
    assert fake.unanswered_callback_queries() == []
    fake.assert_no_violations()
