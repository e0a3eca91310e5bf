"""Tier "check": one direct question first; the answer decides (issue #13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.pipeline import HOLD_ANSWER_SECONDS, HeldAnswers
from flows.ids import PersonId, StepId
from flows.inputs import ButtonPressed, TextReceived
from flows.session import Session
from tests.safety_net.conftest import COACH, YOUNG, Rig, buttons_of, intake, make_rig

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


async def test_a_hint_of_someone_elses_violence_asks_whether_someone_hurts_them() -> None:
    # "denk je eraan om jezelf iets aan te doen?" would miss what they said.
    rig = make_rig()
    await say(rig, "hij controleert mijn gsm altijd")
    [question] = rig.to(YOUNG)
    assert "doet iemand je pijn, of ben je niet veilig?" in question.text
    assert "jezelf" not in question.text
    assert buttons_of(question)[1] == "safety=check:no:abuse_violence"
    await press(rig, "safety=check:no:abuse_violence")
    [note] = rig.to(COACH)
    assert "Laag signaal" in note.text and "pijn doet" in note.text
    assert "zichzelf" not in note.text
    assert await rig.events() == []


async def test_yes_to_the_danger_question_gets_1712_and_alerts_the_team() -> None:
    rig = make_rig()
    await say(rig, "hij controleert mijn gsm altijd")
    await press(rig, "safety=check:yes:abuse_violence")
    response = rig.to(YOUNG)[1]
    assert "1712" in response.text and response.crisis
    [event] = await rig.events()
    assert event.category == "abuse_violence"


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


# --- "Nee" keeps what they wrote: an answer to the question is not lost ----------------------


async def _at_words_step(rig: Rig) -> None:
    """A session at the intake's "Waarmee wil je graag hulp?" (free text)."""
    flow = intake()
    session = Session(
        person=YOUNG,
        flow=flow.id,
        step=StepId("words"),
        language="nl",
        started_at=rig.clock.now() - timedelta(minutes=5),
        updated_at=rig.clock.now() - timedelta(minutes=1),
        version=2,
        answers={"age": 23},
        history=(StepId("welcome"),),
    )
    async with rig.storage.transaction() as tx:
        await tx.sessions.save(session, expected_version=None)


async def _session(rig: Rig) -> Session:
    async with rig.storage.transaction() as tx:
        session = await tx.sessions.get(YOUNG)
    assert session is not None
    return session


async def test_no_hands_what_they_wrote_on_as_the_answer() -> None:
    rig = make_rig()
    await _at_words_step(rig)
    await say(rig, INDIRECT)
    [question] = rig.to(YOUNG)
    assert "denk je eraan" in question.text
    assert "own_words" not in (await _session(rig)).answers  # not an answer yet
    await press(rig, "safety=check:no:suicide")
    after = rig.to(YOUNG)[1:]
    assert "Dank je dat je het zegt" in after[0].text
    session = await _session(rig)
    # The flow took it as the answer to the question they were at, and went on.
    assert session.answers["own_words"] == INDIRECT
    assert session.step != StepId("words")
    assert not any("Waarmee wil je graag hulp?" in m.text for m in after)
    assert len(rig.service.pipeline.held) == 0  # handed on once, then gone


async def test_without_a_held_text_no_brings_the_question_back() -> None:
    rig = make_rig()
    await _at_words_step(rig)
    await say(rig, INDIRECT)
    rig.service.pipeline.held.forget(YOUNG)  # a restart, or another process
    await press(rig, "safety=check:no:suicide")
    after = rig.to(YOUNG)[1:]
    assert any("Waarmee wil je graag hulp?" in m.text for m in after)
    assert "own_words" not in (await _session(rig)).answers


async def test_another_input_in_between_drops_the_held_text() -> None:
    rig = make_rig()
    await _at_words_step(rig)
    await say(rig, INDIRECT)
    await say(rig, "ik zoek werk")  # they moved on: this is the answer
    assert len(rig.service.pipeline.held) == 0
    moved_on = await _session(rig)
    assert moved_on.answers["own_words"] == "ik zoek werk"
    await press(rig, "safety=check:no:suicide")
    session = await _session(rig)
    # Nothing was handed on to the question they are at now.
    assert (session.step, dict(session.answers)) == (moved_on.step, dict(moved_on.answers))


async def test_yes_never_hands_the_text_on() -> None:
    rig = make_rig()
    await _at_words_step(rig)
    await say(rig, INDIRECT)
    await press(rig, "safety=check:yes:suicide")
    assert len(rig.service.pipeline.held) == 0
    await press(rig, "safety=continue")  # back to the questions after the help lines
    assert "own_words" not in (await _session(rig)).answers


async def test_a_held_text_older_than_the_limit_is_not_handed_on() -> None:
    rig = make_rig()
    await _at_words_step(rig)
    await say(rig, INDIRECT)
    rig.clock.advance(timedelta(seconds=HOLD_ANSWER_SECONDS + 1))
    await press(rig, "safety=check:no:suicide")
    assert "own_words" not in (await _session(rig)).answers
    assert any("Waarmee wil je graag hulp?" in m.text for m in rig.to(YOUNG)[1:])


async def test_an_erasure_drops_the_held_text() -> None:
    rig = make_rig()
    await _at_words_step(rig)
    await say(rig, INDIRECT)
    rig.service.forget(YOUNG)
    assert len(rig.service.pipeline.held) == 0


def test_held_answers_are_taken_once_and_bounded() -> None:
    held = HeldAnswers(limit=2)
    at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    held.hold(PersonId("a"), "één", at)
    assert held.take(PersonId("a"), at) == "één"
    assert held.take(PersonId("a"), at) is None
    for name in ("a", "b", "c"):
        held.hold(PersonId(name), name, at)
    assert len(held) == 2 and held.take(PersonId("a"), at) is None  # the oldest went first
