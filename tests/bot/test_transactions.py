"""How many transactions one input costs (ARCHITECTURE.md, the inbound pipeline).

Each ``transaction()`` is a ``BEGIN IMMEDIATE`` on SQLite, so this is what one input costs the
database. The storage is the in-memory one with a counter; the service is wired as the runtime
wires it (the coach side, privacy), and every input carries a Telegram key, as in production.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.inbound import Inbound
from bot.privacy import PrivacyDesk
from bot.referral.feature import Referrals
from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived, Input, TextReceived
from storage.memory import MemoryStorage
from storage.ports import Transaction
from storage.referral import referrals_of
from storage.referral_port import ReferralLink
from tests.routing2.conftest import YOUNG, Harness, make_harness

NEWCOMER = PersonId("tg:5151")
PARTNERSHIP = "boest-your-future"


class CountingStorage(MemoryStorage):
    """Counts every write transaction opened (by the pipeline, the service and the features),
    and the read-only ones apart."""

    count = 0
    reads = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        self.count += 1
        async with super().transaction() as tx:
            yield tx

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        self.reads += 1
        async with super().reading() as tx:
            yield tx


@pytest.fixture
async def rig() -> tuple[Harness, CountingStorage]:
    storage = CountingStorage()
    harness = make_harness(storage)
    PrivacyDesk(harness.service, notifier=harness.side.relay).install()
    return harness, storage


_keys = itertools.count(9000)


async def transactions_of(
    harness: Harness, storage: CountingStorage, person: PersonId, event: Input
) -> int:
    """The write transactions one input opened on its way through the real pipeline."""
    before = storage.count
    inbound = Inbound(person, event, "nl", key=f"telegram:{next(_keys)}")
    await harness.service.pipeline.handle(inbound)
    return storage.count - before


async def test_an_answer_and_a_flow_button_cost_one_transaction(
    rig: tuple[Harness, CountingStorage],
) -> None:
    harness, storage = rig
    now = harness.clock.now()
    assert await transactions_of(harness, storage, NEWCOMER, CommandReceived("start", "", now))
    pressed = ButtonPressed("welcome=start", now)
    assert await transactions_of(harness, storage, NEWCOMER, pressed) == 1
    typed = TextReceived("Ik zoek werk en ik heb schulden", now)
    assert await transactions_of(harness, storage, NEWCOMER, typed) == 1
    # The answers really went in (a count of zero work would also be cheap).
    async with storage.transaction() as tx:
        session = await tx.sessions.get(NEWCOMER)
    assert session is not None and session.answer("own_words") is not None


async def test_a_service_button_costs_its_handlers_transaction_only(
    rig: tuple[Harness, CountingStorage],
) -> None:
    harness, storage = rig
    now = harness.clock.now()
    await transactions_of(harness, storage, NEWCOMER, CommandReceived("start", "", now))
    withdraw = ButtonPressed("privacy=withdraw:health", now)
    assert await transactions_of(harness, storage, NEWCOMER, withdraw) == 1
    async with storage.transaction() as tx:
        current = await tx.consents.current(NEWCOMER)
    assert current["health"].given is False


async def test_a_coach_desk_command_looks_the_coach_up_once(
    rig: tuple[Harness, CountingStorage],
) -> None:
    """The route stage finds the coach (with the dedupe read) and hands the desk what it
    found: a message to a case is relayed right there (one transaction); any other action is
    looked up in a read-only transaction and the desk's own is the only write."""
    harness, storage = rig
    coach = await harness.add_coach("Ann", chat=77)
    assert coach.person is not None
    await harness.submit()
    case = harness.case_of_card(coach)
    now = harness.clock.now()
    accept = ButtonPressed(f"case={case}:accept", now)
    reads = storage.reads
    assert await transactions_of(harness, storage, coach.person, accept) == 1
    assert storage.reads == reads + 1
    cases = CommandReceived("cases", "", now)
    assert await transactions_of(harness, storage, coach.person, cases) == 1
    assert f"#{case}" in harness.last_text(coach.person)
    written = TextReceived("Dag Sam, ik ben Ann", now)
    assert await transactions_of(harness, storage, coach.person, written) == 1
    assert harness.last_text(YOUNG).endswith("Dag Sam, ik ben Ann")
    addressed = CommandReceived("case", f"{case} Tot morgen!", now)
    assert await transactions_of(harness, storage, coach.person, addressed) == 1
    assert harness.last_text(YOUNG).endswith("Tot morgen!")
    async with storage.transaction() as tx:
        kept = await tx.cases.messages_of(case)
    assert [m.text for m in kept if m.direction == "to_young"] == [
        "Dag Sam, ik ben Ann",
        "Tot morgen!",
    ]


