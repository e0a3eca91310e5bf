"""In-memory adapter of :class:`storage.web_transcript.WebTranscriptRepository`, for fast
service tests.

Rules of this module (those of :mod:`storage.memory` apply): the same contract as
:mod:`storage.web_transcript_sql`, proved by the same tests
(``tests/storage/test_web_transcript.py``). Ids are never given twice, like SQLite's
``AUTOINCREMENT``. With a keyring the body is kept sealed, as a database would hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.ids import PersonId
from storage.assembly import MEMORY_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, unseal
from storage.web_transcript import BODY_AAD
from storage.web_transcript_port import (
    WEB_TRANSCRIPT_KEY,
    NewTranscriptEntry,
    TranscriptBounds,
    TranscriptEntry,
    check_transcript_ref,
)
from storage.web_transcript_sql import decode_body, encode_body


@dataclass(frozen=True)
class _Stored:
    entry: TranscriptEntry
    sealed: str


@dataclass
class TranscriptState:
    # Entries by id; the body inside ``entry`` is empty, the sealed JSON is kept beside it.
    entries: dict[int, _Stored] = field(default_factory=dict)
    next_id: int = 1

    def copy(self) -> TranscriptState:
        return TranscriptState(entries=dict(self.entries), next_id=self.next_id)


class MemoryWebTranscript:
    def __init__(self, state: TranscriptState, keyring: Keyring | None = None) -> None:
        self._state = state
        self._keyring = keyring

    def _out(self, stored: _Stored) -> TranscriptEntry:
        body = decode_body(unseal(self._keyring, stored.sealed, BODY_AAD))
        return replace(stored.entry, body=body)

    def _of(self, person: PersonId) -> list[_Stored]:
        return sorted(
            (s for s in self._state.entries.values() if s.entry.person == person),
            key=lambda s: s.entry.id,
        )

    async def append(
        self, person: PersonId, entries: tuple[NewTranscriptEntry, ...], now: datetime
    ) -> list[TranscriptEntry]:
        now = to_utc(now)
        stored: list[TranscriptEntry] = []
        for new in entries:
            check_transcript_ref(new.ref)
            existing = next((s for s in self._of(person) if s.entry.ref == new.ref), None)
            if existing is not None:
                stored.append(self._out(existing))
                continue
            entry = TranscriptEntry(
                id=self._state.next_id,
                person=person,
                ref=new.ref,
                side=new.side,
                body={},
                at=now,
                seen_at=None,
            )
            self._state.next_id += 1
            sealed = seal(self._keyring, encode_body(new.body), BODY_AAD)
            self._state.entries[entry.id] = _Stored(entry, sealed)
            stored.append(replace(entry, body=dict(new.body)))
        return stored

    async def after(self, person: PersonId, after: int, limit: int = 500) -> list[TranscriptEntry]:
        return [self._out(s) for s in self._of(person) if s.entry.id > after][:limit]

    async def bounds(self, person: PersonId) -> TranscriptBounds:
        ids = [s.entry.id for s in self._of(person)]
        return TranscriptBounds(first=min(ids) if ids else None, last=max(ids) if ids else 0)

    async def has_ref(self, person: PersonId, ref: str) -> bool:
        return any(s.entry.ref == ref for s in self._of(person))

    async def mark_seen(self, person: PersonId, up_to: int, now: datetime) -> int:
        count = 0
        for s in self._of(person):
            if s.entry.id <= up_to and s.entry.seen_at is None:
                seen = replace(s.entry, seen_at=to_utc(now))
                self._state.entries[s.entry.id] = _Stored(seen, s.sealed)
                count += 1
        return count

    async def trim(self, person: PersonId, keep: int) -> int:
        mine = self._of(person)
        gone = mine[: max(0, len(mine) - keep)]
        for s in gone:
            del self._state.entries[s.entry.id]
        return len(gone)

    async def erase(self, person: PersonId) -> int:
        gone = self._of(person)
        for s in gone:
            del self._state.entries[s.entry.id]
        return len(gone)

    async def purge(self, *, seen_before: datetime, any_before: datetime) -> int:
        seen_before, any_before = to_utc(seen_before), to_utc(any_before)
        gone = [
            s.entry.id
            for s in self._state.entries.values()
            if s.entry.at < any_before
            or (
                s.entry.at < seen_before
                and (s.entry.seen_at is not None or s.entry.side == "young")
            )
        ]
        for entry_id in gone:
            del self._state.entries[entry_id]
        return len(gone)


MEMORY_ADAPTERS.register(
    WEB_TRANSCRIPT_KEY, lambda c: MemoryWebTranscript(c.state.part(TranscriptState), c.keyring)
)
