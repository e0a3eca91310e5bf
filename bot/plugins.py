"""Features as plugins: the one way a feature plugs into Opstap.

Rules:

* A feature is one module with one object that is a :class:`Feature`: a ``name`` and
  ``register(registry)``. Everything the feature adds to the running bot goes through the
  :class:`Registry` there: effect hooks, service-level buttons and commands, routers of the
  inbound pipeline (and the team chats they know), after-flow hooks, reminder handlers and
  holds, scheduled jobs, start-up hooks and :class:`~storage.ports.PersonalData` parts. The
  runtime composes the features from a list (``bot/runtime.py``); nothing else wires them.
* Several hooks per effect type. They run in the order the features were registered (the
  runtime's list), never by one feature wrapping another's hook.
* An after-flow hook may have a phase inside the input's transaction too
  (:data:`AfterFlowInTransaction`): those phases are tried first, in registration order; the
  first that takes the input does its writes there and hands back what is left for after the
  commit.
* An effect hook has two phases: ``in_transaction(tx, session, effect, now)`` runs inside the
  input's transaction and returns a value; ``after_commit(session, effect, value, now)`` runs
  after the commit, gets that value and returns the messages for the person. A feature keeps no
  state between the two phases. Messages a hook can write in the transaction are better:
  a value that is :class:`Replies` adds its ``replies`` for the person to the input's outbox
  rows, after the engine's (:mod:`bot.outbox`), so a crash after the commit cannot lose them.
* A button prefix (the part of a button's value before ``=``) and a command name belong to one
  feature: registering one twice raises :class:`DuplicateRegistration` at start-up. A flow must
  not use a registered prefix as a step id.
* A feature that writes outbox rows ``via`` its own sender may register what happens when the
  outbox gives one up after its attempts (:meth:`Registry.undelivered`, one hook per ``via``):
  the hook runs in the transaction that drops the row, records it in the feature's tables and
  writes what that causes (``Relay.stage_for``); the relay sends that after the commit. The
  outbox itself knows no feature.
* An HTTP route (:meth:`Registry.route`) is a method, a path, a handler and the permission it
  declares (the feature's own vocabulary, never empty: :class:`UndeclaredPermission`); the
  feature's handler enforces it. A method and path belong to one feature. The runtime adds
  exactly the registered routes to the service's aiohttp app, after the features'
  :meth:`Registry.http` set-ups (app keys, response hooks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from flows.effects import Effect
from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived, Input
from flows.session import Session
from storage.ports import PersonalData, ReminderRecord, Transaction

if TYPE_CHECKING:
    from aiohttp import web

    from bot.outbox import Staged
    from bot.pipeline import Router
    from bot.service import OutgoingMessage

T = TypeVar("T")

InTransaction = Callable[[Transaction, Session, Effect, datetime], Awaitable[T]]
AfterCommit = Callable[[Session, Effect, T, datetime], Awaitable["list[OutgoingMessage]"]]
ButtonHandler = Callable[[PersonId, ButtonPressed, str], Awaitable[None]]
"""A service-level button: (person, the pressed button, language hint). It runs in the person's
turn (the pipeline's), sends its own messages and may hand new inputs to ``service.handle``."""
CommandHandler = Callable[[PersonId, CommandReceived, str], Awaitable[None]]
"""A service-level command, answered before the engine: (person, the command, language hint)."""
AfterFlow = Callable[[Session, Input], Awaitable["list[OutgoingMessage] | None"]]
"""Tried in order for a text, button or media input of a person whose flow is done: the first
hook that returns a list (possibly empty) handled the input; ``None`` passes it on."""
AfterFlowThen = Callable[[], Awaitable["list[OutgoingMessage]"]]
"""What an in-transaction after-flow phase leaves for after the commit: it sends what goes to
others and returns the person's messages."""
AfterFlowInTransaction = Callable[[Transaction, Session, Input], Awaitable[AfterFlowThen | None]]
"""An after-flow hook's phase inside the input's transaction (the one that found the flow
done): it does its writes there and returns what is left for after the commit, or ``None`` to
pass the input on (to the other phases, then to the plain :data:`AfterFlow` hooks)."""
ReminderHandler = Callable[[ReminderRecord], Awaitable[bool]]
"""The tick asks each handler in turn; ``True``: handled (see :mod:`bot.scheduler`)."""
ReminderHold = Callable[[ReminderRecord, datetime], Awaitable[datetime | None]]
TeamCheck = Callable[[PersonId], bool]
StartHook = Callable[[], Awaitable[None]]
Job = Callable[[], Awaitable[None]]
Undelivered = Callable[[Transaction, PersonId, "OutgoingMessage"], Awaitable["Staged | None"]]
"""The outbox gave up a row written ``via`` a feature (:data:`bot.outbox.MAX_ATTEMPTS` failed
sends): (the transaction that drops the row, whom it was for, the message). It records that
and returns what it wrote to the outbox about it (``Relay.stage_for``), sent after the commit;
``None`` when there is nothing to tell."""
HttpHandler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]
HttpSetup = Callable[["web.Application"], None]


@runtime_checkable
class Replies(Protocol):
    """An in-transaction value that carries messages for the person, rendered in the
    transaction: they are written to the outbox with the input's own messages."""

    @property
    def replies(self) -> tuple[OutgoingMessage, ...]: ...


class DuplicateRegistration(ValueError):
    """Two features claimed the same button prefix, command, job or route."""


class UndeclaredPermission(ValueError):
    """A route was registered without the permission it needs."""


