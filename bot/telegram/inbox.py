"""The durable inbox of the Telegram channel.

Rules:

* Every update is stored as pending (``tx.updates.hold``, the update's JSON encrypted) before
  Telegram may forget it: in polling mode before the next ``getUpdates`` confirms the offset, in
  webhook mode before the 200. The batch of one ``getUpdates`` is one transaction.
* An update is handled once: it is recorded as handled in the transaction of its effects (the
  pipeline's dedupe stage) or, for inputs handled outside such a transaction, right after
  (``Relay.settle``); a held update that was already handled or is already pending is not new
  and is not handled again here.
* What a crash, a kill or a stop left pending is handled again: at start everything, later the
  rows older than :data:`STALE_AFTER` that this process is not working on. An update that failed
  :data:`MAX_ATTEMPTS` times is given up (logged by id), so one bad update cannot loop forever.
* Ids only in logs; never the update's content.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update

from bot.service import Clock
from flows.ids import PersonId
from storage.inbox import MAX_ATTEMPTS, start_attempt, take_pending
from storage.ports import PendingUpdate, Storage

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# A pending update older than this is not on its way in a live worker any more.
STALE_AFTER = timedelta(seconds=60)


def key_of(update_id: int) -> str:
    """The pipeline's dedupe key (``Inbound.key``)."""
    return f"{CHANNEL}:{update_id}"


def _person(update: Update) -> PersonId | None:
    chat = update.effective_chat
    return None if chat is None else PersonId(f"tg:{chat.id}")


class TelegramInbox:
    def __init__(self, storage: Storage, clock: Clock, bot: Any) -> None:
        self.storage = storage
        self.clock = clock
        self.bot = bot

    async def hold(self, updates: Sequence[tuple[Update, object]]) -> list[Update]:
        """Store the updates (each with the JSON it came as) as pending, in one transaction;
        the new ones, to handle now. Raises when the database does not take them (then
        Telegram must keep them: no offset confirmed, no 200)."""
        now = self.clock.now()
        new: list[Update] = []
        async with self.storage.transaction() as tx:
            for update, raw in updates:
                payload = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
                if await tx.updates.hold(
                    CHANNEL, str(update.update_id), _person(update), payload, now
                ):
                    new.append(update)
        return new

    async def pending(self, *, stale_only: bool, skip: Callable[[int], bool]) -> list[Update]:
        """Pending updates to handle again, in arrival order (each one attempt more); those
        ``skip`` names (being handled here, or handled and not yet written back) are left
        alone. The replay is every channel's (:func:`storage.inbox.take_pending`)."""
        before = self.clock.now() - STALE_AFTER if stale_only else None

        def busy(key: str) -> bool:
            return key.isdigit() and skip(int(key))

        def decode(row: PendingUpdate) -> Update | None:
            return Update.de_json(json.loads(row.payload), self.bot)

        async with self.storage.transaction() as tx:
            replay = await take_pending(
                tx,
                CHANNEL,
                self.clock.now(),
                decode,
                received_before=before,
                skip=busy,
                max_attempts=MAX_ATTEMPTS,
                # Counted when its handling starts (``attempt``), not when it is queued.
                count=False,
            )
        for key, why in replay.given_up:
            log.error("pending update given up update=%s reason=%s", key, why)
        if replay.found:
            log.info("pending updates handled again count=%d", len(replay.found))
        return replay.found

    async def attempt(self, update_id: int) -> bool:
        """A pending update handled again is about to run (in its person's turn): count the
        attempt. ``False``: given up after :data:`MAX_ATTEMPTS` (logged by id)."""
        async with self.storage.transaction() as tx:
            go = await start_attempt(tx, CHANNEL, str(update_id), self.clock.now(), MAX_ATTEMPTS)
        if not go:
            log.error("pending update given up update=%s reason=attempts", update_id)
        return go
