"""The chaos harness (issue #16, deliverable 9): scripted young people against the real
``opstap run``, killed and restarted at seeded random moments.

Everything stays on 127.0.0.1: the processes, the fake Bot API (:mod:`tests.fakes.bot_api`) and
the database. The parts:

* :class:`Cluster`: one or more ``opstap run`` workers on one database, each in its own work
  directory (its own log), killed with a signal and started again; it knows when the last
  start finished, so a person waits for an answer only while a worker is up.
* :class:`Watch`: reads the fake's calls once, in order, and files each message the bot sent
  or edited under its chat with the time it arrived at the fake.
* :func:`converse`: one young person doing the intake, buttons and typed text mixed, one input
  at a time: they wait for the answer (as long as the bot is down, and then some) and, when
  none comes, act again on what their screen shows, like a person who taps again.
* :class:`Outcome`: per input, how many answers it got (the questions that came back between
  it and the person's next input; one chat is handled in order, so a redelivered input is
  answered before the next one); per reminder, how often and how late it came.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from flows.engine import NUDGE_KEY
from flows.ids import PersonId
from storage.crypto import Keyring
from storage.sql import open_storage
from tests.e2e.process import TOKEN, OpstapProcess, free_port
from tests.fakes.bot_api import Call, FakeBotApi

# How long a person waits for an answer after the bot is up again (or after their input, when
# it was up all along) before they act again. Replies are paced (about one a second per chat).
ANSWER_WAIT = 15.0
MAX_INPUTS = 60
# An answer without a question is complete after this long without another message. Replies
# are paced at about one a second per chat, and 50 busy chats share Telegram's 30 a second:
# a statement and the question after it can be several seconds apart. At 2.5 s the full-size
# test's people took the gap for the end of the answer and acted on the old question; the
# bot's answers then fell behind their inputs and were counted as doubles, triples and
# losses of the next input.
QUIET = 6.0
WEBHOOK_SECRET = "chaos-webhook-secret-0123456789abcdef"
DELIVERED = frozenset({"sendMessage", "editMessageText", "sendDocument"})


def full_size() -> bool:
    """``OPSTAP_CHAOS_FULL=1``: the issue's size (50 people, 10 kills) instead of CI's."""
    return os.environ.get("OPSTAP_CHAOS_FULL") == "1"


# --- the processes ------------------------------------------------------------------------------


class Cluster:
    """``opstap run`` workers on one database (SQLite: one worker; PostgreSQL: one or more)."""

    def __init__(
        self,
        root: Path,
        fake: FakeBotApi,
        database_url: str,
        *,
        workers: int = 1,
        webhook: bool = False,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.key = Keyring.generate("chaos")
        self.database_url = database_url
        self.ports = [free_port() for _ in range(workers)]
        self.webhook = webhook
        self.env: dict[str, str] = {
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake.api_root,
            "OPSTAP_DATABASE_URL": database_url,
            "OPSTAP_SECRET_KEY": self.key,
            # Reminders go out at any hour of the day the test runs.
            "OPSTAP_QUIET_START": "0",
            "OPSTAP_QUIET_END": "0",
            "OPSTAP_TICK_SECONDS": "0.5",
            # OPSTAP_CHAOS_LOG_LEVEL=DEBUG: the workers log every update and outbox row by id.
            "OPSTAP_LOG_LEVEL": os.environ.get("OPSTAP_CHAOS_LOG_LEVEL", "INFO"),
            **(extra or {}),
        }
        self.processes: list[OpstapProcess | None] = [None] * workers
        self.starts: list[int] = [0] * workers
        # When the last (re)start finished; ``None`` while a worker is down.
        self.settled: float | None = None
        self.logs: list[str] = []

    def keyring(self) -> Keyring:
        return Keyring.parse(self.key)

    def _process(self, index: int) -> OpstapProcess:
        env = dict(self.env)
        port = self.ports[index]
        env["OPSTAP_HTTP_PORT"] = str(port)
        if self.webhook:
            env["OPSTAP_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
            env["OPSTAP_WEBHOOK_SECRET"] = WEBHOOK_SECRET
        workdir = self.root / f"worker{index}"
        workdir.mkdir(parents=True, exist_ok=True)
        process = OpstapProcess(workdir, env)
        process.port = port
        process.log = workdir / f"opstap.{self.starts[index]}.log"
        self.starts[index] += 1
        return process

    async def start(self, index: int = 0) -> None:
        process = self._process(index)
        self.processes[index] = process
        await process.start(within=60.0)
        if all(p is not None for p in self.processes):
            self.settled = time.monotonic()

    async def start_all(self) -> None:
        # One after the other: the first one migrates the database.
        for index in range(len(self.processes)):
            await self.start(index)

    async def stop(self, index: int, sig: int) -> None:
        process = self.processes[index]
        assert process is not None
        self.settled = None
        self.processes[index] = None
        if sig == signal.SIGKILL:
            assert process.process is not None
            process.process.kill()
            await process.process.wait()
        else:
            # Stopped on its own: stop fails the test when it has to kill the worker.
            await process.stop(sig)
        self.logs.append(process.output())

    async def stop_all(self) -> None:
        for index, process in enumerate(self.processes):
            if process is not None:
                await self.stop(index, signal.SIGTERM)

    def is_up(self) -> bool:
        return self.settled is not None

    def output(self) -> str:
        live = [p.output() for p in self.processes if p is not None]
        return "\n".join([*self.logs, *live])


async def chaos(
    cluster: Cluster,
    rng: random.Random,
    *,
    kills: int,
    sig: int = signal.SIGKILL,
    uptime: tuple[float, float] = (1.5, 4.5),
) -> list[float]:
    """Stop a worker (``sig``) after a seeded random time up, start it again; ``kills`` times.
    Returns how long each worker was down."""
    downtimes: list[float] = []
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(*uptime))
        victim = rng.randrange(len(cluster.processes))
        began = time.monotonic()
        await cluster.stop(victim, sig)
        await cluster.start(victim)
        downtimes.append(time.monotonic() - began)
    return downtimes


# --- what the bot sent ----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """A message the bot sent or edited in a chat, as it reached the fake."""

    at: float
    message_id: int
    prompt: bool
    """It carries inline buttons: a question (the end of every answer but the last)."""


class Watch:
    """Files the fake's calls by chat, in order, each once."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.by_chat: dict[int, list[Delivery]] = {}
        self._cursor = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.collect()

    async def _run(self) -> None:
        while True:
            self.collect()
            await asyncio.sleep(0.05)

    def collect(self) -> None:
        calls: list[Call] = self.fake._calls  # read in place: calls() copies every time
        while self._cursor < len(calls):
            call = calls[self._cursor]
            if call.method == "getUpdates":
                self._cursor += 1
                continue
            if not call.done:
                break
            self._cursor += 1
            if call.method not in DELIVERED or not call.ok:
                continue
            chat = call.params.get("chat_id")
            if not isinstance(chat, int):
                continue
            markup = call.params.get("reply_markup")
            prompt = isinstance(markup, dict) and bool(markup.get("inline_keyboard"))
            result = (call.response or {}).get("result")
            message_id = result.get("message_id", 0) if isinstance(result, dict) else 0
            self.by_chat.setdefault(chat, []).append(Delivery(call.time, message_id, prompt))
        self._changed.set()
        self._changed = asyncio.Event()

    def of(self, chat: int, since: float = 0.0) -> list[Delivery]:
        return [d for d in self.by_chat.get(chat, []) if d.at >= since]

    async def wait_for(self, chat: int, since: float, cluster: Cluster) -> bool:
        """Until the answer reached the chat after ``since`` (a question, or messages without
        one and then quiet for :data:`QUIET` seconds, as after the last answer): ``True``;
        ``False`` once the bot was up for :data:`ANSWER_WAIT` seconds since then without one."""
        while True:
            answer = self.of(chat, since)
            if any(d.prompt for d in answer):
                return True
            if answer and time.monotonic() - answer[-1].at > QUIET:
                return True
            settled = cluster.settled
            if settled is not None and time.monotonic() > max(since, settled) + ANSWER_WAIT:
                return False
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=0.5)


