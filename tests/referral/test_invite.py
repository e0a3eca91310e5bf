"""A coach's personal invitation on the coach-side harness (memory storage, frozen clock)."""

from __future__ import annotations

from datetime import timedelta

from bot.referral.feature import Referrals
from flows.ids import PersonId
from flows.inputs import CommandReceived
from tests.routing2.conftest import YOUNG, Harness, make_harness


async def installed(harness: Harness) -> Referrals:
    async def username() -> str:
        return "opstap_test_bot"

    feature = Referrals(harness.service, harness.side.handoff, username, desk=harness.side.desk)
    harness.service.add(feature)
    return feature


def code_in(text: str) -> str:
    return text.split("?start=", 1)[1].split()[0]


async def test_a_full_coach_keeps_the_offer_and_the_young_person_hears_when() -> None:
    h = make_harness()
    await installed(h)
    sara = await h.add_coach("Sara", chat=501, capacity=0)
    assert sara.person is not None
    await h.coach_command(sara, "uitnodigen")
    code = code_in(h.last_text(sara.person))
    await h.service.handle(YOUNG, _start(h, code))
    assert "Sara van CAW Oost-Brabant nodigt je uit" in h.last_text(YOUNG)
    await h.young_presses("invite=yes")
    case = await h.case()
    assert case is not None and case.status == "offered" and case.coach is None
    assert any(f"Dossier #{case.id}: je hebt al 0 van 0" in t for t in h.texts(sara.person))
    assert h.case_of_card(sara) == case.id
    assert "Boest! Your Future" in h.last_text(YOUNG)
    # The offer moves on at its deadline like any other.
    async with h.storage.transaction() as tx:
        pending = await tx.reminders.pending(YOUNG)
    assert [r.key for r in pending] == [f"handoff.{case.id}.offer.1"]


async def test_the_invitation_is_valid_14_days_by_the_services_clock() -> None:
    h = make_harness()
    await installed(h)
    sara = await h.add_coach("Sara", chat=501)
    assert sara.person is not None
    await h.coach_command(sara, "uitnodigen")
    code = code_in(h.last_text(sara.person))
    h.clock.set(h.clock.now() + timedelta(days=14) - timedelta(seconds=1))
    other = PersonId("tg:777")
    await h.service.handle(other, _start(h, code))
    assert "nodigt je uit" in h.last_text(other)
    h.clock.set(h.clock.now() + timedelta(seconds=1))
    # Expired now, also for the one who opened it.
    await h.young_presses("invite=yes", person=other)
    assert any("Deze uitnodiging werkt niet meer" in t for t in h.texts(other))
    assert await h.case(other) is None


def _start(h: Harness, code: str) -> CommandReceived:
    return CommandReceived("start", code, h.clock.now())


async def test_an_unknown_code_starts_normally_and_its_replies_leave_the_outbox() -> None:
    """The start after a kind word runs the engine (its replies are staged in the outbox with
    the session): once sent they are marked so, or the relay's sweep sends them again."""
    h = make_harness()
    await installed(h)
    await h.service.handle(YOUNG, _start(h, "r_doesnotexist"))
    texts = h.texts(YOUNG)
    assert len(texts) >= 2  # the kind word, then the welcome
    await h.service.relay.flush()
    async with h.storage.transaction() as tx:
        assert await tx.outbox.of(YOUNG) == []
    # Nothing is left for the sweep to send a second time.
    assert await h.service.relay.sweep(everything=True) == 0
    assert h.texts(YOUNG) == texts


async def test_an_accepted_invitation_ends_the_intake_through_the_engine() -> None:
    """ "Yes" to a coach's invitation: the intake is done (the engine's ``ConnectedToCoach``:
    the answers kept, the nudges gone) and the case is the coach's at once."""
    h = make_harness()
    await installed(h)
    sara = await h.add_coach("Sara", chat=501)
    assert sara.person is not None
    # The intake started: two answers, a nudge pending.
    await h.young_says("hallo")
    await h.young_presses("welcome=start")
    await h.young_says("Ik zoek werk")
    async with h.storage.transaction() as tx:
        before = await tx.sessions.get(YOUNG)
        nudges = [r.key for r in await tx.reminders.pending(YOUNG)]
    assert before is not None and before.step is not None and "nudge" in nudges
    await h.coach_command(sara, "uitnodigen")
    await h.service.handle(YOUNG, _start(h, code_in(h.last_text(sara.person))))
    await h.young_presses("invite=yes")
    async with h.storage.transaction() as tx:
        after = await tx.sessions.get(YOUNG)
        pending = [r.key for r in await tx.reminders.pending(YOUNG)]
    assert after is not None and after.step is None and after.status == "done"
    assert after.version > before.version and after.answers == before.answers
    assert "nudge" not in pending
    case = await h.case()
    assert case is not None and case.coach == sara.id
