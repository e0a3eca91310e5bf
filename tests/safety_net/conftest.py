"""A service wired like the runtime's safety net, on memory storage and a recording channel.

The real screener, help lines, catalogs and intake flow; a fake :class:`OnDuty` whose coach,
coordinator and partnership the tests choose; working hours Monday to Friday 09:00-17:00 in
Brussels, no public holidays (so dates in tests do not depend on the calendar).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache

from bot.clock import FrozenClock
from bot.conversations import ENTRY, build_flows
from bot.i18n import Translator
from bot.safety.alerts import DEFAULT_HOURS, SafetyNet
from bot.safety.helplines import load_helplines
from bot.safety.lexicon import load_screener
from bot.safety.responder import HelpLineResponder
from bot.scheduler import ReminderTick
from bot.service import ConversationService, OutgoingMessage
from flows.engine import Flow
from flows.ids import CaseId, FlowId, PartnershipId, PersonId
from storage.memory import MemoryStorage
from storage.ports import Transaction
from storage.safety_port import SafetyEventRecord
from tests.bot.fakes import RecordingChannel

# Tuesday 24 November 2026, 10:00 in Brussels (CET, UTC+1): working hours.
WORKING = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
# Saturday 28 November 2026, 23:00 in Brussels: outside working hours.
WEEKEND_NIGHT = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
YOUNG = PersonId("tg:1001")
COACH = PersonId("tg:2002")
COORDINATOR = PersonId("tg:3003")
STRANGER = PersonId("tg:4004")
CRISIS = "ik zie het niet meer zitten"


@lru_cache(maxsize=1)
def translator() -> Translator:
    return Translator.from_dir()


@lru_cache(maxsize=1)
def flows() -> dict[FlowId, Flow]:
    return build_flows()


def intake() -> Flow:
    return flows()[ENTRY]


@dataclass
class FakeOnDuty:
    coach: PersonId | None = COACH
    coordinator_chat: PersonId | None = COORDINATOR
    partnership_id: PartnershipId | None = None
    case_id: CaseId | None = None

    async def responders(self, person: PersonId) -> list[PersonId]:
        if self.coach is not None:
            return [self.coach]
        return [] if self.coordinator_chat is None else [self.coordinator_chat]

    async def coordinator(self, person: PersonId) -> PersonId | None:
        return self.coordinator_chat

    async def partnership(self, person: PersonId) -> PartnershipId | None:
        return self.partnership_id

    async def case(self, person: PersonId) -> CaseId | None:
        return self.case_id


class BrokenStorage(MemoryStorage):
    """Every transaction fails: the database is down."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        raise ConnectionError("database down")
        yield  # pragma: no cover

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        raise ConnectionError("database down")
        yield  # pragma: no cover


@dataclass
class Rig:
    service: ConversationService
    channel: RecordingChannel
    clock: FrozenClock
    storage: MemoryStorage
    net: SafetyNet
    tick: ReminderTick
    on_duty: FakeOnDuty = field(default_factory=FakeOnDuty)

    def to(self, person: PersonId) -> list[OutgoingMessage]:
        return [m for p, m in self.channel.sent if p == person]

    async def events(self, person: PersonId = YOUNG) -> list[SafetyEventRecord]:
        async with self.storage.transaction() as tx:
            return await tx.safety.of(person)


def no_holidays(year: int) -> frozenset[date]:
    return frozenset()


def make_rig(
    *,
    at: datetime = WORKING,
    storage: MemoryStorage | None = None,
    on_duty: FakeOnDuty | None = None,
    ack_minutes: int = 15,
) -> Rig:
    storage = storage if storage is not None else MemoryStorage()
    on_duty = on_duty if on_duty is not None else FakeOnDuty()
    channel = RecordingChannel()
    clock = FrozenClock(at)
    responder = HelpLineResponder(translator(), load_helplines())
    service = ConversationService(
        storage=storage,
        flows=flows(),
        entry=ENTRY,
        channels={"tg": channel, "web": channel},
        translator=translator(),
        clock=clock,
        screener=load_screener(),
        crisis=responder,
    )
    net = SafetyNet(
        service,
        responder,
        on_duty,
        ack_minutes=ack_minutes,
        hours_for=lambda partnership: DEFAULT_HOURS,
        holidays=no_holidays,
    )
    net.install()
    tick = ReminderTick(
        storage, service, clock, handlers=(net.on_reminder,), holds=(net.hold,), worker="test"
    )
    return Rig(service, channel, clock, storage, net, tick, on_duty)


def buttons_of(message: OutgoingMessage) -> list[str]:
    return [value for row in message.buttons for _, value in row]
