"""The conversation service: one input for one person, start to finish.

Rules:

* Safety first. Text (captions, command arguments) is screened before anything else, and a
  flagged text gets the crisis response *before* the database is touched, so it goes out even
  when storage fails; ``/hulp`` and the help button get the same response the same way.
* One person at a time. Inputs of one person are serialised by a per-person lock (and, across
  processes, by the session version: a conflict reloads and runs the engine again). Different
  people run in parallel.
* Load, run engine, save, apply effects. Reminder effects are written in the same transaction
  as the session; messages are sent after the commit, so a crash never sends a message for a
  state that was not saved.
* A failure never leaves the person without a next step: they get ``channel.error``.
* Logs carry person ids and effect names, never text.
* Buttons the service answers itself (the way back after the crisis response, the privacy
  buttons) are found by the part before ``=`` in :attr:`ConversationService.button_handlers`
  and handled before the engine. A flow must not use those prefixes as step ids.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.delivery import NoChannel, delivery_is_strict
from bot.i18n import Translator
from bot.logs import describe
from flows.effects import (
    CancelReminders,
    Discard,
    Effect,
    LanguageChanged,
    RecordConsent,
    ScheduleReminder,
    SendCrisisHelp,
    SendMessage,
    ServiceRequest,
    SubmitIntake,
)
from flows.engine import NUDGE_KEY, Flow, Transition, current_prompt, resume, start
from flows.ids import FlowId, PersonId
from flows.inputs import (
    ButtonPressed,
    CommandReceived,
    Input,
    MediaReceived,
    ReminderDue,
    TextReceived,
)
from flows.session import Session
from flows.text import msg
from storage.ports import Storage, Transaction, VersionConflict

log = logging.getLogger(__name__)

Keyboard = tuple[tuple[tuple[str, str], ...], ...]
# The button under the crisis response that brings the current question back.
SAFETY_BUTTONS = "safety"
RESUME_AFTER_CRISIS = f"{SAFETY_BUTTONS}=continue"
# Commands that get the crisis response in every state, before the database is touched.
HELP_COMMANDS = frozenset({"hulp", "help"})
CRISIS_LOOKUP_SECONDS = 1.0


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message for one channel: text in the person's language, buttons as
    (label, value) pairs. ``crisis`` messages bypass rate limits and quiet hours."""

    text: str
    buttons: Keyboard = ()
    prompt: bool = False
    rtl: bool = False
    crisis: bool = False
    # A file to fetch, as (url, filename): the web chat's download link for a document.
    download: tuple[str, str] | None = None
    # For the team (a coach's or the safety chat), not a young person: channels add nothing
    # meant for young people, such as the persistent help button.
    team: bool = False
    # The language the text is in (None: not known here); a channel shows what it adds itself,
    # such as the persistent help button and its hint, in the same language.
    language: str | None = None


