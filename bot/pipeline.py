"""The inbound pipeline: one path for every input of every channel.

Every channel (Telegram, the web chat, the reminder tick) hands an :class:`~bot.inbound.Inbound`
to :meth:`Pipeline.handle`, which runs these stages in this order:

1. **screen** (pure, before the person's turn): text, a caption, a command's arguments and an
   edited message go through the :class:`Screener`; ``/hulp``, ``/help`` and the help button's
   words ask for help. Either gets the crisis reply at once, and the flagged text is not an
   answer. A text flagged at tier "check" (one direct question first) is held in memory
   (:class:`HeldAnswers`): when the young person answers "Nee", it goes on to their flow as
   if it had not been flagged, so an answer to an intake question is not lost; any other
   input of theirs drops it (they moved on). Nothing waits for storage before that reply
   except the language of a person this process has not seen yet, and that wait is bounded
   (:data:`LANGUAGE_LOOKUP_SECONDS`, the read runs in a task of its own): when the database
   is locked or down the reply goes out in the channel's language. The chosen language (the
   session's, remembered in :class:`LanguageMemo`) wins over the channel's hint. Team chats
   (coaches, :attr:`Pipeline.team`) are not screened: a coach quoting a young person is not in
   crisis.
2. **acknowledge** (before the person's turn): a button press is answered
   (``Inbound.acknowledge``) before any other work, so the spinner stops at once, whatever an
   earlier input of the same chat is still doing. Channels never pace this answer.
   Then **flood control** (:mod:`bot.flood`): a person over the limit gets one kind message
   and their inputs go no further (they were screened and answered already; they are done).
3. **dedupe** (in the person's turn): an input with a key is handled once. Its channel held it
   as pending when it arrived (the durable inbox, ``tx.updates.hold``: a delivery it held
   before is not handed on). For the engine the key is recorded through the :class:`Inbox`
   port inside the transaction that saves the session and stores the replies in the outbox
   (:mod:`bot.outbox`): one write transaction per input, and a rollback leaves it pending, so
   it is handled again. Inputs a router, a service button or an after-flow hook takes run their
   own transactions; their key is recorded after they finished (the channel settles it, and
   the relay remembers it), so a crash in between handles them again.
4. **route** (in the person's turn): the features' routers (the coach desk) may claim the
   input, then the service-level buttons (by the part of the value before ``=``) and commands
   the features registered (:mod:`bot.plugins`), then the engine. The routers' lookup
   (:meth:`Router.claims`) and the update log's "handled already?" run in the engine's
   transaction; what a router claims it gets handed (the coach), so it looks nothing up again.
   A service button or command that no router wants (:meth:`Router.wants`, in memory) opens no
   transaction here: its handler's is the input's only one (its dedupe is the channel's inbox
   and the relay's memory of handled keys).

Transactions per input: at most one write. An answer, a flow's button, a service button, a
young person's text to their coach (the relay's in-transaction phase) and a coach's message to
a case (the desk relays it in its claim) and a ``/start <code>`` (the referral router's
claim): one. Other coach-desk actions and a service command
(a coach's chat takes every command): the route stage's lookup in a read-only transaction
(``Storage.reading``: it waits for no writer; a router says beforehand, in memory, whether its
claim may write, :meth:`Router.writes_in_claim`), then the handler's or the engine's own. A
held answer handed on after "Nee" is an input of its own, inside the button's turn: the
button's handler and then the engine's one write.

Order: inputs of one person are routed one at a time in arrival order. The turn is reserved
synchronously when the input arrives (:meth:`KeyedLocks.reserve`, before any ``await``), so a
third input that arrives while the second waits still goes after the second. Different people
run in parallel. A turn is re-entrant within its own task: a service button that hands a new
input to the pipeline (``service.handle``) runs it at once, inside the same turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from bot.delivery import NoChannel
from bot.flood import FloodGate
from bot.inbound import Inbound
from bot.logs import describe
from flows.effects import Effect
from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived, MediaReceived, TextReceived
from flows.safety.help_words import asks_for_help
from flows.session import Session
from flows.text import msg
from storage.ports import Transaction, VersionConflict

if TYPE_CHECKING:
    from bot.plugins import AfterFlowThen, EffectHook
    from bot.service import ConversationService, OutgoingMessage

log = logging.getLogger(__name__)

# The prefix of the safety net's buttons (the check question's answers, the crisis reply's).
SAFETY_BUTTONS = "safety"
# Commands that get the crisis response in every state, before the database is touched.
HELP_COMMANDS = frozenset({"hulp", "help"})
LANGUAGE_LOOKUP_SECONDS = 0.5
MAX_REMEMBERED = 50_000
# A held answer (tier "check") goes on after "Nee" within this time; later, the question
# comes back instead (the young person may have left, and the text is personal data).
HOLD_ANSWER_SECONDS = 30 * 60
MAX_HELD_ANSWERS = 10_000
ATTEMPTS = 3


# --- order: one turn per person at a time ----------------------------------------------------

_HELD: ContextVar[frozenset[str]] = ContextVar("opstap_held_turns", default=frozenset())


class Turn:
    """One place in a key's line. Reserve it when the input arrives, enter it to wait for the
    inputs before it, and release it (``async with`` does both; :meth:`release` is idempotent
    and also passes the line on for a turn that was never entered)."""

    def __init__(
        self,
        locks: KeyedLocks | None,
        key: str,
        before: asyncio.Future[None] | None,
        mine: asyncio.Future[None] | None,
    ) -> None:
        self._locks = locks
        self._key = key
        self._before = before
        self._mine = mine
        self._released = False
        self._token: object | None = None

    @property
    def reentrant(self) -> bool:
        """Taken inside the key's own turn (a service re-entry), not a new arrival."""
        return self._mine is None

    async def __aenter__(self) -> None:
        if self._before is not None and not self._before.done():
            try:
                # Shielded: our own cancellation must not cancel the turn before ours.
                await asyncio.shield(self._before)
            except asyncio.CancelledError:
                self.release()
                raise
        if self._mine is not None:
            self._token = _HELD.set(_HELD.get() | {self._key})

    async def __aexit__(self, *exc: object) -> None:
        if self._token is not None:
            _HELD.reset(self._token)  # type: ignore[arg-type]
            self._token = None
        self.release()

    def release(self) -> None:
        if self._released or self._mine is None:
            return
        self._released = True
        if self._before is None or self._before.done():
            self._finish()
        else:
            # Never entered (or cancelled while waiting): the ones after us still wait for
            # the ones before us.
            self._before.add_done_callback(lambda _: self._finish())

    def _finish(self) -> None:
        assert self._mine is not None and self._locks is not None
        if not self._mine.done():
            self._mine.set_result(None)
        self._locks._drop(self._key, self._mine)


