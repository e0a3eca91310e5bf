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

import argparse
import io
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import _parser
from bot.clock import FrozenClock
from bot.coach.cli import run_coach
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings
from bot.telegram.limits import FloodLimiter
from storage.crypto import Keyring
from storage.migrate import upgrade
from tests.fakes.bot_api import FakeBotApi, SentMessage
from tests.routing2.conftest import local

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
YOUNG, LOTTE, YUSUF = 4242, 5001, 5002
T0 = local(2026, 11, 24, 10)  # Tuesday 10:00 in Brussels
WAIT = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def buttons_of(message: SentMessage) -> list[str]:
    return [data for row in message.buttons() for _, data in row if data is not None]


class Chat:
    """One Telegram user talking to the bot through the fake."""

    def __init__(self, fake: FakeBotApi, chat: int, first_name: str, username: str) -> None:
        self.fake, self.chat, self.first_name, self.username = fake, chat, first_name, username

    def _who(self) -> dict[str, Any]:
        return {"first_name": self.first_name, "username": self.username}

    @property
    def seen(self) -> int:
        return len(self.fake.messages(self.chat))

    async def expect(
        self, after: int, *, contains: str | None = None, button: str | None = None
    ) -> SentMessage:
        def matches(m: SentMessage) -> bool:
            return button is None or any(d.startswith(button) for d in buttons_of(m))

        return await self.fake.wait_for_message(
            self.chat, after=after, contains=contains, predicate=matches, timeout=WAIT
        )

    async def says(
        self, text: str, *, contains: str | None = None, button: str | None = None
    ) -> SentMessage:
        before = self.seen
        self.fake.user_sends_text(self.chat, text, **self._who())
        return await self.expect(before, contains=contains, button=button)

    async def command(
        self,
        command: str,
        args: str = "",
        *,
        contains: str | None = None,
        button: str | None = None,
    ) -> SentMessage:
        before = self.seen
        self.fake.user_sends_command(self.chat, command, args, **self._who())
        return await self.expect(before, contains=contains, button=button)

    async def taps(
        self, data: str, *, contains: str | None = None, button: str | None = None
    ) -> SentMessage:
        before = self.seen
        message = next(m for m in reversed(self.fake.messages(self.chat)) if data in buttons_of(m))
        self.fake.user_presses_button(
            self.chat, message.message_id, data, first_name=self.first_name
        )

        def matches(m: SentMessage) -> bool:
            return button is None or any(d.startswith(button) for d in buttons_of(m))

        # The next question may take the pressed message's place (one edit, no new message).
        return await self.fake.wait_for_answer(
            self.chat, message, after=before, contains=contains, predicate=matches, timeout=WAIT
        )

    async def replies(self, to: SentMessage, text: str, *, contains: str) -> SentMessage:
        """A Telegram reply to one of the bot's messages (the fake has no helper for it)."""
        before = self.seen
        content = {"text": text, "reply_to_message": self.fake._message_json(to)}
        message = self.fake._user_message(
            self.chat, self.first_name, "nl", None, self.username, content
        )
        self.fake.push_update("message", message)
        return await self.expect(before, contains=contains)

    def texts(self) -> list[str]:
        return [m.plain_text for m in self.fake.messages(self.chat)]


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


async def invite(settings: Settings, clock: FrozenClock, *argv: str) -> str:
    args: argparse.Namespace = _parser().parse_args(["coach", "invite", *argv])
    out, err = io.StringIO(), io.StringIO()
    assert await run_coach(args, settings, clock, out, err) == 0, err.getvalue()
    found = re.search(r"https://t\.me/opstap_test_bot\?start=(c_[A-Za-z0-9_-]+)", out.getvalue())
    assert found is not None, out.getvalue()
    return found.group(1)


async def test_routing_end_to_end(
    fake_bot_api: FakeBotApi, running: tuple[Runtime, FrozenClock, Settings]
) -> None:
    fake = fake_bot_api
    runtime, clock, settings = running
    lotte = Chat(fake, LOTTE, "Lotte T.", "lotte_private")
    yusuf = Chat(fake, YUSUF, "Yusuf K.", "yusuf_private")
    sam = Chat(fake, YOUNG, "Sam", "sam_private")

    # Two coaches of Boest! Your Future, invited and bound through their deep link.
    lotte_link = await invite(
        settings,
        clock,
        "--partnership",
        "boest-your-future",
        "--name",
        "Lotte",
        "--domains",
        "work,money",
        "--organisation",
        "JAC Leuven",
    )
    yusuf_link = await invite(
        settings,
        clock,
        "--partnership",
        "boest-your-future",
        "--name",
        "Yusuf",
        "--domains",
        "housing",
        "--organisation",
        "CAW Leuven",
    )
    await lotte.command("/start", lotte_link, contains="Welkom, Lotte!")
    await yusuf.command("/start", yusuf_link, contains="Welkom, Yusuf!")

    # The young person goes through the intake in Telegram.
    await sam.command("/start", button="welcome=")
    await sam.taps("welcome=start", button="words=")
    await sam.says("Ik zoek werk en ik heb schulden", button="words_confirm=")
    await sam.taps("words_confirm=yes", button="age=")
    await sam.says("23", button="place=")
    # The place is typed; with or without the flow's place check it reaches Leuven.
    await sam.says("3010 Kessel-Lo", button="domain_work=")
    await sam.taps("domain_work=1", button="help_work=")
    await sam.taps("help_work=guide", button="domain_money=")
    await sam.taps("domain_money=2", button="help_money=")
    await sam.taps("help_money=papers", button="more=")
    await sam.taps("more=none", button="contact=")
    await sam.taps("contact=chat", button="name=")
    await sam.says("Sam", button="summary=send")
    await sam.taps("summary=send", contains="ten laatste morgen om 10:00")

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
