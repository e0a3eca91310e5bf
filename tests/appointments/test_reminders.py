"""Reminders with an injected clock: wording, quiet hours and the safety hold per automatic kind,
daylight saving, a restart with overdue reminders, moved and cancelled appointments, missed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.appointments.wiring import install_appointments
from bot.safety.alerts import CaseOnDuty, FallbackOnDuty, SafetyNet
from bot.safety.helplines import load_helplines
from bot.safety.responder import HelpLineResponder
from bot.scheduler import ReminderTick
from bot.settings import load_settings
from flows.ids import PersonId, ReminderKey
from storage.migrate import upgrade
from storage.sql import open_storage
from tests.appointments.conftest import (
    YOUNG,
    AppointmentHarness,
    buttons_of,
    local,
    make,
    option,
)
from tests.routing2.conftest import make_harness, translator


async def due_now(h: AppointmentHarness, prefix: str) -> str:
    """Make the young person's pending reminder starting with ``prefix`` due at the clock's
    time (as if it had been planned for now); returns its key."""
    [row] = [r for r in await h.pending() if r.key.startswith(prefix)]
    async with h.storage.transaction() as tx:
        await tx.reminders.schedule(YOUNG, row.key, h.clock.now(), 0)
    return row.key


async def lead_state(h: AppointmentHarness) -> str:
    appointment = await h.book(option(2026, 11, 30, 14))
    return f"appt:{appointment}:r1:lead:86400"


async def missed_state(h: AppointmentHarness) -> str:
    appointment = await h.book(option(2026, 11, 25, 14))
    h.clock.set(local(2026, 11, 25, 15, 30))
    await h.coach_presses(f"apc={appointment}:missed")
    return f"appt:{appointment}:r1:missed"


async def checkin_state(h: AppointmentHarness) -> str:
    return f"followup.{h.case}.checkin"


async def three_months_state(h: AppointmentHarness) -> str:
    return f"followup.{h.case}.rerate.three_months"


async def closing_state(h: AppointmentHarness) -> str:
    await h.coach_presses(f"case={h.case}:close:work")
    return f"followup.{h.case}.rerate.closing"


KINDS: dict[str, Callable[[AppointmentHarness], Awaitable[str]]] = {
    "lead": lead_state,
    "missed_nudge": missed_state,
    "checkin": checkin_state,
    "three_months": three_months_state,
    "closing": closing_state,
}
NIGHT = local(2026, 11, 26, 23, 0)
MORNING = local(2026, 11, 27, 8, 0)


# --- wording and buttons ------------------------------------------------------------------


async def test_a_lead_reminder_names_neither_the_service_nor_a_problem(
    h: AppointmentHarness,
) -> None:
    appointment = await h.book(option(2026, 11, 26, 14))
    h.clock.set(local(2026, 11, 25, 13, 59))
    assert await h.run_tick() == 0
    h.clock.set(local(2026, 11, 25, 14, 0))
    before = len(h.to(YOUNG))
    assert await h.run_tick() == 1
    [reminder] = h.to(YOUNG)[before:]
    first_line = reminder.text.split("\n")[0]
    assert first_line == "Je hebt morgen om 14:00 een afspraak."
    assert "Opstap" not in reminder.text
    assert (
        "Met Lotte.\n📍 Onthaal Leuven (placeholder), Voorbeeldstraat 1, 3000 Leuven"
        in reminder.text
    )
    assert [label for row in reminder.buttons for label, _ in row] == [
        "Ik kom",
        "Ik kan niet, andere afspraak",
    ]
    assert buttons_of(reminder) == [f"appt={appointment}:come", f"appt={appointment}:cannot"]
    h.clock.set(local(2026, 11, 26, 12, 0))
    assert await h.run_tick() == 1
    assert h.last(YOUNG).text.startswith("Je hebt vandaag om 14:00 een afspraak.")


async def test_the_reminder_is_in_the_young_persons_language() -> None:
    h = await make()
    async with h.storage.transaction() as tx:
        session = await tx.sessions.get(YOUNG)
        assert session is not None
        await tx.sessions.save(
            replace(session, language="fr", version=session.version + 1),
            expected_version=session.version,
        )
    await h.book(option(2026, 11, 26, 14))
    h.clock.set(local(2026, 11, 25, 14, 0))
    await h.run_tick()
    assert h.last(YOUNG).text.startswith("Tu as un rendez-vous demain à 14:00.")
    assert [label for row in h.last(YOUNG).buttons for label, _ in row] == [
        "Je viens",
        "Je ne peux pas, autre moment",
    ]


async def test_i_come_tells_the_coach(h: AppointmentHarness) -> None:
    appointment = await h.book(option(2026, 11, 26, 14))
    h.clock.set(local(2026, 11, 25, 14))
    await h.run_tick()
    await h.young_presses(f"appt={appointment}:come")
    assert h.last(YOUNG).text == "Fijn! Tot dan."
    assert "Sam bevestigt: komt morgen om 14:00" in h.last(h.me).text


async def test_i_cannot_tells_the_coach_and_the_later_reminder_never_goes(
    h: AppointmentHarness,
) -> None:
    appointment = await h.book(option(2026, 11, 26, 14))
    h.clock.set(local(2026, 11, 25, 14))
    await h.run_tick()
    await h.young_presses(f"appt={appointment}:cannot")
    assert "We zeggen het tegen Lotte" in h.last(YOUNG).text
    told = h.last(h.me)
    assert "Sam kan niet komen op morgen om 14:00" in told.text
    assert buttons_of(told) == [f"apb={h.case}::d"]
    assert not [r for r in await h.pending() if r.key.startswith("appt:")]
    before = len(h.to(YOUNG))
    h.clock.set(local(2026, 11, 26, 12))
    assert await h.run_tick() == 0
    assert len(h.to(YOUNG)) == before


# --- moved and cancelled: old rows never go out ---------------------------------------------


@pytest.mark.parametrize("how", ["cancelled", "moved"])
async def test_a_row_of_a_moved_or_cancelled_appointment_is_never_sent(
    h: AppointmentHarness, how: str
) -> None:
    appointment = await h.book(option(2026, 11, 26, 14))
    if how == "cancelled":
        await h.coach_presses(f"apc={appointment}:cancel")
    else:
        await h.book(option(2026, 11, 27, 10))
    # A row of the old revision that somehow stayed pending (another process scheduled it).
    async with h.storage.transaction() as tx:
        await tx.reminders.schedule(
            YOUNG, ReminderKey(f"appt:{appointment}:r1:lead:86400"), local(2026, 11, 25, 14), 0
        )
    h.clock.set(local(2026, 11, 25, 14))
    before = len(h.to(YOUNG))
    await h.run_tick()
    assert not [
        m for m in h.to(YOUNG)[before:] if "donderdag 26" in m.text or "morgen om 14:00" in m.text
    ]
    async with h.storage.transaction() as tx:
        rows = [
            r
            for r in await tx.reminders.all_of(YOUNG)
            if r.key == f"appt:{appointment}:r1:lead:86400"
        ]
    assert {r.status for r in rows} <= {"cancelled", "sent"}


# --- quiet hours and the safety hold, per automatic kind ------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_nothing_automatic_reaches_the_young_person_at_night(kind: str) -> None:
    h = await make()
    key = await KINDS[kind](h)
    h.clock.set(NIGHT)
    await due_now(h, key)
    before = len(h.to(YOUNG))
    assert await h.run_tick() == 0
    assert len(h.to(YOUNG)) == before
    [row] = [r for r in await h.pending() if r.key == key]
    assert row.due_at == MORNING and row.attempts == 0
    h.clock.set(local(2026, 11, 27, 7, 59))
    assert await h.run_tick() == 0
    h.clock.set(MORNING)
    assert await h.run_tick() == 1
    assert len(h.to(YOUNG)) == before + 1


def safety_hold(h: AppointmentHarness) -> SafetyNet:
    responder = HelpLineResponder(translator(), load_helplines())
    return SafetyNet(h.base.service, responder, CaseOnDuty(h.storage, FallbackOnDuty(None)))


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_an_open_safety_event_pauses_every_automatic_kind(kind: str) -> None:
    h = await make()
    h.holds = (safety_hold(h).hold,)
    key = await KINDS[kind](h)
    h.clock.set(local(2026, 11, 26, 11, 0))
    await due_now(h, key)
    async with h.storage.transaction() as tx:
        event, _ = await tx.safety.open_or_get(YOUNG, "suicide", h.clock.now())
    before = len(h.to(YOUNG))
    assert await h.run_tick() == 0
    assert len(h.to(YOUNG)) == before
    [row] = [r for r in await h.pending() if r.key == key]
    assert row.due_at > h.clock.now()  # deferred, not dropped
    h.clock.advance(timedelta(hours=1))
    assert await h.run_tick() == 0  # still open: still waiting
    async with h.storage.transaction() as tx:
        await tx.safety.close(event.id, PersonId("tg:5001"), h.clock.now())
    h.clock.advance(timedelta(hours=1))
    assert await h.run_tick() == 1
    assert len(h.to(YOUNG)) == before + 1


# --- daylight saving ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days_before", "real_hours", "said"),
    [
        # Spring forward on Sunday 29 March 2026: from Saturday 10:00 to Monday 10:00 on the
        # wall is 47 real hours.
        ((2026, 3, 30, 10), (2026, 3, 28, 10), 47, "maandag 30 maart om 10:00"),
        # Fall back on Sunday 25 October 2026: 49 real hours.
        ((2026, 10, 26, 10), (2026, 10, 24, 10), 49, "maandag 26 oktober om 10:00"),
    ],
)
async def test_whole_day_leads_keep_the_wall_clock_time_across_dst(
    start: tuple[int, int, int, int],
    days_before: tuple[int, int, int, int],
    real_hours: int,
    said: str,
) -> None:
    h = await make(at=local(start[0], start[1], start[2] - 7, 10), leads="48h,2h")
    await h.book(option(*start))
    due = local(*days_before)
    assert local(*start) - due == timedelta(hours=real_hours)
    h.clock.set(due - timedelta(minutes=1))
    before = len(h.to(YOUNG))
    await h.run_tick()  # (the check-in falls due too: there is an appointment, so it is quiet)
    assert len(h.to(YOUNG)) == before
    h.clock.set(due)
    await h.run_tick()
    [reminder] = h.to(YOUNG)[before:]
    assert reminder.text.startswith(f"Je hebt {said} een afspraak.")


async def test_hour_leads_are_real_time_across_dst() -> None:
    # Monday 30 March 09:00 with a 25-hour lead: Sunday 08:00 CEST, 25 real hours before.
    h = await make(at=local(2026, 3, 24, 10), leads="25h")
    await h.book(option(2026, 3, 30, 9))
    h.clock.set(local(2026, 3, 29, 7, 59))
    assert await h.run_tick() == 0
    h.clock.set(local(2026, 3, 29, 8, 0))
    assert await h.run_tick() == 1
    assert h.last(YOUNG).text.startswith("Je hebt morgen om 09:00 een afspraak.")


async def test_a_morning_reminder_on_the_dst_day_waits_for_eight_local() -> None:
    # Monday 30 March 2026 08:30: the 2-hour lead is 06:30 local, inside quiet hours.
    h = await make(at=local(2026, 3, 24, 10))
    appointment = await h.book(option(2026, 3, 30, 8, 30))
    h.clock.set(local(2026, 3, 29, 8, 30))
    await h.run_tick()  # the day before
    before = len(h.to(YOUNG))
    h.clock.set(local(2026, 3, 30, 6, 30))
    await h.run_tick()
    assert len(h.to(YOUNG)) == before
    [row] = [r for r in await h.pending() if r.key == f"appt:{appointment}:r1:lead:7200"]
    assert (
        row.due_at
        == local(2026, 3, 30, 8, 0)
        == datetime.fromisoformat("2026-03-30T06:00:00+00:00")
    )
    h.clock.set(row.due_at)
    await h.run_tick()
    [reminder] = h.to(YOUNG)[before:]
    assert reminder.text.startswith("Je hebt vandaag om 08:30 een afspraak.")


# --- a restart with overdue reminders -------------------------------------------------------


async def test_after_a_restart_only_the_last_due_lead_goes_and_nothing_after_the_start(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    first = await open_storage(url)
    h = await make(storage=first)
    appointment = await h.book(option(2026, 11, 26, 14))
    # The service goes down on Wednesday 13:00 and comes back on Thursday 12:30: both leads
    # (Wednesday 14:00 and Thursday 12:00) are overdue. A new process, a new tick.
    await first.close()
    second = await open_storage(url)
    base = make_harness(second)
    base.clock.set(local(2026, 11, 26, 12, 30))
    settings = load_settings({"OPSTAP_REMINDER_LEADS": "24h,2h"}, env_file=None)
    side = install_appointments(
        base.service,
        settings,
        directory=base.side.handoff.directory,
        holidays=base.side.handoff.holidays,
    )
    tick = ReminderTick(
        second,
        base.service,
        base.clock,
        worker="after-restart",
        handlers=(base.side.handoff.on_reminder, *side.handlers),
    )
    try:
        assert await tick.run_once() == 2  # both handled ...
        texts = base.texts(YOUNG)
        assert texts == [t for t in texts if t.startswith("Je hebt vandaag om 14:00")]
        assert len(texts) == 1  # ... one sent: "tomorrow" after "today" would confuse
        # Down again until after the start: no lead reminder, but the coach is asked.
        base.clock.set(local(2026, 11, 26, 15, 30))
        assert await tick.run_once() == 1
        assert len(base.texts(YOUNG)) == 1
        asked = base.sent(PersonId("tg:5001"))[-1]
        assert "Kwam Sam naar de afspraak van vandaag om 14:00?" in asked.text
        assert buttons_of(asked) == [f"apc={appointment}:{a}" for a in ("came", "missed", "moved")]
    finally:
        await second.close()


async def test_a_lead_reminder_overdue_past_the_start_is_not_sent(h: AppointmentHarness) -> None:
    await h.book(option(2026, 11, 26, 14))
    h.clock.set(local(2026, 11, 26, 14, 5))
    before = len(h.to(YOUNG))
    assert await h.run_tick() == 2
    assert len(h.to(YOUNG)) == before


# --- attendance and missed ------------------------------------------------------------------


async def attended(h: AppointmentHarness, start: tuple[int, int, int, int], outcome: str) -> int:
    appointment = await h.book(option(*start))
    h.clock.set(local(*start) + timedelta(hours=1))
    await h.run_tick()
    assert "Kwam Sam naar de afspraak" in h.last(h.me).text
    await h.coach_presses(f"apc={appointment}:{outcome}")
    return appointment


async def test_missed_gets_a_kind_nudge_with_one_tap_rescheduling(h: AppointmentHarness) -> None:
    appointment = await attended(h, (2026, 11, 26, 14), "missed")
    assert "Genoteerd: Sam kwam niet" in h.last(h.me).text
    h.clock.advance(timedelta(hours=1, minutes=59))
    before = len(h.to(YOUNG))
    await h.run_tick()
    assert len(h.to(YOUNG)) == before
    h.clock.advance(timedelta(minutes=1))
    await h.run_tick()
    nudge = h.last(YOUNG)
    assert nudge.text.startswith("We hebben je gemist op je afspraak met Lotte. Geen probleem!")
    assert buttons_of(nudge) == [f"appt={appointment}:other:1"]
    await h.young_presses(f"appt={appointment}:other:1")
    assert "Sam vraagt een ander moment" in h.last(h.me).text
    # A second tap on the same nudge does not bother the coach again.
    told = len(h.to(h.me))
    await h.young_presses(f"appt={appointment}:other:1")
    assert h.last(YOUNG).text.startswith("Deze knop werkt niet meer")
    assert len(h.to(h.me)) == told


async def test_two_missed_in_a_row_tell_the_coach_and_nudges_stop(h: AppointmentHarness) -> None:
    await attended(h, (2026, 11, 26, 14), "missed")
    second = await attended(h, (2026, 11, 30, 10), "missed")
    told = h.last(h.me)
    assert "Sam kwam twee keer na elkaar niet" in told.text
    assert "geen automatische berichten meer" in told.text
    assert not [r for r in await h.pending() if r.key.startswith(f"appt:{second}:")]
    # The three-month re-rating is an automatic nudge too: it does not go either.
    h.clock.set(local(2027, 2, 24, 10, 0))
    before = len(h.to(YOUNG))
    await h.run_tick()
    assert len(h.to(YOUNG)) == before


async def test_came_resets_the_count(h: AppointmentHarness) -> None:
    await attended(h, (2026, 11, 26, 14), "missed")
    await attended(h, (2026, 11, 30, 10), "came")
    assert "Genoteerd: Sam kwam." in h.last(h.me).text
    third = await attended(h, (2026, 12, 2, 10), "missed")
    assert "kwam twee keer" not in h.last(h.me).text
    assert [r for r in await h.pending() if r.key == f"appt:{third}:r1:missed"]


async def test_an_attendance_answer_twice_counts_once(h: AppointmentHarness) -> None:
    appointment = await attended(h, (2026, 11, 26, 14), "came")
    await h.coach_presses(f"apc={appointment}:missed")
    assert "Deze knop werkt niet meer" in h.last(h.me).text
    async with h.storage.transaction() as tx:
        [stored] = await tx.appointments.of_case(h.case)
    assert stored.status == "attended" and stored.missed_in_row == 0