class KeyedLocks:
    """Per-key order: one holder per key at a time, in the order the turns were reserved; a
    key's bookkeeping is dropped when nobody holds or waits for it. The only lock of its kind
    in Opstap (Telegram's updates, the web chat and the service's own ``person_lock``)."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    def reserve(self, key: str) -> Turn:
        """Take a place in line now (synchronously: the arrival order is the order of these
        calls). In a task that already holds ``key`` the turn is a no-op (re-entrant)."""
        if key in _HELD.get():
            return Turn(None, key, None, None)
        before = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine
        return Turn(self, key, before, mine)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self.reserve(key):
            yield

    def _drop(self, key: str, mine: asyncio.Future[None]) -> None:
        if self._tails.get(key) is mine:
            del self._tails[key]

    def __len__(self) -> int:
        return len(self._tails)


HookValues = tuple[tuple["EffectHook[Any]", Any], ...]
"""Per effect: each registered hook with what its in-transaction phase returned."""


@dataclass(frozen=True)
class Routed:
    """What the engine decided for one input, committed; :meth:`ConversationService.finish`
    turns it into messages after the commit."""

    person: PersonId
    session: Session
    after: tuple[tuple[Session, Effect, HookValues], ...]
    discard: bool
    # Written to the outbox in the input's transaction (``ConversationService.stage``): the
    # messages of the first ``staged_effects`` effects, and their outbox row ids.
    staged: tuple[OutgoingMessage, ...] = ()
    staged_ids: tuple[int, ...] = ()
    staged_effects: int = 0


@dataclass(frozen=True)
class FlowDone:
    """The person's flow is done: the after-flow hooks (the coach relay) get the input.
    ``then``: an after-flow phase took it inside the input's transaction; what is left for
    after the commit."""

    session: Session
    then: AfterFlowThen | None = None


# --- the chosen language ---------------------------------------------------------------------


class LanguageMemo:
    """The language each person chose, as this process last saw it in their session: so the
    screen stage answers in it without reading the database. Bounded (least recently used)."""

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self._known: OrderedDict[PersonId, str] = OrderedDict()
        self._limit = limit

    def get(self, person: PersonId) -> str | None:
        found = self._known.get(person)
        if found is not None:
            self._known.move_to_end(person)
        return found

    def remember(self, person: PersonId, language: str) -> None:
        self._known[person] = language
        self._known.move_to_end(person)
        while len(self._known) > self._limit:
            self._known.popitem(last=False)

    def forget(self, person: PersonId) -> None:
        self._known.pop(person, None)


class HeldAnswers:
    """The text each person last sent when it got the check question (tier "check"), so that
    "Nee" hands it on to their flow instead of asking them to type it again.

    In memory only, on purpose: the screen stage does not wait for storage, and the text is
    personal data that needs no copy in the database. So a restart, or the button reaching
    another process, loses it; then the question comes back, as it did before. Held for at
    most :data:`HOLD_ANSWER_SECONDS`, at most one text a person, bounded in number (least
    recently held go first), and dropped on the person's next input of any other kind or on
    an erasure. Never logged."""

    def __init__(self, limit: int = MAX_HELD_ANSWERS) -> None:
        self._held: OrderedDict[PersonId, tuple[str, datetime]] = OrderedDict()
        self._limit = limit

    def hold(self, person: PersonId, text: str, at: datetime) -> None:
        self._held[person] = (text, at)
        self._held.move_to_end(person)
        while len(self._held) > self._limit:
            self._held.popitem(last=False)

    def take(self, person: PersonId, now: datetime) -> str | None:
        """The held text, once; ``None`` when there is none or it is too old."""
        found = self._held.pop(person, None)
        if found is None:
            return None
        text, at = found
        return text if (now - at).total_seconds() <= HOLD_ANSWER_SECONDS else None

    def forget(self, person: PersonId) -> None:
        self._held.pop(person, None)

    def __len__(self) -> int:
        return len(self._held)


# --- ports of the stages ---------------------------------------------------------------------


class Inbox(Protocol):
    """The dedupe stage's port (the durable inbox, ``tx.updates``): an update that arrived is
    held as pending by its channel; the transaction of its effects records it as handled."""

    async def seen(self, tx: Transaction, key: str) -> bool:
        """Whether the input was handled already (a read)."""
        ...

    async def first_time(self, tx: Transaction, key: str, now: datetime) -> bool:
        """Record ``key`` as handled inside the input's own transaction; ``True`` when it was
        not handled before."""
        ...


class UpdateLogInbox:
    """Keys ``<channel>:<id>`` in the update log (``tx.updates``)."""

    async def seen(self, tx: Transaction, key: str) -> bool:
        channel, _, raw = key.partition(":")
        return await tx.updates.seen(channel, raw)

    async def first_time(self, tx: Transaction, key: str, now: datetime) -> bool:
        channel, _, raw = key.partition(":")
        return await tx.updates.first_time(channel, raw, now)


class _Duplicate(Exception):
    """Another worker handled the same input meanwhile: roll this transaction back."""


class ClaimFailed(Exception):
    """Raised by a router's claim whose write failed (the coach desk relaying a coach's
    message): the input's transaction rolls back like for any error, and the person gets
    ``messages`` (what went wrong for them and what to do) instead of the generic error text.
    Raise it ``from`` the error; the pipeline logs that error's type and place, never text."""

    def __init__(self, messages: list[OutgoingMessage]) -> None:
        super().__init__("claim failed")
        self.messages = messages