@dataclass(frozen=True)
class EffectHook(Generic[T]):
    feature: str
    effect: type[Effect]
    in_transaction: InTransaction[T] | None = None
    after_commit: AfterCommit[T] | None = None


@dataclass(frozen=True)
class ScheduledJob:
    """A job of a feature: ``trigger`` and ``options`` are APScheduler's (``"cron"``,
    ``{"hour": 3}``); jobs carry ids, never personal data."""

    name: str
    run: Job
    trigger: str
    options: dict[str, Any]


@dataclass(frozen=True)
class HttpRoute:
    """A route of a feature on the service's aiohttp app, with the permission it declares
    (``"public"`` when it needs none: the login page)."""

    feature: str
    method: str
    path: str
    handler: HttpHandler
    permission: str


class Feature(Protocol):
    @property
    def name(self) -> str: ...

    def register(self, registry: Registry) -> None: ...


@dataclass
class Registry:
    """What the features registered; the service, the pipeline, the tick and the runtime read
    it. ``parts`` is the storage's personal-data list, so a registered part is used at once."""

    parts: list[PersonalData] = field(default_factory=list)
    effects: dict[type[Effect], list[EffectHook[Any]]] = field(default_factory=dict)
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    commands: dict[str, CommandHandler] = field(default_factory=dict)
    routers: list[Router] = field(default_factory=list)
    team: list[TeamCheck] = field(default_factory=list)
    after_flow: list[AfterFlow] = field(default_factory=list)
    after_flow_in_transaction: list[AfterFlowInTransaction] = field(default_factory=list)
    reminder_handlers: list[ReminderHandler] = field(default_factory=list)
    reminder_holds: list[ReminderHold] = field(default_factory=list)
    jobs: list[ScheduledJob] = field(default_factory=list)
    on_start: list[StartHook] = field(default_factory=list)
    routes: list[HttpRoute] = field(default_factory=list)
    http_setups: list[HttpSetup] = field(default_factory=list)
    undelivered_hooks: dict[str, Undelivered] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)
    _owners: dict[str, str] = field(default_factory=dict)
    _current: str = "core"

    def add(self, feature: Feature) -> None:
        """Register a feature (its hooks come after those of the features added before)."""
        if feature.name in self.features:
            raise DuplicateRegistration(f"feature {feature.name!r} registered twice")
        self.features.append(feature.name)
        previous, self._current = self._current, feature.name
        try:
            feature.register(self)
        finally:
            self._current = previous

    def _claim(self, kind: str, key: str) -> None:
        owner = self._owners.get(f"{kind}:{key}")
        if owner is not None:
            raise DuplicateRegistration(f"{kind} {key!r} belongs to {owner}")
        self._owners[f"{kind}:{key}"] = self._current

    # --- what a feature registers ----------------------------------------------------------

    def on_effect(
        self,
        effect: type[Effect],
        *,
        in_transaction: InTransaction[T] | None = None,
        after_commit: AfterCommit[T] | None = None,
    ) -> None:
        hook = EffectHook(self._current, effect, in_transaction, after_commit)
        self.effects.setdefault(effect, []).append(hook)

    def button(self, prefix: str, handler: ButtonHandler) -> None:
        self._claim("button", prefix)
        self.buttons[prefix] = handler

    def command(self, name: str, handler: CommandHandler) -> None:
        self._claim("command", name)
        self.commands[name] = handler

    def router(self, router: Router, *, team: TeamCheck | None = None) -> None:
        self.routers.append(router)
        if team is not None:
            self.team.append(team)

    def after_flow_hook(
        self, hook: AfterFlow, *, in_transaction: AfterFlowInTransaction | None = None
    ) -> None:
        """``hook`` after the commit, in its own transactions; ``in_transaction`` first, in
        the input's transaction (one transaction for the common case: the coach relay)."""
        self.after_flow.append(hook)
        if in_transaction is not None:
            self.after_flow_in_transaction.append(in_transaction)

    def reminders(self, handler: ReminderHandler) -> None:
        self.reminder_handlers.append(handler)

    def hold(self, hold: ReminderHold) -> None:
        self.reminder_holds.append(hold)

    def job(self, name: str, run: Job, trigger: str, **options: Any) -> None:
        self._claim("job", name)
        self.jobs.append(ScheduledJob(name, run, trigger, options))

    def personal_data(self, part: PersonalData) -> None:
        self.parts.append(part)

    def start(self, hook: StartHook) -> None:
        self.on_start.append(hook)

    def undelivered(self, via: str, hook: Undelivered) -> None:
        """What happens when the outbox gives up a row written ``via`` this feature's sender
        (see :data:`Undelivered`); one hook per ``via``."""
        self._claim("undelivered", via)
        self.undelivered_hooks[via] = hook

    def route(self, method: str, path: str, handler: HttpHandler, *, permission: str) -> None:
        if not permission.strip():
            raise UndeclaredPermission(f"{method} {path} declares no permission")
        self._claim("route", f"{method} {path}")
        self.routes.append(HttpRoute(self._current, method, path, handler, permission))

    def http(self, setup: HttpSetup) -> None:
        """Prepare the service's aiohttp app before the routes are added (an app key, a
        response hook)."""
        self.http_setups.append(setup)

    # --- what the service reads ------------------------------------------------------------

    def hooks_for(self, effect: Effect) -> list[EffectHook[Any]]:
        return self.effects.get(type(effect), [])

    # --- what the runtime reads ------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        """The features' part of the HTTP app: their set-ups, then exactly their routes."""
        for setup in self.http_setups:
            setup(app)
        for route in self.routes:
            app.router.add_route(route.method, route.path, route.handler)
