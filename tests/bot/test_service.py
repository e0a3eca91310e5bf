"""The conversation service over the hello flow, memory storage and a recording channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FrozenClock
from bot.service import ConversationService, KeyedLocks, OutgoingMessage
from flows.hello import FLOW as HELLO
from flows.ids import PersonId, ReminderKey
from flows.inputs import ButtonPressed, CommandReceived, MediaReceived, ReminderDue, TextReceived
from storage.memory import MemoryStorage
from storage.ports import Transaction
from tests.bot.fakes import RecordingChannel, id_translator

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ANNA = PersonId("web:anna")
BEN = PersonId("web:ben")


@dataclass
class Flagging:
    flagged: bool
    category: str | None


class WordScreener:
    """Flags one word: the real detector has its own tests; here we test the order."""

    def screen(self, text: str) -> Flagging:
        hit = "dood" in text
        return Flagging(hit, "suicide" if hit else None)


class BrokenStorage(MemoryStorage):
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        raise ConnectionError("database down")
        yield  # pragma: no cover

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        raise ConnectionError("database down")
        yield  # pragma: no cover


def make_service(
    storage: MemoryStorage | None = None,
) -> tuple[ConversationService, RecordingChannel, FrozenClock, MemoryStorage]:
    storage = storage or MemoryStorage()
    channel = RecordingChannel()
    clock = FrozenClock(T0)
    service = ConversationService(
        storage=storage,
        flows={HELLO.id: HELLO},
        entry=HELLO.id,
        channels={"web": channel},
        translator=id_translator(),
        clock=clock,
        screener=WordScreener(),
    )
    return service, channel, clock, storage


async def session_of(storage: MemoryStorage, person: PersonId):  # type: ignore[no-untyped-def]
    async with storage.transaction() as tx:
        return await tx.sessions.get(person)


async def test_first_message_gets_the_greeting_and_the_first_question() -> None:
    service, channel, _, storage = make_service()
    await service.handle(ANNA, TextReceived("hoi", T0))
    assert channel.texts(ANNA) == ["hello.greet", "hello.mood.ask"]
    question = channel.last(ANNA)
    assert question.prompt
    values = [value for row in question.buttons for _, value in row]
    assert "mood=good" in values and "mood=_skip" in values
    session = await session_of(storage, ANNA)
    assert session is not None and session.step == "mood"


async def test_the_whole_hello_flow_is_saved_step_by_step() -> None:
    service, channel, _clock, storage = make_service()
    await service.handle(ANNA, CommandReceived("start", "", T0))
    await service.handle(ANNA, ButtonPressed("mood=good", T0))
    await service.handle(ANNA, TextReceived("Anna", T0))
    assert channel.texts(ANNA)[-1] == "hello.thanks"
    session = await session_of(storage, ANNA)
    assert session is not None
    assert session.status == "done"
    assert session.answers == {"mood": "good", "name": "Anna"}
    async with storage.transaction() as tx:
        assert await tx.reminders.pending(ANNA) == []


async def test_waiting_steps_schedule_a_nudge_with_the_new_version() -> None:
    service, _, _, storage = make_service()
    await service.handle(ANNA, TextReceived("hoi", T0))
    async with storage.transaction() as tx:
        pending = await tx.reminders.pending(ANNA)
    session = await session_of(storage, ANNA)
    assert session is not None
    assert [(r.key, r.due_at, r.session_version) for r in pending] == [
        ("nudge", T0 + timedelta(hours=24), session.version)
    ]


async def test_a_stale_reminder_is_ignored_and_a_current_one_nudges() -> None:
    service, channel, clock, storage = make_service()
    await service.handle(ANNA, TextReceived("hoi", T0))
    first = await session_of(storage, ANNA)
    assert first is not None
    await service.handle(ANNA, ButtonPressed("mood=good", T0 + timedelta(minutes=1)))
    sent_before = len(channel.sent)
    clock.advance(timedelta(hours=30))
    await service.handle(ANNA, ReminderDue(ReminderKey("nudge"), first.version, clock.now()))
    assert len(channel.sent) == sent_before
    current = await session_of(storage, ANNA)
    assert current is not None
    await service.handle(ANNA, ReminderDue(ReminderKey("nudge"), current.version, clock.now()))
    nudge = channel.texts(ANNA)[sent_before:]
    assert nudge and nudge[0].startswith("engine.nudge")


async def test_a_crisis_text_gets_help_first_even_when_the_database_is_down() -> None:
    service, channel, _, _ = make_service(BrokenStorage())
    await service.handle(ANNA, TextReceived("ik wil dood", T0))
    assert [m.crisis for _, m in channel.sent] == [True]


async def test_a_crisis_text_mid_flow_gets_help_not_the_next_question() -> None:
    service, channel, _, storage = make_service()
    await service.handle(ANNA, TextReceived("hoi", T0))
    await service.handle(ANNA, ButtonPressed("mood=bad", T0))
    before = len(channel.sent)
    await service.handle(ANNA, TextReceived("ik wil dood", T0))
    after = [m for _, m in channel.sent[before:]]
    assert [m.crisis for m in after] == [True]
    session = await session_of(storage, ANNA)
    # The flagged text was not taken as the answer to the name question.
    assert session is not None and session.step == "name" and "name" not in session.answers
    # The crisis response offers the way back; pressing it shows the question again.
    values = [value for row in after[0].buttons for _, value in row]
    assert values == ["safety=continue"]
    await service.handle(ANNA, ButtonPressed("safety=continue", T0))
    assert channel.texts(ANNA)[-1] == "hello.name.ask"


async def test_a_database_failure_gives_a_kind_message() -> None:
    service, channel, _, _ = make_service(BrokenStorage())
    await service.handle(ANNA, TextReceived("hoi", T0))
    assert channel.texts(ANNA) == ["channel.error"]


async def test_media_gets_a_kind_reprompt_and_keeps_the_place() -> None:
    service, channel, _, storage = make_service()
    await service.handle(ANNA, TextReceived("hoi", T0))
    await service.handle(ANNA, MediaReceived("sticker", T0))
    assert channel.texts(ANNA)[-1] == "hello.mood.ask"
    assert channel.texts(ANNA)[-2].startswith("engine.media")
    session = await session_of(storage, ANNA)
    assert session is not None and session.step == "mood"


async def test_a_stale_button_does_not_answer_the_current_question() -> None:
    service, channel, _, storage = make_service()
    await service.handle(ANNA, TextReceived("hoi", T0))
    await service.handle(ANNA, ButtonPressed("mood=good", T0))
    await service.handle(ANNA, ButtonPressed("mood=bad", T0))
    session = await session_of(storage, ANNA)
    assert session is not None and session.answers["mood"] == "good"
    assert channel.texts(ANNA)[-2:] == ["engine.stale_button", "hello.name.ask"]


async def test_many_inputs_of_one_person_run_one_at_a_time() -> None:
    service, channel, _, storage = make_service()
    await service.handle(ANNA, TextReceived("hoi", T0))
    # Ten stickers at once: each one re-prompts; none is lost to a version conflict.
    await asyncio.gather(*(service.handle(ANNA, MediaReceived("sticker", T0)) for _ in range(10)))
    assert sum(t.startswith("engine.media") for t in channel.texts(ANNA)) == 10
    assert "channel.error" not in channel.texts(ANNA)
    session = await session_of(storage, ANNA)
    assert session is not None and session.step == "mood"


async def test_different_people_run_in_parallel() -> None:
    service, channel, _, _ = make_service()
    gate = asyncio.Event()
    original = channel.deliver
    order: list[PersonId] = []

    async def slow_for_anna(person: PersonId, message: OutgoingMessage) -> None:
        if person == ANNA:
            await gate.wait()
        order.append(person)
        await original(person, message)

    channel.deliver = slow_for_anna  # type: ignore[method-assign]
    anna = asyncio.create_task(service.handle(ANNA, TextReceived("hoi", T0)))
    await service.handle(BEN, TextReceived("hoi", T0))
    # Ben was served while Anna's delivery was still blocked.
    assert order and order[0] == BEN
    gate.set()
    await anna


async def test_keyed_locks_are_dropped_when_free() -> None:
    locks = KeyedLocks()
    async with locks.hold("a"):
        assert len(locks) == 1
    assert len(locks) == 0


@pytest.mark.parametrize("command", ["hulp", "help"])
async def test_help_command_sends_crisis_help_with_the_way_back(command: str) -> None:
    service, channel, _, storage = make_service()
    await service.handle(ANNA, TextReceived("hoi", T0))
    before = len(channel.sent)
    await service.handle(ANNA, CommandReceived(command, "", T0))
    after = [m for _, m in channel.sent[before:]]
    # Only the help: the question does not push the help lines off the screen ...
    assert [m.crisis for m in after] == [True]
    # ... and the way back to it is one tap.
    assert ("safety.continue", "safety=continue") in after[0].buttons[-1]
    await service.handle(ANNA, ButtonPressed("safety=continue", T0))
    assert channel.texts(ANNA)[-1] == "hello.mood.ask"
    session = await session_of(storage, ANNA)
    assert session is not None and session.step == "mood"


async def test_a_reminder_for_an_erased_person_does_nothing() -> None:
    service, channel, _, storage = make_service()
    await service.handle(ANNA, ReminderDue(ReminderKey("nudge"), 3, T0))
    assert channel.sent == []
    assert await session_of(storage, ANNA) is None


async def test_discarding_an_under_18_keeps_a_safety_escalation() -> None:
    from bot.conversations import build_flows
    from flows.intake.flow import INTAKE

    storage = MemoryStorage()
    channel = RecordingChannel()
    service = ConversationService(
        storage=storage,
        flows=build_flows(),
        entry=INTAKE,
        channels={"web": channel},
        translator=id_translator(),
        clock=FrozenClock(T0),
    )
    await service.handle(ANNA, TextReceived("hoi", T0))
    async with storage.transaction() as tx:
        await tx.reminders.schedule(ANNA, ReminderKey("safety.escalate"), T0, 1)
    await service.handle(ANNA, ButtonPressed("welcome=start", T0))
    await service.handle(ANNA, ButtonPressed("words=dont_know", T0))
    await service.handle(ANNA, TextReceived("15", T0))
    assert await session_of(storage, ANNA) is None  # nothing kept of an under-18 ...
    async with storage.transaction() as tx:
        keys = [r.key for r in await tx.reminders.pending(ANNA)]
    assert keys == ["safety.escalate"]  # ... but a concern still reaches a person


async def test_a_finished_conversation_is_never_overwritten_by_an_old_button() -> None:
    # Issue 14: after a finished intake, "↩️ Verder met de vragen" (under the help) started
    # over and the next answers overwrote the finished ones.
    service, channel, _clock, storage = make_service()
    await service.handle(ANNA, CommandReceived("start", "", T0))
    await service.handle(ANNA, ButtonPressed("mood=good", T0))
    await service.handle(ANNA, TextReceived("Anna", T0))
    done = await session_of(storage, ANNA)
    await service.handle(ANNA, ButtonPressed("safety=continue", T0))
    await service.handle(ANNA, ButtonPressed("mood=bad", T0))
    await service.handle(ANNA, CommandReceived("start", "", T0))
    after = await session_of(storage, ANNA)
    assert after is not None and done is not None
    assert after.answers == done.answers and after.status == "done"
    assert channel.texts(ANNA)[-1] == "engine.done"
    # /opnieuw asks first; only a yes starts over.
    await service.handle(ANNA, CommandReceived("opnieuw", "", T0))
    assert channel.texts(ANNA)[-1] == "engine.restart.ask_done"
    await service.handle(ANNA, ButtonPressed("_restart=yes", T0))
    fresh = await session_of(storage, ANNA)
    assert fresh is not None and fresh.answers == {} and fresh.status == "active"
