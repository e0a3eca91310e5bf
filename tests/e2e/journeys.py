"""The end-to-end tests' shared way from nothing to a case: a coach joins, a young person sends
their intake in Telegram, the card reaches the coach, who accepts it.

Everything goes through the runtime as ``opstap run`` builds it (the routing end-to-end test's
``running`` fixture): the coach is invited with ``opstap coach invite`` and opens the deep link;
Sam answers the real intake question by question, waiting for each next question.
"""

from __future__ import annotations

import argparse
import io
import re
from collections.abc import Sequence
from typing import Any

from bot.cli import _parser
from bot.clock import FrozenClock
from bot.coach.cli import run_coach
from bot.settings import Settings
from tests.fakes.bot_api import FakeBotApi, SentMessage

YOUNG, LOTTE = 4242, 5001
WAIT = 10.0
BOEST = "boest-your-future"
Topic = tuple[str, str, str]
"""A life domain of the intake, its rating and what would help: ``("work", "1", "guide")``."""
WORK_AND_MONEY: Sequence[Topic] = (("work", "1", "guide"), ("money", "2", "papers"))


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


async def invite(settings: Settings, clock: FrozenClock, *argv: str) -> str:
    args: argparse.Namespace = _parser().parse_args(["coach", "invite", *argv])
    out, err = io.StringIO(), io.StringIO()
    assert await run_coach(args, settings, clock, out, err) == 0, err.getvalue()
    found = re.search(r"https://t\.me/opstap_test_bot\?start=(c_[A-Za-z0-9_-]+)", out.getvalue())
    assert found is not None, out.getvalue()
    return found.group(1)


async def coach_joins(
    coach: Chat,
    settings: Settings,
    clock: FrozenClock,
    name: str,
    *options: str,
    partnership: str = BOEST,
) -> None:
    """``opstap coach invite --partnership ... --name <name> <options>``, then the coach opens
    the deep link in their own chat and is welcomed."""
    link = await invite(settings, clock, "--partnership", partnership, "--name", name, *options)
    await coach.command("/start", link, contains=f"Welkom, {name}!")


async def intake_sent(
    young: Chat,
    *,
    words: str = "Ik zoek werk en ik heb schulden",
    topics: Sequence[Topic] = WORK_AND_MONEY,
    sent: str = "ten laatste",
) -> None:
    """The young person's intake in Telegram, from ``/start`` to "Verstuur": their own
    ``words`` (confirmed), 23, Kessel-Lo (Boest! Your Future), each of the ``topics`` rated with
    what would help, nothing more, contact in the chat, the name Sam. ``sent`` is in the answer
    to "Verstuur" (when they will hear from someone)."""
    assert topics, "the intake needs a life domain"
    await young.command("/start", button="welcome=")
    await young.taps("welcome=start", button="words=")
    await young.says(words, button="words_confirm=")
    await young.taps("words_confirm=yes", button="age=")
    await young.says("23", button="place=")
    # The place is typed; with or without the flow's place check it reaches Leuven.
    await young.says("3010 Kessel-Lo", button=f"domain_{topics[0][0]}=")
    for index, (domain, rating, help_with) in enumerate(topics):
        following = f"domain_{topics[index + 1][0]}=" if index + 1 < len(topics) else "more="
        await young.taps(f"domain_{domain}={rating}", button=f"help_{domain}=")
        await young.taps(f"help_{domain}={help_with}", button=following)
    await young.taps("more=none", button="contact=")
    await young.taps("contact=chat", button="name=")
    await young.says("Sam", button="summary=send")
    await young.taps("summary=send", contains=sent)


async def case_offered(
    fake: FakeBotApi,
    settings: Settings,
    clock: FrozenClock,
    *,
    words: str = "Ik zoek werk en ik heb schulden",
    topics: Sequence[Topic] = WORK_AND_MONEY,
) -> tuple[Chat, Chat, SentMessage]:
    """Lotte (JAC Leuven, work and money) joins; Sam sends the intake; the card of case 1 is on
    Lotte's screen. Returns Lotte's chat, Sam's chat and the card."""
    lotte = Chat(fake, LOTTE, "Lotte T.", "lotte_private")
    sam = Chat(fake, YOUNG, "Sam", "sam_private")
    await coach_joins(
        lotte, settings, clock, "Lotte", "--domains", "work,money", "--organisation", "JAC Leuven"
    )
    await intake_sent(sam, words=words, topics=topics)
    card = await lotte.expect(0, button="case=1:accept")
    return lotte, sam, card


async def case_accepted(
    fake: FakeBotApi,
    settings: Settings,
    clock: FrozenClock,
    *,
    words: str = "Ik zoek werk en ik heb schulden",
    topics: Sequence[Topic] = WORK_AND_MONEY,
) -> tuple[Chat, Chat, SentMessage]:
    """As :func:`case_offered`, and Lotte accepts: case 1 is hers. Returns Lotte's chat, Sam's
    chat and Lotte's confirmation (it carries the buttons the desk extensions add)."""
    lotte, sam, _ = await case_offered(fake, settings, clock, words=words, topics=topics)
    accepted = await lotte.taps("case=1:accept", contains="Dossier #1 is van jou")
    return lotte, sam, accepted
