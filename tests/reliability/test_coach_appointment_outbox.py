"""The coach's own appointment buttons go through the outbox (issue #16, deliverable 2): a
proposal ("Versturen") and a cancellation are written with the appointment's change, so a kill
between the commit and the send delays the messages to the young person and the coach's
confirmation, never loses them; without a kill each is sent once. The same for the young
person's "cancelled" when closing a case cancels a planned appointment."""

from __future__ import annotations

import asyncio

from bot.service import OutgoingMessage
from flows.booking import Draft
from flows.ids import CaseId, PersonId
from storage.memory import MemoryStorage
from tests.appointments.conftest import AppointmentHarness, buttons_of, make, option
from tests.bot.fakes import RecordingChannel, killed_at_first_send
from tests.reliability.test_appointment_outbox import restart
from tests.routing2.conftest import YOUNG


async def killed_while_coach_presses(h: AppointmentHarness, value: str) -> None:
    await killed_at_first_send(h.base.service.channels, h.coach_presses(value))


def send_value(case: CaseId) -> str:
    return Draft(case, (option(2026, 11, 26, 14),)).to("send").value()


async def test_a_kill_after_sending_a_proposal_still_tells_both() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    await h.base.service.relay.flush()
    await killed_while_coach_presses(h, send_value(h.case))
    async with storage.transaction() as tx:
        [stored] = await tx.appointments.of_case(h.case)
    assert stored.status == "proposed"  # committed before the kill

    again = await restart(storage)
    [proposal] = again.sent(YOUNG)
    assert proposal.text.startswith("Lotte stelt een afspraak voor.")
    assert f"appt={stored.id}:pick:0" in buttons_of(proposal)
    told = again.texts(h.me)
    assert len(told) == 1 and f"Dossier #{h.case} · Voorstel verstuurd naar Sam" in told[0]


async def test_a_proposal_without_a_kill_is_sent_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    before_young, before_coach = len(h.to(YOUNG)), len(h.to(h.me))
    await h.coach_presses(send_value(h.case))
    await h.base.service.relay.flush()
    assert len(h.to(YOUNG)) == before_young + 1
    assert len(h.to(h.me)) == before_coach + 1
    after = await restart(storage)
    assert after.sent(YOUNG) == [] and after.sent(h.me) == []


async def test_a_kill_after_cancelling_still_tells_both() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    appointment = await h.book(option(2026, 11, 26, 14))
    await h.base.service.relay.flush()
    await killed_while_coach_presses(h, f"apc={appointment}:cancel")
    async with storage.transaction() as tx:
        stored = await tx.appointments.get(appointment)  # type: ignore[arg-type]
    assert stored is not None and stored.status == "cancelled"

    again = await restart(storage)
    young = again.texts(YOUNG)
    assert len(young) == 1
    assert young[0].startswith("Je afspraak van donderdag 26 november om 14:00 gaat niet door.")
    told = again.texts(h.me)
    assert len(told) == 1 and "Afspraak geannuleerd" in told[0]


async def test_a_cancel_without_a_kill_is_sent_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    appointment = await h.book(option(2026, 11, 26, 14))
    before_young, before_coach = len(h.to(YOUNG)), len(h.to(h.me))
    await h.coach_presses(f"apc={appointment}:cancel")
    await h.base.service.relay.flush()
    assert len(h.to(YOUNG)) == before_young + 1
    assert len(h.to(h.me)) == before_coach + 1
    after = await restart(storage)
    assert after.sent(YOUNG) == [] and after.sent(h.me) == []


class HangsOnCancelled(RecordingChannel):
    """Sends everything but the young person's "cancelled": the process dies while sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = asyncio.Event()

    async def deliver(self, person: PersonId, message: OutgoingMessage) -> None:
        if message.text.startswith(CANCELLED):
            self.sending.set()
            await asyncio.Event().wait()
        await super().deliver(person, message)


CANCELLED = "Je afspraak van donderdag 26 november om 14:00 gaat niet door."


async def test_a_kill_after_closing_still_cancels_the_appointment_to_the_young_person() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    await h.book(option(2026, 11, 26, 14))
    hangs = HangsOnCancelled()
    h.base.service.channels["tg"] = hangs  # type: ignore[index]
    task = asyncio.ensure_future(h.coach_presses(f"case={h.case}:close:work"))
    await asyncio.wait_for(hangs.sending.wait(), timeout=10)
    # The close's own messages went out before: written back as sent, so only the
    # cancellation is left.
    await h.base.service.relay.flush()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    async with storage.transaction() as tx:
        [stored] = await tx.appointments.of_case(h.case)
    assert stored.status == "cancelled"  # committed before the kill

    again = await restart(storage)
    young = again.texts(YOUNG)
    assert len(young) == 1 and young[0].startswith(CANCELLED)
    assert again.sent(h.me) == []


async def test_closing_without_a_kill_cancels_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    h = await make(storage=storage)
    await h.book(option(2026, 11, 26, 14))
    await h.coach_presses(f"case={h.case}:close:work")
    await h.base.service.relay.flush()
    assert len([t for t in h.texts(YOUNG) if t.startswith(CANCELLED)]) == 1
    after = await restart(storage)
    assert after.sent(YOUNG) == [] and after.sent(h.me) == []
