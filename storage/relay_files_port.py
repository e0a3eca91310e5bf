"""Relay files' port: the files of the relay and their repository.

Technology-free (no SQL, no memory adapter): records, the ``Protocol`` and its
:class:`storage.assembly.RepositoryKey`. Never imports :mod:`storage.ports` (which imports the
keys here for the transaction's typed attributes); the tables live in ``storage/relay_files.py``,
the adapters in ``storage/relay_files_sql.py`` and ``storage/relay_files_memory.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, get_args

from flows.ids import CaseId, PersonId
from storage.assembly import RepositoryKey
from storage.routing_port import RelayDirection

# --- files in the relay (issue #15) -----------------------------------------------------------

RelayFileKind = Literal["photo", "document", "voice"]
RELAY_FILE_KINDS: tuple[RelayFileKind, ...] = get_args(RelayFileKind)


@dataclass(frozen=True)
class NewRelayFile:
    """A photo, PDF or voice note that travels through the relay; ``content`` is the file as
    sent on (metadata already stripped), ``caption`` the words with it."""

    case_id: CaseId
    person: PersonId
    direction: RelayDirection
    kind: RelayFileKind
    mime: str
    content: bytes
    caption: str | None = None


@dataclass(frozen=True)
class RelayFile:
    id: int
    case_id: CaseId
    person: PersonId
    direction: RelayDirection
    kind: RelayFileKind
    mime: str
    size: int
    content: bytes
    caption: str | None
    at: datetime


class RelayFileRepository(Protocol):
    """Files of the relay, kept with their case (erased with it), encrypted at rest."""

    async def add(self, new: NewRelayFile, now: datetime) -> int: ...

    async def get(self, file_id: int) -> RelayFile | None: ...

    async def of_person(self, person: PersonId) -> list[RelayFile]:
        """Every file of the person's cases, oldest first."""
        ...

    async def erase(self, person: PersonId) -> int: ...

    async def purge_orphans(self) -> int:
        """Files whose case is gone (the case's retention ran). Returns how many."""
        ...


RELAY_FILES_KEY: RepositoryKey[RelayFileRepository] = RepositoryKey("relay_files")
