"""How a transaction is assembled from the repositories the features register.

Rules of this module:

* **A feature owns its port.** It declares a :class:`RepositoryKey` typed by its ``Protocol``
  beside that protocol in its technology-free port module (``CASES_KEY:
  RepositoryKey[CaseRepository]`` in :mod:`storage.routing_port`; the core ports' keys are in
  :mod:`storage.ports`), writes a SQL and a
  memory adapter, and each adapter module registers its factory at import:
  ``SQL_ADAPTERS.register(KEY, lambda c: SqlX(c.conn, c.keyring))`` from the transaction's
  connection, keyring and clock (:class:`SqlContext`), ``MEMORY_ADAPTERS.register(KEY, lambda
  c: MemoryX(c.state.part(XState)))`` from the transaction's memory snapshot
  (:class:`MemoryContext`). :mod:`storage.sql` and :mod:`storage.memory` import every adapter
  module of their technology, so an opened storage has every factory
  (``tests/storage/test_assembly.py`` proves it in a fresh interpreter).
* **There is one transaction class**, :class:`storage.ports.Transaction`. It builds a
  repository on first use from the backend's factory and keeps it for the transaction;
  ``tx[KEY]`` is typed as the key's port. The core ports are also its attributes
  (``tx.sessions``, through :class:`Repository` descriptors), typed the same way.
* **The registry lives here, in ``storage/``, not in the bot's plugin ``Registry``**
  (``bot/plugins.py``): storage never imports ``bot`` (``tests/test_architecture.py``), and a
  storage opened without the bot (the CLI, migrations, the contract tests, benchmarks) needs
  every repository all the same. The plugin registry keeps what only the running bot does with
  a feature (buttons, routes, jobs, personal-data parts).
* A key is registered once per backend; a second factory for it is refused (two adapters of one
  port would depend on import order). A key without a factory on the transaction's backend
  raises :class:`UnknownRepository`, naming the key and the backend. A repository that exists on
  one technology only says so in its key (``backends=("sql",)``; the team dashboard's).
* Nothing here knows a feature or a table: adding one changes no line of this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

if TYPE_CHECKING:
    # Types only: storage.ports imports this module and stays free of any technology.
    from sqlalchemy.ext.asyncio import AsyncConnection

    from storage.crypto import Keyring
    from storage.memory import MemoryState

R = TypeVar("R")
C = TypeVar("C")

SQL = "sql"
MEMORY = "memory"
BACKENDS: tuple[str, ...] = (SQL, MEMORY)


@dataclass(frozen=True, eq=False)
class RepositoryKey(Generic[R]):
    """The typed name of a port in a transaction (``tx[KEY]`` is an ``R``).

    Compared by identity, like ``aiohttp.web.AppKey``: declare each key once, at module level,
    beside its port. ``backends`` lists the technologies that must provide it.
    """

    name: str
    backends: tuple[str, ...] = BACKENDS

    def __repr__(self) -> str:
        return f"RepositoryKey({self.name!r})"


class UnknownRepository(LookupError):
    """No factory for a key on this backend: the adapter module is missing or not imported."""

    def __init__(self, key: RepositoryKey[Any], backend: str) -> None:
        if backend in key.backends:
            hint = f"no {backend} adapter registered it (is its module imported?)"
        else:
            hint = f"it exists on {', '.join(key.backends)} only"
        super().__init__(
            f"repository {key.name!r} is not available on the {backend} storage: {hint}"
        )
        self.key = key
        self.backend = backend


class Adapters(Generic[C]):
    """The factories of one backend, by key; each takes the backend's context ``C``."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._factories: dict[RepositoryKey[Any], Callable[[C], Any]] = {}

    def register(self, key: RepositoryKey[R], factory: Callable[[C], R]) -> None:
        if key in self._factories:
            raise ValueError(f"repository {key.name!r} has a {self.backend} adapter already")
        self._factories[key] = factory

    def build(self, key: RepositoryKey[R], context: C) -> R:
        factory = self._factories.get(key)
        if factory is None:
            raise UnknownRepository(key, self.backend)
        repository: R = factory(context)
        return repository

    def registered(self) -> frozenset[RepositoryKey[Any]]:
        """Every key with a factory here."""
        return frozenset(self._factories)

    def __contains__(self, key: object) -> bool:
        return key in self._factories


@dataclass(frozen=True)
class SqlContext:
    """What a SQL adapter is built from: the transaction's connection, the keyring of the
    ``EncryptedText`` columns (none: plaintext) and the clock of bookkeeping columns."""

    conn: AsyncConnection
    keyring: Keyring | None
    now: Callable[[], datetime]


@dataclass(frozen=True)
class MemoryContext:
    """What a memory adapter is built from: the transaction's working copy of the state (swapped
    in on commit), the keyring and the clock."""

    state: MemoryState
    keyring: Keyring | None
    now: Callable[[], datetime]


SQL_ADAPTERS: Adapters[SqlContext] = Adapters(SQL)
MEMORY_ADAPTERS: Adapters[MemoryContext] = Adapters(MEMORY)


class _Keyed(Protocol):
    def __getitem__(self, key: RepositoryKey[R]) -> R: ...


class Repository(Generic[R]):
    """A transaction's attribute for a core port: ``tx.sessions`` is ``tx[SESSIONS_KEY]``."""

    __slots__ = ("key",)

    def __init__(self, key: RepositoryKey[R]) -> None:
        self.key = key

    @overload
    def __get__(self, tx: None, owner: type[Any]) -> Repository[R]: ...

    @overload
    def __get__(self, tx: _Keyed, owner: type[Any]) -> R: ...

    def __get__(self, tx: _Keyed | None, owner: type[Any]) -> Repository[R] | R:
        if tx is None:
            return self
        return tx[self.key]
