"""Unit tests of the engine's rules (flows/engine.py) on a small flow built here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from flows import hello
from flows.effects import (
    CancelReminders,
    Effect,
    LanguageChanged,
    ScheduleReminder,
    SendCrisisHelp,
    SendMessage,
)
from flows.engine import (
    LANGUAGE_STEP,
    NUDGE_KEY,
    RESUME_STEP,
    SKIPPED,
    Flow,
    IllegalTransition,
    Parsed,
    Step,
    Transition,
    current_prompt,
    option,
    resume,
    start,
)
from flows.ids import FlowId, PersonId, StepId
from flows.inputs import (
    ButtonPressed,
    CommandReceived,
    ConsentChanged,
    ConsentScope,
    MediaReceived,
    ReminderDue,
    TextReceived,
)
from flows.session import JsonValue, Session
from flows.text import msg

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ME = PersonId("tg:1")
A, B, C, D, E = (StepId(s) for s in ("a", "b", "c", "d", "e"))


def number(text: str, _session: Session) -> Parsed:
    if text.isdigit():
        return Parsed(value=int(text))
    return Parsed(error=msg("t.not_a_number"))


def toggled(
    session: Session, value: JsonValue, _at: datetime
) -> tuple[Session, tuple[Effect, ...]]:
    count = session.answer("toggles")
    return session.with_answers(toggles=(count if isinstance(count, int) else 0) + 1), ()


FLOW = Flow(
    id=FlowId("test"),
    first=A,
    languages=("nl", "en"),
    nudges=(timedelta(hours=24), timedelta(hours=72)),
    steps={
        A: Step(
            A,
            msg("t.a"),
            msg("t.a.label"),
            options=(
                option("go", msg("t.go")),
                option("more", msg("t.more"), stays=True, info=msg("t.info")),
                option("toggle", msg("t.toggle"), stays=True),
            ),
            on_answer=toggled,
            record=False,
            nudge=False,
            offer_language=True,
            skippable=False,
            back=False,
            next=B,
        ),
        B: Step(
            B,
            msg("t.b"),
            msg("t.b.label"),
            options=(option("x", msg("t.x")), option("y", msg("t.y"))),
            follow_up=lambda _s, v: D if v == "y" else None,
            next=C,
        ),
        C: Step(C, msg("t.c"), msg("t.c.label"), text=number, next=E),
        D: Step(D, msg("t.d"), msg("t.d.label"), text=number, next=C),
        E: Step(
            E,
            msg("t.e"),
            msg("t.e.label"),
            options=(
                option("send", msg("t.send")),
                option("edit_b", msg("t.edit"), next=B, edit=True),
                option("edit_c", msg("t.edit"), next=C, edit=True),
            ),
            columns=(1, 2),
            record=False,
            next=None,
        ),
    },
)


class Chat:
    """Drives one session through FLOW with a clock that moves a minute per input."""

    def __init__(self, flow: Flow = FLOW, language: str = "nl") -> None:
        self.flow = flow
        self.at = T0
        first = start(flow, ME, at=self.at, language=language)
        self.session = first.session
        self.last: Transition = first

    def _apply(
        self, event: TextReceived | ButtonPressed | CommandReceived | MediaReceived
    ) -> Transition:
        self.last = resume(self.flow, self.session, event)
        self.session = self.last.session
        return self.last

    def tick(self, delta: timedelta = timedelta(minutes=1)) -> datetime:
        self.at += delta
        return self.at

    def tap(self, value: str) -> Transition:
        return self._apply(ButtonPressed(value, self.tick()))

    def say(self, text: str) -> Transition:
        return self._apply(TextReceived(text, self.tick()))

    def cmd(self, name: str) -> Transition:
        return self._apply(CommandReceived(name, "", self.tick()))


def ids(transition: Transition) -> list[str]:
    return [
        part.id
        for effect in transition.effects
        if isinstance(effect, SendMessage)
        for part in effect.parts
        if hasattr(part, "id")
    ]


def button_values(transition: Transition) -> list[str]:
    return [
        b.value
        for e in transition.effects
        if isinstance(e, SendMessage)
        for row in e.buttons
        for b in row
    ]


# --- reminders ------------------------------------------------------------------------------


def test_a_reminder_from_an_older_version_is_ignored() -> None:
    chat = Chat()
    chat.tap("a=go")
    scheduled = chat.session.version
    chat.tap("b=x")  # the person answered: the reminder scheduled at b is stale now
    before = chat.session
    due = ReminderDue(NUDGE_KEY, scheduled, chat.at + timedelta(hours=24))
    after = resume(FLOW, before, due)
    assert after.session is before
    assert after.effects == ()


def test_two_nudges_counted_from_the_last_input_then_silence() -> None:
    chat = Chat()
    answered = chat.tap("a=go")
    assert ScheduleReminder(NUDGE_KEY, chat.at + timedelta(hours=24)) in answered.effects
    last_input = chat.at
    first = resume(FLOW, chat.session, ReminderDue(NUDGE_KEY, chat.session.version, chat.at))
    assert first.session.step == RESUME_STEP and first.session.interrupted == B
    assert ids(first) == ["engine.nudge"]  # neutral: no question, no service on a lock screen
    assert ScheduleReminder(NUDGE_KEY, last_input + timedelta(hours=72)) in first.effects
    second = resume(FLOW, first.session, ReminderDue(NUDGE_KEY, first.session.version, chat.at))
    assert ids(second) == ["engine.nudge"]
    assert not any(isinstance(e, ScheduleReminder) for e in second.effects)
    third = resume(FLOW, second.session, ReminderDue(NUDGE_KEY, second.session.version, chat.at))
    assert third.effects == ()


def test_no_nudge_before_the_first_answer_on_a_step_without_nudges() -> None:
    chat = Chat()
    assert not any(isinstance(e, ScheduleReminder) for e in chat.last.effects)
    due = ReminderDue(NUDGE_KEY, chat.session.version, chat.at + timedelta(days=1))
    assert resume(FLOW, chat.session, due).effects == ()


def test_a_paused_session_is_not_nudged() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.cmd("stop")
    due = ReminderDue(NUDGE_KEY, chat.session.version, chat.at + timedelta(days=1))
    assert resume(FLOW, chat.session, due).effects == ()


# --- illegal transitions --------------------------------------------------------------------


def test_a_session_of_another_flow_is_illegal_and_changes_nothing() -> None:
    chat = Chat()
    other = replace(chat.session, flow=FlowId("other"))
    snapshot = replace(other)
    with pytest.raises(IllegalTransition):
        resume(FLOW, other, TextReceived("hi", chat.tick()))
    assert other == snapshot


def test_a_flow_pointing_to_a_missing_step_is_illegal() -> None:
    broken = replace(FLOW, steps={**FLOW.steps, C: replace(FLOW.steps[C], next=StepId("nope"))})
    chat = Chat(broken)
    chat.tap("a=go")
    chat.tap("b=x")
    before = chat.session
    with pytest.raises(IllegalTransition):
        resume(broken, before, TextReceived("3", chat.tick()))
    assert chat.session is before


# --- back, skip, stays, follow-ups, edits ---------------------------------------------------


def test_back_goes_to_the_previous_step_and_keeps_the_answer() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    back = chat.tap("c=_back")
    assert chat.session.step == B
    assert chat.session.answer("b") == "x"
    assert ids(back) == ["t.b"]
    assert chat.say("terug").session.step == A


def test_skip_stores_skipped_and_moves_on() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=_skip")
    assert chat.session.step == C
    assert chat.session.answer("b") == SKIPPED
    chat.say("overslaan")
    assert chat.session.answer("c") == SKIPPED


def test_a_step_that_is_not_skippable_has_no_skip_button_and_refuses_the_value() -> None:
    chat = Chat()
    assert "a=_skip" not in button_values(chat.last)
    refused = chat.tap("a=_skip")
    assert ids(refused)[0] == "engine.stale_button"
    assert chat.session.step == A


def test_a_staying_option_runs_the_hook_shows_info_and_asks_again() -> None:
    chat = Chat()
    more = chat.tap("a=more")
    assert ids(more) == ["t.info", "t.a"]
    chat.tap("a=toggle")
    assert chat.session.step == A
    assert chat.session.history == ()
    assert chat.session.answer("toggles") == 2  # the hook ran for both presses
    assert "a" not in chat.session.answers  # record=False


def test_follow_up_comes_before_next() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=y")
    assert chat.session.step == D
    chat.say("4")
    assert chat.session.step == C


def test_an_edit_option_returns_to_its_step_through_follow_ups() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    chat.say("3")
    assert chat.session.step == E
    chat.tap("e=edit_b")
    assert (chat.session.step, chat.session.return_to) == (B, E)
    chat.tap("b=y")  # the follow-up belongs to the new answer: asked even while editing
    assert (chat.session.step, chat.session.return_to) == (D, E)
    chat.say("7")
    assert (chat.session.step, chat.session.return_to) == (E, None)
    assert chat.session.answer("b") == "y" and chat.session.answer("d") == 7
    chat.tap("e=edit_c")
    chat.say("9")
    assert chat.session.step == E and chat.session.answer("c") == 9


def test_return_to_is_dropped_by_back() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    chat.say("3")
    chat.tap("e=edit_c")
    chat.tap("c=_back")
    assert chat.session.return_to is None


def test_keyboard_rows_follow_the_column_widths() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    summary = chat.say("3")
    prompt = next(e for e in summary.effects if isinstance(e, SendMessage))
    assert [len(row) for row in prompt.buttons] == [1, 2, 2]  # send | edits | back+skip


# --- bad input is never illegal -------------------------------------------------------------


def test_stale_button_text_for_buttons_media_and_parser_errors_are_reprompts() -> None:
    chat = Chat()
    chat.tap("a=go")
    assert ids(chat.tap("a=go"))[0] == "engine.stale_button"
    assert ids(chat.tap("b=zzz"))[0] == "engine.stale_button"
    assert ids(chat.say("hello"))[0] == "engine.use_buttons"
    media = resume(FLOW, chat.session, MediaReceived("sticker", chat.tick()))
    assert ids(media)[0] == "engine.media.sticker"
    chat.tap("b=x")
    assert ids(chat.say("abc"))[0] == "t.not_a_number"
    assert ids(chat.say("🙈🙈"))[0] == "engine.no_words"
    assert ids(chat.say("1" * 1001))[0] == "engine.too_long"
    assert chat.session.step == C


# --- commands -------------------------------------------------------------------------------


def test_language_switch_returns_to_the_interrupted_step() -> None:
    chat = Chat()
    chat.tap("a=go")
    picker = chat.cmd("taal")
    assert chat.session.step == LANGUAGE_STEP
    assert button_values(picker) == ["_language=nl", "_language=en"]
    switched = chat.tap("_language=en")
    assert chat.session.language == "en"
    assert chat.session.step == B
    assert switched.effects[0] == LanguageChanged("en")
    assert ids(switched) == ["t.b"]


def test_the_language_button_of_a_step_opens_the_picker() -> None:
    chat = Chat()
    assert "a=_language" in button_values(chat.last)
    chat.tap("a=_language")
    assert (chat.session.step, chat.session.interrupted) == (LANGUAGE_STEP, A)
    chat.say("en")
    assert (chat.session.step, chat.session.language) == (A, "en")


def test_help_works_everywhere_and_asks_the_question_again() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.cmd("taal")
    helped = chat.cmd("hulp")
    assert helped.effects[0] == SendCrisisHelp()
    assert chat.session.step == LANGUAGE_STEP


def test_privacy_commands_are_not_the_engines() -> None:
    # /privacy, /mijngegevens and /wis are the privacy feature's service operations
    # (bot/privacy.py); should one reach the engine, it is an unknown command, nothing more.
    chat = Chat()
    before = chat.session.answers
    for name in ("privacy", "mijngegevens", "wis"):
        said = chat.cmd(name).effects[0]
        assert isinstance(said, SendMessage) and said.parts == (msg("engine.unknown_command"),)
    assert chat.session.answers == before


# --- a consent changed from /privacy ---------------------------------------------------------

SCOPE = ConsentScope(
    answer="ok",
    dependent_answers=frozenset({"b", "c"}),
    dependent_values={"topics": frozenset({"b"})},
    dependent_steps=frozenset({B}),
)


def _consent(chat: Chat, given: bool) -> Transition:
    chat.last = resume(chat.flow, chat.session, ConsentChanged(SCOPE, given, chat.tick()))
    chat.session = chat.last.session
    return chat.last


def test_a_withdrawn_consent_drops_what_depends_on_it_and_asks_the_question_again() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    chat.session = replace(chat.session, answers={**chat.session.answers, "topics": ["b", "w"]})
    before = chat.session
    withdrawn = _consent(chat, given=False)
    after = withdrawn.session
    assert after.answers == {"toggles": 1, "ok": "no", "topics": ["w"]}
    assert (after.step, after.version, after.updated_at) == (C, before.version + 1, chat.at)
    assert ids(withdrawn) == ["t.c"]  # the open question again
    assert before.answers["b"] == "x"  # the engine never mutates


def test_a_withdrawal_at_a_question_that_needs_the_consent_moves_on_without_a_trace() -> None:
    chat = Chat()
    chat.tap("a=go")
    assert chat.session.step == B
    moved = _consent(chat, given=False)
    assert moved.session.step == C
    assert moved.session.history[-1] == B
    # Skipped, but no skip marker under an answer that depends on the withdrawn consent.
    assert "b" not in moved.session.answers and moved.session.answers["ok"] == "no"
    assert ids(moved) == ["t.c"]


def test_a_consent_given_is_the_flows_yes_and_a_finished_flow_stays_finished() -> None:
    chat = Chat()
    chat.tap("a=go")
    assert _consent(chat, given=True).session.answers["ok"] == "yes"
    chat.tap("b=x")
    chat.say("3")
    chat.tap("e=send")
    assert chat.session.step is None
    done = _consent(chat, given=False)
    assert done.session.step is None and done.effects == ()
    assert "b" not in done.session.answers and "c" not in done.session.answers


def test_resume_offer_after_pause() -> None:
    chat = Chat()
    chat.tap("a=go")
    stopped = chat.cmd("stop")
    assert chat.session.status == "paused"
    assert CancelReminders(NUDGE_KEY) in stopped.effects
    assert ids(stopped) == ["engine.paused"]
    offer = chat.say("hallo")
    assert (chat.session.step, chat.session.interrupted) == (RESUME_STEP, B)
    # mypy keeps the narrowing of the property across chat.say(): it changed.
    assert chat.session.status == "active"  # type: ignore[comparison-overlap]
    [message] = [e for e in offer.effects if isinstance(e, SendMessage)]
    assert message.parts[0] == msg("engine.resume.ask", step=msg("t.b.label"))
    chat.tap("_resume=continue")
    assert chat.session.step == B


def test_resume_offer_after_a_long_silence_and_start_over() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    chat.tick(FLOW.resume_after)
    chat.say("5")
    assert chat.session.step == RESUME_STEP
    over = chat.tap("_resume=over")
    assert chat.session.step == A and chat.session.answers == {}
    assert over.effects[0] == CancelReminders(NUDGE_KEY)


def test_a_button_of_the_open_question_after_silence_just_continues() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tick(timedelta(days=2))
    chat.tap("b=x")
    assert chat.session.step == C


def test_a_button_of_the_nudged_question_continues() -> None:
    chat = Chat()
    chat.tap("a=go")
    nudged = resume(FLOW, chat.session, ReminderDue(NUDGE_KEY, chat.session.version, chat.at))
    chat.session = nudged.session
    chat.tap("b=y")
    assert chat.session.step == D


def test_stop_before_any_answer_says_nothing_was_kept() -> None:
    chat = Chat()
    stopped = chat.cmd("stop")
    assert ids(stopped) == ["engine.stopped"]
    chat.tap("a=go")
    assert chat.session.step == B and chat.session.status == "active"


def test_stop_in_the_language_picker_pauses_at_the_real_question() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.cmd("taal")
    chat.cmd("stop")
    assert (chat.session.step, chat.session.status) == (B, "paused")
    chat.say("hoi")
    assert (chat.session.step, chat.session.interrupted) == (RESUME_STEP, B)


def test_restart_asks_first_then_clears_answers_and_moves_the_version_on() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    answers = dict(chat.session.answers)
    asked = chat.cmd("opnieuw")
    # One word never throws answers away: first a yes/no question.
    assert ids(asked)[0] == "engine.restart.ask" and chat.session.answers == answers
    version = chat.session.version
    chat.tap("_restart=yes")
    assert chat.session.step == A and chat.session.answers == {}
    assert chat.session.version == version + 1


def test_restart_no_goes_back_to_the_open_question() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    step, answers = chat.session.step, dict(chat.session.answers)
    chat.cmd("opnieuw")
    chat.tap("_restart=no")
    assert chat.session.step == step and chat.session.answers == answers


def test_restart_before_any_answer_needs_no_question() -> None:
    chat = Chat()
    chat.cmd("opnieuw")
    assert chat.session.step == A


def test_a_finished_flow_is_never_started_over_by_start_or_an_old_button() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    chat.say("3")
    chat.tap("e=send")
    done = chat.session
    assert done.status == "done"
    for said in (chat.cmd("start"), chat.tap("a=go"), chat.tap("_resume=over")):
        assert ids(said)[0] == "engine.done"
        assert chat.session.answers == done.answers and chat.session.step is None
    chat.cmd("opnieuw")
    assert ids(chat.tap("_restart=no"))[0] == "engine.restart.kept"
    assert chat.session.step is None and chat.session.answers == done.answers


def test_unknown_command_reprompts() -> None:
    chat = Chat()
    assert ids(chat.cmd("bestaatniet"))[0] == "engine.unknown_command"


def test_finished_flow_answers_kindly() -> None:
    chat = Chat()
    chat.tap("a=go")
    chat.tap("b=x")
    chat.say("3")
    done = chat.tap("e=send")
    assert chat.session.status == "done" and chat.session.step is None
    assert CancelReminders(NUDGE_KEY) in done.effects
    assert ids(chat.say("hallo")) == ["engine.done"]


def test_current_prompt_repeats_the_question() -> None:
    chat = Chat()
    chat.tap("a=go")
    [prompt] = current_prompt(FLOW, chat.session)
    assert isinstance(prompt, SendMessage) and prompt.prompt


def test_the_hello_flow_still_runs() -> None:
    chat = Chat(hello.FLOW)
    assert ids(chat.last) == ["hello.greet", "hello.mood.ask"]
    chat.tap("mood=good")
    chat.say("Sam")
    assert chat.session.status == "done"
    assert chat.session.answers == {"mood": "good", "name": "Sam"}
