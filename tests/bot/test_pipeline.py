"""The inbound pipeline (bot/pipeline.py): order under contention, safety before storage, the
chosen language for crisis replies, and buttons answered at once (through PTB and the fake Bot
API for the Telegram cases)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.i18n import Translator
from bot.inbound import Inbound
from bot.pipeline import KeyedLocks
from bot.safety.helplines import load_helplines
from bot.safety.lexicon import load_screener
from bot.safety.responder import HelpLineResponder
from bot.service import ConversationService, OutgoingMessage
from bot.telegram.app import TelegramFrontDoor
from bot.telegram.limits import FloodLimiter
from flows.engine import Flow, Step, option
from flows.ids import FlowId, PersonId, StepId
from flows.inputs import ButtonPressed, CommandReceived, TextReceived
from flows.text import msg
from storage.db import SQLITE_BUSY_TIMEOUT_MS
from storage.memory import MemoryStorage
from storage.migrate import upgrade
from storage.sql import SqlStorage, open_storage
from tests.bot.fakes import RecordingChannel, id_translator
from tests.fakes.bot_api import FakeBotApi, SentMessage
from tests.safety_net.conftest import CRISIS, YOUNG, make_rig

CHAT = 5150
TAPS = FlowId("taps")


def tap_flow(steps: int) -> Flow:
    """``steps`` questions with two buttons each (``q<n>=a`` / ``q<n>=b``), then thanks."""
    ids = [StepId(f"q{n}") for n in range(1, steps + 1)]
    flow_steps = {
        step: Step(
            id=step,
            prompt=msg(f"taps.{step}"),
            label=msg(f"taps.{step}.label"),
            options=(option("a", msg("taps.a")), option("b", msg("taps.b"))),
            next=ids[n + 1] if n + 1 < len(ids) else StepId("done"),
            skippable=False,
            back=False,
        )
        for n, step in enumerate(ids)
    }
    flow_steps[StepId("done")] = Step(
        id=StepId("done"), prompt=msg("taps.done"), label=msg("taps.done"), waits=False
    )
    return Flow(id=TAPS, first=ids[0], languages=("nl",), steps=flow_steps)


# --- order -----------------------------------------------------------------------------------


async def test_a_third_input_arriving_while_the_second_waits_goes_after_the_second() -> None:
    locks = KeyedLocks()
    running: list[str] = []
    log: list[str] = []
    release_first = asyncio.Event()

    async def work(name: str, gate: asyncio.Event | None) -> None:
        async with locks.reserve("tg:1"):
            running.append(name)
            assert running == [name], f"{name} ran during {running}"
            log.append(f"start {name}")
            if gate is not None:
                await gate.wait()
            await asyncio.sleep(0.01)
            log.append(f"end {name}")
            running.remove(name)

    first = asyncio.create_task(work("1", release_first))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(work("2", None))
    await asyncio.sleep(0.01)
    release_first.set()
    # The moment the first lets go, before the second has run: the third arrives.
    await asyncio.sleep(0)
    third = asyncio.create_task(work("3", None))
    await asyncio.gather(first, second, third)
    assert log == ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]
    assert len(locks) == 0


async def test_contended_inputs_of_one_person_reach_the_engine_in_arrival_order() -> None:
    """Through the service's pipeline (what both channels call): a slow first delivery, a
    second input waiting, a third arriving while the second waits."""
    flow = tap_flow(5)
    channel = RecordingChannel()
    gate = asyncio.Event()
    slow_once = [True]
    deliver = channel.deliver

    async def slow_deliver(person: PersonId, message: OutgoingMessage) -> None:
        if slow_once[0]:
            slow_once[0] = False
            await gate.wait()
        await deliver(person, message)

    channel.deliver = slow_deliver  # type: ignore[method-assign]
    storage = MemoryStorage()
    service = ConversationService(
        storage=storage,
        flows={TAPS: flow},
        entry=TAPS,
        channels={"tg": channel},
        translator=id_translator(),
        clock=SystemClock(),
    )
    now = SystemClock().now()
    person = PersonId("tg:1")
    first = asyncio.create_task(
        service.pipeline.handle(Inbound(person, CommandReceived("start", "", now)))
    )
    await asyncio.sleep(0.02)
    second = asyncio.create_task(
        service.pipeline.handle(Inbound(person, ButtonPressed("q1=a", now)))
    )
    await asyncio.sleep(0.02)
    gate.set()
    await asyncio.sleep(0)
    third = asyncio.create_task(
        service.pipeline.handle(Inbound(person, ButtonPressed("q2=b", now)))
    )
    await asyncio.gather(first, second, third)
    async with storage.transaction() as tx:
        session = await tx.sessions.get(person)
    assert session is not None
    assert session.answers == {"q1": "a", "q2": "b"}
    assert session.step == "q3"
    assert len(service.locks) == 0


async def test_a_service_button_may_hand_a_new_input_to_the_pipeline_in_its_own_turn() -> None:
    """Re-entrant within a task: no deadlock when a button handler calls ``handle``."""
    flow = tap_flow(2)
    channel = RecordingChannel()
    service = ConversationService(
        storage=MemoryStorage(),
        flows={TAPS: flow},
        entry=TAPS,
        channels={"tg": channel},
        translator=id_translator(),
        clock=SystemClock(),
    )
    person = PersonId("tg:2")

    async def restart(who: PersonId, event: ButtonPressed, hint: str) -> None:
        async with service.person_lock(who):
            await service.handle(who, CommandReceived("start", "", event.at))

    service.button_handlers["again"] = restart
    await asyncio.wait_for(
        service.handle(person, ButtonPressed("again=yes", SystemClock().now())), 5
    )
    assert "taps.q1" in channel.texts(person)[-1]


# --- the chosen language ---------------------------------------------------------------------


async def _switch_to_arabic(rig) -> None:  # type: ignore[no-untyped-def]
    now = rig.clock.now()
    await rig.service.handle(YOUNG, CommandReceived("start", "", now), language_hint="nl")
    await rig.service.handle(YOUNG, CommandReceived("taal", "", now), language_hint="nl")
    picker = rig.channel.last(YOUNG)
    value = next(v for row in picker.buttons for label, v in row if v.endswith("=ar"))
    await rig.service.handle(YOUNG, ButtonPressed(value, now), language_hint="nl")
    async with rig.storage.transaction() as tx:
        session = await tx.sessions.get(YOUNG)
    assert session is not None and session.language == "ar"


async def test_a_crisis_reply_comes_in_the_chosen_language_not_the_clients() -> None:
    rig = make_rig()
    await _switch_to_arabic(rig)
    before = len(rig.to(YOUNG))
    # The client still says Dutch; the person chose Arabic.
    await rig.service.handle(
        YOUNG, TextReceived("أريد أن أنتحر", rig.clock.now()), language_hint="nl"
    )
    reply = rig.to(YOUNG)[before]
    assert reply.crisis and reply.rtl
    dutch = make_rig()
    await dutch.service.handle(YOUNG, TextReceived(CRISIS, dutch.clock.now()), language_hint="nl")
    assert reply.text != dutch.to(YOUNG)[0].text


async def test_a_new_process_also_answers_a_crisis_in_the_chosen_language() -> None:
    rig = make_rig()
    await _switch_to_arabic(rig)
    # Another process on the same storage: nothing remembered, the session says Arabic.
    other = make_rig(storage=rig.storage)
    await other.service.handle(YOUNG, TextReceived(CRISIS, other.clock.now()), language_hint="nl")
    assert other.to(YOUNG)[0].crisis and other.to(YOUNG)[0].rtl
    # /hulp and the help button too.
    await other.service.handle(
        YOUNG, CommandReceived("hulp", "", other.clock.now()), language_hint="nl"
    )
    assert other.to(YOUNG)[-1].rtl


# --- Telegram through the fake Bot API --------------------------------------------------------


@dataclass
class Bot:
    service: ConversationService
    front: TelegramFrontDoor
    storage: SqlStorage


@asynccontextmanager
async def telegram_bot(
    fake: FakeBotApi, tmp_path: Path, flow: Flow, *, translator: Translator | None = None
) -> AsyncIterator[Bot]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    storage = await open_storage(url)
    translator = translator or id_translator(("nl",))
    service = ConversationService(
        storage=storage,
        flows={flow.id: flow},
        entry=flow.id,
        channels={},
        translator=translator,
        clock=SystemClock(),
        screener=load_screener(),
        crisis=HelpLineResponder(translator, load_helplines()),
    )
    front = TelegramFrontDoor(
        token=fake.token, api_url=fake.api_root, service=service, clock=SystemClock()
    )
    service.channels = {"tg": front.channel}
    await front.start()
    try:
        yield Bot(service, front, storage)
    finally:
        await front.stop()
        await storage.close()


def inline(message: SentMessage) -> bool:
    return bool(message.reply_markup and message.reply_markup.get("inline_keyboard"))


def live_question(fake: FakeBotApi) -> SentMessage:
    return [m for m in fake.messages(CHAT) if inline(m) and not m.deleted][-1]


def step_of(message: SentMessage) -> str:
    data = message.buttons()[0][0][1]
    assert data is not None
    return data.partition("=")[0]


async def test_a_rapid_tapper_gets_every_tap_answered_at_once_and_applied_in_order(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    fake = fake_bot_api
    async with telegram_bot(fake, tmp_path, tap_flow(25)) as bot:
        fake.user_sends_command(CHAT, "/start")
        await fake.wait_for_message(CHAT, predicate=inline, timeout=10)
        pressed: list[tuple[str, str]] = []  # query id, value
        for n in range(20):
            # A person taps what is on the screen; right after a stale tap the question may
            # be on its way again.
            await fake.wait_for_message(CHAT, predicate=inline, timeout=10)
            live = live_question(fake)
            value = f"{step_of(live)}={'ab'[n % 2]}"
            update = fake.user_presses_button(CHAT, live.message_id, value)
            pressed.append((update["callback_query"]["id"], value))
            await asyncio.sleep(0.3)
        # Longer than the pacing's longest wait, so the last replies are out.
        await fake.wait_idle(1.5, timeout=120)
        answered = [
            c.params["callback_query_id"] for c in fake.calls("answerCallbackQuery") if c.ok
        ]
        assert fake.unanswered_callback_queries() == []
        # Every tap answered once, in the order tapped. That an answer never waits for the
        # chat's pacing is the next test's (a cause, not a stopwatch).
        assert answered == [query for query, _ in pressed]
        async with bot.storage.transaction() as tx:
            session = await tx.sessions.get(PersonId(f"tg:{CHAT}"))
    assert session is not None
    # The first tap on each question is its answer (a tap on a question already answered is
    # stale and only re-prompts); answered in the order tapped, none skipped.
    expected: dict[str, str] = {}
    for _, value in pressed:
        step, _, choice = value.partition("=")
        expected.setdefault(step, choice)
    assert session.answers == expected
    assert list(expected) == [f"q{n}" for n in range(1, len(expected) + 1)]
    assert session.step == f"q{len(expected) + 1}"


async def test_a_tap_is_answered_while_the_chats_earlier_sends_wait_for_its_pace(
    fake_bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spinner stops at once, whatever the chat's pacing: with a send of this chat held
    in its pacing wait (the limiter's sleep does not end until the test lets it go), a tap
    is answered, and only its question waits. Answering after the handling (behind the
    pacing), as before, never answers while the pace is held."""
    fake = fake_bot_api
    async with telegram_bot(fake, tmp_path, tap_flow(3)) as bot:
        fake.user_sends_command(CHAT, "/start")
        question = await fake.wait_for_message(CHAT, predicate=inline, timeout=10)
        await fake.wait_idle(0.2, timeout=10)
        limiter = bot.front.application.bot.rate_limiter
        assert isinstance(limiter, FloodLimiter)
        let_go = asyncio.Event()
        waits: list[float] = []

        async def held_sleep(seconds: float) -> None:
            waits.append(seconds)
            await let_go.wait()

        # Chat paces made from here on wait on the held sleep; a fresh chat pace for CHAT.
        monkeypatch.setattr(limiter, "_sleep", held_sleep)
        limiter._chats.pop(CHAT, None)
        sender = bot.front.application.bot
        for n in range(3):  # the chat's burst
            await sender.send_message(CHAT, f"bericht {n}")
        paced = asyncio.create_task(sender.send_message(CHAT, "wacht op het tempo"))
        try:
            for _ in range(1000):  # until the fourth send waits for the pace
                if waits:
                    break
                await asyncio.sleep(0.01)
            assert waits, "the fourth send did not wait for the chat's pace"
            edits = len(fake.calls("editMessageText"))
            update = fake.user_presses_button(CHAT, question.message_id, "q1=a")
            answer = await fake.wait_for_call(
                "answerCallbackQuery",
                lambda c: c.params["callback_query_id"] == update["callback_query"]["id"],
                timeout=10,
            )
            assert answer.ok
            # Answered while the pace still holds the chat: the earlier send and the tap's own
            # question have not gone out yet.
            assert not paced.done()
            assert len(fake.calls("editMessageText")) == edits
        finally:
            # Also when it failed: the bot cannot stop while a send of it waits.
            let_go.set()
        await paced
        await fake.wait_for_answer(
            CHAT, question, predicate=lambda m: inline(m) and step_of(m) == "q2", timeout=10
        )
        await fake.wait_idle(0.3, timeout=10)


