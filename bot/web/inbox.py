"""The durable inbox of the web chat: the young person's words are stored before the page is
told they arrived.

Rules:

* Every text and button press of the page is stored as pending (``tx.updates.hold``, channel
  ``"web"``, the input's JSON encrypted like Telegram's updates) before ``POST /api/input``
  answers 200; when the database does not take it the answer is 503, and the page keeps the
  words and sends them again (``bot/web/static/chat.js``).
* The key is the page's own ``ref`` for the message (random, made once per message and sent
  again with every retry), scoped to the person: the same message is handled once, however
  often the page sends it. Never "ignore anything lower": refs have no order.
* Safety first: storing runs beside the pipeline's screen, never before it. A crisis phrase
  gets the help lines at once, also while the database is down; such an input was handled by
  the screen and answers 200 (the pipeline settles its key). A retry (the page's ``retry``)
  is looked up first, so a crisis phrase sent again is not answered again; a retry of one that
  is pending while nobody in this process has it in hand (stored just before a crash) is
  handled in that request, so the page's next input cannot overtake it.
* At start the replay runs before the HTTP site opens: the restored inputs' turns are reserved
  before the page can send anything new.
* An input is recorded as handled in the transaction of its effects (the pipeline's dedupe
  stage) or settled right after (``Relay.settle``), which deletes the pending row. What a crash
  or a stop left pending is handled again through the same replay as Telegram's
  (:func:`storage.inbox.take_pending`): at start everything, later the rows older than
  :data:`STALE_AFTER` that this process is not working on.
* Ids only in logs; never what was typed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.commands import parse_command
from bot.inbound import Inbound
from bot.logs import describe
from flows.ids import PersonId
from flows.inputs import ButtonPressed, Input, TextReceived
from flows.session import JsonValue
from storage.inbox import take_pending
from storage.ports import PendingUpdate
from storage.web_transcript_port import check_transcript_ref

if TYPE_CHECKING:
    from bot.pipeline import Turn
    from bot.service import ConversationService
    from bot.web.channel import WebChannel

log = logging.getLogger(__name__)

CHANNEL = "web"
MAX_LABEL = 200
# Storing one input may take this long before the page hears 503 (and sends it again).
STORE_TIMEOUT = 5.0
# A pending input older than this is not on its way in a live worker any more.
STALE_AFTER = timedelta(seconds=60)
PENDING_EVERY = 15.0


def update_key(person: PersonId, ref: str) -> str:
    """The inbox key of one message of the page: the person's id (a hash) and the page's ref."""
    return f"{person.removeprefix(f'{CHANNEL}:')}:{ref}"


def key_of(person: PersonId, ref: str) -> str:
    """The pipeline's dedupe key (``Inbound.key``)."""
    return f"{CHANNEL}:{update_key(person, ref)}"


def to_input(
    payload: dict[str, Any], now: datetime
) -> tuple[Input | str, dict[str, JsonValue], dict[str, JsonValue]]:
    """The input of a page's request, how the young person's side shows it and what the
    inbox stores of it; ``ValueError`` when it is bad. ``open`` and ``help`` come back as
    their name (nothing to store: both can simply be sent again)."""
    kind = payload.get("kind")
    if kind == "text":
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text")
        command = parse_command(text, now)
        event: Input = command if command is not None else TextReceived(text, now)
        return event, {"text": text}, {"kind": "text", "text": text}
    if kind == "button":
        value = payload.get("value")
        label = payload.get("label", "")
        if not isinstance(value, str) or not 0 < len(value) <= 64:
            raise ValueError("value")
        if not isinstance(label, str) or len(label) > MAX_LABEL:
            raise ValueError("label")
        stored: dict[str, JsonValue] = {"kind": "button", "value": value, "label": label}
        return ButtonPressed(value, now), {"text": label, "button": value}, stored
    if kind in ("open", "help"):
        return str(kind), {}, {}
    raise ValueError("kind")


@dataclass(frozen=True)
class WebInput:
    """A pending input of the page, read back to be handled again."""

    person: PersonId
    ref: str
    event: Input
    shown: dict[str, JsonValue]
    language: str | None

    @property
    def key(self) -> str:
        return key_of(self.person, self.ref)


def decode(row: PendingUpdate) -> WebInput | None:
    """A stored input as it came (its own arrival time); ``None``: not readable."""
    found = json.loads(row.payload)
    if row.person is None or not isinstance(found, dict):
        return None
    event, shown, _ = to_input(found, row.received_at)
    language = found.get("lang")
    if isinstance(event, str):
        return None
    return WebInput(
        person=row.person,
        ref=check_transcript_ref(str(found.get("ref"))),
        event=event,
        shown=shown,
        language=language if isinstance(language, str) else None,
    )


