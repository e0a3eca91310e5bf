"""The web transcript's port: its entries, bounds and repository.

Technology-free (no SQL, no memory adapter): records, the ``Protocol`` and its
:class:`storage.assembly.RepositoryKey`. Never imports :mod:`storage.ports` (which imports the
keys here for the transaction's typed attributes); the tables live in ``storage/web_transcript.py``,
the adapters in ``storage/web_transcript_sql.py`` and ``storage/web_transcript_memory.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, get_args

from flows.ids import PersonId
from flows.session import JsonValue
from storage.assembly import RepositoryKey

# --- web chat transcript: both sides of a web conversation, the web channel's outbox ---------
#
# Rules of this section: an entry is one message as the web page shows it (``body``: a JSON
# object, sealed as a whole because it holds what the young person typed and what the bot and
# their coach said). Ids come from the database and never repeat, so they survive restarts and
# an open page can ask for "everything after id N". Appends for one person are serialised
# (SQLite: one writer; PostgreSQL: a transaction-scoped advisory lock per person), so ids of
# one person become visible in increasing order and a reader never skips one.

TranscriptSide = Literal["bot", "young"]
TRANSCRIPT_SIDES: tuple[TranscriptSide, ...] = get_args(TranscriptSide)
TRANSCRIPT_REF_MAX = 40
_TRANSCRIPT_REF = re.compile(rf"[A-Za-z0-9_-]{{8,{TRANSCRIPT_REF_MAX}}}")


def check_transcript_ref(ref: str) -> str:
    """Return ``ref`` if it is a random reference (8-40 of ``A-Za-z0-9_-``); raise
    ``ValueError`` otherwise, so no text can end up in the clear column."""
    if not _TRANSCRIPT_REF.fullmatch(ref):
        raise ValueError("a transcript ref is 8-40 characters of A-Za-z0-9_-")
    return ref


@dataclass(frozen=True)
class NewTranscriptEntry:
    ref: str
    """Random, chosen by whoever wrote the message (the page for the young person's words):
    the page recognises its own message by it, and a retried input is stored once."""
    side: TranscriptSide
    body: dict[str, JsonValue]


@dataclass(frozen=True)
class TranscriptEntry:
    id: int
    person: PersonId
    ref: str
    side: TranscriptSide
    body: dict[str, JsonValue]
    at: datetime
    seen_at: datetime | None
    """When the page first fetched it; ``None``: not read yet (kept longer, see purge)."""


@dataclass(frozen=True)
class TranscriptBounds:
    first: int | None
    """The lowest id the person still has (``None``: nothing): an open page that shows a
    lower one knows that part of the conversation was erased."""
    last: int
    """The highest id (0: nothing)."""


class WebTranscriptRepository(Protocol):
    async def append(
        self, person: PersonId, entries: tuple[NewTranscriptEntry, ...], now: datetime
    ) -> list[TranscriptEntry]:
        """Store the entries in order, with new increasing ids; an entry whose ref the person
        already has is not stored again (the existing one is returned in its place)."""
        ...

    async def after(self, person: PersonId, after: int, limit: int = 500) -> list[TranscriptEntry]:
        """The person's first ``limit`` entries with an id above ``after``, oldest first (a
        reader pages on from the last id it got)."""
        ...

    async def bounds(self, person: PersonId) -> TranscriptBounds: ...

    async def has_ref(self, person: PersonId, ref: str) -> bool: ...

    async def mark_seen(self, person: PersonId, up_to: int, now: datetime) -> int:
        """Entries up to id ``up_to`` not yet seen are seen now. Returns how many."""
        ...

    async def trim(self, person: PersonId, keep: int) -> int:
        """Keep the person's newest ``keep`` entries. Returns how many went."""
        ...

    async def erase(self, person: PersonId) -> int: ...

    async def purge(self, *, seen_before: datetime, any_before: datetime) -> int:
        """Delete entries from before ``seen_before`` that were seen or are the young person's
        own, and every entry from before ``any_before``. Returns how many."""
        ...


WEB_TRANSCRIPT_KEY: RepositoryKey[WebTranscriptRepository] = RepositoryKey("web_transcript")
