"""The outbox relay: messages caused by a state change are stored with it and sent after it.

Rules:

* The input's transaction writes the messages its state change caused (``Relay.stage``, the
  ``outbox`` table, the body encrypted like every other personal column) together with the
  change itself: one write transaction per input, nothing more.
* Right after the commit the input's own task sends them (``Relay.deliver``), in the channel's
  reply context, so a button press still becomes one edit of the pressed message and one
  person's messages keep their order. A sent row is deleted later, many at once
  (``Relay.flush``, every :data:`FLUSH_EVERY`): no extra transaction on the way of a reply.
* A crash between the commit and the send leaves the rows; the sweep (``Relay.sweep``, at start
  for everything and then every :data:`SWEEP_EVERY` for rows older than :data:`SWEEP_AFTER`)
  sends them in the person's turn, oldest first, after taking them (a compare-and-set, so two
  workers never both send a leftover). A crash between the send and the delete sends a message
  twice; nothing is ever lost.
* A message is taken only by a process that has the person's channel and only once that channel
  is ready (``Relay.hold_back`` until ``Relay.channel_ready``): a process without Telegram
  leaves ``tg:`` rows for one that has it. A row that failed :data:`MAX_ATTEMPTS` times is
  dropped (logged by id).
* The relay also writes back which inbox updates were handled outside a transaction of their
  own (``Relay.settle``: a crisis reply, a service button, an update nobody handles), in the
  same batched flush.
* Logs carry ids and counts, never text.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.delivery import NoChannel, delivery_is_strict
from bot.logs import describe
from bot.pipeline import Turn
from flows.ids import PersonId
from flows.session import JsonValue
from storage.ports import Transaction

if TYPE_CHECKING:
    from bot.service import ConversationService, OutgoingMessage

log = logging.getLogger(__name__)

# How often sent rows are deleted and handled updates written back, in one transaction. A kill
# in between sends those rows again and handles those updates again: at 1 s the full-size
# chaos test (50 people, 10 kills) saw 14-48 messages re-sent per restart; a fifth of that
# window costs one small transaction five times a second, only while something was sent.
FLUSH_EVERY = 0.2
SWEEP_EVERY = 15.0
# A row younger than this may still be on its way in the task that wrote it (this process or
# another one): the sweep leaves it alone.
SWEEP_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 5
SWEEP_BATCH = 200
# Keys recorded with their effects, remembered so that settling them writes nothing.
REMEMBER_RECORDED = 10_000
# A leftover a sweep took is left alone by other sweeps this long.
CLAIM_LEASE = timedelta(seconds=60)


def body_of(message: OutgoingMessage) -> dict[str, JsonValue]:
    body: dict[str, JsonValue] = {
        "text": message.text,
        "buttons": [[[label, value] for label, value in row] for row in message.buttons],
        "prompt": message.prompt,
        "rtl": message.rtl,
        "crisis": message.crisis,
        "team": message.team,
        "language": message.language,
    }
    if message.download is not None:
        body["download"] = list(message.download)
    return body


def message_of(body: dict[str, JsonValue]) -> OutgoingMessage:
    from bot.service import OutgoingMessage

    def text(value: JsonValue) -> str:
        return value if isinstance(value, str) else ""

    rows = body.get("buttons")
    buttons = tuple(
        tuple(
            (text(pair[0]), text(pair[1]))
            for pair in row
            if isinstance(pair, list) and len(pair) == 2
        )
        for row in (rows if isinstance(rows, list) else [])
        if isinstance(row, list)
    )
    download = body.get("download")
    language = body.get("language")
    return OutgoingMessage(
        text(body.get("text")),
        buttons,
        prompt=body.get("prompt") is True,
        rtl=body.get("rtl") is True,
        crisis=body.get("crisis") is True,
        download=(text(download[0]), text(download[1]))
        if isinstance(download, list) and len(download) == 2
        else None,
        team=body.get("team") is True,
        language=language if isinstance(language, str) else None,
    )


def _prefix(person: PersonId) -> str:
    return person.split(":", 1)[0]


@dataclass
class Relay:
    service: ConversationService
    sweep_after: timedelta = SWEEP_AFTER
    # Channels of the service that cannot send yet (Telegram until it runs): see ``hold_back``.
    not_ready: set[str] = field(default_factory=set)
    _sent: set[int] = field(default_factory=set)
    _settled: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _recorded: OrderedDict[str, None] = field(default_factory=OrderedDict)
    # Rows being sent by the task that wrote them: the sweep never takes these.
    _busy: set[int] = field(default_factory=set)
    _task: asyncio.Task[None] | None = None
    _sweeps: set[asyncio.Task[int]] = field(default_factory=set)

    # --- in the input's transaction -------------------------------------------------------

    async def stage(
        self, tx: Transaction, person: PersonId, messages: Sequence[OutgoingMessage]
    ) -> tuple[int, ...]:
        now = self.service.clock.now()
        return tuple([await tx.outbox.add(person, body_of(m), now) for m in messages])

    # --- after the commit -----------------------------------------------------------------

    async def deliver(
        self, person: PersonId, messages: Sequence[OutgoingMessage], staged: tuple[int, ...]
    ) -> None:
        """Send the messages of one committed input (its staged rows among them) and mark the
        staged rows sent. A process without the person's channel leaves the rows."""
        if staged and not self.can_send(person):
            log.info("outbox left for another process person=%s count=%d", person, len(staged))
            if delivery_is_strict():
                # A reminder: not sent here (bot.delivery); the rows wait for the channel.
                raise NoChannel(_prefix(person))
            return
        self._busy.update(staged)
        try:
            await self.service.deliver(person, messages)
            self.sent(staged)
        finally:
            self._busy.difference_update(staged)

    def can_send(self, person: PersonId) -> bool:
        return _prefix(person) in self.service.channels and _prefix(person) not in self.not_ready

    def hold_back(self, channel: str) -> None:
        """The channel is not ready yet: its rows wait (until :meth:`channel_ready`)."""
        self.not_ready.add(channel)

    def channel_ready(self, channel: str) -> None:
        self.not_ready.discard(channel)

    def sent(self, ids: Sequence[int]) -> None:
        if ids:
            self._sent.update(ids)

    def settle(self, key: str) -> None:
        """An input (``<channel>:<id>``) was handled outside a transaction that recorded it:
        record it as handled (batched). A no-op for one recorded with its effects."""
        if key in self._recorded:
            return
        channel, _, raw = key.partition(":")
        self._settled.setdefault((channel, raw), self.service.clock.now())

    def recorded(self, key: str) -> None:
        """The input was recorded as handled in the transaction of its effects (remembered
        for a while, so that settling it again writes nothing)."""
        self._recorded[key] = None
        while len(self._recorded) > REMEMBER_RECORDED:
            self._recorded.popitem(last=False)

    def is_settled(self, key: str) -> bool:
        """Handled here (and perhaps not yet written back)."""
        channel, _, raw = key.partition(":")
        return (channel, raw) in self._settled or key in self._recorded

    async def flush(self) -> None:
        """Delete the sent rows and record the settled updates, in one transaction. On a
        failure they stay queued for the next flush."""
        sent = tuple(sorted(self._sent))
        settled = dict(self._settled)
        if not sent and not settled:
            return
        async with self.service.storage.transaction() as tx:
            await tx.outbox.remove(sent)
            for (channel, key), at in settled.items():
                await tx.updates.first_time(channel, key, at)
        self._sent.difference_update(sent)
        for done in settled:
            self._settled.pop(done, None)
            # Remembered like one recorded with its effects: the pipeline routes a service
            # button without reading the update log, so a second delivery is caught here.
            self.recorded(":".join(done))

    async def sweep(self, *, everything: bool = False, background: bool = False) -> int:
        """Send rows a crash (or a failed send) left, person by person in their turn, oldest
        first; returns how many were sent. ``everything``: at start, also young rows.
        ``background``: return once the rows are taken and the persons' turns reserved (so
        their new inputs come after them), and send in a task; returns how many were taken."""
        prefixes = tuple(f"{p}:" for p in sorted(self.service.channels) if p not in self.not_ready)
        if not prefixes:
            return 0
        now = self.service.clock.now()
        before = None if everything else now - self.sweep_after
        async with self.service.storage.transaction() as tx:
            rows = await tx.outbox.unsent(
                created_before=before, prefixes=prefixes, limit=SWEEP_BATCH
            )
            mine = [r.id for r in rows if r.id not in self._busy and r.id not in self._sent]
            # Another worker sweeping at the same time leaves what this one took.
            taken = set(await tx.outbox.claim(tuple(mine), now, CLAIM_LEASE))
        per_person: dict[PersonId, list[int]] = {}
        for row in rows:
            if row.id in taken:
                per_person.setdefault(row.person, []).append(row.id)
                # Taken: a sweep running at the same time leaves it.
                self._busy.add(row.id)
        # Reserved now, in this order: an input that arrives meanwhile goes after the rows.
        turns = [
            (person, ids, self.service.locks.reserve(person)) for person, ids in per_person.items()
        ]
        sending = self._send_all(turns)
        if background:
            task = asyncio.get_running_loop().create_task(sending)
            # Kept until done: the loop holds tasks only weakly.
            self._sweeps.add(task)
            task.add_done_callback(self._sweeps.discard)
            return len(taken)
        return await sending

    async def _send_all(self, turns: list[tuple[PersonId, list[int], Turn]]) -> int:
        counts = await asyncio.gather(*(self._send_rows(p, ids, turn) for p, ids, turn in turns))
        total = sum(counts)
        if total:
            log.info("outbox sweep sent=%d people=%d", total, len(turns))
        return total

    async def _send_rows(self, person: PersonId, ids: list[int], turn: Turn) -> int:
        try:
            return await self._send_in_turn(person, ids, turn)
        finally:
            self._busy.difference_update(ids)

    async def _send_in_turn(self, person: PersonId, ids: list[int], turn: Turn) -> int:
        sent = 0
        async with turn:
            try:
                async with self.service.storage.transaction() as tx:
                    # Read again in the turn: the input's own task may have sent them meanwhile.
                    rows = [r for r in await tx.outbox.of(person) if r.id in ids]
            except Exception as error:
                log.error("outbox read failed person=%s error=%s", person, describe(error))
                return 0
            for row in rows:
                if row.id in self._sent:
                    continue
                try:
                    await self.service.deliver(person, [message_of(row.body)])
                except Exception as error:
                    log.error(
                        "outbox send failed person=%s id=%d error=%s",
                        person,
                        row.id,
                        describe(error),
                    )
                    await self._failed(row.id, row.attempts)
                    # The rest waits, so the person's messages keep their order.
                    break
                self.sent([row.id])
                sent += 1
        return sent

    async def _failed(self, message_id: int, attempts: int) -> None:
        try:
            async with self.service.storage.transaction() as tx:
                if attempts + 1 >= MAX_ATTEMPTS:
                    await tx.outbox.remove((message_id,))
                    log.error("outbox message dropped id=%d attempts=%d", message_id, attempts + 1)
                else:
                    await tx.outbox.attempted(message_id)
        except Exception as error:
            log.error("outbox bookkeeping failed id=%d error=%s", message_id, describe(error))

    # --- the background task --------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + SWEEP_EVERY
        while True:
            # Batched: whatever was sent since the last flush goes in one transaction (none
            # when nothing was).
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self.flush()
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + SWEEP_EVERY
                    await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.error("outbox relay failed error=%s", describe(error))

    async def stop(self) -> None:
        """Stop the background task and write back what is queued (graceful shutdown)."""
        task, self._task = self._task, None
        tasks = [*self._sweeps, *([task] if task is not None else [])]
        for running in tasks:
            running.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await self.flush()
        except Exception as error:
            # Not lost: the rows are sent again (at most twice) and the updates handled again.
            log.error("outbox flush on stop failed error=%s", describe(error))