async def test_the_next_question_replaces_the_pressed_one_in_one_call_without_a_pacing_wait(
    fake_bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a person's pace (a second to read each question) a tap costs one Bot API call,
    the edit that turns the pressed message into the next question, so the chat's pacing
    never makes it wait. The old way (an edit plus a new message, one per second per chat)
    made two calls a tap and waited for its pace on every tap. How quick a tap is, as a
    figure, is the benchmarks' (``make bench``)."""
    fake = fake_bot_api
    async with telegram_bot(fake, tmp_path, tap_flow(12)) as bot:
        fake.user_sends_command(CHAT, "/start")
        await fake.wait_for_message(CHAT, predicate=inline, timeout=10)
        await fake.wait_idle(0.2, timeout=10)
        limiter = bot.front.application.bot.rate_limiter
        assert isinstance(limiter, FloodLimiter)
        waits: list[float] = []
        real_sleep = asyncio.sleep

        async def recorded_sleep(seconds: float) -> None:
            waits.append(seconds)
            await real_sleep(seconds)

        monkeypatch.setattr(limiter, "_sleep", recorded_sleep)
        limiter._chats.pop(CHAT, None)
        for n in range(1, 11):
            live = live_question(fake)
            assert step_of(live) == f"q{n}"
            before = {m: len(fake.calls(m)) for m in ("editMessageText", "sendMessage")}
            fake.user_presses_button(CHAT, live.message_id, f"q{n}=a")
            following = f"q{n + 1}"

            def is_next(message: SentMessage, following: str = following) -> bool:
                return inline(message) and step_of(message) == following

            await fake.wait_for_answer(CHAT, live, predicate=is_next, timeout=10)
            await fake.wait_idle(0.05, timeout=10)
            # One call for this tap: the pressed message edited into the next question.
            assert len(fake.calls("editMessageText")) == before["editMessageText"] + 1
            assert len(fake.calls("sendMessage")) == before["sendMessage"]
            await asyncio.sleep(1.0)
        await fake.wait_idle(0.3, timeout=10)
        assert bot.service is not None
    assert waits == [], f"taps waited for the chat's pace: {waits}"
    assert fake.unanswered_callback_queries() == []
    assert len([m for m in fake.messages(CHAT) if inline(m)]) == 1


async def test_a_crisis_phrase_is_answered_while_another_process_holds_the_write_lock(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    fake = fake_bot_api
    translator = Translator.from_dir()
    async with telegram_bot(fake, tmp_path, tap_flow(3), translator=translator) as bot:
        fake.user_sends_command(CHAT, "/start")
        await fake.wait_for_message(CHAT, predicate=inline, timeout=10)
        await fake.wait_idle(0.2, timeout=10)
        # As after a restart: this process has not seen the person's language yet, so the
        # screen may look it up, but only within its bound.
        bot.service.pipeline.languages.forget(PersonId(f"tg:{CHAT}"))
        holder = subprocess.Popen(  # noqa: ASYNC220 - a second process, on purpose
            [
                sys.executable,
                "-c",
                "import sqlite3, sys\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "c.execute('BEGIN IMMEDIATE')\n"
                "print('locked', flush=True)\n"
                # Holds the lock until the test writes a line: for as long as it takes.
                "sys.stdin.readline()\n"
                "c.execute('ROLLBACK')\n"
                "print('released', flush=True)\n",
                str(tmp_path / "opstap.db"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdin is not None and holder.stdout is not None
            line = await asyncio.to_thread(holder.stdout.readline)
            assert line.strip() == "locked"
            before = len(fake.messages(CHAT))
            fake.user_sends_text(CHAT, CRISIS)
            # A reply that waited for the lock would come only after SQLite's busy timeout
            # gave up; the deadline is below that.
            reply = await fake.wait_for_message(
                CHAT, after=before, contains="1813", timeout=SQLITE_BUSY_TIMEOUT_MS / 2000
            )
            assert "112" in reply.plain_text
            # The lock is still held: the holder is alive and has not let go (it lets go only
            # now, when told).
            assert holder.poll() is None
            holder.stdin.write("let go\n")
            holder.stdin.flush()
            line = await asyncio.to_thread(holder.stdout.readline)
            assert line.strip() == "released"
        finally:
            holder.kill()
            holder.wait()
        await fake.wait_idle(0.3, timeout=20)