# --- the young people ------------------------------------------------------------------------


@dataclass
class Input:
    chat: int
    step: str
    what: str
    at: float
    update_id: int = 0


@dataclass
class Person:
    chat: int
    inputs: list[Input] = field(default_factory=list)
    finished: bool = False
    timeouts: int = 0


TEXT_ANSWERS: dict[str, tuple[str, ...]] = {
    "words": ("Ik zoek werk", "Ik heb schulden", "Ik wil alleen wonen", "Ik weet niet goed wat"),
    "age": ("19", "23", "27", "twintig"),
    "place": ("Leuven", "3000", "Kessel-Lo"),
    "contact_phone": ("0470 12 34 56", "+32 470 11 22 33"),
    "contact_email": ("sam@example.org",),
    "name": ("Sam", "Noor"),
}
AVOID = ("_back", "_language", "privacy", "edit", "=over", "=change", "=no")


def current_question(fake: FakeBotApi, chat: int) -> tuple[int, list[tuple[str, str]]] | None:
    """The message with inline buttons the person sees last, and its (label, data) buttons."""
    for message in reversed(fake.messages(chat)):
        if message.deleted:
            continue
        buttons = [(label, data) for row in message.buttons() for label, data in row if data]
        if buttons and (message.reply_markup or {}).get("inline_keyboard"):
            return message.message_id, buttons
    return None


