"""A coach-side harness: memory storage, the real catalogs and intake flow, a frozen clock.

The coach side is installed exactly as ``bot/runtime.py`` does it
(:func:`bot.coach.wiring.install_coach_side`); a channel records what it would send. Young
people and coaches are both Telegram chats here (``tg:<id>``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FrozenClock
from bot.coach.card import case_in
from bot.coach.wiring import CoachSide, install_coach_side
from bot.i18n import Translator
from bot.inbound import Inbound
from bot.intake_data import load_domain_lexicon
from bot.routing.gazetteer import load_resolver
from bot.routing.place_check import make_place_check
from bot.scheduler import ReminderTick
from bot.service import ConversationService, OutgoingMessage
from bot.settings import load_settings
from flows.engine import Flow
from flows.ids import CaseId, CoachId, PartnershipId, PersonId, StepId
from flows.inputs import ButtonPressed, CommandReceived, Input, TextReceived
from flows.intake.flow import INTAKE, build_intake_flow
from flows.session import JsonValue, Session
from storage.memory import MemoryStorage
from storage.ports import Storage
from storage.routing_port import CaseRecord, CoachRecord, CoachRole
from tests.bot.fakes import RecordingChannel

BRUSSELS = ZoneInfo("Europe/Brussels")
YOUNG = PersonId("tg:4242")
BOEST = PartnershipId("boest-your-future")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Brussels wall-clock time as the aware UTC instant the code works with."""
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS).astimezone(UTC)


# Tuesday 24 November 2026, 10:00 in Brussels.
T0 = local(2026, 11, 24, 10)


def intake_answers(**changes: JsonValue) -> dict[str, JsonValue]:
    """A submitted intake from Kessel-Lo (Boest! Your Future), work and money first.
    A change to ``None`` removes the answer."""
    answers: dict[str, JsonValue] = {
        "own_words": "Ik zoek werk en ik heb schulden",
        "domains": ["work", "money"],
        "age": 23,
        "place_text": "Kessel-Lo",
        "place": "24062:boest-your-future",
        "place_label": "Kessel-Lo (Leuven)",
        "place_status": "ok",
        "rating_work": "1",
        "help_work": "guide",
        "rating_money": "2",
        "rating_housing": "4",
        "consent_sensitive": "no",
        "contact": "chat",
        "moment": "any",
        "name": "Sam",
    }
    answers.update(changes)
    return {k: v for k, v in answers.items() if v is not None}


@lru_cache(maxsize=1)
def translator() -> Translator:
    return Translator.from_dir()


@lru_cache(maxsize=1)
def intake_flow() -> Flow:
    return build_intake_flow(
        load_domain_lexicon(), notice_version="test", place_check=make_place_check(load_resolver())
    )


