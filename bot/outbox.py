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
  sends them in the person's turn, oldest first. It takes one row at a time, right before
  sending it (a compare-and-set on ``claimed_at``, so two workers never both send a leftover),
  and deletes it right after: a kill during a sweep leaves at most the one row it was sending
  taken, and never sends the rows it already sent again. A claim lasts :data:`CLAIM_LEASE`;
  on a database that serves one worker (SQLite) a claim older than the process is a dead
  process's, and is ignored. A crash between the send and the delete sends a message twice;
  nothing is ever lost.
* Features write the messages their own state changes cause the same way, for anyone (a
  coach's card, a relayed message): ``Relay.stage_for`` in the feature's transaction,
  ``Relay.send_staged`` after its commit. A row marked ``via`` a feature is sent by the sender
  that feature registered (``Relay.senders``: the coach side remembers the Telegram ids of what
  a coach got), also when the sweep sends it. Every ``stage_for`` says whom its messages are
  ``about`` (the case's young person, or ``None``): ``/wis`` of that person deletes the rows
  still unsent, whoever they are for (``storage.inbox.DeliveryPart``).
* A message is taken only by a process that has the person's channel and only once that channel
  is ready (``Relay.hold_back`` until ``Relay.channel_ready``): a process without Telegram
  leaves ``tg:`` rows for one that has it. A row that failed :data:`MAX_ATTEMPTS` times is
  dropped (logged by id). When it was written ``via`` a feature that registered a hook for
  that (``Registry.undelivered``: the handover's PDF for VDAB), the hook runs in the
  transaction that drops the row (the feature records it and writes whom to tell), and what it
  wrote is sent after the commit. A failing hook rolls back; the row is then dropped without
  it, so a give-up never loops.
* The relay also writes back which inbox updates were handled outside a transaction of their
  own (``Relay.settle``: a crisis reply, a service button, an update nobody handles), in the
  same batched flush.
* A row holds a rendered message (encrypted), never a file: a message that carries a stored
  document (``OutgoingMessage.attachment``, a handover's PDF) names it by kind and id, and the
  sender of its ``via`` loads it when it sends. Without that sender the row waits.
* Logs carry ids and counts, never text.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.delivery import NoChannel, delivery_is_strict
from bot.logs import describe
from bot.pipeline import Turn
from bot.render import ATTACHMENT_KINDS, Attachment
from flows.ids import PersonId
from flows.session import JsonValue
from storage.ports import OutboxRecord, Transaction

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
# A leftover a sweep took is left alone by other sweeps this long: the sweep takes a row right
# before it sends it, so the claim covers one send (and its wait for Telegram's limits).
CLAIM_LEASE = timedelta(seconds=20)


def body_of(message: OutgoingMessage, via: str | None = None) -> dict[str, JsonValue]:
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
    if message.attachment is not None:
        # The document by kind and id only: its sender loads it when it sends.
        body["attachment"] = [message.attachment.kind, message.attachment.id]
    if via is not None:
        body["via"] = via
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
    attached = body.get("attachment")
    attachment = None
    if isinstance(attached, list) and len(attached) == 2:
        kind, number = attached
        for known in ATTACHMENT_KINDS:
            if kind == known and isinstance(number, int) and not isinstance(number, bool):
                attachment = Attachment(known, number)
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
        attachment=attachment,
    )


Sender = Callable[[PersonId, "OutgoingMessage"], Awaitable[None]]
"""Sends one message of a feature's own kind (``Relay.senders``): the coach side remembers the
ids of what a coach's chat got."""


@dataclass(frozen=True)
class Staged:
    """Messages for several people (a coach and a young person) written to the outbox in the
    transaction of the change that caused them: (person, message, row id), in order."""

    rows: tuple[tuple[PersonId, OutgoingMessage, int], ...] = ()
    via: str | None = None

    def __bool__(self) -> bool:
        return bool(self.rows)


def _prefix(person: PersonId) -> str:
    return person.split(":", 1)[0]


@dataclass
class Relay:
    service: ConversationService
    sweep_after: timedelta = SWEEP_AFTER
    # The database serves this process only (SQLite): a claim made before it started belongs
    # to a process that is gone. Set by the runtime.
    single_worker: bool = False
    started_at: datetime | None = None
    # Channels of the service that cannot send yet (Telegram until it runs): see ``hold_back``.
    not_ready: set[str] = field(default_factory=set)
    _sent: set[int] = field(default_factory=set)
    _settled: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _recorded: OrderedDict[str, None] = field(default_factory=OrderedDict)
    # Rows being sent by the task that wrote them: the sweep never takes these.
    _busy: set[int] = field(default_factory=set)
    _task: asyncio.Task[None] | None = None
    _sweeps: set[asyncio.Task[int]] = field(default_factory=set)
    # How a row written ``via`` a feature is sent (``stage_for``); others go to the channel.
    senders: dict[str, Sender] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.started_at is None:
            self.started_at = self.service.clock.now()

    # --- in the input's transaction -------------------------------------------------------

    async def stage(
        self, tx: Transaction, person: PersonId, messages: Sequence[OutgoingMessage]
    ) -> tuple[int, ...]:
        now = self.service.clock.now()
        return tuple([await tx.outbox.add(person, body_of(m), now) for m in messages])

    async def stage_for(
        self,
        tx: Transaction,
        outbox: Sequence[tuple[PersonId, OutgoingMessage]],
        *,
        via: str | None = None,
        about: PersonId | None,
    ) -> Staged:
        """Inside a feature's transaction: the messages its change causes, for anyone (a
        coach's card, a relayed message), written with the change. Send them after the commit
        with :meth:`send_staged`; a crash in between leaves them to the sweep. ``about``: the
        young person whose data they carry (their case's person; ``None`` for nobody's), so
        their ``/wis`` deletes the ones still unsent, whoever they are for."""
        now = self.service.clock.now()
        rows = tuple(
            [
                (person, m, await tx.outbox.add(person, body_of(m, via), now, about=about))
                for person, m in outbox
            ]
        )
        return Staged(rows, via)

    async def send_staged(self, staged: Staged) -> None:
        """After the commit: send what :meth:`stage_for` wrote, in order, and mark it sent. A
        failing chat does not stop the others (its row waits for the sweep); a row for a
        channel this process lacks is left for a process that has it."""
        for person, message, row in staged.rows:
            if not self.can_send(person):
                log.info("outbox left for another process person=%s", person)
                continue
            self._busy.add(row)
            try:
                await self._send_one(person, message, staged.via)
            except Exception as error:
                log.error(
                    "outbox send failed person=%s id=%d error=%s", person, row, describe(error)
                )
                continue
            finally:
                self._busy.discard(row)
            self.sent([row])

    async def _send_one(self, person: PersonId, message: OutgoingMessage, via: str | None) -> None:
        sender = self.senders.get(via) if via is not None else None
        if sender is not None:
            await sender(person, message)
        elif message.attachment is not None:
            # Only its feature's sender loads the document: without it, the caption alone
            # must not go. The row waits (and is retried) for a process that has it.
            raise LookupError(f"no sender for an attachment via={via}")
        else:
            await self.service.deliver(person, [message])

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
            log.debug("outbox sent person=%s ids=%s", person, staged)
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

    async def settle_now(self, key: str) -> None:
        """Like :meth:`settle`, written at once (after a crisis reply, which went out before
        any storage): a failure leaves it to the batch."""
        if key in self._recorded:
            return
        channel, _, raw = key.partition(":")
        try:
            async with self.service.storage.transaction() as tx:
                await tx.updates.first_time(channel, raw, self.service.clock.now())
        except Exception as error:
            log.info("settle deferred error=%s", describe(error))
            self.settle(key)
            return
        self.recorded(key)

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
        ``background``: return once the persons' turns are reserved (so their new inputs come
        after the rows), and send in a task; returns how many rows were found."""
        prefixes = tuple(f"{p}:" for p in sorted(self.service.channels) if p not in self.not_ready)
        if not prefixes:
            return 0
        now = self.service.clock.now()
        before = None if everything else now - self.sweep_after
        async with self.service.storage.transaction() as tx:
            rows = await tx.outbox.unsent(
                created_before=before, prefixes=prefixes, limit=SWEEP_BATCH
            )
        per_person: dict[PersonId, list[int]] = {}
        for row in rows:
            if row.id in self._busy or row.id in self._sent:
                continue
            per_person.setdefault(row.person, []).append(row.id)
            # Found: a sweep running at the same time here leaves it.
            self._busy.add(row.id)
        found = sum(len(ids) for ids in per_person.values())
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
            return found
        return await sending

    def _lease(self) -> timedelta:
        """How long another sweep's claim holds. With one worker per database, a claim older
        than this process was made by a process that is gone (a kill during its sweep)."""
        if not self.single_worker or self.started_at is None:
            return CLAIM_LEASE
        return max(timedelta(0), min(CLAIM_LEASE, self.service.clock.now() - self.started_at))

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
                    # Taken right before it is sent: another worker's sweep leaves it.
                    async with self.service.storage.transaction() as tx:
                        taken = await tx.outbox.claim(
                            (row.id,), self.service.clock.now(), self._lease()
                        )
                except Exception as error:
                    log.error("outbox claim failed person=%s error=%s", person, describe(error))
                    break
                if not taken:
                    # Another worker sends it (and the rest, in order, after it).
                    break
                try:
                    via = row.body.get("via")
                    await self._send_one(
                        person, message_of(row.body), via if isinstance(via, str) else None
                    )
                except Exception as error:
                    log.error(
                        "outbox send failed person=%s id=%d error=%s",
                        person,
                        row.id,
                        describe(error),
                    )
                    await self._failed(person, row)
                    # The rest waits, so the person's messages keep their order.
                    break
                log.debug(
                    "outbox swept person=%s id=%d age=%.1fs",
                    person,
                    row.id,
                    (self.service.clock.now() - row.created_at).total_seconds(),
                )
                sent += 1
                await self._remove_now(row.id)
        return sent

    async def _remove_now(self, message_id: int) -> None:
        """A leftover that was sent is deleted at once, not with the next batch: a kill a
        moment later (restarts can follow each other within seconds) must not send it a
        third time. Leftovers are few; a failure leaves it to the batch."""
        try:
            async with self.service.storage.transaction() as tx:
                await tx.outbox.remove((message_id,))
        except Exception as error:
            log.info("outbox delete deferred id=%d error=%s", message_id, describe(error))
            self.sent([message_id])

    async def _failed(self, person: PersonId, row: OutboxRecord) -> None:
        attempts = row.attempts + 1
        if attempts < MAX_ATTEMPTS:
            try:
                async with self.service.storage.transaction() as tx:
                    await tx.outbox.attempted(row.id)
            except Exception as error:
                log.error("outbox bookkeeping failed id=%d error=%s", row.id, describe(error))
            return
        via = row.body.get("via")
        hook = self.service.registry.undelivered_hooks.get(via) if isinstance(via, str) else None
        staged: Staged | None = None
        try:
            async with self.service.storage.transaction() as tx:
                await tx.outbox.remove((row.id,))
                if hook is not None:
                    # The feature records the give-up and writes whom to tell, with the drop.
                    staged = await hook(tx, person, message_of(row.body))
        except Exception as error:
            log.error("outbox give-up failed id=%d error=%s", row.id, describe(error))
            if hook is None:
                return
            staged = None
            try:
                # Dropped without the hook: a give-up must not loop.
                async with self.service.storage.transaction() as tx:
                    await tx.outbox.remove((row.id,))
            except Exception as again:
                log.error("outbox bookkeeping failed id=%d error=%s", row.id, describe(again))
                return
        log.error("outbox message dropped id=%d attempts=%d", row.id, attempts)
        if staged:
            await self.send_staged(staged)

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