class Router(Protocol):
    """Takes inputs that are not for the young person's conversation (the coach desk)."""

    def wants(self, inbound: Inbound) -> bool:
        """Without storage: could this input be mine? ``False`` spares the input the lookup
        (a service button no router takes then needs no transaction of the pipeline)."""
        ...

    def writes_in_claim(self, inbound: Inbound) -> bool:
        """Without storage: might :meth:`claims` write for this input? ``False`` lets the
        pipeline look it up in a read-only transaction (``Storage.reading``), which waits for
        no writer, so the handler's or the engine's transaction is the input's only write."""
        ...

    async def claims(self, tx: Transaction, inbound: Inbound) -> object:
        """Inside the input's transaction: is this input mine? (A cheap lookup.) A true value
        is the claim, handed to :meth:`route` (the coach desk's: the coach), so the router
        need not look it up again; a false one passes the input on. A router may do its
        write here too and leave only the sending to :meth:`route` (the desk relays a coach's
        message so): one transaction for the input. When that write fails, it raises
        :class:`ClaimFailed` with what to tell the person: all of the transaction rolls back."""
        ...

    async def route(self, inbound: Inbound, claim: object = None) -> bool:
        """After the commit: handle a claimed input; ``False`` passes it on after all."""
        ...


TeamCheck = Callable[[PersonId], bool]