def choose(step: str, buttons: list[tuple[str, str]], rng: random.Random) -> tuple[str, str] | None:
    """The button a person doing the intake presses here (``None``: they type)."""
    values = {data.partition("=")[2]: (label, data) for label, data in buttons}
    preferred: dict[str, tuple[str, ...]] = {
        "welcome": ("start",),
        "words_confirm": ("yes",),
        "more": ("none",),
        "summary": ("send",),
        "place_again": ("rather_not",),
        "resume": ("continue",),
    }
    if step in preferred:
        for value in preferred[step]:
            if value in values:
                return values[value]
    if step in TEXT_ANSWERS and rng.random() < 0.85:
        return None
    fair = [(label, data) for label, data in buttons if not any(a in data for a in AVOID)]
    if fair:
        return rng.choice(fair)
    if "_skip" in values:
        return values["_skip"]
    return None


async def converse(
    fake: FakeBotApi,
    watch: Watch,
    cluster: Cluster,
    chat: int,
    rng: random.Random,
    think: tuple[float, float] = (0.1, 0.8),
) -> Person:
    """One person doing the intake until it is sent (or :data:`MAX_INPUTS` inputs)."""
    person = Person(chat)

    async def act(step: str, what: str, send: Any) -> bool:
        at = time.monotonic()
        update = send()
        update_id = update.get("update_id", 0) if isinstance(update, dict) else 0
        person.inputs.append(Input(chat, step, what, at, update_id))
        answered = await watch.wait_for(chat, at, cluster)
        if not answered:
            person.timeouts += 1
        return answered

    await act("start", "/start", lambda: fake.user_sends_command(chat, "/start"))
    sent_it = False
    while len(person.inputs) < MAX_INPUTS:
        await asyncio.sleep(rng.uniform(*think))
        question = current_question(fake, chat)
        if question is None:
            if sent_it:
                person.finished = True
                return person
            await act("start", "/start", lambda: fake.user_sends_command(chat, "/start"))
            continue
        message_id, buttons = question
        step = buttons[0][1].partition("=")[0]
        picked = choose(step, buttons, rng)
        if picked is None:
            text = rng.choice(TEXT_ANSWERS.get(step, ("ja",)))
            await act(step, "text", lambda t=text: fake.user_sends_text(chat, t))
            continue
        label, data = picked
        if rng.random() < 0.2:
            # Typed: the label of a button on screen counts as pressing it.
            await act(step, "label", lambda t=label: fake.user_sends_text(chat, t))
        else:
            await act(step, data, lambda m=message_id, d=data: fake.user_presses_button(chat, m, d))
        if data == "summary=send":
            sent_it = True
            answer = watch.of(chat, person.inputs[-1].at)
            if answer and not any(d.prompt for d in answer):
                # "Sent!": done. (A question shown again after a crash is an old one.)
                person.finished = True
                return person
    return person


