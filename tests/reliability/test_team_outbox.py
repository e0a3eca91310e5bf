"""The team dashboard's appointment forms go through the outbox (issue #16): a proposal and
an attendance or cancellation made on the dashboard write the coach's answer (to their
Telegram chat) and the young person's message with the appointment's change, so a kill
between the commit and the send delays them, never loses them; without a kill each is sent
once, and a coach without a chat gets nothing while the young person still hears."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from bot.team.actions import TeamActions
from flows.appointments import AppointmentId
from storage.memory import MemoryStorage
from storage.routing_port import CaseRecord
from tests.appointments.conftest import AppointmentHarness, buttons_of, make, option
from tests.bot.fakes import killed_at_first_send
from tests.reliability.test_appointment_outbox import restart
from tests.routing2.conftest import YOUNG

PROPOSED = "Lotte stelt een afspraak voor."
CANCELLED = "Je afspraak van donderdag 26 november om 14:00 gaat niet door."


def actions(h: AppointmentHarness) -> TeamActions:
    return TeamActions(h.base.side.handoff, h.base.side.relay, h.side.booking)


async def case_of(h: AppointmentHarness) -> CaseRecord:
    async with h.storage.transaction() as tx:
        case = await tx.cases.get(h.case)
    assert case is not None
    return case


async def test_a_kill_after_proposing_on_the_dashboard_still_tells_both() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    await h.base.service.relay.flush()
    case = await case_of(h)
    form = [(date(2026, 11, 26), time(14, 0), "0")]
    await killed_at_first_send(h.base.service.channels, actions(h).propose(h.coach, case, form))
    async with storage.transaction() as tx:
        [stored] = await tx.appointments.of_case(h.case)
    assert stored.status == "proposed"  # committed before the kill

    again = await restart(storage)
    [proposal] = again.sent(YOUNG)
    assert proposal.text.startswith(PROPOSED)
    assert f"appt={stored.id}:pick:0" in buttons_of(proposal)
    told = again.texts(h.me)
    assert len(told) == 1 and f"Dossier #{h.case} · Voorstel verstuurd naar Sam" in told[0]


async def test_a_proposal_on_the_dashboard_without_a_kill_is_sent_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    before_young, before_coach = len(h.to(YOUNG)), len(h.to(h.me))
    form = [(date(2026, 11, 26), time(14, 0), "0")]
    assert await actions(h).propose(h.coach, await case_of(h), form) == "ok"
    await h.base.service.relay.flush()
    assert len(h.to(YOUNG)) == before_young + 1 and h.last(YOUNG).text.startswith(PROPOSED)
    assert len(h.to(h.me)) == before_coach + 1
    after = await restart(storage)
    assert after.sent(YOUNG) == [] and after.sent(h.me) == []


async def test_a_coach_without_a_chat_proposes_on_the_dashboard_and_the_young_person_hears() -> (
    None
):
    storage = MemoryStorage()
    h = await make(storage=storage)
    before_coach = len(h.to(h.me))
    form = [(date(2026, 11, 26), time(14, 0), "0")]
    no_chat = replace(h.coach, person=None)
    assert await actions(h).propose(no_chat, await case_of(h), form) == "ok"
    await h.base.service.relay.flush()
    assert h.last(YOUNG).text.startswith(PROPOSED)
    assert len(h.to(h.me)) == before_coach
    async with storage.transaction() as tx:
        assert (
            await tx.outbox.unsent(created_before=None, prefixes=("tg:", "team:"), limit=10) == []
        )


async def test_a_kill_after_cancelling_on_the_dashboard_still_tells_both() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    appointment = await h.book(option(2026, 11, 26, 14))
    await h.base.service.relay.flush()
    case = await case_of(h)
    cancel = actions(h).attendance(h.coach, case, int(appointment), "cancel")
    await killed_at_first_send(h.base.service.channels, cancel)
    async with storage.transaction() as tx:
        stored = await tx.appointments.get(AppointmentId(appointment))
    assert stored is not None and stored.status == "cancelled"  # committed before the kill

    again = await restart(storage)
    young = again.texts(YOUNG)
    assert len(young) == 1 and young[0].startswith(CANCELLED)
    told = again.texts(h.me)
    assert len(told) == 1 and "Afspraak geannuleerd" in told[0]


async def test_attendance_on_the_dashboard_without_a_kill_is_sent_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    appointment = await h.book(option(2026, 11, 26, 14))
    before_young, before_coach = len(h.to(YOUNG)), len(h.to(h.me))
    result = await actions(h).attendance(h.coach, await case_of(h), int(appointment), "cancel")
    assert result == "ok"
    await h.base.service.relay.flush()
    assert len(h.to(YOUNG)) == before_young + 1 and h.last(YOUNG).text.startswith(CANCELLED)
    assert len(h.to(h.me)) == before_coach + 1
    after = await restart(storage)
    assert after.sent(YOUNG) == [] and after.sent(h.me) == []
