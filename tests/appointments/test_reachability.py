"""A young person who blocks the bot: marked unreachable, their reminders stop, the coach hears;
the Telegram channel's 403 path and the front door's hooks lead there."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from telegram.error import Forbidden

from bot.delivery import background_delivery
from bot.service import OutgoingMessage
from bot.telegram.channel import TelegramChannel
from flows.ids import PersonId, ReminderKey
from tests.appointments.conftest import YOUNG, AppointmentHarness, local, option


async def test_blocking_marks_stops_the_young_persons_reminders_and_tells_the_coach_once(
    h: AppointmentHarness,
) -> None:
    appointment = await h.book(option(2026, 11, 26, 14))
    async with h.storage.transaction() as tx:
        # The team's own rows go on: a safety escalation and an offer deadline.
        await tx.reminders.schedule(YOUNG, ReminderKey("safety.escalate"), h.clock.now(), 0)
        await tx.reminders.schedule(YOUNG, ReminderKey("handoff.1.retry"), h.clock.now(), 0)
    await h.side.reachability.blocked_chat(4242)
    async with h.storage.transaction() as tx:
        mark = await tx.reachability.get(YOUNG)
    assert mark is not None and mark.unreachable_since == local(2026, 11, 24, 10)
    assert sorted(r.key for r in await h.pending()) == [
        f"appt:{appointment}:r1:attendance",
        "handoff.1.retry",
        "safety.escalate",
    ]
    told = h.last(h.me)
    assert "Sam heeft de bot geblokkeerd. Herinneringen zijn gestopt." in told.text
    count = len(h.to(h.me))
    await h.side.reachability.blocked(YOUNG)  # the 403 of the next send says it again
    assert len(h.to(h.me)) == count
    await h.coach_command("case", h.case)
    assert "⚠️ Niet bereikbaar via de bot sinds 24-11-2026." in h.last(h.me).text


async def test_a_row_planned_later_for_an_unreachable_person_is_dropped(
    h: AppointmentHarness,
) -> None:
    appointment = await h.book(option(2026, 11, 26, 14))
    await h.side.reachability.blocked(YOUNG)
    async with h.storage.transaction() as tx:
        await tx.reminders.schedule(
            YOUNG, ReminderKey(f"appt:{appointment}:r1:lead:86400"), local(2026, 11, 25, 14), 0
        )
    h.clock.set(local(2026, 11, 25, 14))
    before = len(h.to(YOUNG))
    await h.run_tick()
    assert len(h.to(YOUNG)) == before


async def test_coming_back_clears_the_mark(h: AppointmentHarness) -> None:
    appointment = await h.propose(option(2026, 11, 26, 14))
    await h.side.reachability.blocked(YOUNG)
    await h.side.reachability.unblocked_chat(4242)
    async with h.storage.transaction() as tx:
        assert await tx.reachability.get(YOUNG) is None
    await h.side.reachability.blocked(YOUNG)
    await h.young_presses(f"appt={appointment}:pick:0")  # a tap proves the chat is open
    async with h.storage.transaction() as tx:
        assert await tx.reachability.get(YOUNG) is None


async def test_a_coach_blocking_the_bot_is_not_a_young_person(h: AppointmentHarness) -> None:
    await h.side.reachability.blocked(h.me)
    async with h.storage.transaction() as tx:
        assert await tx.reachability.get(h.me) is None


class ForbiddingBot:
    """A Bot API whose every send answers 403, as for a chat that blocked the bot."""

    def __init__(self) -> None:
        self.sends = 0

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        self.sends += 1
        raise Forbidden("Forbidden: bot was blocked by the user")

    async def send_document(self, chat_id: int, document: Any, **kwargs: Any) -> None:
        raise Forbidden("Forbidden: bot was blocked by the user")


async def test_the_channels_forbidden_path_calls_the_hook_once() -> None:
    called: list[int] = []

    async def hook(chat_id: int) -> None:
        called.append(chat_id)

    bot = ForbiddingBot()
    channel = TelegramChannel(bot, {"nl": "Hulp"}, on_forbidden=hook)  # type: ignore[arg-type]
    person = PersonId("tg:4242")
    await channel.deliver(person, OutgoingMessage("Je hebt morgen om 14:00 een afspraak."))
    await channel.deliver_document(person, "afspraak.ics", b"BEGIN:VCALENDAR", "")
    await channel.settle()
    assert called == [4242]
    assert 4242 in channel.blocked


async def test_the_forbidden_hook_reaches_the_appointment_feature(h: AppointmentHarness) -> None:
    channel = TelegramChannel(
        ForbiddingBot(),  # type: ignore[arg-type]
        {"nl": "Hulp"},
        on_forbidden=h.side.reachability.blocked_chat,
    )
    await channel.deliver(YOUNG, OutgoingMessage("…"))
    await channel.settle()
    async with h.storage.transaction() as tx:
        assert await tx.reachability.get(YOUNG) is not None
    assert "heeft de bot geblokkeerd" in h.last(h.me).text


class CountingBot:
    """A Bot API that records every message sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        self.sent.append((chat_id, text))
        return SimpleNamespace(message_id=len(self.sent))

    async def edit_message_reply_markup(self, *args: Any, **kwargs: Any) -> None:
        return None


async def test_a_reminder_with_buttons_is_one_send_without_the_help_hint() -> None:
    # A reminder reaches a chat that talked with us before (it has the persistent help
    # button); after a restart the channel does not know that, but it must not spend a second
    # send on the hint per reminder.
    question = OutgoingMessage(
        "Kom je morgen om 14:00?", buttons=((("Ja", "appt=1:yes"),),), prompt=True
    )
    bot = CountingBot()
    channel = TelegramChannel(bot, {"nl": "Hulp"}, help_hints={"nl": "Hulp nodig? Tik hier."})  # type: ignore[arg-type]
    with background_delivery():
        await channel.deliver(PersonId("tg:4242"), question)
    assert [text for _, text in bot.sent] == ["Kom je morgen om 14:00?"]
    # A conversation's own question in a new chat still gets the hint first.
    await channel.deliver(PersonId("tg:4343"), question)
    assert [text for chat, text in bot.sent if chat == 4343] == [
        "Hulp nodig? Tik hier.",
        "Kom je morgen om 14:00?",
    ]