async def test_a_young_persons_message_to_their_coach_costs_one_transaction(
    rig: tuple[Harness, CountingStorage],
) -> None:
    """The relay's in-transaction phase stores the text in the transaction that found the
    intake done; after the commit it goes to the coach."""
    harness, storage = rig
    coach = await harness.add_coach("Ann", chat=77)
    assert coach.person is not None
    await harness.submit()
    case = harness.case_of_card(coach)
    await harness.coach_presses(coach, f"case={case}:accept")
    written = TextReceived("Dag Ann, wanneer kunnen we praten?", harness.clock.now())
    assert await transactions_of(harness, storage, YOUNG, written) == 1
    assert harness.last_text(coach.person).endswith("Dag Ann, wanneer kunnen we praten?")
    async with storage.transaction() as tx:
        kept = await tx.cases.messages_of(case)
    assert [m.text for m in kept if m.direction == "to_coach"] == [written.text]


async def test_a_young_persons_service_command_costs_one_write(
    rig: tuple[Harness, CountingStorage],
) -> None:
    """A coach's chat takes every command, so the route stage looks the sender up; it does so
    in a read, and the command's handler writes once."""
    harness, storage = rig
    now = harness.clock.now()
    await transactions_of(harness, storage, NEWCOMER, CommandReceived("start", "", now))
    reads = storage.reads
    sent = len(harness.sent(NEWCOMER))
    assert (
        await transactions_of(harness, storage, NEWCOMER, CommandReceived("privacy", "", now)) == 1
    )
    assert storage.reads == reads + 1
    assert len(harness.sent(NEWCOMER)) > sent


async def test_a_start_with_a_referral_code_costs_one_transaction(
    rig: tuple[Harness, CountingStorage],
) -> None:
    """``/start <code>``: the referral router reads the code and starts the intake in its
    claim, the pipeline's one transaction for the input; no read before it. The same for an
    unknown code (a kind word, then the normal start) and a coach's invitation (asked)."""
    harness, storage = rig

    async def username() -> str:
        return "opstap_test_bot"

    side = harness.side
    harness.service.add(Referrals(harness.service, side.handoff, username, desk=side.desk))
    now = harness.clock.now()
    async with storage.transaction() as tx:
        await referrals_of(tx).add_link(ReferralLink("r_poster0001", PARTNERSHIP, "bib", now))
    reads = storage.reads
    followed = CommandReceived("start", "r_poster0001", now)
    assert await transactions_of(harness, storage, NEWCOMER, followed) == 1
    assert storage.reads == reads
    async with storage.transaction() as tx:
        session = await tx.sessions.get(NEWCOMER)
        arrivals = await referrals_of(tx).arrivals_of(NEWCOMER)
    assert session is not None and session.answer("referral_partnership") == PARTNERSHIP
    assert [(a.kind, a.source) for a in arrivals] == [("link", "bib")]
    assert harness.sent(NEWCOMER)

    stranger = PersonId("tg:5252")
    unknown = CommandReceived("start", "r_doesnotexist", now)
    assert await transactions_of(harness, storage, stranger, unknown) == 1
    assert len(harness.sent(stranger)) >= 2  # the kind word, then the welcome

    coach = await harness.add_coach("Sara", chat=501)
    assert coach.person is not None
    await harness.coach_command(coach, "uitnodigen")
    code = harness.last_text(coach.person).split("?start=", 1)[1].split()[0]
    invited = PersonId("tg:5353")
    opened = CommandReceived("start", code, now)
    assert await transactions_of(harness, storage, invited, opened) == 1
    assert "Sara van CAW Oost-Brabant nodigt je uit" in harness.last_text(invited)
    assert storage.reads == reads
