"""A feature written the way ARCHITECTURE.md says a newcomer writes one: this module only.

"Wave": a young person can press ``wave=hi`` or type ``/zwaai`` and gets a wave back; for
every message the engine sends, the saved session's version is read inside the input's
transaction and reaches the after-commit phase as a value; a ``wave.`` reminder is the
feature's own; ``GET /wave`` is its page (public: it shows nothing personal); its table (none
here) would register a personal-data part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from bot.plugins import Registry
from bot.service import ConversationService, OutgoingMessage
from flows.effects import Effect, SendMessage
from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived
from flows.session import Session
from flows.text import Verbatim
from storage.ports import ReminderRecord, Transaction


@dataclass
class Wave:
    service: ConversationService
    name: str = "wave"
    seen: list[str] = field(default_factory=list)

    def register(self, registry: Registry) -> None:
        registry.button("wave", self.on_button)
        registry.command("zwaai", self.on_command)
        registry.on_effect(SendMessage, in_transaction=self.count, after_commit=self.report)
        registry.reminders(self.on_reminder)
        registry.job("wave-daily", self.daily, "cron", hour=4)
        registry.route("GET", "/wave", self.page, permission="public")
        registry.http(self.prepare)

    async def on_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        self.seen.append(f"button {event.value}")
        # Texts are message ids (or verbatim data), rendered by the one renderer.
        await self.service.deliver(
            person, [self.service.renderer.message([Verbatim("👋")], language)]
        )

    async def on_command(self, person: PersonId, event: CommandReceived, language: str) -> None:
        self.seen.append(f"command {event.name}")
        await self.service.deliver(
            person, [self.service.renderer.message([Verbatim("👋👋")], language)]
        )

    async def count(self, tx: Transaction, session: Session, effect: Effect, now: datetime) -> int:
        # Inside the input's transaction (the session is saved already): a value for the
        # after-commit phase, no state kept on the feature.
        saved = await tx.sessions.get(session.person)
        return saved.version if saved is not None else -1

    async def report(
        self, session: Session, effect: Effect, value: int, now: datetime
    ) -> list[OutgoingMessage]:
        self.seen.append(f"after commit {value}")
        return []

    async def on_reminder(self, reminder: ReminderRecord) -> bool:
        if not reminder.key.startswith("wave."):
            return False
        self.seen.append(f"reminder {reminder.key}")
        return True

    async def daily(self) -> None:
        self.seen.append("daily")

    def prepare(self, app: web.Application) -> None:
        self.seen.append("http set-up")

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="👋")