@dataclass
class Pipeline:
    service: ConversationService
    inbox: Inbox = field(default_factory=UpdateLogInbox)
    languages: LanguageMemo = field(default_factory=LanguageMemo)
    held: HeldAnswers = field(default_factory=HeldAnswers)
    flood: FloodGate = field(default_factory=FloodGate)
    _help_texts: frozenset[str] | None = None
    _lookups: set[asyncio.Task[str | None]] = field(default_factory=set)

    def reserve(self, person: PersonId) -> Turn:
        return self.service.locks.reserve(person)

    async def handle(self, inbound: Inbound, *, turn: Turn | None = None) -> None:
        """Run the stages for one input. Never raises for a person's input: failures become
        a kind message and a log line with the person id."""
        # First, before any await: the place in the person's line is the arrival order.
        turn = turn if turn is not None else self.reserve(inbound.person)
        try:
            # Flood control per person (bot/flood.py): after the screen, before the turn; an
            # input over the limit goes no further and is done (the person was told).
            if await self._screen(inbound):
                if inbound.key is not None:
                    # The crisis reply went out: recorded at once, not with the next batch, so
                    # a crash a moment later does not send it again (only a crash between the
                    # send and this write does: help twice, never none).
                    await self.service.relay.settle_now(inbound.key)
            else:
                await self._acknowledge(inbound)
                if turn.reentrant or await self.flood.admit(self, inbound):
                    async with turn:
                        if inbound.stored is not None and not await inbound.stored():
                            # Not stored (the channel delivers it again) or not new: not ours.
                            return
                        await self._dedupe_and_route(inbound)
            # Done (a cancellation or a crash never gets here: the input stays pending).
            if inbound.key is not None:
                self.service.relay.settle(inbound.key)
        finally:
            turn.release()

    # --- 1. screen ---------------------------------------------------------------------------

    def help_texts(self) -> frozenset[str]:
        """The help button's words in every language (a reply keyboard sends them as text)."""
        if self._help_texts is None:
            translator = self.service.translator
            self._help_texts = frozenset(
                translator.render(msg("safety.button"), language).casefold()
                for language in translator.languages
            )
        return self._help_texts

    @property
    def routers(self) -> list[Router]:
        """The features' routers (``registry.router``), tried in registration order."""
        return self.service.registry.routers

    @property
    def team(self) -> list[TeamCheck]:
        """Chats of the team (coaches): not screened. Checked in memory, never in storage."""
        return self.service.registry.team

    def is_team(self, person: PersonId) -> bool:
        return any(check(person) for check in self.team)

    async def _screen(self, inbound: Inbound) -> bool:
        """``True`` when the input got the crisis reply and goes no further."""
        person, event = inbound.person, inbound.event
        if self.is_team(person) or inbound.screened:
            return False
        if not (isinstance(event, ButtonPressed) and event.value.startswith(SAFETY_BUTTONS + "=")):
            # Any input but an answer to the safety net's buttons: the person moved on.
            self.held.forget(person)
        asks_help = (isinstance(event, CommandReceived) and event.name in HELP_COMMANDS) or (
            isinstance(event, TextReceived)
            and (
                event.text.strip().casefold() in self.help_texts()
                # "help", "hulp", "sos" typed in any state open help; never an answer.
                or asks_for_help(event.text)
            )
        )
        if asks_help:
            await self.help(person, language_hint=inbound.language_hint)
            return True
        text = None
        if isinstance(event, TextReceived):
            text = event.text
        elif isinstance(event, MediaReceived):
            text = event.caption
        elif isinstance(event, CommandReceived):
            # "/stop ik wil dood": what follows a command is text a person wrote, too.
            text = event.args or None
        screener = self.service.screener
        if text is None or screener is None:
            return False
        result = screener.screen(text)
        if not result.flagged:
            return False
        # "crisis" (help at once) or "check" (ask one direct question first); a screener
        # without tiers only knows crisis.
        tier = getattr(result, "tier", "crisis")
        log.warning(
            "safety screen flagged person=%s category=%s tier=%s", person, result.category, tier
        )
        language = await self.language_of(person, inbound.language_hint)
        ask = getattr(self.service.crisis, "check_question", None)
        if tier == "check" and ask is not None and result.category is not None:
            # An indirect signal: one direct question first (bot/safety/alerts.py answers it).
            if isinstance(event, TextReceived) and not inbound.edited:
                # Kept for "Nee" (see :meth:`answer_after_check`).
                self.held.hold(person, event.text, event.at)
            await self.service.deliver(person, [ask(result.category, language)])
            return True
        await self.service.send_crisis(person, result.category, language)
        return True

    async def answer_after_check(self, person: PersonId, now: datetime, language: str) -> bool:
        """After "Nee" to the check question (in the person's turn): the held text goes on to
        their flow as if it had not been flagged. ``False`` when nothing is held (another
        input came in between, the process restarted, or it is too old): the caller brings the
        question back instead."""
        text = self.held.take(person, now)
        if text is None:
            return False
        event = TextReceived(text, now)
        await self.handle(Inbound(person, event, language_hint=language, screened=True))
        return True

    async def help(self, person: PersonId, *, language_hint: str | None = None) -> None:
        """The crisis response without a flagged text: ``/hulp``, the help button."""
        language = await self.language_of(person, language_hint)
        await self.service.send_crisis(person, None, language)

    async def language_of(self, person: PersonId, hint: str | None) -> str:
        """The person's chosen language: remembered, else read within a bound, else the
        channel's hint (so a locked or broken database never holds up help).

        The read is a read-only transaction (``Storage.reading``: no write lock to wait for)
        and runs in a task of its own that is not waited for beyond the bound (a database that
        is down may still take long to say so). When it finishes later, the language is
        remembered for the next reply."""
        known = self.languages.get(person)
        if known is not None:
            return known
        lookup = asyncio.get_running_loop().create_task(self._read_language(person))
        self._lookups.add(lookup)
        lookup.add_done_callback(self._lookups.discard)
        done, _ = await asyncio.wait({lookup}, timeout=LANGUAGE_LOOKUP_SECONDS)
        found = lookup.result() if lookup in done else None
        if found is None:
            log.info("language lookup skipped person=%s", person)
            return self.service.language_for(hint)
        return found

    async def _read_language(self, person: PersonId) -> str | None:
        try:
            async with self.service.storage.reading() as tx:
                session = await tx.sessions.get(person)
        except Exception as error:
            log.info("language lookup failed person=%s error=%s", person, describe(error))
            return None
        if session is None:
            return None
        self.languages.remember(person, session.language)
        return session.language

    # --- 2. acknowledge ----------------------------------------------------------------------

    async def _acknowledge(self, inbound: Inbound) -> None:
        if inbound.acknowledge is None:
            return
        try:
            await inbound.acknowledge()
        except Exception as error:
            log.info("acknowledge failed person=%s error=%s", inbound.person, describe(error))

    # --- 3. dedupe and 4. route --------------------------------------------------------------

    async def _dedupe_and_route(self, inbound: Inbound) -> None:
        service = self.service
        person, event = inbound.person, inbound.event
        try:
            if inbound.replies is not None:
                async with inbound.replies():
                    await self._route(inbound)
            else:
                await self._route(inbound)
        except NoChannel:
            # A reminder this process cannot deliver: the tick gives it back (bot.delivery).
            raise
        except ClaimFailed as failed:
            # Rolled back; the router says what to tell the person (the router logged it).
            cause = failed.__cause__ or failed
            log.info("claim failed person=%s error=%s", person, describe(cause))
            await service.deliver(person, failed.messages)
        except Exception as error:
            log.error(
                "input failed person=%s input=%s error=%s",
                person,
                type(event).__name__,
                describe(error),
            )
            language = self.languages.get(person) or service.language_for(inbound.language_hint)
            await service.deliver(person, [service.error_message(language)])

    async def _lookup(
        self, tx: Transaction, routers: list[Router], inbound: Inbound
    ) -> tuple[Router | None, object] | None:
        """In ``tx``: the update log's "handled already?" (``None``: a duplicate, logged), then
        the routers' claims: the first router with a true claim and that claim, else nobody."""
        key = inbound.key
        if key is not None and (
            self.service.relay.is_settled(key) or await self.inbox.seen(tx, key)
        ):
            log.info("duplicate input person=%s key=%s", inbound.person, key)
            return None
        for router in routers:
            claim = await router.claims(tx, inbound)
            if claim:
                return router, claim
        return None, None

    async def _route(self, inbound: Inbound) -> None:
        service = self.service
        person, event = inbound.person, inbound.event
        language = service.language_for(inbound.language_hint)
        handler: Callable[[], Awaitable[None]] | None = None
        if isinstance(event, ButtonPressed):
            button = service.button_handler(event.value.partition("=")[0])
            if button is not None:
                handler = partial(service.service_button, button, person, event, language)
        elif isinstance(event, CommandReceived):
            command = service.registry.commands.get(event.name)
            if command is not None:
                handler = partial(service.service_command, command, person, event, language)
        claimed: Router | None = None
        claim: object = None
        routed: Routed | FlowDone | None = None
        key = inbound.key
        routers = [router for router in self.routers if router.wants(inbound)]
        if handler is not None and not routers:
            # A service button or command no router wants: its handler's transaction is the
            # input's only one. Dedupe without a read of our own: the channel's durable inbox
            # handed it on as new, and a key handled here is settled in memory until written.
            if key is not None and service.relay.is_settled(key):
                log.info("duplicate input person=%s", person)
                return
            await handler()
            return
        if not any(router.writes_in_claim(inbound) for router in routers):
            # Nobody writes in a claim here: look up in a read, which queues behind no writer.
            async with service.storage.reading() as tx:
                found = await self._lookup(tx, routers, inbound)
            if found is None:
                return
            claimed, claim = found
            if claimed is not None and await claimed.route(inbound, claim):
                return
            if handler is not None:
                await handler()
                return
            # Unclaimed: the engine's transaction below, without the lookup a second time.
            routers = []
        for attempt in range(ATTEMPTS):
            claimed, claim, routed = None, None, None
            try:
                async with service.storage.transaction() as tx:
                    found = await self._lookup(tx, routers, inbound)
                    if found is None:
                        return
                    claimed, claim = found
                    if claimed is None and handler is None:
                        routed = await service.step(tx, person, event, language, after_flow=True)
                        if isinstance(routed, FlowDone):
                            # The after-flow phases in this transaction (the relay's write).
                            # Its key is settled after the commit and the send, as for a
                            # service button: a crash in between relays the text again (at
                            # most doubled, never lost).
                            routed = await service.after_flow_in(tx, routed, event)
                        if isinstance(routed, Routed):
                            # Handled in the transaction of its effects, with its messages in
                            # the outbox. Other paths (a router, a service button, the
                            # after-flow hooks) run their own transactions after this one;
                            # their update stays pending until the channel settles it.
                            if key is not None and not await self.inbox.first_time(
                                tx, key, service.clock.now()
                            ):
                                raise _Duplicate
                            routed = await service.stage(tx, routed)
                if key is not None and isinstance(routed, Routed):
                    # Committed with its effects: nothing left to write back for it.
                    service.relay.recorded(key)
                log.debug(
                    "input routed person=%s key=%s outbox=%s",
                    person,
                    key,
                    routed.staged_ids if isinstance(routed, Routed) else (),
                )
                break
            except _Duplicate:
                log.info("duplicate input person=%s", person)
                return
            except VersionConflict:
                # Another process handled an input of this person meanwhile: run again on
                # the newer session.
                log.info("version conflict person=%s attempt=%d", person, attempt + 1)
        else:
            raise RuntimeError("version conflict persisted")
        if claimed is not None and await claimed.route(inbound, claim):
            return
        if handler is not None:
            await handler()
            return
        if routed is None or isinstance(routed, FlowDone):
            handled = None
            if isinstance(routed, FlowDone) and routed.then is not None:
                self.languages.remember(person, routed.session.language)
                handled = await routed.then()
            elif isinstance(routed, FlowDone):
                handled = await service.run_after_flow(routed.session, event)
            if handled is not None:
                await service.deliver(person, handled)
                return
            routed = await service.run(person, event, language)
        await service.deliver_routed(routed)
