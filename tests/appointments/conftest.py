"""An appointment harness: the coach-side harness (memory storage, real catalogs and intake flow,
a frozen clock, a recording channel) with the appointment feature installed as ``bot/runtime.py``
installs it, and a reminder tick with the runtime's handlers.

Times are Brussels wall-clock times (:func:`tests.routing2.conftest.local`); the harness starts
on Tuesday 24 November 2026 at 10:00. A coach's button goes to the coach desk first and, when
the desk passes it on, to the service's button handlers, as the Telegram front door does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import pytest

from bot.appointments.wiring import AppointmentSide, install_appointments
from bot.clock import FrozenClock
from bot.inbound import Inbound
from bot.scheduler import ReminderHold, ReminderTick
from bot.service import OutgoingMessage
from bot.settings import load_settings
from flows.booking import Draft, Option
from flows.ids import CaseId, PersonId
from flows.inputs import ButtonPressed, CommandReceived
from storage.ports import ReminderRecord, Storage
from storage.routing_port import CoachRecord
from tests.routing2.conftest import YOUNG, Harness, local, make_harness

__all__ = ["YOUNG", "AppointmentHarness", "buttons_of", "local", "make", "option"]


def buttons_of(message: OutgoingMessage) -> list[str]:
    return [value for row in message.buttons for _, value in row]


@dataclass
class AppointmentHarness:
    base: Harness
    side: AppointmentSide
    coach: CoachRecord
    case: CaseId
    holds: tuple[ReminderHold, ...] = ()

    @property
    def storage(self) -> Storage:
        return self.base.storage

    @property
    def clock(self) -> FrozenClock:
        return self.base.clock

    @property
    def me(self) -> PersonId:
        assert self.coach.person is not None
        return self.coach.person

    def to(self, person: PersonId) -> list[OutgoingMessage]:
        return self.base.sent(person)

    def last(self, person: PersonId) -> OutgoingMessage:
        return self.to(person)[-1]

    def texts(self, person: PersonId) -> list[str]:
        return self.base.texts(person)

    # --- acting ---------------------------------------------------------------------------

    async def coach_presses(self, value: str) -> None:
        pressed = ButtonPressed(value, self.clock.now())
        if not await self.base.side.desk.route(Inbound(self.me, pressed, "nl")):
            await self.base.service.handle(self.me, pressed, language_hint="nl")

    async def coach_command(self, name: str, args: str = "") -> None:
        command = CommandReceived(name, args, self.clock.now())
        assert await self.base.side.desk.route(Inbound(self.me, command, "nl"))

    async def young_presses(self, value: str, person: PersonId = YOUNG) -> None:
        await self.base.service.handle(person, ButtonPressed(value, self.clock.now()))

    async def propose(self, *options: Option) -> int:
        """The coach sends these options (as the overview's "Versturen" button would);
        returns the new appointment's id."""
        before = len(self.to(YOUNG))
        await self.coach_presses(Draft(self.case, tuple(options)).to("send").value())
        proposal = self.to(YOUNG)[before]
        pick = next(v for v in buttons_of(proposal) if ":pick:" in v)
        return int(pick.partition("=")[2].partition(":")[0])

    async def book(self, *options: Option, choice: int = 0) -> int:
        appointment_id = await self.propose(*options)
        await self.young_presses(f"appt={appointment_id}:pick:{choice}")
        return appointment_id

    def tick(self, *, worker: str = "test", storage: Storage | None = None) -> ReminderTick:
        return ReminderTick(
            storage or self.storage,
            self.base.service,
            self.clock,
            worker=worker,
            handlers=(self.base.side.handoff.on_reminder, *self.side.handlers),
            holds=self.holds,
        )

    async def run_tick(self) -> int:
        return await self.tick().run_once()

    async def pending(self, person: PersonId = YOUNG) -> list[ReminderRecord]:
        async with self.storage.transaction() as tx:
            return await tx.reminders.pending(person)


def option(year: int, month: int, day: int, hour: int, minute: int = 0, place: str = "0") -> Option:
    return Option(date(year, month, day), time(hour, minute), place)


async def make(
    *,
    at: datetime | None = None,
    leads: str = "24h,2h",
    checkin_days: str = "5",
    storage: Storage | None = None,
) -> AppointmentHarness:
    """A young person from Kessel-Lo whose case coach Lotte accepted."""
    base = make_harness(storage)
    if at is not None:
        base.clock.set(at)
    settings = load_settings(
        {"OPSTAP_REMINDER_LEADS": leads, "OPSTAP_CHECKIN_DAYS": checkin_days}, env_file=None
    )
    side = install_appointments(
        base.service,
        settings,
        directory=base.side.handoff.directory,
        holidays=base.side.handoff.holidays,
    )
    base.side.desk.extensions.append(side.desk)
    coach = await base.add_coach(
        "Lotte", chat=5001, domains=("work", "money"), organisation="JAC Leuven"
    )
    await base.submit()
    case_id = base.case_of_card(coach)
    await base.coach_presses(coach, f"case={case_id}:accept")
    coach = await base.coach(coach.id)
    return AppointmentHarness(base, side, coach, case_id)


@pytest.fixture
async def h() -> AppointmentHarness:
    return await make()
