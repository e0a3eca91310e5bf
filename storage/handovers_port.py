"""The warm handover's port: handover records and their repository.

Technology-free (no SQL, no memory adapter): records, the ``Protocol`` and its
:class:`storage.assembly.RepositoryKey`. Never imports :mod:`storage.ports` (which imports the
keys here for the transaction's typed attributes); the tables live in ``storage/handovers.py``,
the adapters in ``storage/handovers_sql.py`` and ``storage/handovers_memory.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, get_args

from flows.ids import CaseId, CoachId, PersonId
from flows.session import JsonValue
from storage.assembly import RepositoryKey

# --- the warm handover (issue #15) ---------------------------------------------------------

HandoverStatus = Literal["proposed", "changes", "agreed"]
HANDOVER_STATUSES: tuple[HandoverStatus, ...] = get_args(HandoverStatus)
HandoverDelivery = Literal["telegram", "dashboard", "telegram_failed"]
"""How the PDF went to VDAB: by ``telegram``; waiting on the ``dashboard`` (no chat in the
directory); or ``telegram_failed``: sent by Telegram, but VDAB's chat never took it (the outbox
gave it up), so it waits on the dashboard's case page to be passed on another way."""


@dataclass(frozen=True)
class HandoverRecord:
    """A warm handover to VDAB: the summary the coach prepared (JSON: per domain what was
    achieved, own goals, next steps, contact preference), the young person's answer, and once
    agreed the PDF and how it reached the VDAB contact (``contact`` is the directory's name of
    that contact, ``delivery`` says by which way)."""

    id: int
    case_id: CaseId
    person: PersonId
    coach: CoachId
    status: HandoverStatus
    summary: dict[str, JsonValue]
    created_at: datetime
    answered_at: datetime | None = None
    pdf: bytes | None = None
    contact: str | None = None
    delivery: HandoverDelivery | None = None
    delivered_at: datetime | None = None


class HandoverRepository(Protocol):
    async def add(
        self,
        case_id: CaseId,
        person: PersonId,
        coach: CoachId,
        summary: dict[str, JsonValue],
        now: datetime,
    ) -> int: ...

    async def get(self, handover_id: int) -> HandoverRecord | None: ...

    async def latest_of_case(self, case_id: CaseId) -> HandoverRecord | None: ...

    async def answer(self, handover_id: int, status: HandoverStatus, now: datetime) -> bool:
        """Compare-and-set from ``proposed``: ``False`` when it was answered already."""
        ...

    async def delivered(
        self,
        handover_id: int,
        pdf: bytes,
        contact: str,
        delivery: HandoverDelivery,
        now: datetime,
    ) -> None: ...

    async def undelivered(self, handover_id: int) -> bool:
        """The PDF sent by Telegram did not arrive: compare-and-set of ``delivery`` from
        ``telegram`` to ``telegram_failed``; ``False`` when it was not (or no longer) that."""
        ...

    async def of_person(self, person: PersonId) -> list[HandoverRecord]: ...

    async def erase(self, person: PersonId) -> int: ...

    async def purge_orphans(self) -> int: ...


HANDOVERS_KEY: RepositoryKey[HandoverRepository] = RepositoryKey("handovers")
