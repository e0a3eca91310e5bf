"""Scripted intake conversations, shared by the golden, catalog and plain-language tests.

A scenario is a list of actions run against the pure engine with a fixed clock; running it
gives a transcript: for every input the serialised input, the effects (message ids, params,
buttons, and the Dutch rendering so reviewers can read them) and the session afterwards.
``tests/flows/golden/<name>.json`` keeps the expected transcript; ``pytest --regen-golden``
rewrites them.

Actions: ``("start", lang)``, ``("tap", "<step>=<value>")``, ``("text", str)``,
``("cmd", name)`` (a service command such as ``/privacy`` is recorded without the engine, which
never sees it), ``("media", kind)``, ``("wait", timedelta)`` (moves the clock only),
``("fire", index)`` (the reminder scheduled ``index``-th, as the scheduler would deliver it at
its due time with the session version that scheduled it) and ``("restart",)`` (the session
goes through storage's row codec and JSON and back, as after a process restart).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from bot.i18n import Translator
from bot.intake_data import load_domain_lexicon
from bot.privacy import COMMANDS as SERVICE_COMMANDS
from bot.routing.gazetteer import load_resolver
from bot.routing.place_check import load_coverage, load_targets, make_place_check
from flows.effects import (
    Button,
    CancelReminders,
    Discard,
    Effect,
    LanguageChanged,
    Part,
    RecordConsent,
    ScheduleReminder,
    SendCrisisHelp,
    SendMessage,
    SubmitIntake,
)
from flows.engine import Flow, Transition, resume, start
from flows.ids import PersonId, ReminderKey
from flows.inputs import (
    ButtonPressed,
    CommandReceived,
    ConnectedToCoach,
    ConsentChanged,
    Input,
    LinkFollowed,
    MediaKind,
    MediaReceived,
    ReminderDue,
    TextReceived,
)
from flows.intake import build_intake_flow
from flows.session import Session
from flows.text import Msg, Param, Verbatim
from storage.codec import session_from_row, session_to_row

T0 = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)  # a Monday morning in Brussels
STEP_SECONDS = 20  # time between two inputs in a scripted conversation
PERSON = PersonId("tg:1001")
NOTICE_VERSION = "2025-03"

Action = tuple[Any, ...]


@lru_cache(maxsize=1)
def intake_flow() -> Flow:
    # The place check, coverage and the typed labels as in production (bot/conversations.py).
    return build_intake_flow(
        load_domain_lexicon(),
        notice_version=NOTICE_VERSION,
        place_check=make_place_check(load_resolver()),
        coverage=load_coverage(),
        targets=load_targets(),
        say=translator().render,
    )


@lru_cache(maxsize=1)
def translator() -> Translator:
    return Translator.from_dir()


# --- serialising ----------------------------------------------------------------------------


def param_json(value: Param) -> Any:
    if isinstance(value, Msg):
        return msg_json(value)
    if isinstance(value, Verbatim):
        return {"verbatim": value.text}
    return value


def msg_json(message: Msg) -> dict[str, Any]:
    out: dict[str, Any] = {"id": message.id}
    if message.params:
        out["params"] = {k: param_json(v) for k, v in message.params}
    return out


def part_json(part: Part) -> Any:
    return param_json(part)


def button_json(button: Button, tr: Translator, language: str) -> dict[str, Any]:
    out: dict[str, Any] = {"value": button.value, "label": button.label.id}
    out["nl"] = tr.render(button.label, "nl")
    if language != "nl":
        out[language] = tr.render(button.label, language)
    return out


def effect_json(effect: Effect, tr: Translator, language: str) -> dict[str, Any]:
    if isinstance(effect, SendMessage):
        out: dict[str, Any] = {
            "type": "message",
            "parts": [part_json(p) for p in effect.parts],
        }
        if effect.buttons:
            out["buttons"] = [[button_json(b, tr, language) for b in row] for row in effect.buttons]
        out["prompt"] = effect.prompt
        out["nl"] = tr.render_parts(effect.parts, "nl")
        if language != "nl":
            out[language] = tr.render_parts(effect.parts, language)
        return out
    if isinstance(effect, SendCrisisHelp):
        return {"type": "crisis_help", "category": effect.category}
    if isinstance(effect, ScheduleReminder):
        return {"type": "schedule_reminder", "key": effect.key, "due_at": effect.due_at.isoformat()}
    if isinstance(effect, CancelReminders):
        return {"type": "cancel_reminders", "prefix": effect.prefix}
    if isinstance(effect, LanguageChanged):
        return {"type": "language_changed", "language": effect.language}
    if isinstance(effect, RecordConsent):
        return {
            "type": "record_consent",
            "category": effect.category,
            "given": effect.given,
            "notice_version": effect.notice_version,
            "at": effect.at.isoformat(),
        }
    if isinstance(effect, SubmitIntake):
        return {"type": "submit_intake", "at": effect.at.isoformat()}
    if isinstance(effect, Discard):
        return {"type": "discard"}
    raise TypeError(f"unknown effect {effect!r}")


def input_json(event: Input) -> dict[str, Any]:
    at = event.at.isoformat()
    if isinstance(event, TextReceived):
        text = event.text if len(event.text) <= 80 else f"{event.text[:40]}... ({len(event.text)})"
        return {"type": "text", "text": text, "at": at}
    if isinstance(event, ButtonPressed):
        return {"type": "button", "value": event.value, "at": at}
    if isinstance(event, CommandReceived):
        return {"type": "command", "name": event.name, "at": at}
    if isinstance(event, MediaReceived):
        return {"type": "media", "kind": event.kind, "at": at}
    if isinstance(event, ConsentChanged):
        return {"type": "consent", "answer": event.scope.answer, "given": event.given, "at": at}
    if isinstance(event, LinkFollowed):
        return {"type": "link", "answers": dict(event.answers), "at": at}
    if isinstance(event, ConnectedToCoach):
        return {"type": "connected", "at": at}
    return {
        "type": "reminder",
        "key": event.key,
        "session_version": event.session_version,
        "at": at,
    }


def session_json(session: Session) -> dict[str, Any]:
    return {
        "step": session.step,
        "status": session.status,
        "language": session.language,
        "version": session.version,
        "answers": dict(sorted(session.answers.items())),
        "history": list(session.history),
        "return_to": session.return_to,
        "interrupted": session.interrupted,
        "nudges": session.nudges,
    }


def restore(session: Session) -> Session:
    """A process restart: the session goes to a row, through JSON, and back."""
    row = session_to_row(session)
    text = json.dumps({k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()})
    loaded = json.loads(text)
    for key in ("started_at", "updated_at"):
        loaded[key] = datetime.fromisoformat(loaded[key])
    return session_from_row(loaded)


# --- running --------------------------------------------------------------------------------


@dataclass
class Run:
    """One scripted conversation; ``entries`` is the transcript, ``effects`` the raw effects."""

    flow: Flow
    tr: Translator
    clock: datetime = T0
    session: Session | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)
    reminders: list[ReminderDue] = field(default_factory=list)

    def _record(self, given: dict[str, Any], transition: Transition) -> Transition:
        self.session = transition.session
        self.effects.extend(transition.effects)
        for effect in transition.effects:
            if isinstance(effect, ScheduleReminder):
                self.reminders.append(
                    ReminderDue(effect.key, transition.session.version, effect.due_at)
                )
        language = transition.session.language
        self.entries.append(
            {
                "input": given,
                "effects": [effect_json(e, self.tr, language) for e in transition.effects],
                "session": session_json(transition.session),
            }
        )
        return transition

    def act(self, action: Action) -> Transition | None:
        kind = action[0]
        if kind == "wait":
            self.clock += action[1]
            return None
        if kind == "start":
            transition = start(self.flow, PERSON, at=self.clock, language=action[1])
            return self._record({"type": "start", "language": action[1]}, transition)
        assert self.session is not None, "start first"
        if kind == "restart":
            self.session = restore(self.session)
            self.entries.append(
                {"input": {"type": "restart"}, "effects": [], "session": session_json(self.session)}
            )
            return None
        event: Input
        if kind == "fire":
            due = self.reminders[action[1]]
            self.clock = max(self.clock, due.at)
            event = ReminderDue(ReminderKey(due.key), due.session_version, due.at)
        else:
            self.clock += timedelta(seconds=STEP_SECONDS)
            if kind == "tap":
                event = ButtonPressed(action[1], self.clock)
            elif kind == "text":
                event = TextReceived(action[1], self.clock)
            elif kind == "cmd" and action[1] in SERVICE_COMMANDS:
                # A service operation (the privacy feature's /privacy, ...): answered before
                # the engine, which never sees it; the session stays as it was.
                event = CommandReceived(action[1], "", self.clock)
                self.inputs.append(event)
                self.entries.append(
                    {
                        "input": input_json(event),
                        "effects": [{"type": "service_command", "name": action[1]}],
                        "session": session_json(self.session),
                    }
                )
                return None
            elif kind == "cmd":
                event = CommandReceived(action[1], "", self.clock)
            elif kind == "media":
                media: MediaKind = action[1]
                event = MediaReceived(media, self.clock)
            else:
                raise ValueError(f"unknown action {action!r}")
        self.inputs.append(event)
        return self._record(input_json(event), resume(self.flow, self.session, event))


def run(actions: Sequence[Action], flow: Flow | None = None) -> Run:
    scripted = Run(flow or intake_flow(), translator())
    for action in actions:
        scripted.act(action)
    return scripted


def messages(effects: Sequence[Effect]) -> Iterator[Msg]:
    """Every message id an effect list shows, including button labels and nested params."""

    def walk(value: Param) -> Iterator[Msg]:
        if isinstance(value, Msg):
            yield value
            for _, inner in value.params:
                yield from walk(inner)

    for effect in effects:
        if isinstance(effect, SendMessage):
            for part in effect.parts:
                yield from walk(part)
            for row in effect.buttons:
                for button in row:
                    yield from walk(button.label)


# --- the scenarios --------------------------------------------------------------------------

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

START = [("start", "nl"), ("tap", "welcome=start")]

# The median path, a cooperative newcomer with two topics: own words, both topics rated (one
# low, with what would help), "Nee, dat is alles", contact in the chat, no name. 12 taps or
# messages after /start.
MEDIAN_PATH: list[Action] = [
    *START,
    ("text", "Ik zoek werk en ik heb schulden"),
    ("tap", "words_confirm=yes"),
    ("text", "21"),
    ("text", "Leuven"),
    ("tap", "domain_work=2"),
    ("tap", "help_work=guide"),
    ("tap", "domain_money=3"),
    ("tap", "more=none"),
    ("tap", "contact=chat"),
    ("tap", "name=_skip"),
    ("tap", "summary=send"),
]

# A long path with buttons: a third topic added at "Is er nog iets?" with its consent, a phone
# number and a moment.
HAPPY_PATH: list[Action] = [
    *START,
    ("text", "Ik heb schulden en ze hebben me buiten gezet"),
    ("tap", "words_confirm=yes"),
    ("text", "23"),
    ("text", "Leuven"),
    ("tap", "domain_money=2"),
    ("tap", "help_money=papers"),
    ("tap", "domain_housing=1"),
    ("text", "Een plek om te slapen"),
    ("tap", "more=mental"),
    ("tap", "consent_health=yes"),
    ("tap", "domain_mental=3"),
    ("tap", "more=none"),
    ("tap", "contact=phone"),
    ("text", "0470 12 34 56"),
    ("tap", "moment=evening"),
    ("text", "Sam"),
    ("tap", "summary=send"),
]

SCENARIOS: Mapping[str, list[Action]] = {
    "happy_path": HAPPY_PATH,
    "median_path": MEDIAN_PATH,
    "under_18": [*START, ("tap", "words=dont_know"), ("text", "ik ben 16")],
    "over_30": [*START, ("text", "werk zoeken"), ("tap", "words_confirm=yes"), ("tap", "age=over")],
    "consent_refused": [
        *START,
        ("text", "ik gebruik drugs en heb schulden"),
        ("tap", "words_confirm=yes"),
        ("text", "25"),
        ("text", "Leuven"),
        ("tap", "domain_money=4"),
        ("tap", "consent_addiction=no"),
        ("tap", "more=none"),
        ("tap", "contact=chat"),
        ("tap", "name=_skip"),
        ("tap", "summary=send"),
    ],
    "everything_skipped": [
        *START,
        ("tap", "words=_skip"),
        ("tap", "age=_skip"),
        ("text", "overslaan"),
        ("tap", "more=none"),
        ("tap", "contact=_skip"),
        ("tap", "name=_skip"),
        ("tap", "place_again=rather_not"),
        ("tap", "summary=send"),
    ],
    "stop_and_resume": [
        *START,
        ("text", "ik zoek werk"),
        ("tap", "words_confirm=yes"),
        ("text", "19"),
        ("cmd", "stop"),
        ("restart",),
        ("wait", 2 * DAY),
        ("text", "hallo"),
        ("tap", "_resume=continue"),
        ("text", "Genk"),
        ("wait", 8 * HOUR),
        ("restart",),
        ("tap", "domain_work=2"),
        ("cmd", "opnieuw"),
        ("tap", "_restart=no"),
        ("cmd", "opnieuw"),
        ("text", "ja"),
    ],
    "language_switch": [
        ("start", "nl"),
        ("tap", "welcome=privacy"),
        ("tap", "welcome_privacy=more"),
        ("tap", "welcome_privacy=start"),
        ("text", "geen kot"),
        ("cmd", "taal"),
        ("tap", "_language=en"),
        ("tap", "words_confirm=no"),
        ("text", "22"),
        ("tap", "place=_back"),
        ("text", "twenty two"),
        ("text", "22"),
        ("cmd", "hulp"),
    ],
    "arabic": [
        ("start", "ar"),
        ("tap", "welcome=start"),
        ("text", "عندي ديون وطردوني من البيت"),
        ("tap", "words_confirm=yes"),
        ("text", "٢٤"),
        ("text", "Antwerpen"),
        ("text", "نعم"),
        ("text", "٢"),
        ("tap", "help_money=talk"),
        ("text", "جيد"),
        ("text", "لا"),
        ("tap", "contact=chat"),
    ],
    "summary_edit": [
        *START,
        ("tap", "words=dont_know"),
        ("text", "22"),
        ("text", "Brugge"),
        ("tap", "more=work"),
        ("tap", "domain_work=4"),
        ("tap", "more=none"),
        ("tap", "contact=chat"),
        ("text", "Sam"),
        ("tap", "summary=edit_age"),
        ("text", "24"),
        ("tap", "summary=edit_domains"),
        ("tap", "edit_domains=money"),
        ("tap", "domain_money=2"),
        ("tap", "help_money=info"),
        ("tap", "summary=edit_contact"),
        ("tap", "contact=email"),
        ("text", "sam@voorbeeld"),
        ("text", "Sam.Peeters@Voorbeeld.be"),
        ("tap", "summary=send"),
    ],
    "stale_button": [
        *START,
        ("tap", "words=dont_know"),
        ("tap", "welcome=start"),
        ("tap", "words=dont_know"),
        ("tap", "age=older_than_ever"),
        ("text", "18-30"),
        ("text", "twintig"),
        ("tap", "domain_money=3"),
    ],
    "media_and_odd_text": [
        *START,
        ("media", "sticker"),
        ("media", "photo"),
        ("media", "voice"),
        ("text", "😭😭😭"),
        ("text", "x" * 1200),
        ("text", "Ik zoek een job"),
        ("text", "ja"),
        ("tap", "words_confirm=yes"),
        ("media", "location"),
        ("text", "21"),
        ("text", "Hasselt"),
        ("text", "🙂"),
        ("cmd", "onbekend"),
        ("cmd", "privacy"),
    ],
    "nudges": [
        *START,
        ("text", "schulden"),
        ("fire", 0),
        ("fire", 1),
        ("fire", 2),
        ("fire", 2),
        ("wait", 5 * DAY),
        ("tap", "words_confirm=yes"),
    ],
    # Coverage is said right after the place: outside Flanders, then stop (nothing kept).
    "coverage_brussels_stop": [
        *START,
        ("text", "ik zoek werk"),
        ("tap", "words_confirm=yes"),
        ("text", "22"),
        ("text", "Brussel"),
        ("tap", "place_uncovered=stop"),
    ],
    # A blind spot in Flanders: the general lines at once, and the fallback team.
    "coverage_blind_spot_fallback": [
        *START,
        ("text", "ik heb schulden"),
        ("tap", "words_confirm=yes"),
        ("text", "24"),
        ("text", "Mechelen"),
        ("tap", "place_uncovered=fallback"),
        ("tap", "domain_money=2"),
        ("tap", "help_money=talk"),
        ("tap", "more=none"),
        ("tap", "contact=chat"),
        ("tap", "name=_skip"),
        ("tap", "summary=send"),
    ],
    # An unknown place name in a covered municipality: the postcode once, never a loop.
    "coverage_unknown_place": [
        *START,
        ("text", "ik zoek werk"),
        ("tap", "words_confirm=yes"),
        ("text", "22"),
        ("text", "Ezemaal"),
        ("text", "3400"),
        ("tap", "domain_work=3"),
        ("tap", "more=none"),
    ],
    # A place nobody can find: the postcode question, "weet ik niet", the general help.
    "coverage_unknown_twice": [
        *START,
        ("tap", "words=dont_know"),
        ("text", "22"),
        ("text", "Xyzzyville"),
        ("tap", "place_postcode=dont_know"),
        ("tap", "place_uncovered=fallback"),
    ],
    # The place skipped: asked once more before the summary; a place given then is checked.
    "coverage_skipped_place_asked_again": [
        *START,
        ("text", "ik zoek werk"),
        ("tap", "words_confirm=yes"),
        ("text", "22"),
        ("tap", "place=_skip"),
        ("tap", "domain_work=4"),
        ("tap", "more=none"),
        ("tap", "contact=chat"),
        ("tap", "name=_skip"),
        ("text", "Genk"),
        ("tap", "summary=send"),
    ],
    # Ratings follow the person: nothing named, then topics from the list, then everything.
    "adaptive_ratings": [
        *START,
        ("tap", "words=dont_know"),
        ("text", "26"),
        ("text", "Hasselt"),
        ("tap", "more=housing"),
        ("tap", "domain_housing=2"),
        ("tap", "help_housing=info"),
        ("tap", "more=all"),
        ("tap", "domain_work=4"),
        ("tap", "domain_money=3"),
        ("tap", "domain_home=4"),
        ("tap", "consent_health=no"),
        ("tap", "consent_addiction=yes"),
        ("tap", "domain_addiction=5"),
        ("tap", "domain_leisure=enough"),
        ("tap", "contact=chat"),
    ],
    # Typed instead of tapped, in Dutch: yes, labels, numbers and ratings in words, stop.
    "natural_replies": [
        ("start", "nl"),
        ("text", "ja"),
        ("text", "Ik zoek werk"),
        ("text", "ja klopt"),
        ("text", "weet ik niet"),
        ("tap", "place=_back"),
        ("text", "twintig"),
        ("text", "Leuven"),
        ("text", "gaat wel"),
        ("text", "Geld"),
        ("text", "slecht"),
        ("text", "iemand die meegaat"),
        ("text", "ik wil stoppen"),
        ("text", "hallo"),
        ("text", "verder gaan"),
        ("text", "nee, dat is alles"),
        ("text", "met de telefoon"),
        ("text", "0470 12 34 56"),
        ("text", "maakt niet uit"),
        ("text", "zeg ik liever niet"),
        ("text", "ja"),
    ],
    # The same in other languages, and an edited message.
    "natural_replies_languages": [
        ("start", "fr"),
        ("text", "oui"),
        ("text", "je ne sais pas"),
        ("text", "vingt-deux"),
        ("text", "Louvain"),
        ("cmd", "taal"),
        ("text", "English"),
        ("text", "Work and school"),
        ("text", "not good"),
        ("text", "skip"),
        ("cmd", "taal"),
        ("tap", "_language=tr"),
        ("text", "hayır, hepsi bu"),
        ("cmd", "taal"),
        ("tap", "_language=uk"),
        ("text", "тут у чаті"),
        ("cmd", "taal"),
        ("tap", "_language=ar"),
        ("text", "لا أعرف"),
    ],
    # An edited text gets a fitting answer, not "I cannot look at photos".
    "edited_message": [
        *START,
        ("text", "ik zoek werk"),
        ("media", "edited"),
        ("tap", "words_confirm=yes"),
    ],
    # One consent per category, each saying what the coach sees; "no" still gives help.
    "consent_per_category": [
        *START,
        ("text", "ik gebruik drugs, ik voel me depressief en ik heb een boete van de politie"),
        ("tap", "words_confirm=yes"),
        ("text", "27"),
        ("text", "Tienen"),
        ("tap", "domain_money=3"),
        ("tap", "consent_health=yes"),
        ("tap", "domain_mental=2"),
        ("tap", "help_mental=talk"),
        ("tap", "consent_addiction=no"),
        ("tap", "consent_justice=yes"),
        ("tap", "domain_justice=3"),
        ("tap", "more=none"),
        ("tap", "contact=chat"),
        ("tap", "name=_skip"),
        ("tap", "summary=edit_domains"),
        ("tap", "edit_domains=consent_justice"),
        ("tap", "consent_justice=no"),
        ("tap", "summary=send"),
    ],
}