# --- reminders ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    chat: int
    due: datetime
    due_mono: float
    since: float


async def plant_reminders(
    fake: FakeBotApi,
    watch: Watch,
    cluster: Cluster,
    chats: list[int],
    rng: random.Random,
    window: tuple[float, float],
) -> list[Reminder]:
    """Each chat starts the intake (one question open), then its nudge is moved to a seeded
    random moment in ``window`` seconds from now: the tick must send it once, on time."""

    async def first_question(chat: int) -> None:
        at = time.monotonic()
        fake.user_sends_command(chat, "/start")
        assert await watch.wait_for(chat, at, cluster), f"no welcome in chat {chat}"
        question = current_question(fake, chat)
        assert question is not None
        at = time.monotonic()
        fake.user_presses_button(chat, question[0], "welcome=start")
        assert await watch.wait_for(chat, at, cluster), f"no first question in chat {chat}"

    await asyncio.gather(*(first_question(chat) for chat in chats))
    await asyncio.sleep(1.0)  # the last replies of the set-up, before the reminders count
    storage = await open_storage(cluster.database_url, cluster.keyring())
    planted: list[Reminder] = []
    try:
        wall, mono = datetime.now(UTC), time.monotonic()
        for chat in chats:
            offset = rng.uniform(*window)
            async with storage.transaction() as tx:
                session = await tx.sessions.get(PersonId(f"tg:{chat}"))
                assert session is not None and session.step == "words"
                await tx.reminders.schedule(
                    PersonId(f"tg:{chat}"),
                    NUDGE_KEY,
                    wall + timedelta(seconds=offset),
                    session.version,
                )
            planted.append(Reminder(chat, wall + timedelta(seconds=offset), mono + offset, mono))
    finally:
        await storage.close()
    return planted


# --- the verdict ----------------------------------------------------------------------------


@dataclass
class Outcome:
    inputs: int = 0
    unanswered: list[Input] = field(default_factory=list)
    doubled: list[Input] = field(default_factory=list)
    tripled: list[Input] = field(default_factory=list)
    unfinished: list[int] = field(default_factory=list)
    reminders: int = 0
    reminders_missing: list[int] = field(default_factory=list)
    reminders_twice: list[int] = field(default_factory=list)
    reminders_more: list[int] = field(default_factory=list)
    reminders_late: list[tuple[int, float]] = field(default_factory=list)
    downtimes: list[float] = field(default_factory=list)
    # The timelines of some failing chats (see :func:`timeline`), for the failure message.
    details: str = ""

    def figures(self) -> str:
        late = max((s for _, s in self.reminders_late), default=0.0)
        return (
            f"inputs={self.inputs} unanswered={len(self.unanswered)}"
            f" answered_twice={len(self.doubled)} answered_3plus={len(self.tripled)}"
            f" unfinished={len(self.unfinished)} reminders={self.reminders}"
            f" reminders_missing={len(self.reminders_missing)}"
            f" reminders_twice={len(self.reminders_twice)}"
            f" reminders_3plus={len(self.reminders_more)}"
            f" reminders_late_over_60s={len(self.reminders_late)} latest={late:.0f}s"
            f" restarts={len(self.downtimes)}"
            f" downtime_max={max(self.downtimes, default=0.0):.1f}s"
        )

    def ok(self) -> bool:
        return not (
            self.unanswered
            or self.tripled
            or self.unfinished
            or self.reminders_missing
            or self.reminders_more
            or self.reminders_late
        )


