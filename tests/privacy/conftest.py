"""Fixtures for the privacy tests: storage backends, a keyring, and a service with privacy.

The storage fixtures of ``tests/storage`` (``backend``, ``storage``: memory, SQLite and
PostgreSQL) are re-exported, so the privacy contract runs on every backend too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.privacy import AfterErasure, PrivacyDesk
from bot.service import ConversationService
from flows.effects import Effect, RecordConsent
from flows.engine import Flow, Parsed, Step, option
from flows.hello import FLOW as HELLO
from flows.ids import FlowId, PersonId, StepId
from flows.session import JsonValue, Session
from flows.text import msg
from storage.crypto import Keyring
from storage.migrate import upgrade
from storage.ports import Storage, Transaction
from storage.sql import open_storage
from tests.bot.fakes import RecordingChannel, id_translator
from tests.storage.conftest import (  # noqa: F401  (fixtures, used by name)
    backend,
    postgres_database,
    postgres_server,
    storage,
)

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
NOTICE = "2026-11"
# A chat id whose digits appear nowhere else in a test database.
CHAT_ID = 730_461_928
ANNA = PersonId(f"tg:{CHAT_ID}")
CANARY = "kanarie-7f3a9c-geheim"

# What the consent question shows (the id translator renders ids): its hash is recorded.
CONSENT_TEXT = "intake.consent.ask\n\nintake.consent.why"


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.parse(Keyring.generate("test1"))


# --- a small flow with a consent question, shaped like the intake's ---------------------------

CONSENTING = FlowId("consenting")


def _consent_answered(
    session: Session, value: JsonValue, at: datetime
) -> tuple[Session, tuple[Effect, ...]]:
    given = value == "yes"
    record = RecordConsent("sensitive_domains", given, NOTICE, at)
    if given:
        return session, (record,)
    return session.without_answers("rating_mental", "help_mental"), (record,)


def _name(text: str, _session: Session) -> Parsed:
    return Parsed(value=text)


CONSENT_FLOW = Flow(
    id=CONSENTING,
    first=StepId("mood"),
    languages=("nl", "en", "ar"),
    nudges=(timedelta(hours=24),),
    steps={
        StepId("mood"): Step(
            id=StepId("mood"),
            prompt=msg("hello.mood.ask"),
            label=msg("hello.mood.label"),
            options=(option("good", msg("hello.mood.good")), option("bad", msg("hello.mood.bad"))),
            next=StepId("consent"),
        ),
        StepId("consent"): Step(
            id=StepId("consent"),
            prompt=lambda _s: (msg("intake.consent.ask"), msg("intake.consent.why")),
            label=msg("intake.consent.label"),
            options=(
                option("yes", msg("intake.consent.yes")),
                option("no", msg("intake.consent.no")),
            ),
            store="consent_sensitive",
            skippable=False,
            on_answer=_consent_answered,
            next=lambda s: (
                StepId("domain_mental")
                if s.answer("consent_sensitive") == "yes"
                else StepId("name")
            ),
        ),
        StepId("domain_mental"): Step(
            id=StepId("domain_mental"),
            prompt=msg("intake.domain.mental.ask"),
            label=msg("intake.domain.mental.label"),
            options=tuple(option(v, msg("intake.rating." + v)) for v in ("1", "2", "3")),
            store="rating_mental",
            next=StepId("name"),
        ),
        StepId("name"): Step(
            id=StepId("name"),
            prompt=msg("hello.name.ask"),
            label=msg("hello.name.label"),
            text=_name,
            next=None,
        ),
    },
)


@dataclass
class RecordingNotifier:
    """Stands in for the routing feature's coach notifier."""

    looked_up: list[PersonId] = field(default_factory=list)
    told: list[str] = field(default_factory=list)

    async def case_erased(self, tx: Transaction, person: PersonId) -> AfterErasure | None:
        self.looked_up.append(person)
        session = await tx.sessions.get(person)
        case = "case-1" if session is not None else "none"

        async def tell() -> None:
            # Only a case reference goes to the coach, nothing of the person.
            self.told.append(case)

        return tell


@dataclass
class Harness:
    service: ConversationService
    channel: RecordingChannel
    clock: FrozenClock
    storage: Storage
    notifier: RecordingNotifier
    desk: PrivacyDesk


def make_harness(store: Storage, *, flows: tuple[Flow, ...] = (CONSENT_FLOW, HELLO)) -> Harness:
    channel = RecordingChannel()
    clock = FrozenClock(T0)
    service = ConversationService(
        storage=store,
        flows={flow.id: flow for flow in flows},
        entry=flows[0].id,
        channels={"tg": channel, "web": channel},
        translator=id_translator(),
        clock=clock,
    )
    notifier = RecordingNotifier()
    desk = PrivacyDesk(service, notifier=notifier)
    desk.install()
    return Harness(service, channel, clock, store, notifier, desk)


async def sqlite_storage(path: Path, keyring: Keyring | None = None) -> Storage:
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    return await open_storage(url, keyring)


@pytest.fixture
async def sqlite_harness(tmp_path: Path) -> AsyncIterator[Harness]:
    store = await sqlite_storage(tmp_path / "opstap.db")
    try:
        yield make_harness(store)
    finally:
        await store.close()


def values_of(harness: Harness, person: PersonId) -> list[str]:
    return [value for row in harness.channel.last(person).buttons for _, value in row]
