"""The conversation engine: ``start`` and ``resume`` over frozen data.

Rules (h11 style):

* ``resume(flow, session, input)`` returns a :class:`Transition` (new session + effects) and
  never mutates its arguments. An input that makes no sense for a session of another flow raises
  :class:`IllegalTransition`; the caller keeps the old session.
* Bad input from a person is never illegal: a sticker, a stale button, text without any word or
  text where a button is needed gets a kind message and the current question again. Nothing is
  lost.
* Every question can be skipped and "terug" goes back one step, unless the step says otherwise.
* Commands work in every state: ``/hulp`` (crisis help), ``/stop`` (pause), ``/opnieuw``
  (restart, after a yes: answers are never thrown away by one word), ``/taal`` (language),
  ``/start`` (continue or start over; a finished flow stays finished). A flow may add its own
  in :attr:`Flow.commands`. ``/privacy``, ``/mijngegevens`` and ``/wis`` are the privacy
  feature's (``bot/privacy.py``) and never reach the engine.
* Typed text is read the way people write (:mod:`flows.replies`): the label of a button on
  screen counts as pressing it (with :attr:`Flow.say`, how ``bot/`` renders a label), and so do
  "ja"/"nee" for a yes/no button, "overslaan", "terug", "stop" (a pause), "weet ik niet" and
  "zeg ik liever niet" (their button, or a skip that remembers what was said).
* A reminder carries the session version that scheduled it; when the session moved on since,
  the reminder is ignored (goflow's timers).
* Idle sessions get at most ``len(flow.nudges)`` nudges, counted from the last input. A nudge
  is one neutral message ("continue or start over?") that names neither the service nor the
  question, because it shows on a lock screen. Steps with ``nudge=False`` are never nudged.
* After a pause or ``flow.resume_after`` of silence, the next input first offers "continue at
  <step>" or "start over"; pressing a button of the question that was open simply continues.
* Answers change only through :func:`_advance` (an answer), a step's ``on_answer`` hook or a
  :class:`~flows.inputs.ConsentChanged` (a consent given or withdrawn from ``/privacy``: the
  dependent answers go, and an open question that needs the consent moves on as after a skip)
  or a :class:`~flows.inputs.LinkFollowed` (``/start`` through a partner's link records the
  link's answers). :class:`~flows.inputs.ConnectedToCoach` ends the flow, answers kept. ``bot/``
  never edits a session itself: a feature that must change one hands the engine an input.
  A step with ``record=False`` steers the flow but stores nothing (the welcome, the summary).
* Where to go after an answer, first match wins: the step's ``follow_up`` (a question that
  belongs to this answer, asked even while editing from the summary); an option with
  ``edit=True`` (jump to change an earlier answer, then come back here); ``session.return_to``
  (editing: back to the summary); the option's ``next``; the step's ``next``.

Button values are ``"<step>=<option>"`` so that a button from an earlier question is recognised
as stale instead of being applied to the current one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from flows.effects import (
    Button,
    CancelReminders,
    Discard,
    Effect,
    Keyboard,
    LanguageChanged,
    Part,
    ScheduleReminder,
    SendCrisisHelp,
    SendMessage,
)
from flows.ids import FlowId, PersonId, ReminderKey, StepId
from flows.inputs import (
    ButtonPressed,
    CommandReceived,
    ConnectedToCoach,
    ConsentChanged,
    Input,
    LinkFollowed,
    MediaReceived,
    ReminderDue,
    TextReceived,
)
from flows.languages import BACK_WORDS, SKIP_WORDS
from flows.replies import intent, normalise
from flows.session import JsonValue, Session
from flows.text import Msg, msg

# Engine-owned pseudo steps: they interrupt the flow and return to ``session.interrupted``.
LANGUAGE_STEP = StepId("_language")
RESUME_STEP = StepId("_resume")
RESTART_STEP = StepId("_restart")
SKIP = "_skip"
BACK = "_back"
# A button value on any step with ``offer_language``: opens the language picker.
LANGUAGE = "_language"
# What a skipped answer is stored as, so the summary can say "skipped" instead of "missing".
SKIPPED = "_skipped"
# A typed "weet ik niet" / "zeg ik liever niet" on a question without such a button: stored
# instead of SKIPPED so the summary can say what the person said.
DONT_KNOW = "_dont_know"
RATHER_NOT = "_rather_not"
UNANSWERED = frozenset({SKIPPED, DONT_KNOW, RATHER_NOT})
MAX_TEXT = 1000
NUDGE_KEY = ReminderKey("nudge")

# Option values a typed "yes" or "no" stands for (flows/replies.py has the words).
YES_VALUES = ("yes", "start", "continue", "send", "fallback", "referral")
NO_VALUES = ("no", "none", "stop")

# Media we cannot read, each with a re-prompt that says what to do instead.
MEDIA_MESSAGES: Mapping[str, Msg] = {
    "voice": msg("engine.media.voice"),
    "audio": msg("engine.media.voice"),
    "video": msg("engine.media.voice"),
    "location": msg("engine.media.location"),
    "sticker": msg("engine.media.sticker"),
    "edited": msg("engine.media.edited"),
}
MEDIA_DEFAULT = msg("engine.media")


class IllegalTransition(Exception):
    """The input cannot apply to this session (a programming error, not a person's mistake)."""


@dataclass(frozen=True)
class Transition:
    session: Session
    effects: tuple[Effect, ...]


# --- declaring flows ------------------------------------------------------------------------

Prompt = Msg | Callable[[Session], Sequence[Part]]
NextStep = StepId | None | Callable[[Session], StepId | None]
FollowUp = Callable[[Session, JsonValue], StepId | None]


@dataclass(frozen=True)
class Option:
    """A button. ``value`` is what gets stored; ``next`` overrides the step's ``next``.

    * ``stays``: pressing it keeps the person on this question: the step's ``on_answer`` hook
      runs (a toggle), ``info`` is shown ("Meer info"), the question is asked again; the value
      itself is not stored.
    * ``edit``: jump to ``next`` to change an earlier answer, then come back to this step.
    """

    value: str
    label: Msg
    next: NextStep = None
    has_next: bool = False  # True when ``next`` was given (None can mean "end of flow")
    stays: bool = False
    info: Msg | None = None
    edit: bool = False


class _Unset:
    """Marks "no ``next`` given" (``None`` already means "end of the flow")."""


_UNSET = _Unset()


def option(
    value: str,
    label: Msg,
    *,
    next: NextStep | _Unset = _UNSET,  # named like Option.next, shadowing the builtin here
    stays: bool = False,
    info: Msg | None = None,
    edit: bool = False,
) -> Option:
    """``option("yes", msg(...), next="age")`` — records that ``next`` was given explicitly."""
    if isinstance(next, _Unset):
        return Option(value, label, stays=stays, info=info, edit=edit)
    return Option(value, label, next, True, stays=stays, info=info, edit=edit)


@dataclass(frozen=True)
class Parsed:
    """Result of a text parser: a value to store, or a message saying what was wrong.

    ``also`` holds further answers decided by the same text (a resolved place next to the typed
    place); they are stored together so the two can never disagree.
    """

    value: JsonValue = None
    error: Msg | None = None
    also: Mapping[str, JsonValue] = field(default_factory=dict)


TextParser = Callable[[str, Session], Parsed]
AnswerHook = Callable[[Session, JsonValue, datetime], tuple[Session, tuple[Effect, ...]]]
Options = tuple[Option, ...] | Callable[[Session], tuple[Option, ...]]


@dataclass(frozen=True)
class Step:
    """One question (or, without options and text, one statement that moves on by itself).

    * ``options``: buttons; ``columns`` buttons per row (a tuple gives each row its width, the
      last width repeats).
    * ``text``: a parser when free text is accepted; without it text gets a kind re-prompt.
      Text without a letter or digit (emoji only) is re-prompted unless ``symbols`` is set.
    * ``store``: the answer key (defaults to the step id); ``record=False`` stores nothing.
    * ``on_answer``: pure hook run after storing, e.g. to record consent.
    * ``follow_up``: the question that belongs to this answer (see the module rules).
    * ``nudge``: False when an idle person must not be nudged here (nothing stored yet).
    * ``offer_language``: adds the language button under the options.
    """

    id: StepId
    prompt: Prompt
    label: Msg
    options: Options = ()
    text: TextParser | None = None
    next: NextStep = None
    store: str | None = None
    skippable: bool = True
    back: bool = True
    columns: int | tuple[int, ...] = 1
    on_answer: AnswerHook | None = None
    # Steps without options or text are statements: shown, then the flow moves on.
    waits: bool = True
    record: bool = True
    follow_up: FollowUp | None = None
    nudge: bool = True
    offer_language: bool = False
    symbols: bool = False


FinishHook = Callable[[Session, datetime], tuple[Session, tuple[Effect, ...]]]


@dataclass(frozen=True)
class Flow:
    id: FlowId
    first: StepId
    steps: Mapping[StepId, Step]
    languages: tuple[str, ...]
    on_finish: FinishHook | None = None
    # Idle delays, counted from the last input, after which a nudge is sent.
    nudges: tuple[timedelta, ...] = ()
    # After this long without input, the next input first offers "continue" or "start over".
    resume_after: timedelta = timedelta(hours=6)
    # Flow-specific commands: name -> step to jump to (for example ``/privacy``).
    commands: Mapping[str, StepId] = field(default_factory=dict)
    # Steps after which "start over" is not offered (the intake was sent).
    final_steps: frozenset[StepId] = frozenset()
    # What ``/stop`` says once there are answers (e.g. how long they are kept).
    pause_message: Msg | None = None
    # How ``bot/`` renders a message in a language: only used to recognise the typed label of
    # a button on screen ("maakt niet uit"). Without it, typed labels are not recognised.
    say: Callable[[Msg, str], str] | None = None

    def step(self, step_id: StepId) -> Step:
        try:
            return self.steps[step_id]
        except KeyError:
            raise IllegalTransition(f"flow {self.id} has no step {step_id}") from None


# --- the engine -----------------------------------------------------------------------------


def start(flow: Flow, person: PersonId, *, at: datetime, language: str) -> Transition:
    """A new session at the flow's first step, with its prompt."""
    lang = language if language in flow.languages else flow.languages[0]
    session = Session(
        person=person,
        flow=flow.id,
        step=flow.first,
        language=lang,
        started_at=at,
        updated_at=at,
        version=1,
    )
    return _enter(flow, session, flow.first, at, ())


def resume(flow: Flow, session: Session, event: Input) -> Transition:
    """Apply one input to a session."""
    if session.flow != flow.id:
        raise IllegalTransition(f"session of flow {session.flow} given to flow {flow.id}")
    if isinstance(event, ReminderDue):
        return _reminder(flow, session, event)
    if isinstance(event, ConsentChanged):
        return _consent(flow, session, event)
    if isinstance(event, LinkFollowed):
        return with_link(_command(flow, session, CommandReceived("start", "", event.at)), event)
    if isinstance(event, ConnectedToCoach):
        return _connected(session, event.at)

    at = event.at
    if isinstance(event, CommandReceived):
        return _command(flow, session, event)

    if session.step is None:
        # The flow is done; anything typed is answered kindly, the conversation is not lost.
        return _touch(session, at, (SendMessage((msg("engine.done"),)),))

    if isinstance(event, TextReceived):
        natural = _natural(flow, session, event)
        if isinstance(natural, CommandReceived):
            return _command(flow, session, natural)
        if natural is not None:
            return resume(flow, session, natural)

    if session.step == RESTART_STEP:
        return _restart_answer(flow, session, event)
    if session.step == LANGUAGE_STEP:
        return _language_answer(flow, session, event)
    if session.step == RESUME_STEP:
        return _resume_answer(flow, session, event)

    step = flow.step(session.step)
    if session.status == "paused" and not session.history:
        # Paused before the first answer: there is nothing to continue, just go on.
        session = replace(session, status="active")
    # Coming back after a pause or a long silence: first offer to continue or start over,
    # unless the person pressed a button of the open question (they clearly continue).
    idle = at - session.updated_at
    if session.status == "paused" or (
        idle >= flow.resume_after and session.step not in flow.final_steps and session.history
    ):
        session = replace(session, status="active")
        if not _is_button_for(event, step.id):
            return _offer_resume(flow, session, at)

    if isinstance(event, MediaReceived):
        return _reprompt(flow, session, at, MEDIA_MESSAGES.get(event.kind, MEDIA_DEFAULT))
    if isinstance(event, ButtonPressed):
        return _button(flow, session, step, event)
    return _text(flow, session, step, event)


def _is_button_for(event: Input, step_id: StepId) -> bool:
    return isinstance(event, ButtonPressed) and event.value.partition("=")[0] == step_id


# --- inputs ---------------------------------------------------------------------------------


def _button(flow: Flow, session: Session, step: Step, event: ButtonPressed) -> Transition:
    step_id, _, value = event.value.partition("=")
    if step_id != step.id:
        return _reprompt(flow, session, event.at, msg("engine.stale_button"))
    if value == SKIP and step.skippable:
        return _advance(flow, session, step, None, event.at, skipped=True)
    if value in (DONT_KNOW, RATHER_NOT) and step.skippable:
        return _advance(flow, session, step, None, event.at, skipped=True, marker=value)
    if value == BACK and session.history and step.back:
        return _back(flow, session, event.at)
    if value == LANGUAGE and step.offer_language:
        return _offer_language(flow, session, event.at)
    for opt in _options(step, session):
        if opt.value == value:
            if opt.stays:
                return _stay(flow, session, step, opt, event.at)
            return _advance(flow, session, step, opt.value, event.at, chosen=opt)
    return _reprompt(flow, session, event.at, msg("engine.stale_button"))


def _has_words(text: str) -> bool:
    # A letter or digit in any script; emoji, punctuation and symbols alone are not words.
    return any(ch.isalnum() for ch in text)


def _text(flow: Flow, session: Session, step: Step, event: TextReceived) -> Transition:
    text = event.text.strip()
    if len(text) > MAX_TEXT:
        return _reprompt(flow, session, event.at, msg("engine.too_long", limit=MAX_TEXT))
    if step.text is None or not text:
        return _reprompt(flow, session, event.at, msg("engine.use_buttons"))
    if not step.symbols and not _has_words(text):
        return _reprompt(flow, session, event.at, msg("engine.no_words"))
    parsed = step.text(text, session)
    if parsed.error is not None:
        return _reprompt(flow, session, event.at, parsed.error)
    return _advance(flow, session, step, parsed.value, event.at, also=parsed.also)


def _command(flow: Flow, session: Session, event: CommandReceived) -> Transition:
    at = event.at
    name = event.name
    if name == "hulp" or name == "help":
        # Only the help: its own "back to the questions" button is the next step, so the help
        # lines stay the last thing on the screen (bot/service.py answers /hulp the same way).
        return _touch(session, at, (SendCrisisHelp(),))
    if name == "stop":
        return _pause(flow, session, at)
    if name == "opnieuw" or name == "restart":
        if not session.history:
            # Nothing answered yet: nothing to lose, so no question first.
            return _start_over(flow, session, at)
        return _offer_restart(flow, session, at)
    if name == "taal" or name == "language":
        return _offer_language(flow, session, at)
    if name == "start":
        if session.step is None and session.history:
            # A finished flow is never started over by /start or an old "back to the
            # questions" button: only /opnieuw, after a yes, starts a new one.
            return _touch(session, at, (SendMessage((msg("engine.done"),)),))
        if not session.history:
            fresh = start(flow, session.person, at=at, language=session.language)
            return Transition(replace(fresh.session, version=session.version + 1), fresh.effects)
        return _offer_resume(flow, replace(session, status="active"), at)
    if name in flow.commands:
        target = flow.commands[name]
        moved = replace(session, interrupted=session.step)
        return _enter(flow, _bump(moved, at), target, at, ())
    return _reprompt(flow, session, at, msg("engine.unknown_command"))


def _pause(flow: Flow, session: Session, at: datetime) -> Transition:
    if session.step is None:
        return _touch(session, at, (SendMessage((msg("engine.done"),)),))
    base = session
    if session.step == RESTART_STEP and session.interrupted is None:
        # Asked to start over after the flow was done: "stop" leaves it done.
        return _touch(_undo_restart(session), at, (SendMessage((msg("engine.done"),)),))
    if session.step in (LANGUAGE_STEP, RESUME_STEP, RESTART_STEP) and (
        session.interrupted is not None
    ):
        # Pause at the real question, so that coming back offers to continue there.
        base = replace(session, step=session.interrupted, interrupted=None)
    paused = replace(base, status="paused")
    if not session.history:
        said = msg("engine.stopped")  # nothing stored yet, so nothing to keep
    else:
        said = flow.pause_message or msg("engine.paused")
    return _touch(paused, at, (CancelReminders(NUDGE_KEY), SendMessage((said,))))


def _reminder(flow: Flow, session: Session, event: ReminderDue) -> Transition:
    # A reminder from an older version of the session is stale: the person answered since.
    if event.session_version != session.version or session.status != "active":
        return Transition(session, ())
    if event.key != NUDGE_KEY or session.step is None or session.nudges >= len(flow.nudges):
        return Transition(session, ())
    waiting = session.step
    if session.step in (LANGUAGE_STEP, RESUME_STEP, RESTART_STEP):
        waiting = session.interrupted if session.interrupted is not None else session.step
    if waiting not in flow.steps or not flow.steps[waiting].nudge:
        return Transition(session, ())
    # The nudge is the resume offer itself, worded without the question (lock screens).
    nudged = replace(
        session,
        step=RESUME_STEP,
        interrupted=waiting,
        nudges=session.nudges + 1,
        version=session.version + 1,
    )
    effects: list[Effect] = [_nudge_prompt()]
    if nudged.nudges < len(flow.nudges):
        # The next nudge counts from the last input, not from this nudge.
        due = session.updated_at + flow.nudges[nudged.nudges]
        effects.append(ScheduleReminder(NUDGE_KEY, due))
    return Transition(nudged, tuple(effects))


def _consent(flow: Flow, session: Session, event: ConsentChanged) -> Transition:
    """A consent given or withdrawn from ``/privacy``, in every state (also after the flow is
    done): the flow's consent answer follows, and the current question comes again."""
    scope, at = event.scope, event.at
    if event.given:
        changed = session.with_answers(**{scope.answer: "yes"})
    else:
        kept = session.without_answers(*scope.dependent_answers)
        changes: dict[str, JsonValue] = {scope.answer: "no"}
        for key, values in scope.dependent_values.items():
            current = kept.answers.get(key)
            if isinstance(current, list):
                changes[key] = [v for v in current if not (isinstance(v, str) and v in values)]
        changed = kept.with_answers(**changes)
    if not event.given and changed.step in scope.dependent_steps and changed.step in flow.steps:
        # The open question needs the consent just withdrawn: move on as after a skip (also
        # where the question cannot be skipped by hand), and keep no skip marker under a
        # dependent answer: nothing that depends on a withdrawn consent stays.
        step = flow.step(changed.step)
        moved = _advance(flow, replace(changed, status="active"), step, None, at, skipped=True)
        left = [k for k in scope.dependent_answers if moved.session.answers.get(k) == SKIPPED]
        return Transition(moved.session.without_answers(*left), moved.effects)
    bumped = _bump(changed, at)
    return Transition(bumped, _prompt_effects(flow, bumped))


def with_link(started: Transition, event: LinkFollowed) -> Transition:
    """``/start`` through a link: the start as it was, with the link's answers when a question
    is open (a flow that stayed done, or a start that discards, gets nothing). Also for a new
    session: ``bot/`` hands it ``start(...)``'s transition."""
    if started.session.step is None or any(isinstance(e, Discard) for e in started.effects):
        return started
    return Transition(started.session.with_answers(**event.answers), started.effects)


def _connected(session: Session, at: datetime) -> Transition:
    """Connected to a coach by their personal invitation: done, answers kept, no nudges."""
    done = replace(_bump(session, at), step=None, status="done", return_to=None, interrupted=None)
    return Transition(done, (CancelReminders(NUDGE_KEY),))


# --- moving between steps -------------------------------------------------------------------


def _advance(
    flow: Flow,
    session: Session,
    step: Step,
    value: JsonValue,
    at: datetime,
    *,
    chosen: Option | None = None,
    skipped: bool = False,
    marker: str = SKIPPED,
    also: Mapping[str, JsonValue] | None = None,
) -> Transition:
    updated = session
    if step.record:
        key = step.store or step.id
        updated = updated.with_answers(**{key: marker if skipped else value})
        if also:
            updated = updated.with_answers(**also)
    effects: tuple[Effect, ...] = ()
    if step.on_answer is not None and not skipped:
        updated, effects = step.on_answer(updated, value, at)
    updated = replace(updated, history=(*session.history, step.id))
    follow = step.follow_up(updated, value) if step.follow_up and not skipped else None
    target: StepId | None
    if follow is not None:
        target = follow
    elif chosen is not None and chosen.edit:
        target = _resolve_next(chosen.next, updated)
        updated = replace(updated, return_to=updated.return_to or step.id)
    elif updated.return_to is not None and updated.return_to != step.id:
        target = updated.return_to
        updated = replace(updated, return_to=None)
    elif chosen is not None and chosen.has_next:
        target = _resolve_next(chosen.next, updated)
    else:
        target = _resolve_next(step.next, updated)
    return _enter(flow, _bump(updated, at), target, at, effects)


def _stay(flow: Flow, session: Session, step: Step, chosen: Option, at: datetime) -> Transition:
    updated = session
    effects: list[Effect] = []
    if step.on_answer is not None:
        updated, hook_effects = step.on_answer(updated, chosen.value, at)
        effects.extend(hook_effects)
    if chosen.info is not None:
        effects.append(SendMessage((chosen.info,)))
    bumped = _bump(updated, at)
    effects.extend(_prompt_effects(flow, bumped))
    if _nudges_here(flow, bumped):
        effects.append(ScheduleReminder(NUDGE_KEY, at + flow.nudges[0]))
    return Transition(bumped, tuple(effects))


def _resolve_next(nxt: NextStep, session: Session) -> StepId | None:
    if callable(nxt):
        return nxt(session)
    return nxt


def _enter(
    flow: Flow,
    session: Session,
    target: StepId | None,
    at: datetime,
    effects: tuple[Effect, ...],
) -> Transition:
    """Show ``target``; statements are shown and passed through until a step that waits."""
    out: list[Effect] = list(effects)
    current = target
    seen: set[StepId] = set()
    while current is not None:
        if current in seen:
            raise IllegalTransition(f"flow {flow.id} loops through statements at {current}")
        seen.add(current)
        step = flow.step(current)
        session = replace(session, step=current)
        out.extend(_prompt_effects(flow, session))
        if step.waits:
            break
        current = _resolve_next(step.next, session)
    if current is None:
        session = replace(session, step=None, status="done", return_to=None)
        out.append(CancelReminders(NUDGE_KEY))
        if flow.on_finish is not None:
            session, finish_effects = flow.on_finish(session, at)
            out.extend(finish_effects)
        return Transition(session, tuple(out))
    if _nudges_here(flow, session):
        out.append(ScheduleReminder(NUDGE_KEY, at + flow.nudges[0]))
    return Transition(session, tuple(out))


def _nudges_here(flow: Flow, session: Session) -> bool:
    step = flow.steps.get(session.step) if session.step is not None else None
    return bool(flow.nudges) and step is not None and step.nudge


def _back(flow: Flow, session: Session, at: datetime) -> Transition:
    previous = session.history[-1]
    moved = replace(session, history=session.history[:-1], return_to=None)
    return _enter(flow, _bump(moved, at), previous, at, ())


def _bump(session: Session, at: datetime) -> Session:
    """Every real input moves the version on and resets the nudge count."""
    return replace(session, version=session.version + 1, updated_at=at, nudges=0)


def _touch(session: Session, at: datetime, effects: tuple[Effect, ...]) -> Transition:
    return Transition(_bump(session, at), effects)


def _reprompt(flow: Flow, session: Session, at: datetime, why: Msg) -> Transition:
    bumped = _bump(session, at)
    effects: list[Effect] = [SendMessage((why,))]
    effects.extend(_prompt_effects(flow, bumped))
    if _nudges_here(flow, bumped):
        effects.append(ScheduleReminder(NUDGE_KEY, at + flow.nudges[0]))
    return Transition(bumped, tuple(effects))


# --- prompts --------------------------------------------------------------------------------


def _options(step: Step, session: Session) -> tuple[Option, ...]:
    return step.options(session) if callable(step.options) else step.options


def prompt_parts(step: Step, session: Session) -> tuple[Part, ...]:
    if callable(step.prompt):
        return tuple(step.prompt(session))
    return (step.prompt,)


def keyboard(step: Step, session: Session) -> Keyboard:
    opts = _options(step, session)
    rows: list[tuple[Button, ...]] = []
    buttons = [Button(o.label, f"{step.id}={o.value}") for o in opts]
    widths = step.columns if isinstance(step.columns, tuple) else (step.columns,)
    i = 0
    while i < len(buttons):
        width = max(widths[min(len(rows), len(widths) - 1)], 1)
        rows.append(tuple(buttons[i : i + width]))
        i += width
    if step.offer_language:
        rows.append((Button(msg("engine.language.button"), f"{step.id}={LANGUAGE}"),))
    extra: list[Button] = []
    if session.history and step.back and step.waits:
        extra.append(Button(msg("engine.back"), f"{step.id}={BACK}"))
    if step.skippable and step.waits:
        extra.append(Button(msg("engine.skip"), f"{step.id}={SKIP}"))
    if extra:
        rows.append(tuple(extra))
    return tuple(rows)


def _prompt_effects(flow: Flow, session: Session) -> tuple[Effect, ...]:
    if session.step is None:
        return ()
    if session.step == LANGUAGE_STEP:
        return (_language_prompt(flow),)
    if session.step == RESUME_STEP:
        return (_resume_prompt(flow, session),)
    if session.step == RESTART_STEP:
        return (_restart_prompt(session),)
    step = flow.step(session.step)
    return (SendMessage(prompt_parts(step, session), keyboard(step, session), prompt=step.waits),)


# --- engine steps: language and resume ------------------------------------------------------


def _language_prompt(flow: Flow) -> SendMessage:
    buttons = tuple(
        (Button(msg(f"language.{code}"), f"{LANGUAGE_STEP}={code}"),) for code in flow.languages
    )
    return SendMessage((msg("engine.language.ask"),), buttons, prompt=True)


def _offer_language(flow: Flow, session: Session, at: datetime) -> Transition:
    if session.step == RESTART_STEP and session.interrupted is None:
        session = _undo_restart(session)
    back_to = (
        session.interrupted
        if session.step in (LANGUAGE_STEP, RESUME_STEP, RESTART_STEP)
        else session.step
    )
    moved = replace(session, step=LANGUAGE_STEP, interrupted=back_to)
    return _touch(moved, at, (_language_prompt(flow),))


def _language_answer(flow: Flow, session: Session, event: Input) -> Transition:
    at = event.at
    code = None
    if isinstance(event, ButtonPressed):
        step_id, _, value = event.value.partition("=")
        if step_id == LANGUAGE_STEP and value in flow.languages:
            code = value
    elif isinstance(event, TextReceived) and event.text.strip().lower() in flow.languages:
        code = event.text.strip().lower()
    if code is None:
        return _touch(
            session, at, (SendMessage((msg("engine.use_buttons"),)), _language_prompt(flow))
        )
    back_to = session.interrupted
    changed = replace(session, language=code, interrupted=None)
    if back_to is None:
        return Transition(_bump(changed, at), (LanguageChanged(code),))
    return _enter(flow, _bump(changed, at), back_to, at, (LanguageChanged(code),))


def _resume_prompt(flow: Flow, session: Session) -> SendMessage:
    interrupted = session.interrupted
    label = flow.step(interrupted).label if interrupted is not None else msg("engine.resume.start")
    return SendMessage((msg("engine.resume.ask", step=label),), _resume_buttons(), prompt=True)


def _nudge_prompt() -> SendMessage:
    return SendMessage((msg("engine.nudge"),), _resume_buttons(), prompt=True)


def _resume_buttons() -> Keyboard:
    return (
        (Button(msg("engine.resume.continue"), f"{RESUME_STEP}=continue"),),
        (Button(msg("engine.resume.over"), f"{RESUME_STEP}=over"),),
    )


def _offer_resume(flow: Flow, session: Session, at: datetime) -> Transition:
    # From the language picker or an earlier offer, the real question is already interrupted.
    waiting = (
        session.interrupted
        if session.step in (LANGUAGE_STEP, RESUME_STEP, RESTART_STEP)
        else session.step
    )
    moved = replace(session, step=RESUME_STEP, interrupted=waiting)
    return _touch(moved, at, (_resume_prompt(flow, moved),))


def _resume_answer(flow: Flow, session: Session, event: Input) -> Transition:
    at = event.at
    interrupted = session.interrupted
    if (
        interrupted is not None
        and isinstance(event, ButtonPressed)
        and _is_button_for(event, interrupted)
    ):
        # A button of the question that was open: that is "continue" and the answer in one.
        restored = replace(session, step=interrupted, interrupted=None)
        return _button(flow, restored, flow.step(interrupted), event)
    choice = None
    if isinstance(event, ButtonPressed):
        step_id, _, value = event.value.partition("=")
        if step_id == RESUME_STEP:
            choice = value
    if choice == "over":
        fresh = start(flow, session.person, at=at, language=session.language)
        return Transition(
            replace(fresh.session, version=session.version + 1),
            (CancelReminders(NUDGE_KEY), *fresh.effects),
        )
    if choice == "continue" and interrupted is not None:
        moved = replace(session, interrupted=None)
        return _enter(flow, _bump(moved, at), interrupted, at, ())
    return _touch(
        session, at, (SendMessage((msg("engine.use_buttons"),)), _resume_prompt(flow, session))
    )


# --- engine step: start over, after a yes ---------------------------------------------------


def _start_over(flow: Flow, session: Session, at: datetime) -> Transition:
    fresh = start(flow, session.person, at=at, language=session.language)
    restarted = replace(fresh.session, version=session.version + 1)
    return Transition(restarted, (CancelReminders(NUDGE_KEY), *fresh.effects))


def _restart_prompt(session: Session) -> SendMessage:
    # ``interrupted`` is None when the flow was already done (then the answers were sent).
    ask = msg("engine.restart.ask_done" if session.interrupted is None else "engine.restart.ask")
    return SendMessage(
        (ask,),
        (
            (Button(msg("engine.restart.yes"), f"{RESTART_STEP}=yes"),),
            (Button(msg("engine.restart.no"), f"{RESTART_STEP}=no"),),
        ),
        prompt=True,
    )


def _offer_restart(flow: Flow, session: Session, at: datetime) -> Transition:
    if session.step == RESTART_STEP:
        return _touch(session, at, (_restart_prompt(session),))
    waiting = session.interrupted if session.step in (LANGUAGE_STEP, RESUME_STEP) else session.step
    moved = replace(session, step=RESTART_STEP, interrupted=waiting, status="active")
    return _touch(moved, at, (_restart_prompt(moved),))


def _undo_restart(session: Session) -> Session:
    """Back to where the person was before ``/opnieuw`` (a finished flow stays finished)."""
    if session.interrupted is None:
        return replace(session, step=None, status="done")
    return replace(session, step=session.interrupted, interrupted=None)


def _restart_answer(flow: Flow, session: Session, event: Input) -> Transition:
    at = event.at
    choice = None
    if isinstance(event, ButtonPressed):
        step_id, _, value = event.value.partition("=")
        if step_id == RESTART_STEP:
            choice = value
        elif session.interrupted is not None and step_id == session.interrupted:
            # A button of the question that was open: they carry on with it.
            restored = _undo_restart(session)
            return _button(flow, restored, flow.step(StepId(step_id)), event)
    if choice == "yes":
        return _start_over(flow, session, at)
    if choice == "no":
        back = _undo_restart(session)
        if back.step is None:
            return _touch(back, at, (SendMessage((msg("engine.restart.kept"),)),))
        return _enter(flow, _bump(back, at), back.step, at, ())
    return _touch(
        session, at, (SendMessage((msg("engine.use_buttons"),)), _restart_prompt(session))
    )


# --- natural replies ------------------------------------------------------------------------


def _on_screen(flow: Flow, session: Session) -> tuple[Button, ...]:
    buttons: list[Button] = []
    for effect in _prompt_effects(flow, session):
        if isinstance(effect, SendMessage):
            for row in effect.buttons:
                buttons.extend(row)
    return tuple(buttons)


def _natural(flow: Flow, session: Session, event: TextReceived) -> Input | None:
    """Typed text that means a button on screen, a stop, or "weet ik niet": as that input."""
    clean = normalise(event.text)
    if not clean:
        return None
    buttons = _on_screen(flow, session)
    if flow.say is not None:
        for language in dict.fromkeys((session.language, flow.languages[0])):
            for button in buttons:
                if normalise(flow.say(button.label, language)) == clean:
                    return ButtonPressed(button.value, event.at)
    lowered = event.text.strip().casefold()
    # Each language's own back and skip words (flows/languages.py), then the natural replies.
    meaning: str | None
    if lowered in BACK_WORDS:
        meaning = "back"
    elif lowered in SKIP_WORDS:
        meaning = "skip"
    else:
        meaning = intent(event.text, session.language)
    if meaning is None:
        return None
    if meaning == "stop":
        return CommandReceived("stop", "", event.at)
    wanted: tuple[str, ...] = {
        "yes": YES_VALUES,
        "no": NO_VALUES,
        "skip": (SKIP,),
        "back": (BACK,),
        "dont_know": ("dont_know",),
        "rather_not": ("rather_not",),
    }[meaning]
    for value in wanted:
        for button in buttons:
            if button.value.partition("=")[2] == value:
                return ButtonPressed(button.value, event.at)
    skip = next((b for b in buttons if b.value.partition("=")[2] == SKIP), None)
    if skip is not None and meaning in ("dont_know", "rather_not"):
        # No button for it, but the question may be skipped: remember what they said.
        marker = DONT_KNOW if meaning == "dont_know" else RATHER_NOT
        return ButtonPressed(f"{skip.value.partition('=')[0]}={marker}", event.at)
    return None


def current_prompt(flow: Flow, session: Session) -> tuple[Effect, ...]:
    """The current question again, e.g. after the crisis response or a channel reconnect."""
    return _prompt_effects(flow, session)