def judge(
    people: list[Person],
    watch: Watch,
    reminders: list[Reminder],
    downtimes: list[float],
) -> Outcome:
    outcome = Outcome(downtimes=downtimes)
    for person in people:
        if not person.finished:
            outcome.unfinished.append(person.chat)
        for index, sent in enumerate(person.inputs):
            outcome.inputs += 1
            until = person.inputs[index + 1].at if index + 1 < len(person.inputs) else float("inf")
            answer = [d for d in watch.of(person.chat, sent.at) if d.at < until]
            if not answer:
                outcome.unanswered.append(sent)
                continue
            # Every answer but the last ends with the next question: one question per handling.
            # The last answer (the intake sent) has none.
            questions = sum(1 for d in answer if d.prompt)
            if questions == 2:
                outcome.doubled.append(sent)
            elif questions > 2:
                outcome.tripled.append(sent)
    for reminder in reminders:
        outcome.reminders += 1
        nudges = [d for d in watch.of(reminder.chat, reminder.since) if d.prompt]
        if not nudges:
            outcome.reminders_missing.append(reminder.chat)
            continue
        if len(nudges) == 2:
            outcome.reminders_twice.append(reminder.chat)
        elif len(nudges) > 2:
            outcome.reminders_more.append(reminder.chat)
        late = nudges[0].at - reminder.due_mono
        if late > 60.0:
            outcome.reminders_late.append((reminder.chat, late))
    return outcome


def timeline(fake: FakeBotApi, person: Person, origin: float, wall: datetime) -> str:
    """One chat's inputs and the bot's calls in time order, to explain a failure: seconds
    since ``origin`` (monotonic) and the wall-clock time the workers' logs use."""
    events: list[tuple[float, str]] = [
        (i.at, f"IN  update={i.update_id} step={i.step} {i.what}") for i in person.inputs
    ]
    for call in fake._calls:
        if call.params.get("chat_id") != person.chat or call.method == "getUpdates":
            continue
        markup = call.params.get("reply_markup")
        inline = isinstance(markup, dict) and markup.get("inline_keyboard")
        buttons = ""
        if inline:
            first = inline[0][0] if inline[0] else {}
            buttons = f" buttons={first.get('callback_data')}" if isinstance(first, dict) else ""
        result = (call.response or {}).get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        target = call.params.get("message_id")
        events.append(
            (
                call.time,
                f"OUT {call.method} -> {call.status} id={message_id or target}{buttons}",
            )
        )
    lines = []
    for at, what in sorted(events, key=lambda e: e[0]):
        clock = (wall + timedelta(seconds=at - origin)).strftime("%H:%M:%S,%f")[:-3]
        lines.append(f"  {at - origin:7.2f} {clock} {what}")
    return f"chat {person.chat}:\n" + "\n".join(lines)


async def sqlite_intact(path: Path) -> str:
    """``PRAGMA integrity_check`` of the file, read by a fresh connection."""
    import aiosqlite

    async with (
        aiosqlite.connect(path) as db,
        db.execute("PRAGMA integrity_check") as cursor,
    ):
        rows = await cursor.fetchall()
    return ";".join(str(row[0]) for row in rows)


async def finished_sessions(cluster: Cluster, chats: list[int]) -> dict[int, str]:
    """Each person's stored session status (``missing`` when there is none)."""
    storage = await open_storage(cluster.database_url, cluster.keyring())
    found: dict[int, str] = {}
    try:
        async with storage.transaction() as tx:
            for chat in chats:
                session = await tx.sessions.get(PersonId(f"tg:{chat}"))
                found[chat] = "missing" if session is None else session.status
    finally:
        await storage.close()
    return found


def tracebacks(output: str, context: int = 12) -> str:
    """The lines of each traceback in a log, to show in a failure (ids only, never text)."""
    lines = output.splitlines()
    shown: list[str] = []
    for index, line in enumerate(lines):
        if "Traceback" in line:
            shown += lines[max(0, index - 2) : index + context]
            shown.append("...")
    return "\n".join(shown)


async def healthy(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False
