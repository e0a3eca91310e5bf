"""Which Telegram chats have the persistent help button, kept across restarts.

Rules of this module: the chats that were shown the button come in once at start
(:meth:`HelpKeyboards.load`, a read before any update is handled) and each chat newly shown
it is stored in a small write of its own after the send (:meth:`HelpKeyboards.shown`), never
inside an input's transaction and never holding up a reply. Failures cost one hint more after
a restart, nothing else; they are logged by type and count, never by chat.
"""

from __future__ import annotations

import asyncio
import logging

from bot.logs import describe
from bot.service import Clock
from flows.ids import PersonId
from storage.help_keyboard_port import HELP_KEYBOARD_KEY
from storage.ports import Storage

log = logging.getLogger(__name__)


class HelpKeyboards:
    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock
        # Shown, not stored yet (one write stores what came in meanwhile).
        self._pending: dict[PersonId, str] = {}
        self._writer: asyncio.Task[None] | None = None

    async def load(self) -> dict[int, str]:
        """Chat id -> the language its button was shown in (empty when the read fails)."""
        try:
            async with self.storage.reading() as tx:
                shown = await tx[HELP_KEYBOARD_KEY].all()
        except Exception as error:
            log.warning("help buttons shown not read error=%s", describe(error))
            return {}
        log.info("help buttons shown before count=%d", len(shown))
        return {
            int(person.removeprefix("tg:")): language
            for person, language in shown.items()
            if person.startswith("tg:")
        }

    def shown(self, chat_id: int, language: str) -> None:
        """The channel showed the button (``TelegramChannel.on_keyboard``): store it soon."""
        self._pending[PersonId(f"tg:{chat_id}")] = language
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(
                self._store(), name="telegram help buttons"
            )

    async def _store(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                async with self.storage.transaction() as tx:
                    await tx[HELP_KEYBOARD_KEY].record(batch, self.clock.now())
            except Exception as error:
                log.info(
                    "help buttons shown not stored count=%d error=%s", len(batch), describe(error)
                )

    async def stored(self) -> None:
        """Wait until what was shown so far is stored (stop, tests)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.gather(self._writer, return_exceptions=True)