class Channel(Protocol):
    """A way to reach people: Telegram, the web chat."""

    async def deliver(self, person: PersonId, message: OutgoingMessage) -> None: ...

    async def deliver_document(
        self, person: PersonId, filename: str, content: bytes, caption: str
    ) -> None:
        """Send a file (the ``/mijngegevens`` export) to the person's own chat only."""
        ...

    async def language_changed(self, person: PersonId, language: str) -> None: ...

    def forget(self, person: PersonId) -> None:
        """Drop whatever the channel holds for the person (queued messages, files, the
        last prompt): called after an erasure."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class Screening(Protocol):
    @property
    def flagged(self) -> bool: ...

    @property
    def category(self) -> str | None: ...


class Screener(Protocol):
    def screen(self, text: str) -> Screening: ...


class CrisisResponder(Protocol):
    """Builds the crisis response and raises the alert (the safety net plugs in here)."""

    def messages(self, category: str | None, now: datetime, language: str) -> list[OutgoingMessage]:
        ...

    async def raise_alert(
        self, person: PersonId, category: str | None, now: datetime, language: str
    ) -> None:
        """After the crisis reply went out: record the event and alert a person of the team.
        ``language`` is the one the reply was written in (the session may not exist yet)."""
        ...


EffectHook = Callable[[Transaction, Session, Effect, datetime], Awaitable[None]]
AfterCommitHook = Callable[[Session, Effect, datetime], Awaitable[list[OutgoingMessage]]]
ButtonHandler = Callable[[PersonId, ButtonPressed, str], Awaitable[None]]
"""A service-level button: (person, the pressed button, language hint). It sends its own
messages and takes :meth:`ConversationService.person_lock` itself when it changes data."""
AfterFlow = Callable[[Session, Input], Awaitable[list[OutgoingMessage] | None]]
"""Tried in order for a text, button or media input of a person whose flow is done (``step``
is ``None``), after the safety screening and under the person's lock: the first hook that
returns a list (possibly empty) has handled the input and the list is delivered; ``None``
passes the input on, in the end to the engine (the coach relay plugs in here)."""


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


@dataclass
class ConversationService:
    storage: Storage
    flows: Mapping[FlowId, Flow]
    entry: FlowId
    channels: Mapping[str, Channel]
    translator: Translator
    clock: Clock
    screener: Screener | None = None
    crisis: CrisisResponder | None = None
    # Effects handled inside the transaction (consents, handoff rows, ...), by effect type.
    effect_hooks: dict[type, EffectHook] = field(default_factory=dict)
    # Effects that produce messages after the commit (privacy export, ...), by request name.
    requests: dict[str, AfterCommitHook] = field(default_factory=dict)
    # Buttons answered before the engine, by the part of the value before "=".
    button_handlers: dict[str, ButtonHandler] = field(default_factory=dict)
    # Effects answered after the commit, by effect type (the handoff after SubmitIntake); their
    # messages follow the flow's own messages of the same input.
    after_commit: dict[type, AfterCommitHook] = field(default_factory=dict)
    # Inputs after the flow is done, before the engine (see AfterFlow).
    after_flow: list[AfterFlow] = field(default_factory=list)
    _locks: KeyedLocks = field(default_factory=KeyedLocks)

    def __post_init__(self) -> None:
        self.button_handlers.setdefault(SAFETY_BUTTONS, self._safety_button)

    # --- entry point ----------------------------------------------------------------------

    async def handle(
        self, person: PersonId, event: Input, *, language_hint: str | None = None
    ) -> None:
        """Process one input. Never raises for a person's input: failures become a kind
        message and a log line with the person id."""
        language = self._language_hint(language_hint)
        if isinstance(event, ButtonPressed):
            handler = self.button_handlers.get(event.value.partition("=")[0])
            if handler is not None:
                await self._service_button(handler, person, event, language)
                return
        if isinstance(event, CommandReceived) and event.name in HELP_COMMANDS:
            # /hulp gets the crisis response before the database is touched, like the help
            # button: it must work when storage is down too.
            await self.crisis_help(person, language_hint=language_hint)
            return
        crisis_sent = await self._screen(person, event, language)
        if crisis_sent:
            # Help, not the next question: the flagged text is not taken as an answer. The
            # crisis response itself offers the way back to the questions.
            return
        try:
            async with self._locks.hold(person):
                handled = await self._after_flow(person, event)
                if handled is not None:
                    outgoing = handled
                else:
                    outgoing, language = await self._run(person, event, language, crisis_sent)
        except Exception as error:
            log.error("input failed person=%s input=%s error=%s", person,
                      type(event).__name__, describe(error))
            await self._deliver(person, [self._error_message(language)])
            return
        await self._deliver(person, outgoing)

    # --- safety ---------------------------------------------------------------------------

    async def _screen(self, person: PersonId, event: Input, language: str) -> bool:
        text = None
        if isinstance(event, TextReceived):
            text = event.text
        elif isinstance(event, MediaReceived):
            text = event.caption
        elif isinstance(event, CommandReceived):
            # "/stop ik wil dood": what follows a command is text a person wrote, too.
            text = event.args or None
        if text is None or self.screener is None:
            return False
        result = self.screener.screen(text)
        if not result.flagged:
            return False
        log.warning("safety screen flagged person=%s category=%s", person, result.category)
        await self._send_crisis(person, result.category, language)
        return True

    async def _send_crisis(self, person: PersonId, category: str | None, language: str) -> None:
        now = self.clock.now()
        messages = self._crisis_messages(category, now, language)
        # The crisis reply goes out first, whatever happens to the database afterwards; the
        # alert is raised even when the channel failed to deliver it.
        try:
            await self._deliver(person, messages)
        finally:
            if self.crisis is not None:
                try:
                    await self.crisis.raise_alert(person, category, now, language)
                except Exception as error:
                    log.error("safety alert failed person=%s error=%s", person,
                              describe(error))

    def _crisis_messages(
        self, category: str | None, now: datetime, language: str
    ) -> list[OutgoingMessage]:
        if self.crisis is not None:
            return self.crisis.messages(category, now, language)
        text = self.translator.render(msg("engine.help"), language)
        button = self.translator.render(msg("safety.continue"), language)
        return [
            OutgoingMessage(
                text,
                ((( button, RESUME_AFTER_CRISIS),),),
                rtl=self.translator.is_rtl(language),
                crisis=True,
            )
        ]

    async def _service_button(
        self, handler: ButtonHandler, person: PersonId, event: ButtonPressed, language: str
    ) -> None:
        try:
            await handler(person, event, language)
        except Exception as error:
            log.error("service button failed person=%s button=%s error=%s", person,
                      event.value.partition("=")[0], describe(error))
            await self._deliver(person, [self._error_message(language)])

    async def _safety_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        # Only "continue" exists; any other safety button also brings the question back.
        await self._resume_after_crisis(person)

    async def _resume_after_crisis(self, person: PersonId) -> None:
        async with self.storage.transaction() as tx:
            session = await tx.sessions.get(person)
        if session is None or session.step is None:
            now = self.clock.now()
            await self.handle(person, CommandReceived("start", "", now))
            return
        await self._deliver(person, self.prompt_again(session))

    # --- the transaction ------------------------------------------------------------------

    async def _run(
        self, person: PersonId, event: Input, language: str, crisis_sent: bool
    ) -> tuple[list[OutgoingMessage], str]:
        for attempt in range(3):
            try:
                return await self._run_once(person, event, language, crisis_sent)
            except VersionConflict:
                # Another process handled an input of this person meanwhile: run again on
                # the newer session.
                log.info("version conflict person=%s attempt=%d", person, attempt + 1)
        raise RuntimeError("version conflict persisted")

    async def _run_once(
        self, person: PersonId, event: Input, language: str, crisis_sent: bool
    ) -> tuple[list[OutgoingMessage], str]:
        after: list[tuple[Session, Effect]] = []
        async with self.storage.transaction() as tx:
            session = await tx.sessions.get(person)
            transition = self._transition(person, session, event, language)
            new = transition.session
            discard = any(isinstance(e, Discard) for e in transition.effects)
            if discard:
                if session is not None:
                    await tx.sessions.delete(person)
                # Only the intake's own reminders go: a safety escalation of someone who is
                # not our target group (under 18) must still reach a person.
                await tx.reminders.cancel(person, NUDGE_KEY)
            else:
                await tx.sessions.save(
                    new, expected_version=session.version if session is not None else None
                )
            now = self.clock.now()
            for effect in transition.effects:
                if isinstance(effect, ScheduleReminder) and not discard:
                    await tx.reminders.schedule(person, effect.key, effect.due_at, new.version)
                elif isinstance(effect, CancelReminders):
                    await tx.reminders.cancel(person, effect.prefix)
                elif type(effect) in self.effect_hooks:
                    await self.effect_hooks[type(effect)](tx, new, effect, now)
                after.append((new, effect))
        language = transition.session.language
        outgoing: list[OutgoingMessage] = []
        later: list[OutgoingMessage] = []
        for session_after, effect in after:
            outgoing.extend(await self._after_commit(session_after, effect, crisis_sent))
            hook = self.after_commit.get(type(effect))
            if hook is not None:
                later.extend(await hook(session_after, effect, self.clock.now()))
        return [*outgoing, *later], language

    async def _after_flow(self, person: PersonId, event: Input) -> list[OutgoingMessage] | None:
        if not self.after_flow or not isinstance(event, TextReceived | ButtonPressed
                                                 | MediaReceived):
            return None
        async with self.storage.transaction() as tx:
            session = await tx.sessions.get(person)
        if session is None or session.step is not None:
            return None
        for hook in self.after_flow:
            handled = await hook(session, event)
            if handled is not None:
                return handled
        return None

    def _transition(
        self, person: PersonId, session: Session | None, event: Input, language: str
    ) -> Transition:
        if session is None and isinstance(event, ReminderDue):
            # The session was erased or discarded since: the reminder has nothing to do.
            placeholder = start(self.flows[self.entry], person, at=event.at, language=language)
            return Transition(placeholder.session, (Discard(),))
        if session is None:
            flow = self.flows[self.entry]
            first = start(flow, person, at=event.at, language=language)
            if isinstance(event, ButtonPressed | CommandReceived) and not (
                isinstance(event, CommandReceived) and event.name == "start"
            ):
                # A button or command without a session (after a restart that kept nothing,
                # or after /wis): apply it to a fresh session; a stale button is re-prompted.
                return resume(flow, first.session, event)
            return first
        flow = self.flows[session.flow]
        return resume(flow, session, event)

    async def _after_commit(
        self, session: Session, effect: Effect, crisis_sent: bool
    ) -> list[OutgoingMessage]:
        language = session.language
        rtl = self.translator.is_rtl(language)
        if isinstance(effect, SendMessage):
            text = self.translator.render_parts(effect.parts, language)
            buttons = tuple(
                tuple((self.translator.render(b.label, language), b.value) for b in row)
                for row in effect.buttons
            )
            return [
                OutgoingMessage(
                    text, buttons, prompt=effect.prompt, rtl=rtl, language=language
                )
            ]
        if isinstance(effect, SendCrisisHelp):
            if crisis_sent:
                return []
            person = session.person
            now = self.clock.now()
            messages = self._crisis_messages(effect.category, now, language)
            if self.crisis is not None:
                try:
                    await self.crisis.raise_alert(person, effect.category, now, language)
                except Exception as error:
                    log.error("safety alert failed person=%s error=%s", person, describe(error))
            return messages
        if isinstance(effect, LanguageChanged):
            channel = self._channel(session.person)
            if channel is not None:
                await channel.language_changed(session.person, effect.language)
            return []
        if isinstance(effect, ServiceRequest):
            hook = self.requests.get(effect.name)
            if hook is not None:
                return await hook(session, effect, self.clock.now())
            if effect.name == "show_privacy":
                text = self.translator.render(msg("privacy.full"), language)
                return [
                    OutgoingMessage(text, rtl=rtl, language=language),
                    *self.prompt_again(session),
                ]
            text = self.translator.render(msg("engine.not_yet"), language)
            return [
                    OutgoingMessage(text, rtl=rtl, language=language),
                    *self.prompt_again(session),
                ]
        if isinstance(effect, RecordConsent | SubmitIntake | Discard):
            return []
        return []

    def prompt_again(self, session: Session) -> list[OutgoingMessage]:
        """The current question, rendered: so a side trip never leaves the person stuck."""
        flow = self.flows[session.flow]
        out: list[OutgoingMessage] = []
        for effect in current_prompt(flow, session):
            if isinstance(effect, SendMessage):
                text = self.translator.render_parts(effect.parts, session.language)
                buttons = tuple(
                    tuple(
                        (self.translator.render(b.label, session.language), b.value) for b in row
                    )
                    for row in effect.buttons
                )
                rtl = self.translator.is_rtl(session.language)
                out.append(
                    OutgoingMessage(
                        text, buttons, prompt=effect.prompt, rtl=rtl,
                        language=session.language,
                    )
                )
        return out

    # --- delivery -------------------------------------------------------------------------

    def _channel(self, person: PersonId) -> Channel | None:
        prefix = person.split(":", 1)[0]
        return self.channels.get(prefix)

    async def _deliver(self, person: PersonId, messages: Sequence[OutgoingMessage]) -> None:
        channel = self._channel(person)
        if channel is None:
            if delivery_is_strict():
                # A reminder: left for a process that has this channel (bot.delivery).
                raise NoChannel(person.split(":", 1)[0])
            log.error("no channel for person=%s", person)
            return
        for message in messages:
            await channel.deliver(person, message)

    async def deliver(self, person: PersonId, messages: Sequence[OutgoingMessage]) -> None:
        """Send already rendered messages (coach relay, reminders) through the right channel."""
        await self._deliver(person, messages)

    async def deliver_document(
        self, person: PersonId, filename: str, content: bytes, caption: str
    ) -> None:
        channel = self._channel(person)
        if channel is None:
            log.error("no channel for person=%s", person)
            return
        await channel.deliver_document(person, filename, content, caption)

    def forget(self, person: PersonId) -> None:
        """After an erasure: the channel drops what it holds for the person."""
        channel = self._channel(person)
        if channel is not None:
            channel.forget(person)

    def person_lock(self, person: PersonId) -> AbstractAsyncContextManager[None]:
        """The per-person lock ``handle`` takes: hold it to change a person's data outside
        the engine (not re-entrant: do not call ``handle`` while holding it)."""
        return self._locks.hold(person)

    def language_for(self, hint: str | None) -> str:
        """A supported language from a channel's hint (``nl`` when there is none)."""
        return self._language_hint(hint)

    def _error_message(self, language: str) -> OutgoingMessage:
        text = self.translator.render(msg("channel.error"), language)
        return OutgoingMessage(text, rtl=self.translator.is_rtl(language), language=language)

    def _language_hint(self, hint: str | None) -> str:
        if hint:
            code = hint.split("-")[0].lower()
            if code in self.translator.languages:
                return code
        return "nl"

    async def open(self, person: PersonId, *, language_hint: str | None = None) -> None:
        """A chat window (re)opened: show where the person is, or start the welcome."""
        async with self.storage.transaction() as tx:
            session = await tx.sessions.get(person)
        if session is None or session.step is None:
            now = self.clock.now()
            start_input = CommandReceived("start", "", now)
            await self.handle(person, start_input, language_hint=language_hint)
            return
        await self._deliver(person, self.prompt_again(session))

    async def crisis_help(self, person: PersonId, *, language_hint: str | None = None) -> None:
        """The "Ik heb nu hulp nodig" button: the same response as /hulp, in every state."""
        language = self._language_hint(language_hint)
        try:
            # The session only picks the language: a slow or locked database may not hold up
            # the help, so after a second the reply goes out in the channel's language.
            async with asyncio.timeout(CRISIS_LOOKUP_SECONDS), self.storage.transaction() as tx:
                session = await tx.sessions.get(person)
            if session is not None:
                language = session.language
        except Exception as error:
            log.error("crisis help could not load session person=%s error=%s", person,
                      describe(error))
            session = None
        # No question straight after the help: the response's own "Verder met de vragen"
        # button is the next step, so the help lines are the last thing on the screen.
        await self._send_crisis(person, None, language)
