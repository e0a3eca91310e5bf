"""A coach's personal invitation accepted goes through the outbox (issue #16, deliverable 2):
the coach's "is van jou" (with what extensions add to it) and the young person's welcome are
written with the acceptance, so a kill between its commit and the send delays them, never
loses them; without a kill each is sent once."""

from __future__ import annotations

from bot.referral.feature import Referrals
from flows.ids import PersonId
from flows.inputs import CommandReceived
from storage.memory import MemoryStorage
from storage.ports import Storage
from storage.routing_port import CoachRecord
from tests.bot.fakes import killed_at_first_send
from tests.routing2.conftest import YOUNG, Harness, make_harness


async def invited(storage: Storage, capacity: int = 5) -> tuple[Harness, CoachRecord]:
    """Sara invites; the young person opens the link and is asked."""
    h = make_harness(storage)

    async def username() -> str:
        return "opstap_test_bot"

    h.service.add(Referrals(h.service, h.side.handoff, username, desk=h.side.desk))
    sara = await h.add_coach("Sara", chat=501, capacity=capacity)
    assert sara.person is not None
    await h.coach_command(sara, "uitnodigen")
    code = h.last_text(sara.person).split("?start=", 1)[1].split()[0]
    await h.service.handle(YOUNG, CommandReceived("start", code, h.clock.now()))
    assert "Sara van CAW Oost-Brabant nodigt je uit" in h.last_text(YOUNG)
    await h.service.relay.flush()
    return h, sara


async def restart(storage: Storage) -> Harness:
    again = make_harness(storage)
    await again.service.relay.sweep(everything=True)
    return again


async def test_a_kill_after_accepting_an_invitation_still_tells_both() -> None:
    storage = MemoryStorage()
    h, sara = await invited(storage)
    coach: PersonId | None = sara.person
    assert coach is not None
    await killed_at_first_send(h.service.channels, h.young_presses("invite=yes"))
    case = await h.case()
    assert case is not None and case.status == "open"  # committed before the kill

    again = await restart(storage)
    young = again.texts(YOUNG)
    assert len(young) == 1 and "Goed nieuws! Sara van CAW Oost-Brabant" in young[0]
    told = again.texts(coach)
    assert told and f"Dossier #{case.id} is van jou" in told[0]


async def test_an_accepted_invitation_without_a_kill_is_sent_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    h, sara = await invited(storage)
    assert sara.person is not None
    before_young, before_coach = len(h.texts(YOUNG)), len(h.texts(sara.person))
    await h.young_presses("invite=yes")
    await h.service.relay.flush()
    young = h.texts(YOUNG)[before_young:]
    assert len(young) == 1 and "Goed nieuws! Sara van CAW Oost-Brabant" in young[0]
    assert len(h.texts(sara.person)) > before_coach
    after = await restart(storage)
    assert after.sent(YOUNG) == [] and after.sent(sara.person) == []


async def test_a_kill_after_connecting_to_a_full_coach_still_tells_both() -> None:
    """The coach is full: the offer stays theirs, and their "full" with the card and the young
    person's "you will hear when" are written with the connection."""
    storage = MemoryStorage()
    h, sara = await invited(storage, capacity=0)
    coach: PersonId | None = sara.person
    assert coach is not None
    await killed_at_first_send(h.service.channels, h.young_presses("invite=yes"))
    case = await h.case()
    assert case is not None and case.status == "offered"  # committed before the kill

    again = await restart(storage)
    young = again.texts(YOUNG)
    assert len(young) == 1 and "Boest! Your Future" in young[0]
    told = again.texts(coach)
    assert any(f"Dossier #{case.id}: je hebt al 0 van 0" in t for t in told)
    assert again.case_of_card(sara) == case.id


async def test_a_full_coach_without_a_kill_is_told_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    h, sara = await invited(storage, capacity=0)
    assert sara.person is not None
    before_young = len(h.texts(YOUNG))
    await h.young_presses("invite=yes")
    await h.service.relay.flush()
    young = h.texts(YOUNG)[before_young:]
    assert len(young) == 1 and "Boest! Your Future" in young[0]
    assert h.case_of_card(sara) is not None
    after = await restart(storage)
    assert after.sent(YOUNG) == [] and after.sent(sara.person) == []
