"""Flood control per person (issue #16, deliverable 4; bot/flood.py).

Fifty messages in ten seconds: the first twenty are handled, the person gets one kind message in
their chosen language saying their last messages were not read, the rest go no further; after
ten quiet seconds everything is handled again. A crisis phrase inside the flood still gets
help at once, and the team hears of it once, however often it is written.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.flood import LIMIT, FloodGate, Verdict
from bot.inbound import Inbound
from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived, TextReceived
from flows.text import msg
from tests.safety_net.conftest import (
    COACH,
    CRISIS,
    YOUNG,
    Rig,
    buttons_of,
    make_rig,
    translator,
)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ANNA, BOB = PersonId("tg:1"), PersonId("tg:2")


def test_fifty_in_ten_seconds_twenty_handled_one_notice() -> None:
    gate = FloodGate()
    assert gate.limit == LIMIT == 20
    verdicts = [gate.verdict(ANNA, T0 + timedelta(seconds=i * 0.2)) for i in range(50)]
    assert verdicts[:20] == [Verdict.HANDLE] * 20
    assert verdicts[20] == Verdict.NOTICE
    assert verdicts[21:] == [Verdict.DROP] * 29
    # Someone else is not slowed down by Anna.
    assert gate.verdict(BOB, T0 + timedelta(seconds=9)) == Verdict.HANDLE
    # Ten quiet seconds after her last message: read again, and told again on a next flood.
    later = T0 + timedelta(seconds=9.8 + 10)
    assert gate.verdict(ANNA, later) == Verdict.HANDLE
    again = [gate.verdict(ANNA, later + timedelta(seconds=0.1 * i)) for i in range(1, 22)]
    assert again[:19] == [Verdict.HANDLE] * 19
    assert again[19:] == [Verdict.NOTICE, Verdict.DROP]


def test_someone_who_keeps_flooding_stays_slowed_down() -> None:
    gate = FloodGate()
    verdicts = [gate.verdict(ANNA, T0 + timedelta(seconds=i * 0.25)) for i in range(200)]
    assert verdicts.count(Verdict.NOTICE) == 1
    assert verdicts.count(Verdict.HANDLE) == 20


def test_a_steady_writer_is_never_slowed_down() -> None:
    gate = FloodGate()
    # Two a second, for minutes: tapping through questions as fast as a thumb goes.
    at = [T0 + timedelta(seconds=i * 0.51) for i in range(400)]
    assert {gate.verdict(ANNA, when) for when in at} == {Verdict.HANDLE}


def test_the_memory_is_bounded() -> None:
    gate = FloodGate(remembered=3)
    for n in range(10):
        gate.verdict(PersonId(f"tg:{n}"), T0)
    assert len(gate._paces) == 3


def flood_text(language: str) -> str:
    return translator().render(msg("channel.flood"), language)


async def start_in_english(rig: Rig) -> None:
    await rig.service.handle(
        YOUNG, CommandReceived("start", "", rig.clock.now()), language_hint="en"
    )
    await rig.service.handle(YOUNG, ButtonPressed("welcome=start", rig.clock.now()))


async def test_a_flood_gets_one_kind_message_in_the_chosen_language() -> None:
    rig = make_rig()
    await start_in_english(rig)
    before = len(rig.to(YOUNG))
    rig.clock.advance(timedelta(seconds=30))
    answers = ["Ik zoek werk", "ja", "23", "Leuven"] * 13
    await asyncio.gather(
        *(rig.service.handle(YOUNG, TextReceived(text, rig.clock.now())) for text in answers[:50])
    )
    replies = rig.to(YOUNG)[before:]
    notices = [m for m in replies if m.text == flood_text("en")]
    assert len(notices) == 1
    assert "10" in notices[0].text and "/hulp" in notices[0].text
    # At most twenty of the flood reached the engine (one or two replies each).
    async with rig.storage.transaction() as tx:
        session = await tx.sessions.get(YOUNG)
    assert session is not None and session.language == "en"
    assert len(replies) - 1 <= LIMIT * 2
    # Ten quiet seconds later the person is read again, without another notice.
    rig.clock.advance(timedelta(seconds=11))
    count = len(rig.to(YOUNG))
    await rig.service.handle(YOUNG, TextReceived("ja", rig.clock.now()))
    after = rig.to(YOUNG)[count:]
    assert after and all(m.text != flood_text("en") for m in after)


async def test_a_crisis_phrase_inside_a_flood_still_gets_help_and_one_alert() -> None:
    rig = make_rig()
    await start_in_english(rig)
    rig.clock.advance(timedelta(seconds=30))
    texts = ["hallo"] * 30 + [CRISIS] * 5 + ["hallo"] * 15
    for text in texts:
        await rig.service.handle(YOUNG, TextReceived(text, rig.clock.now()))
    sent = rig.to(YOUNG)
    crisis = [m for m in sent if m.crisis]
    # Every crisis phrase was screened and answered at once, over the limit or not.
    assert len([m for m in crisis if "safety=talk" in buttons_of(m)]) == 5
    assert len([m for m in sent if m.text == flood_text("en")]) == 1
    # The team: one alert for the one safety event, not one per message.
    assert len(rig.to(COACH)) == 1
    [event] = await rig.events()
    assert event.is_open


async def test_the_tick_and_the_team_are_never_counted() -> None:
    rig = make_rig()
    gate = rig.service.pipeline.flood
    rig.service.pipeline.team.append(lambda person: person == COACH)
    for _ in range(30):
        await rig.service.handle(COACH, TextReceived("/case 1", rig.clock.now()))
    assert COACH not in gate._paces
    assert all(m.text != flood_text("nl") for m in rig.to(COACH))


async def test_button_presses_are_answered_and_never_count_as_a_flood() -> None:
    rig = make_rig()
    answered: list[int] = []

    async def acknowledge() -> None:
        answered.append(1)

    for _ in range(LIMIT + 5):
        await rig.service.pipeline.handle(
            Inbound(
                YOUNG,
                ButtonPressed("welcome=start", rig.clock.now()),
                "nl",
                acknowledge=acknowledge,
            )
        )
    assert len(answered) == LIMIT + 5
    # Presses answer our own questions (the keyboard bounds them): never counted as a flood.
    assert not [m for m in rig.to(YOUNG) if m.text == flood_text("nl")]
    assert YOUNG not in rig.service.pipeline.flood._paces