@dataclass
class Taking:
    """One input of the page on its way into the inbox; storing started when it was made."""

    inbox: WebInbox
    person: PersonId
    ref: str
    _holding: asyncio.Task[bool]
    elsewhere: bool = False
    """Another request or the replay of this process has the same input in hand."""
    asked: bool = False
    taken_over: bool = False
    refused: bool = False
    """The pipeline waited for the input and the database did not take it: answer 503."""

    @property
    def key(self) -> str:
        return key_of(self.person, self.ref)

    async def outcome(self) -> bool | None:
        """``True``: stored now, new; ``False``: pending or handled already; ``None``: not
        stored (the database failed or was too slow)."""
        try:
            return await asyncio.shield(self._holding)
        except Exception:
            return None

    async def stored(self) -> bool:
        """``Inbound.stored``: awaited in the person's turn, after the screen."""
        self.asked = True
        new = await self.outcome()
        if new is None:
            self.refused = True
        return new is True or self.taken_over

    async def taken_before(self) -> bool:
        """For a page's retry: whether this message was taken already (stored or handled
        here, or long ago: its key pruned but its words in the transcript)."""
        new = await self.outcome()
        if new is False:
            if self.elsewhere or await self.inbox.handled(self.person, self.ref):
                return True
            # Pending and nobody here works on it (it was stored just before a crash or a
            # stop): handled now, in this request, so the page's next input comes after it.
            self.taken_over = True
            return False
        if new is True and await self.inbox.channel.has_ref(self.person, self.ref):
            # Handled before its key was kept (pruned, or by an older version): settle it.
            self.inbox.service.relay.settle(self.key)
            return True
        return False


@dataclass
class WebInbox:
    service: ConversationService
    channel: WebChannel
    # Update keys being stored or handled in this process (the pending sweep skips them).
    _working: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _loop: asyncio.Task[None] | None = None

    # --- a page's request -----------------------------------------------------------------

    def take(
        self, person: PersonId, ref: str, stored: dict[str, JsonValue], language: str
    ) -> Taking:
        """Start storing the input (in the background: the screen does not wait for it)."""
        key = update_key(person, ref)
        elsewhere = key in self._working
        self._working.add(key)
        payload = json.dumps(
            {**stored, "ref": ref, "lang": language}, ensure_ascii=False, separators=(",", ":")
        )
        holding = self._spawn(self._hold(person, key, payload))
        holding.add_done_callback(_log_failure)
        return Taking(self, person, ref, holding, elsewhere)

    def done(self, taking: Taking) -> None:
        """The request is over (answered or failed): the input is no longer in flight here."""
        if not taking.elsewhere:
            self._working.discard(update_key(taking.person, taking.ref))

    async def handled(self, person: PersonId, ref: str) -> bool:
        """Whether the input was recorded as handled (not merely pending)."""
        async with asyncio.timeout(STORE_TIMEOUT), self.service.storage.transaction() as tx:
            return await tx.updates.seen(CHANNEL, update_key(person, ref))

    async def _hold(self, person: PersonId, key: str, payload: str) -> bool:
        storage = self.service.storage
        async with asyncio.timeout(STORE_TIMEOUT), storage.transaction() as tx:
            return await tx.updates.hold(CHANNEL, key, person, payload, self.service.clock.now())

    # --- what a crash or a stop left ------------------------------------------------------

    async def replay(self, *, stale_only: bool) -> int:
        """Handle the pending inputs again, each in its person's turn in arrival order (the
        turns reserved before this returns, so a new input of the person comes after them);
        returns how many."""
        clock = self.service.clock
        relay = self.service.relay
        before = clock.now() - STALE_AFTER if stale_only else None

        def busy(key: str) -> bool:
            return key in self._working or relay.is_settled(f"{CHANNEL}:{key}")

        async with self.service.storage.transaction() as tx:
            replay = await take_pending(
                tx, CHANNEL, clock.now(), decode, received_before=before, skip=busy
            )
        for key, why in replay.given_up:
            log.error("pending web input given up key=%s reason=%s", key.split(":")[0], why)
        for item in replay.found:
            self._working.add(update_key(item.person, item.ref))
            turn = self.service.pipeline.reserve(item.person)
            self._spawn(self._handle_again(item, turn))
        if replay.found:
            log.info("pending web inputs handled again count=%d", len(replay.found))
        return len(replay.found)

    async def _handle_again(self, item: WebInput, turn: Turn) -> None:
        try:
            # The words go into the transcript with the reply, as when they were typed.
            self.channel.received(item.person, item.ref, item.shown)
            inbound = Inbound(item.person, item.event, item.language, key=item.key)
            await self.service.pipeline.handle(inbound, turn=turn)
            await self.channel.flush(item.person)
        finally:
            self._working.discard(update_key(item.person, item.ref))

    async def start(self) -> None:
        """Everything left pending, then every :data:`PENDING_EVERY` the stale rows (a failure
        here, a killed worker elsewhere)."""
        try:
            await self.replay(stale_only=False)
        except Exception as error:
            log.error("pending web inputs not read error=%s", describe(error))
        if self._loop is None:
            self._loop = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(PENDING_EVERY)
            try:
                await self.replay(stale_only=True)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.error("pending web inputs not read error=%s", describe(error))

    async def stop(self) -> None:
        """Stop replaying; what is not finished stays pending for the next start."""
        tasks = [*self._tasks, *([self._loop] if self._loop is not None else [])]
        self._loop = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, work: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        # Kept until done: the loop holds tasks only weakly.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _log_failure(task: asyncio.Task[bool]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        # Retrieved here, so a crisis input's hold that nobody awaits is still logged once.
        log.error("web input not stored error=%s", describe(error))
