"""End to end, in process: routing through the fake Bot API with two coaches and a young person.

The runtime is built as ``opstap run`` builds it (``bot.runtime.build_runtime``) with a frozen
clock; the scheduler's own tick is slowed down and the test ticks by hand after moving the
clock. Two coaches are invited with ``opstap coach invite`` (the bot's username from getMe) and
open their deep link; a young person goes through the real intake in Telegram; the card goes to
the best coach, who does not answer; past the deadline the tick offers it to the second coach,
who accepts; they write to each other through the bot; the coach closes; the young person
reopens and lands with the same coach.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings
from bot.telegram.limits import FloodLimiter
from storage.crypto import Keyring
from storage.migrate import upgrade
from tests.e2e.journeys import (
    LOTTE,
    YOUNG,
    Chat,
    buttons_of,
    coach_joins,
    intake_sent,
)
from tests.fakes.bot_api import FakeBotApi
from tests.routing2.conftest import local

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
YUSUF = 5002
T0 = local(2026, 11, 24, 10)  # Tuesday 10:00 in Brussels


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def running(
    fake_bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Runtime, FrozenClock, Settings]]:
    fake_bot_api.token = TOKEN  # a token our settings accept; the fake only compares it
    # Telegram's one message per second per chat is the limiter's own business (tested in
    # tests/bot/test_telegram_limits.py); at that pace this conversation takes a minute.
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
            # The test ticks by hand after moving the clock.
            "OPSTAP_TICK_SECONDS": "3600",
            "OPSTAP_ACCEPT_WITHIN_HOURS": "8",
            # Encryption at rest on, as in production.
            "OPSTAP_SECRET_KEY": Keyring.generate("e2e"),
        },
        env_file=None,
    )
    await upgrade(settings.database_url)
    clock = FrozenClock(T0)
    runtime = await build_runtime(settings, clock=clock)
    await runtime.start()
    try:
        yield runtime, clock, settings
    finally:
        await runtime.stop()


async def test_routing_end_to_end(
    fake_bot_api: FakeBotApi, running: tuple[Runtime, FrozenClock, Settings]
) -> None:
    fake = fake_bot_api
    runtime, clock, settings = running
    lotte = Chat(fake, LOTTE, "Lotte T.", "lotte_private")
    yusuf = Chat(fake, YUSUF, "Yusuf K.", "yusuf_private")
    sam = Chat(fake, YOUNG, "Sam", "sam_private")

    # Two coaches of Boest! Your Future, invited and bound through their deep link.
    await coach_joins(
        lotte, settings, clock, "Lotte", "--domains", "work,money", "--organisation", "JAC Leuven"
    )
    await coach_joins(
        yusuf, settings, clock, "Yusuf", "--domains", "housing", "--organisation", "CAW Leuven"
    )

    # The young person goes through the intake in Telegram (work and money).
    await intake_sent(sam, sent="ten laatste morgen om 10:00")

    # The card reaches Lotte (expertise: work and money), not Yusuf.
    card = await lotte.expect(0, button="case=1:accept")
    # Before anyone accepts: what a coach needs to decide, no name, no own words.
    assert "Dossier #1" in card.plain_text and "Sam" not in card.plain_text
    assert "Ik zoek werk" not in card.plain_text
    # Each rating with its ZRM 2017 domain.
    assert "Werk en school (ZRM: Werk & Opleiding) 1😟 · Geld (ZRM: Financiën) 2🙁" in (
        card.plain_text
    )
    assert "Waarom jij: beste match op domeinen" in card.plain_text
    assert len(card.text) <= 4096
    assert not any("Dossier #1" in t for t in yusuf.texts())

    # Lotte does not answer. Past the deadline the tick gives it to Yusuf; Sam is told again.
    clock.set(local(2026, 11, 25, 10, 5))
    before_sam, before_yusuf = sam.seen, yusuf.seen
    assert await runtime.tick.run_once() == 1
    second = await yusuf.expect(before_yusuf, button="case=1:accept")
    assert "Dossier #1" in second.plain_text
    await sam.expect(before_sam, contains="Het duurt iets langer dan we dachten")
    await lotte.expect(0, contains="ging naar een collega")
    # Lotte's card is edited down to its number.
    await fake.wait_idle(0.2)
    [edited] = [m for m in fake.messages(LOTTE) if m.message_id == card.message_id]
    assert edited.plain_text == "📁 Dossier #1 · niet meer voor jou. De details zijn weggehaald."
    assert buttons_of(edited) == []

    # Yusuf accepts; Sam hears his first name and organisation, and the next step.
    await yusuf.taps("case=1:accept", contains="Dossier #1 is van jou")
    details = await yusuf.expect(0, contains="alle gegevens")
    assert "Sam · 23 jaar" in details.plain_text and "Ik zoek werk" in details.plain_text
    welcome = await sam.expect(before_sam, contains="Goed nieuws! Yusuf van CAW Leuven")
    assert "Yusuf stuurt je hier snel een bericht" in welcome.plain_text

    # The relay, both ways: a reply to the card, then Sam, then /case N.
    before = sam.seen
    await yusuf.replies(second, "Dag Sam! Past donderdag om 14 uur?", contains="doorgestuurd")
    relayed = await sam.expect(before, contains="Dag Sam! Past donderdag om 14 uur?")
    assert relayed.plain_text.startswith("💬 Yusuf schrijft:")
    await sam.says("Ja, dat past!", contains="Doorgegeven aan Yusuf")
    await yusuf.expect(0, contains="Sam schrijft:\nJa, dat past!")
    before = sam.seen
    await yusuf.command("/case", "1 Tot donderdag!", contains="doorgestuurd")
    await sam.expect(before, contains="Tot donderdag!")
    # The coach's own Telegram identity never reaches the young person.
    for text in sam.texts():
        assert "yusuf_private" not in text and "Yusuf K." not in text and str(YUSUF) not in text

    # Yusuf closes the case; Sam reopens it with the button and lands with Yusuf again.
    await yusuf.command("/sluit", "1", button="case=1:close:")
    closed = await yusuf.taps("case=1:close:work", contains="is afgesloten (Werk)")
    assert "Dossier #1" in closed.plain_text
    await sam.expect(0, contains="Yusuf heeft je dossier afgesloten", button="case=reopen")
    await sam.taps("case=reopen", contains="Yusuf weet dat je opnieuw hulp nodig hebt")
    await yusuf.expect(0, contains="Sam heeft opnieuw hulp nodig")
    await sam.says("Ik heb weer vragen over mijn schulden.", contains="Doorgegeven aan Yusuf")

    await fake.wait_idle(0.3)
    # Every button press was answered, and nothing Telegram would refuse was sent.
    assert fake.unanswered_callback_queries() == []
    fake.assert_no_violations()
