"""The safety net's port: safety events and their repository.

Technology-free (no SQL, no memory adapter): records, the ``Protocol`` and its
:class:`storage.assembly.RepositoryKey`. Never imports :mod:`storage.ports` (which imports the
keys here for the transaction's typed attributes); the tables live in ``storage/safety.py``,
the adapters in ``storage/safety_sql.py`` and ``storage/safety_memory.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flows.ids import CaseId, PersonId
from storage.assembly import RepositoryKey

# --- safety: crisis signals and who took them up --------------------------------------------
#
# Rules of this section: a safety event records *that* a young person's message was flagged (or
# that they asked for a person), never what they wrote: a category code, times, the case and
# who acknowledged or closed it. One open event per person: a new flag while one is open only
# updates it. Only closing ends it (a coach's button); "you misunderstood me" does not.

SAFETY_CATEGORY_MAX = 32
_SAFETY_CATEGORY = re.compile(rf"[a-z_]{{1,{SAFETY_CATEGORY_MAX}}}")


def check_safety_category(category: str) -> str:
    """Return ``category`` if it is a short code (``suicide``, ``help_request``); raise
    ``ValueError`` otherwise, so no text a person wrote can end up in the column."""
    if not _SAFETY_CATEGORY.fullmatch(category):
        raise ValueError("a safety category is a short code (a-z and _), not text")
    return category


@dataclass(frozen=True)
class SafetyEventRecord:
    id: int
    person: PersonId
    case_id: CaseId | None
    category: str
    opened_at: datetime
    last_flag_at: datetime
    """The latest flag (or request) while the event was open."""
    flags: int
    """How many flags and requests the event collected."""
    acknowledged_at: datetime | None
    acknowledged_by: PersonId | None
    """The chat of the coach or coordinator who took it up."""
    closed_at: datetime | None
    closed_by: PersonId | None
    escalated_at: datetime | None
    categories: tuple[str, ...] = ()
    """Every category flagged while the event was open, first one first (``category`` is the
    most severe of them)."""

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def all_categories(self) -> tuple[str, ...]:
        """``categories``, or the one ``category`` of an event from before they were kept."""
        return self.categories or (self.category,)


class SafetyEventRepository(Protocol):
    async def open_or_get(
        self,
        person: PersonId,
        category: str,
        now: datetime,
        *,
        case_id: CaseId | None = None,
        flagged: str | None = None,
    ) -> tuple[SafetyEventRecord, bool]:
        """Open an event for ``person``, or update the open one (``category``, ``last_flag_at``,
        ``flags + 1``; ``case_id`` when given). ``flagged`` (default ``category``) is added to
        the event's ``categories``: the event keeps every category it saw. Returns the event
        and ``True`` when it was opened by this call. Two concurrent calls never open two
        events."""
        ...

    async def current(self, person: PersonId) -> SafetyEventRecord | None:
        """The person's open event, if any."""
        ...

    async def is_open(self, person: PersonId) -> bool: ...

    async def get(self, event_id: int) -> SafetyEventRecord | None: ...

    async def acknowledge(
        self, event_id: int, by: PersonId, now: datetime
    ) -> SafetyEventRecord | None:
        """Record who took the open event up (the first acknowledgement stays). Returns the
        event as it is now, ``None`` when it does not exist."""
        ...

    async def close(self, event_id: int, by: PersonId, now: datetime) -> SafetyEventRecord | None:
        """Close the open event (acknowledging it too when nobody had). Closing a closed event
        changes nothing. Returns the event as it is now, ``None`` when it does not exist."""
        ...

    async def mark_escalated(self, event_id: int, now: datetime) -> None:
        """Remember that the coordinator was alerted because nobody acknowledged in time."""
        ...

    async def open_events(self) -> list[SafetyEventRecord]:
        """Every open event, oldest first."""
        ...

    async def of(self, person: PersonId) -> list[SafetyEventRecord]:
        """Every event of the person, oldest first (export)."""
        ...

    async def erase(self, person: PersonId) -> int:
        """Delete every event of the person. Returns how many."""
        ...

    async def purge_closed(self, before: datetime) -> int:
        """Delete events closed before ``before``; open events are never purged."""
        ...


SAFETY_KEY: RepositoryKey[SafetyEventRepository] = RepositoryKey("safety")