@dataclass
class Harness:
    storage: Storage
    service: ConversationService
    channel: RecordingChannel
    clock: FrozenClock
    side: CoachSide

    # --- set-up ---------------------------------------------------------------------------

    async def add_coach(
        self,
        name: str,
        *,
        chat: int | None,
        partnership: PartnershipId = BOEST,
        domains: tuple[str, ...] = (),
        languages: tuple[str, ...] = ("nl",),
        capacity: int = 5,
        role: CoachRole = "coach",
        organisation: str = "CAW Oost-Brabant",
        last_assigned_at: datetime | None = None,
        hours: str | None = None,
    ) -> CoachRecord:
        coach = CoachRecord(
            id=CoachId(name.lower()),
            partnership=partnership,
            first_name=name,
            organisation=organisation,
            domains=domains,
            languages=languages,
            capacity=capacity,
            role=role,
            hours=hours,
            active=True,
            person=None if chat is None else PersonId(f"tg:{chat}"),
            current_case=None,
            last_assigned_at=last_assigned_at,
            created_at=self.clock.now(),
        )
        async with self.storage.transaction() as tx:
            await tx.coaches.add(coach)
        return coach

    async def submit(
        self, person: PersonId = YOUNG, *, language: str = "nl", **answers: JsonValue
    ) -> None:
        """The young person presses "Verstuur" on the summary of the real intake flow."""
        now = self.clock.now()
        session = Session(
            person=person,
            flow=INTAKE,
            step=StepId("summary"),
            language=language,
            started_at=now,
            updated_at=now,
            version=7,
            answers=intake_answers(**answers),
            history=(StepId("welcome"), StepId("words"), StepId("age"), StepId("place")),
        )
        async with self.storage.transaction() as tx:
            existing = await tx.sessions.get(person)
            if existing is not None:
                session = replace(session, version=existing.version + 1)
            await tx.sessions.save(
                session, expected_version=None if existing is None else existing.version
            )
        await self.service.handle(person, ButtonPressed("summary=send", now))

    # --- acting ---------------------------------------------------------------------------

    async def young_says(self, text: str, person: PersonId = YOUNG) -> None:
        await self.service.handle(person, TextReceived(text, self.clock.now()))

    async def young_presses(self, value: str, person: PersonId = YOUNG) -> None:
        await self.service.handle(person, ButtonPressed(value, self.clock.now()))

    async def coach_input(
        self, coach: CoachRecord, event: Input, reply_to: str | None = None
    ) -> bool:
        assert coach.person is not None
        return await self.side.desk.route(Inbound(coach.person, event, "nl", reply_to=reply_to))

    async def coach_presses(self, coach: CoachRecord, value: str) -> bool:
        return await self.coach_input(coach, ButtonPressed(value, self.clock.now()))

    async def coach_says(self, coach: CoachRecord, text: str, reply_to: str | None = None) -> bool:
        return await self.coach_input(coach, TextReceived(text, self.clock.now()), reply_to)

    async def coach_command(self, coach: CoachRecord, name: str, args: str = "") -> bool:
        return await self.coach_input(coach, CommandReceived(name, args, self.clock.now()))

    async def tick(self) -> int:
        tick = ReminderTick(
            self.storage,
            self.service,
            self.clock,
            worker="test",
            handlers=(self.side.handoff.on_reminder,),
        )
        return await tick.run_once()

    # --- looking --------------------------------------------------------------------------

    def sent(self, person: PersonId) -> list[OutgoingMessage]:
        return [m for p, m in self.channel.sent if p == person]

    def texts(self, person: PersonId) -> list[str]:
        return self.channel.texts(person)

    def last_text(self, person: PersonId) -> str:
        return self.texts(person)[-1]

    def card_of(self, coach: CoachRecord) -> OutgoingMessage:
        """The last card (a message with accept/decline buttons) the coach got."""
        assert coach.person is not None
        cards = [
            m
            for m in self.sent(coach.person)
            if any(value.endswith(":accept") for row in m.buttons for _, value in row)
        ]
        assert cards, f"no card for {coach.id}: {self.texts(coach.person)}"
        return cards[-1]

    def case_of_card(self, coach: CoachRecord) -> CaseId:
        found = case_in(self.card_of(coach).text)
        assert found is not None
        return CaseId(found)

    async def case(self, person: PersonId = YOUNG) -> CaseRecord | None:
        async with self.storage.transaction() as tx:
            return await tx.cases.latest_of(person)

    async def coach(self, coach_id: CoachId) -> CoachRecord:
        async with self.storage.transaction() as tx:
            found = await tx.coaches.get(coach_id)
        assert found is not None
        return found

    async def counts(self) -> dict[tuple[str, str], int]:
        async with self.storage.transaction() as tx:
            return await tx.privacy.counts()


def make_harness(
    storage: Storage | None = None, *, accept_within: str = "8", fallback_days: str = "5"
) -> Harness:
    storage = storage or MemoryStorage()
    channel = RecordingChannel()
    clock = FrozenClock(T0)
    service = ConversationService(
        storage=storage,
        flows={INTAKE: intake_flow()},
        entry=INTAKE,
        channels={"tg": channel, "web": channel},
        translator=translator(),
        clock=clock,
    )
    settings = load_settings(
        {"OPSTAP_ACCEPT_WITHIN_HOURS": accept_within, "OPSTAP_FALLBACK_AFTER_DAYS": fallback_days},
        env_file=None,
    )
    side = install_coach_side(service, settings)
    return Harness(storage, service, channel, clock, side)


@pytest.fixture
def harness() -> Harness:
    return make_harness()
