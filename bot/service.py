"""The conversation service: the engine's side of the inbound pipeline (:mod:`bot.pipeline`).

Rules:

* Every input goes through the pipeline (``handle`` hands it there): screening, the button's
  answer, dedupe and routing are the pipeline's; this module runs the engine for one input of
  one person, renders, and delivers.
* One person at a time. Inputs of one person are serialised by the pipeline's per-person turn
  (:class:`bot.pipeline.KeyedLocks`; :meth:`ConversationService.person_lock` is the same lock)
  and, across processes, by the session version: a conflict reloads and runs the engine again.
  Different people run in parallel.
* Load, run engine, save, apply effects (:meth:`ConversationService.step`) and store the
  messages the effects render without I/O in the outbox (:meth:`ConversationService.stage`,
  :mod:`bot.outbox`) inside the input's transaction; they are sent after the commit with those
  of the after-commit hooks (:meth:`ConversationService.finish`), so a crash never sends a
  message for a state that was not saved, nor loses one for a state that was.
* A failure never leaves the person without a next step: they get ``channel.error``.
* Logs carry person ids and effect names, never text.
* Features plug in through :attr:`ConversationService.registry` (:mod:`bot.plugins`): effect
  hooks (several per effect type, in registration order; the in-transaction phase's value goes
  to the after-commit phase), service-level buttons and commands (handled before the engine,
  by the part of a button's value before ``=``; a flow must not use those prefixes as step
  ids), after-flow hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.delivery import NoChannel, delivery_is_strict
from bot.i18n import Translator
from bot.inbound import Inbound
from bot.logs import describe
from bot.pipeline import (
    HELP_COMMANDS,
    SAFETY_BUTTONS,
    FlowDone,
    HookValues,
    KeyedLocks,
    Pipeline,
    Routed,
)
from bot.plugins import (
    AfterFlow,
    ButtonHandler,
    CommandHandler,
    EffectHook,
    Feature,
    Registry,
    Replies,
)
from bot.render import Keyboard, OutgoingMessage, Renderer
from flows.effects import (
    Button,
    CancelReminders,
    Discard,
    Effect,
    LanguageChanged,
    ScheduleReminder,
    SendCrisisHelp,
    SendMessage,
)
from flows.engine import (
    NUDGE_KEY,
    Flow,
    Transition,
    current_prompt,
    resume,
    start,
    with_link,
)
from flows.ids import FlowId, PersonId
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
from flows.session import Session
from flows.text import msg
from storage.ports import Storage, Transaction, VersionConflict

if TYPE_CHECKING:
    from bot.outbox import Relay

log = logging.getLogger(__name__)

# The button under the crisis response that brings the current question back.
RESUME_AFTER_CRISIS = f"{SAFETY_BUTTONS}=continue"
__all__ = [
    "HELP_COMMANDS",
    "AfterFlow",
    "ButtonHandler",
    "FlowDone",
    "Keyboard",
    "KeyedLocks",
    "OutgoingMessage",
    "Routed",
]


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

    def messages(
        self, category: str | None, now: datetime, language: str
    ) -> list[OutgoingMessage]: ...

    async def raise_alert(
        self, person: PersonId, category: str | None, now: datetime, language: str
    ) -> None:
        """After the crisis reply went out: record the event and alert a person of the team.
        ``language`` is the one the reply was written in (the session may not exist yet)."""
        ...


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
    # What the features registered (bot/plugins.py): effect hooks, buttons, commands, ...
    registry: Registry = field(init=False)
    _locks: KeyedLocks = field(default_factory=KeyedLocks)
    pipeline: Pipeline = field(init=False)
    # The outbox: messages of a state change are stored with it and sent after the commit.
    relay: Relay = field(init=False)

    def __post_init__(self) -> None:
        from bot.outbox import Relay

        # Personal-data parts a feature registers go straight into the storage's list.
        self.registry = Registry(parts=self.storage.personal_data_parts)
        self.pipeline = Pipeline(self)
        self.relay = Relay(self)

    def add(self, feature: Feature) -> None:
        """Plug a feature in (see :mod:`bot.plugins`)."""
        self.registry.add(feature)

    @property
    def button_handlers(self) -> dict[str, ButtonHandler]:
        """Service-level buttons by prefix (the registry's; a feature registers through
        ``registry.button``, which refuses a prefix taken twice)."""
        return self.registry.buttons

    @property
    def after_flow(self) -> list[AfterFlow]:
        return self.registry.after_flow

    def button_handler(self, prefix: str) -> ButtonHandler | None:
        """The handler of a service-level button; ``safety=`` falls back to bringing the
        question back (the safety net, when plugged in, takes the whole prefix)."""
        found = self.registry.buttons.get(prefix)
        if found is None and prefix == SAFETY_BUTTONS:
            return self._safety_button
        return found

    @property
    def locks(self) -> KeyedLocks:
        return self._locks

    # --- entry point ----------------------------------------------------------------------

    async def handle(
        self, person: PersonId, event: Input, *, language_hint: str | None = None
    ) -> None:
        """Process one input through the inbound pipeline (:mod:`bot.pipeline`). Never raises
        for a person's input: failures become a kind message and a log line with the person
        id."""
        await self.pipeline.handle(Inbound(person, event, language_hint))

    # --- safety ---------------------------------------------------------------------------

    async def send_crisis(self, person: PersonId, category: str | None, language: str) -> None:
        """The crisis reply, then the alert (the pipeline's screen stage calls this)."""
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
                    log.error("safety alert failed person=%s error=%s", person, describe(error))

    def _crisis_messages(
        self, category: str | None, now: datetime, language: str
    ) -> list[OutgoingMessage]:
        if self.crisis is not None:
            return self.crisis.messages(category, now, language)
        back = ((Button(msg("safety.continue"), RESUME_AFTER_CRISIS),),)
        return [self.renderer.message([msg("engine.help")], language, back, crisis=True)]

    async def service_button(
        self, handler: ButtonHandler, person: PersonId, event: ButtonPressed, language: str
    ) -> None:
        try:
            await handler(person, event, language)
        except Exception as error:
            log.error(
                "service button failed person=%s button=%s error=%s",
                person,
                event.value.partition("=")[0],
                describe(error),
            )
            await self._deliver(person, [self.error_message(language)])

    async def service_command(
        self, handler: CommandHandler, person: PersonId, event: CommandReceived, language: str
    ) -> None:
        try:
            await handler(person, event, language)
        except Exception as error:
            log.error(
                "service command failed person=%s command=%s error=%s",
                person,
                event.name,
                describe(error),
            )
            await self._deliver(person, [self.error_message(language)])

    async def _safety_button(self, person: PersonId, event: ButtonPressed, language: str) -> None:
        # Only "continue" exists; any other safety button also brings the question back.
        await self.resume_after_crisis(person)

    async def resume_after_crisis(self, person: PersonId) -> None:
        """The way back after the crisis response: the open question, or the welcome."""
        async with self.storage.transaction() as tx:
            session = await tx.sessions.get(person)
        if session is None or session.step is None:
            now = self.clock.now()
            await self.handle(person, CommandReceived("start", "", now))
            return
        await self._deliver(person, self.prompt_again(session))

    # --- the transaction ------------------------------------------------------------------

    async def run(self, person: PersonId, event: Input, language: str) -> Routed:
        """The engine in a transaction of its own (after a router or an after-flow hook let
        the input pass)."""
        for attempt in range(3):
            try:
                async with self.storage.transaction() as tx:
                    routed = await self.step(tx, person, event, language, after_flow=False)
                    assert isinstance(routed, Routed)
                    routed = await self.stage(tx, routed)
                return routed
            except VersionConflict:
                log.info("version conflict person=%s attempt=%d", person, attempt + 1)
        raise RuntimeError("version conflict persisted")

    async def step(
        self,
        tx: Transaction,
        person: PersonId,
        event: Input,
        language: str,
        *,
        after_flow: bool,
    ) -> Routed | FlowDone:
        """Inside the input's transaction: load the session, run the engine, save, and apply
        the in-transaction effects. With ``after_flow``, a text, button or media input of a
        person whose flow is done is returned as :class:`FlowDone` for the after-flow hooks."""
        session = await tx.sessions.get(person)
        if (
            after_flow
            and (self.after_flow or self.registry.after_flow_in_transaction)
            and session is not None
            and session.step is None
            and isinstance(event, TextReceived | ButtonPressed | MediaReceived)
        ):
            return FlowDone(session)
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
        after: list[tuple[Session, Effect, HookValues]] = []
        for effect in transition.effects:
            if isinstance(effect, ScheduleReminder) and not discard:
                await tx.reminders.schedule(person, effect.key, effect.due_at, new.version)
            elif isinstance(effect, CancelReminders):
                await tx.reminders.cancel(person, effect.prefix)
            values: list[tuple[EffectHook[Any], Any]] = []
            for hook in self.registry.hooks_for(effect):
                # In registration order; each hook's value goes to its own after-commit phase.
                value = None
                if hook.in_transaction is not None:
                    value = await hook.in_transaction(tx, new, effect, now)
                values.append((hook, value))
            after.append((new, effect, tuple(values)))
        return Routed(person, new, tuple(after), discard)

    async def stage(self, tx: Transaction, routed: Routed) -> Routed:
        """Inside the input's transaction: render the messages of the effects (none needs I/O)
        and store them in the outbox (:mod:`bot.outbox`): a crash after the commit can no
        longer lose them."""
        messages: list[OutgoingMessage] = []
        for session_after, effect, _ in routed.after:
            messages.extend(self._render(session_after, effect))
        # What the features' hooks rendered in the transaction (bot.plugins.Replies), after
        # the engine's messages.
        for _, _, values in routed.after:
            for _, value in values:
                if isinstance(value, Replies):
                    messages.extend(value.replies)
        count = len(routed.after)
        staged = await self.relay.stage(tx, routed.person, messages) if messages else ()
        return replace(routed, staged=tuple(messages), staged_ids=staged, staged_effects=count)

    async def finish(self, routed: Routed) -> list[OutgoingMessage]:
        """After the commit: the messages of the effects (those staged in the outbox first),
        then those of the after-commit hooks."""
        if routed.discard:
            self.pipeline.languages.forget(routed.person)
        else:
            self.pipeline.languages.remember(routed.person, routed.session.language)
        outgoing: list[OutgoingMessage] = list(routed.staged)
        later: list[OutgoingMessage] = []
        for index, (session_after, effect, values) in enumerate(routed.after):
            if index < routed.staged_effects:
                await self._side_effects(session_after, effect)
            else:
                outgoing.extend(await self._after_commit(session_after, effect))
            for hook, value in values:
                if hook.after_commit is not None:
                    later.extend(
                        await hook.after_commit(session_after, effect, value, self.clock.now())
                    )
        return [*outgoing, *later]

    async def deliver_routed(self, routed: Routed) -> None:
        """After the commit: finish, send, and mark the staged outbox rows sent."""
        messages = await self.finish(routed)
        await self.relay.deliver(routed.person, messages, routed.staged_ids)

    async def after_flow_in(self, tx: Transaction, done: FlowDone, event: Input) -> FlowDone:
        """Inside the input's transaction: the after-flow hooks' phases there, in order; the
        first that takes the input leaves what is left for after the commit in ``then``."""
        for phase in self.registry.after_flow_in_transaction:
            then = await phase(tx, done.session, event)
            if then is not None:
                return replace(done, then=then)
        return done

    async def run_after_flow(self, session: Session, event: Input) -> list[OutgoingMessage] | None:
        """The after-flow hooks in order; the first that returns a list handled the input."""
        self.pipeline.languages.remember(session.person, session.language)
        for hook in self.after_flow:
            handled = await hook(session, event)
            if handled is not None:
                return handled
        return None

    def _transition(
        self, person: PersonId, session: Session | None, event: Input, language: str
    ) -> Transition:
        if session is None and isinstance(event, ReminderDue | ConsentChanged):
            # The session was erased or discarded since: the reminder (or a consent change
            # from /privacy) has no session to change.
            placeholder = start(self.flows[self.entry], person, at=event.at, language=language)
            return Transition(placeholder.session, (Discard(),))
        if session is None:
            flow = self.flows[self.entry]
            first = start(flow, person, at=event.at, language=language)
            if isinstance(event, LinkFollowed):
                # A first /start through a partner's link: the start, with the link's answers.
                return with_link(first, event)
            if isinstance(event, ConnectedToCoach):
                # Connected before they wrote anything: a new session, done at once.
                return resume(flow, first.session, event)
            if isinstance(event, ButtonPressed | CommandReceived) and not (
                isinstance(event, CommandReceived) and event.name == "start"
            ):
                # A button or command without a session (after a restart that kept nothing,
                # or after /wis): apply it to a fresh session; a stale button is re-prompted.
                return resume(flow, first.session, event)
            return first
        flow = self.flows[session.flow]
        return resume(flow, session, event)

    async def _after_commit(self, session: Session, effect: Effect) -> list[OutgoingMessage]:
        await self._side_effects(session, effect)
        return self._render(session, effect)

    async def _side_effects(self, session: Session, effect: Effect) -> None:
        """What an effect does after the commit besides its messages."""
        if isinstance(effect, SendCrisisHelp) and self.crisis is not None:
            person = session.person
            try:
                await self.crisis.raise_alert(
                    person, effect.category, self.clock.now(), session.language
                )
            except Exception as error:
                log.error("safety alert failed person=%s error=%s", person, describe(error))
        elif isinstance(effect, LanguageChanged):
            channel = self._channel(session.person)
            if channel is not None:
                await channel.language_changed(session.person, effect.language)

    def _render(self, session: Session, effect: Effect) -> list[OutgoingMessage]:
        """The messages of an effect, rendered without I/O."""
        language = session.language
        if isinstance(effect, SendMessage):
            return [self.renderer_for(session.person).effect(effect, language)]
        if isinstance(effect, SendCrisisHelp):
            return self._crisis_messages(effect.category, self.clock.now(), language)
        return []

    @property
    def renderer(self) -> Renderer:
        """Renders message ids for a young person (:mod:`bot.render`, the one place)."""
        return Renderer(self.translator)

    def renderer_for(self, person: PersonId) -> Renderer:
        """The renderer in the words of the person's channel (see :meth:`translator_for`)."""
        return Renderer(self.translator_for(person))

    def translator_for(self, person: PersonId) -> Translator:
        """The translator for the person's channel: a channel may word some texts its own way
        (its ``text_variant``: the web chat never says that Telegram carries the messages)."""
        variant = getattr(self._channel(person), "text_variant", None)
        return self.translator.variant(variant) if isinstance(variant, str) else self.translator

    def prompt_again(self, session: Session) -> list[OutgoingMessage]:
        """The current question, rendered: so a side trip never leaves the person stuck."""
        flow = self.flows[session.flow]
        renderer = self.renderer_for(session.person)
        return [
            renderer.effect(effect, session.language)
            for effect in current_prompt(flow, session)
            if isinstance(effect, SendMessage)
        ]

    # --- delivery -------------------------------------------------------------------------

    def has_channel(self, prefix: str) -> bool:
        """Whether this process can send on the channel now (``tg``, ``web``): it has it and
        it runs (Telegram may still be starting)."""
        return prefix in self.channels and prefix not in self.relay.not_ready

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
        self.pipeline.languages.forget(person)
        self.pipeline.held.forget(person)
        channel = self._channel(person)
        if channel is not None:
            channel.forget(person)

    def person_lock(self, person: PersonId) -> AbstractAsyncContextManager[None]:
        """The per-person turn the pipeline takes: hold it to change a person's data outside
        the engine. Re-entrant within a task, so ``handle`` may be called while holding it."""
        return self._locks.hold(person)

    def language_for(self, hint: str | None) -> str:
        """A supported language from a channel's hint (``nl`` when there is none)."""
        return self._language_hint(hint)

    def error_message(self, language: str) -> OutgoingMessage:
        return self.renderer.message([msg("channel.error")], language)

    def _language_hint(self, hint: str | None) -> str:
        if hint:
            code = hint.split("-")[0].lower()
            if code in self.translator.languages:
                return code
        return "nl"

    async def open(self, person: PersonId, *, language_hint: str | None = None) -> None:
        """A chat window (re)opened: show where the person is, or start the welcome."""
        async with self.person_lock(person):
            async with self.storage.transaction() as tx:
                session = await tx.sessions.get(person)
            if session is None or session.step is None:
                now = self.clock.now()
                start_input = CommandReceived("start", "", now)
                await self.handle(person, start_input, language_hint=language_hint)
                return
            await self._deliver(person, self.prompt_again(session))

    async def crisis_help(self, person: PersonId, *, language_hint: str | None = None) -> None:
        """The "Ik heb nu hulp nodig" button: the same response as /hulp, in every state, in
        the chosen language, without waiting for the database (see the pipeline's screen)."""
        await self.pipeline.help(person, language_hint=language_hint)
