"""A person is alerted: the team's alert, escalation, working hours, held reminders, closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.safety.alerts import ESCALATE, HELP_REQUEST, more_severe
from flows.ids import PersonId, ReminderKey
from flows.inputs import ButtonPressed, CommandReceived, TextReceived
from storage.ports import ReminderRecord
from tests.safety_net.conftest import (
    COACH,
    COORDINATOR,
    CRISIS,
    STRANGER,
    WEEKEND_NIGHT,
    WORKING,
    YOUNG,
    BrokenStorage,
    FakeOnDuty,
    Rig,
    buttons_of,
    make_rig,
)


async def flag(rig: Rig, text: str = CRISIS) -> None:
    await rig.service.handle(YOUNG, TextReceived(text, rig.clock.now()), language_hint="nl")


async def press(rig: Rig, person: PersonId, value: str) -> None:
    await rig.service.handle(person, ButtonPressed(value, rig.clock.now()), language_hint="nl")


async def reminders(rig: Rig, person: PersonId = YOUNG) -> list[ReminderRecord]:
    async with rig.storage.transaction() as tx:
        return await tx.reminders.all_of(person)


async def test_a_flag_alerts_the_coach_without_the_young_persons_words() -> None:
    rig = make_rig()
    await flag(rig)
    [alert] = rig.to(COACH)
    assert alert.crisis
    assert "#1" in alert.text and "zelfdoding" in alert.text and "10:00" in alert.text
    assert "zitten" not in alert.text
    assert buttons_of(alert) == ["safety=1:ack", "safety=1:close"]
    [event] = await rig.events()
    assert event.is_open and event.category == "suicide" and event.opened_at == WORKING
    # The young person: the crisis response first, then honestly who knows and when.
    first, told = rig.to(YOUNG)
    assert first.crisis and "1813" in first.text
    assert "verwittigd" in told.text and "17:00" in told.text
    assert "1813" in told.text and "112" in told.text
    assert rig.to(COORDINATOR) == []


async def test_the_crisis_reply_is_sent_before_the_team_is_alerted() -> None:
    rig = make_rig()
    await flag(rig)
    order = [person for person, _ in rig.channel.sent]
    assert order[0] == YOUNG
    assert order.index(YOUNG) < order.index(COACH)


async def test_unacknowledged_in_working_hours_the_coordinator_is_alerted_after_x_minutes() -> None:
    rig = make_rig(ack_minutes=15)
    await flag(rig)
    [escalation] = [r for r in await reminders(rig) if r.key == ESCALATE]
    assert escalation.due_at == WORKING + timedelta(minutes=15)
    rig.clock.advance(timedelta(minutes=14))
    await rig.tick.run_once()
    assert rig.to(COORDINATOR) == []
    rig.clock.advance(timedelta(minutes=2))
    await rig.tick.run_once()
    [alert] = rig.to(COORDINATOR)
    assert "#1" in alert.text and "15 minuten" in alert.text and alert.crisis
    assert buttons_of(alert) == ["safety=1:ack", "safety=1:close"]
    [event] = await rig.events()
    assert event.escalated_at == WORKING + timedelta(minutes=16)
    # Once.
    rig.clock.advance(timedelta(hours=1))
    await rig.tick.run_once()
    assert len(rig.to(COORDINATOR)) == 1


async def test_an_acknowledged_alert_is_not_escalated() -> None:
    rig = make_rig()
    await flag(rig)
    rig.clock.advance(timedelta(minutes=3))
    await press(rig, COACH, "safety=1:ack")
    acked = rig.to(COACH)[-1]
    assert "#1" in acked.text and buttons_of(acked) == ["safety=1:close"]
    rig.clock.advance(timedelta(minutes=30))
    await rig.tick.run_once()
    assert rig.to(COORDINATOR) == []
    [event] = await rig.events()
    assert event.acknowledged_by == COACH and event.is_open


async def test_late_in_the_day_the_minutes_count_on_the_next_working_day() -> None:
    rig = make_rig(at=datetime(2026, 11, 24, 15, 55, tzinfo=UTC))  # 16:55 in Brussels
    await flag(rig)
    [escalation] = [r for r in await reminders(rig) if r.key == ESCALATE]
    # 5 minutes today, 10 tomorrow from 09:00 (08:00 UTC).
    assert escalation.due_at == datetime(2026, 11, 25, 8, 10, tzinfo=UTC)


async def test_outside_working_hours_the_young_person_hears_when_a_person_reads_it() -> None:
    rig = make_rig(at=WEEKEND_NIGHT)
    await flag(rig)
    first, told = rig.to(YOUNG)
    assert first.crisis and "1813" in first.text
    assert "buiten onze werkuren" in told.text
    assert "maandag 30 november, 09:00" in told.text
    # The day-and-night options again.
    assert "1813" in told.text and "106" in told.text and "112" in told.text
    assert buttons_of(told) == ["safety=continue"]
    # The coach still gets the alert now (to read in the morning); escalation counts from 09:00.
    assert len(rig.to(COACH)) == 1
    [escalation] = [r for r in await reminders(rig) if r.key == ESCALATE]
    assert escalation.due_at == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


async def test_reminders_and_nudges_are_deferred_while_an_event_is_open() -> None:
    rig = make_rig()
    due = WORKING + timedelta(hours=1)
    async with rig.storage.transaction() as tx:
        await tx.reminders.schedule(YOUNG, ReminderKey("nudge"), due, 1)
        await tx.reminders.schedule(YOUNG, ReminderKey("appointment.1"), due, 1)
    await flag(rig)
    await press(rig, COACH, "safety=1:ack")
    rig.clock.set(due + timedelta(minutes=1))
    sent_before = len(rig.to(YOUNG))
    assert await rig.tick.run_once() == 0
    assert len(rig.to(YOUNG)) == sent_before
    held = [r for r in await reminders(rig) if r.key != ESCALATE]
    # Deferred, not dropped: still pending, later.
    assert [(r.status, r.due_at > due) for r in held] == [("pending", True), ("pending", True)]
    # A "you misunderstood me" does not close it: still held.
    await rig.service.handle(YOUNG, TextReceived("nee, je begreep me verkeerd", rig.clock.now()))
    rig.clock.advance(timedelta(hours=1))
    await rig.tick.run_once()
    assert {r.status for r in await reminders(rig) if r.key != ESCALATE} == {"pending"}
    # Closed by the coach: the held reminders go at their next look.
    await press(rig, COACH, "safety=1:close")
    rig.clock.advance(timedelta(hours=1))
    assert await rig.tick.run_once() == 2
    assert {r.status for r in await reminders(rig) if r.key != ESCALATE} == {"sent"}


async def test_only_the_coachs_close_button_closes_an_event() -> None:
    rig = make_rig()
    await flag(rig)
    # The young person cannot close it: not with words, not with a forged button.
    await rig.service.handle(YOUNG, TextReceived("nee, je begreep me verkeerd", WORKING))
    await rig.service.handle(YOUNG, TextReceived("het gaat wel, sluit maar", WORKING))
    await press(rig, YOUNG, "safety=1:close")
    await press(rig, PersonId("web:forged"), "safety=1:close")
    # Nor can a coach who is not on duty for this young person.
    await press(rig, STRANGER, "safety=1:close")
    assert "niet (meer) voor jou" in rig.to(STRANGER)[-1].text
    [event] = await rig.events()
    assert event.is_open
    async with rig.storage.transaction() as tx:
        assert await tx.safety.is_open(YOUNG)
    await press(rig, COACH, "safety=1:close")
    [event] = await rig.events()
    assert not event.is_open and event.closed_by == COACH
    # Closing without an acknowledgement first counts as taking it up.
    assert event.acknowledged_by == COACH
    assert "gesloten" in rig.to(COACH)[-1].text


async def test_the_coordinator_may_close_too_and_a_second_ack_is_kept_by_the_first() -> None:
    rig = make_rig()
    await flag(rig)
    await press(rig, COACH, "safety=1:ack")
    await press(rig, COORDINATOR, "safety=1:ack")
    assert "al door iemand anders" in rig.to(COORDINATOR)[-1].text
    await press(rig, COORDINATOR, "safety=1:close")
    [event] = await rig.events()
    assert event.acknowledged_by == COACH and event.closed_by == COORDINATOR


async def test_a_new_flag_while_open_updates_the_same_event() -> None:
    rig = make_rig()
    await flag(rig)
    rig.clock.advance(timedelta(minutes=1))
    await flag(rig, "ik wil dood")
    [event] = await rig.events()
    assert event.flags == 2
    # The same category again within a few minutes: the team is not alerted again.
    assert len(rig.to(COACH)) == 1
    rig.clock.advance(timedelta(minutes=10))
    await flag(rig)
    assert len(rig.to(COACH)) == 2
    assert "nieuw signaal" in rig.to(COACH)[-1].text
    assert len(await rig.events()) == 1


async def test_every_new_category_alerts_again_at_once_and_says_what_is_new() -> None:
    """Five disclosures in 90 seconds: each new one reaches the team; the event keeps all."""
    rig = make_rig()
    await flag(rig, "ik wil dood")
    for text in (
        "ik heb net 30 paracetamols genomen",
        "mijn vader slaat mij",
        "ik kerf in mijn benen met een mesje",
        "ik wil dood",
    ):
        rig.clock.advance(timedelta(seconds=20))
        await flag(rig, text)
    alerts = rig.to(COACH)
    assert len(alerts) == 4  # the first, then overdose, violence and self-harm (not suicide again)
    assert "iets nieuws" in alerts[1].text and "overdosis" in alerts[1].text
    assert "Al eerder: gedachten aan zelfdoding" in alerts[1].text
    assert "geweld" in alerts[2].text.split("Al eerder")[0]
    [event] = await rig.events()
    assert event.flags == 5
    assert event.category == "overdose"  # the most severe
    assert set(event.all_categories) == {"suicide", "overdose", "abuse_violence", "self_harm"}
    assert event.all_categories[0] == "suicide"  # in the order they came


async def test_abuse_gets_1712_and_the_team_hears_the_category() -> None:
    rig = make_rig()
    await flag(rig, "hij slaat me")
    response = rig.to(YOUNG)[0]
    assert "1712" in response.text and "1813" in response.text and "112" in response.text
    assert "geweld of misbruik" in rig.to(COACH)[0].text


async def test_the_help_button_opens_nothing_until_the_young_person_asks_for_a_person() -> None:
    rig = make_rig()
    await rig.service.crisis_help(YOUNG, language_hint="nl")
    await rig.service.handle(YOUNG, CommandReceived("hulp", "", WORKING))
    assert await rig.events() == []
    assert rig.to(COACH) == []
    response = rig.to(YOUNG)[0]
    assert buttons_of(response) == ["safety=talk", "safety=continue"]
    await press(rig, YOUNG, "safety=talk")
    [event] = await rig.events()
    assert event.category == HELP_REQUEST
    assert "met iemand te praten" in rig.to(COACH)[0].text
    told = rig.to(YOUNG)[-1]
    assert "verwittigd" in told.text and "1813" in told.text


async def test_nobody_is_alerted_and_the_young_person_is_told_so_honestly() -> None:
    rig = make_rig(on_duty=FakeOnDuty(coach=None, coordinator_chat=None))
    await flag(rig)
    first, told = rig.to(YOUNG)
    assert first.crisis
    assert "niemand" in told.text and "verwittigd" not in told.text
    assert "1813" in told.text and "112" in told.text
    [event] = await rig.events()
    assert event.is_open


async def test_with_the_database_down_the_team_still_gets_an_alert_without_number() -> None:
    rig = make_rig(storage=BrokenStorage())
    await flag(rig)
    assert rig.to(YOUNG)[0].crisis
    [alert] = rig.to(COACH)
    assert "zonder nummer" in alert.text and alert.buttons == ()


async def test_a_continue_press_brings_the_question_back() -> None:
    rig = make_rig()
    await rig.service.handle(YOUNG, CommandReceived("start", "", WORKING))
    await press(rig, YOUNG, "welcome=start")
    question = rig.to(YOUNG)[-1].text
    await flag(rig)
    await press(rig, YOUNG, "safety=continue")
    assert rig.to(YOUNG)[-1].text == question


def test_severity_keeps_the_worst() -> None:
    assert more_severe("abuse_violence", "suicide") == "suicide"
    assert more_severe(HELP_REQUEST, "self_harm") == "self_harm"
    assert more_severe("acute_danger", HELP_REQUEST) == "acute_danger"


async def test_talk_with_nobody_configured_says_who_to_call_now_and_never_dead_ends() -> None:
    rig = make_rig(on_duty=FakeOnDuty(coach=None, coordinator_chat=None))
    await rig.service.crisis_help(YOUNG, language_hint="nl")
    await press(rig, YOUNG, "safety=talk")
    told = rig.to(YOUNG)[-1]
    assert "niemand van ons team bereiken" in told.text
    assert "1813" in told.text and "106" in told.text and "112" in told.text
    assert "verwittigd" not in told.text  # never a promise nobody keeps
    assert buttons_of(told) == ["safety=continue"]  # a way back to the questions
    [event] = await rig.events()
    assert event.category == HELP_REQUEST and event.is_open


async def test_talk_with_nobody_configured_in_french_names_french_lines() -> None:
    rig = make_rig(on_duty=FakeOnDuty(coach=None, coordinator_chat=None))
    await rig.service.crisis_help(YOUNG, language_hint="fr")
    await rig.service.handle(
        YOUNG, ButtonPressed("safety=talk", rig.clock.now()), language_hint="fr"
    )
    told = rig.to(YOUNG)[-1]
    assert "107" in told.text and "0800 32 123" in told.text


async def test_a_no_to_the_check_question_is_a_low_level_signal_for_the_team() -> None:
    rig = make_rig()
    reached = await rig.net.low_signal(YOUNG, "suicide", rig.clock.now())
    assert reached == 1
    [note] = rig.to(COACH)
    assert "Laag signaal" in note.text and "gedachten aan zelfdoding" in note.text
    assert note.buttons == ()  # nothing to take up or close: no event
    assert await rig.events() == []
