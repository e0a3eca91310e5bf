"""Tier "check": one direct question first; the answer decides (issue #13)."""

from __future__ import annotations

from flows.inputs import ButtonPressed, TextReceived
from tests.safety_net.conftest import COACH, YOUNG, Rig, buttons_of, make_rig

INDIRECT = "morgen ben ik er niet meer"


async def say(rig: Rig, text: str) -> None:
    await rig.service.handle(YOUNG, TextReceived(text, rig.clock.now()), language_hint="nl")


async def press(rig: Rig, value: str) -> None:
    await rig.service.handle(YOUNG, ButtonPressed(value, rig.clock.now()), language_hint="nl")


async def test_an_indirect_signal_gets_one_direct_question_and_no_alert_yet() -> None:
    rig = make_rig()
    await say(rig, INDIRECT)
    [question] = rig.to(YOUNG)
    assert "denk je eraan om jezelf iets aan te doen?" in question.text
    assert question.crisis
    assert buttons_of(question) == [
        "safety=check:yes:suicide",
        "safety=check:no:suicide",
        "safety=check:unsure:suicide",
    ]
    assert [label for row in question.buttons for label, _ in row] == [
        "Ja",
        "Nee",
        "Ik weet het niet",
    ]
    assert rig.to(COACH) == [] and await rig.events() == []


async def test_the_question_is_asked_in_the_chosen_language() -> None:
    rig = make_rig()
    await rig.service.handle(
        YOUNG, TextReceived("demain je serai plus là", rig.clock.now()), language_hint="fr"
    )
    [question] = rig.to(YOUNG)
    assert "te faire du mal" in question.text
    assert question.buttons[0][0][0] == "Oui"


async def test_yes_gets_the_crisis_response_and_alerts_the_team() -> None:
    rig = make_rig()
    await say(rig, INDIRECT)
    await press(rig, "safety=check:yes:suicide")
    response = rig.to(YOUNG)[1]
    assert "1813" in response.text and response.crisis
    [event] = await rig.events()
    assert event.category == "suicide"
    assert len(rig.to(COACH)) == 1


async def test_i_dont_know_counts_as_yes() -> None:
    rig = make_rig()
    await say(rig, INDIRECT)
    await press(rig, "safety=check:unsure:suicide")
    assert "1813" in rig.to(YOUNG)[1].text
    assert len(await rig.events()) == 1 and len(rig.to(COACH)) == 1


async def test_no_goes_back_to_the_question_and_the_team_sees_a_low_signal() -> None:
    rig = make_rig()
    await say(rig, INDIRECT)
    await press(rig, "safety=check:no:suicide")
    after = rig.to(YOUNG)[1:]
    assert "Dank je dat je het zegt" in after[0].text
    assert len(after) >= 2  # the question (or the start) comes back
    assert await rig.events() == []  # no event, no escalation
    [note] = rig.to(COACH)
    assert "Laag signaal" in note.text


async def test_a_clear_signal_still_gets_help_at_once() -> None:
    rig = make_rig()
    await say(rig, "ik wil dood")
    assert "1813" in rig.to(YOUNG)[0].text
    assert len(await rig.events()) == 1
