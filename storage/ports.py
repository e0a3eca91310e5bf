"""Ports: what the rest of Opstap may ask of storage, independent of the technology.

Rules of this module:

* Protocols named by role (``SessionRepository``); adapters live in :mod:`storage.sql`
  (``SqlSessions`` ...) and :mod:`storage.memory` (``MemorySessions`` ...). One contract test
  suite (``tests/storage/test_contract.py``) runs against every adapter.
* Every repository works inside one :class:`Transaction`: ``async with storage.transaction() as
  tx`` commits on normal exit and rolls back everything (including a :class:`VersionConflict`
  raised halfway) on an exception. Do not nest transactions or keep one open across network I/O:
  SQLite serialises writers, so an open transaction blocks every other process.
* Datetimes in and out are aware UTC; a naive datetime raises ``ValueError``.
* Nothing here carries message text. ``error_code`` is a short code such as ``"RetryAfter"``
  or ``"telegram.forbidden"`` (letters, digits, ``_.:-``, at most 64), never an exception
  message, which may quote what a person wrote. :func:`check_error_code` enforces it.
"""

from __future__ import annotations

import re
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, get_args

from flows.ids import PersonId, ReminderKey
from flows.session import Session

ReminderStatus = Literal["pending", "claimed", "sent", "cancelled", "failed"]
REMINDER_STATUSES: tuple[ReminderStatus, ...] = get_args(ReminderStatus)

ERROR_CODE_MAX = 64
_ERROR_CODE = re.compile(rf"[A-Za-z0-9_.:\-]{{1,{ERROR_CODE_MAX}}}")
_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")


class VersionConflict(Exception):
    """The session changed (or appeared) since it was read: re-read and re-apply the input."""


@dataclass(frozen=True)
class ReminderRecord:
    id: int
    person: PersonId
    key: ReminderKey
    due_at: datetime
    # The session version the reminder was scheduled with: if the session has moved on by the
    # time the reminder is due, the sender drops it.
    session_version: int
    status: ReminderStatus
    # Claims so far (a deferral during quiet hours does not count).
    attempts: int


def check_error_code(error_code: str) -> str:
    """Return ``error_code`` if it is a short code; raise ``ValueError`` otherwise."""
    if not _ERROR_CODE.fullmatch(error_code):
        raise ValueError("error_code must be a short code (A-Za-z0-9_.:-, at most 64), not text")
    return error_code


def check_token_hash(token_hash: str) -> str:
    """Return ``token_hash`` if it is a lowercase sha256 hex digest; raise ``ValueError``.

    Refusing anything else keeps a raw cookie token from being stored by mistake.
    """
    if not _TOKEN_HASH.fullmatch(token_hash):
        raise ValueError("token_hash must be the lowercase sha256 hex digest of the token")
    return token_hash


class SessionRepository(Protocol):
    async def get(self, person: PersonId) -> Session | None: ...

    async def save(self, session: Session, *, expected_version: int | None) -> None:
        """Insert (``expected_version=None``: no session may exist yet) or replace the session
        stored with version ``expected_version``. Raises :class:`VersionConflict` otherwise."""
        ...

    async def delete(self, person: PersonId) -> None:
        """Remove the person's session; nothing happens when there is none."""
        ...


class ReminderRepository(Protocol):
    async def schedule(
        self, person: PersonId, key: ReminderKey, due_at: datetime, session_version: int
    ) -> int:
        """Create the pending reminder ``(person, key)`` or replace the pending one in place
        (same id, attempts reset). A claimed one being sent right now is left alone. Returns
        the id."""
        ...

    async def cancel(self, person: PersonId, prefix: str) -> int:
        """Cancel the person's pending reminders whose key starts with ``prefix`` (exact,
        case-sensitive; ``_`` and ``%`` are not wildcards). Returns how many."""
        ...

    async def cancel_all(self, person: PersonId) -> int:
        """Cancel all the person's pending reminders. Returns how many."""
        ...

    async def pending(self, person: PersonId) -> list[ReminderRecord]:
        """The person's pending reminders, soonest first."""
        ...

    async def claim_due(
        self,
        now: datetime,
        *,
        worker: str,
        limit: int = 50,
        lease: timedelta = timedelta(minutes=5),
    ) -> list[ReminderRecord]:
        """Claim up to ``limit`` reminders for ``worker``: pending ones due at ``now`` and
        claimed ones whose lease (``claimed_at + lease``) has run out because their worker died.
        Each claim counts an attempt. Two workers never get the same reminder from one call.
        Returned soonest first, with status ``"claimed"``."""
        ...

    async def mark_sent(self, reminder_id: int) -> None:
        """Claimed -> sent. No effect unless the reminder is claimed."""
        ...

    async def release(self, reminder_id: int, *, retry_at: datetime, error_code: str) -> None:
        """Claimed -> pending again, due at ``retry_at`` (backoff), remembering ``error_code``.
        If a newer pending reminder with the same key exists meanwhile, this one is cancelled
        instead: the newer one replaced it. No effect unless the reminder is claimed."""
        ...

    async def mark_failed(self, reminder_id: int, error_code: str) -> None:
        """Claimed -> failed (given up). No effect unless the reminder is claimed."""
        ...

    async def defer(self, reminder_id: int, due_at: datetime) -> None:
        """Claimed -> pending at ``due_at`` (quiet hours), taking back the attempt the claim
        counted. Superseded like :meth:`release`. No effect unless the reminder is claimed."""
        ...


class UpdateLog(Protocol):
    async def first_time(self, channel: str, update_key: str, now: datetime) -> bool:
        """Record the update; ``True`` when it was not seen before. Inside a transaction that
        rolls back, the record goes too, so a retried delivery is processed again."""
        ...

    async def prune(self, older_than: datetime) -> int:
        """Forget updates seen before ``older_than``. Returns how many."""
        ...


class WebIdentities(Protocol):
    async def person_for(self, token_hash: str, now: datetime) -> PersonId | None:
        """The person bound to this cookie token hash (refreshing ``last_seen_at``), if any."""
        ...

    async def bind(self, token_hash: str, person: PersonId, now: datetime) -> None:
        """Bind the token hash to ``person`` (re-binding an existing hash moves it)."""
        ...


class Transaction(Protocol):
    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def reminders(self) -> ReminderRepository: ...

    @property
    def updates(self) -> UpdateLog: ...

    @property
    def web(self) -> WebIdentities: ...


class Storage(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Commit on normal exit, roll back on an exception (which propagates)."""
        ...

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """``True`` when the store answers (health checks); never raises."""
        ...
