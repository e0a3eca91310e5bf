"""In-memory adapters of the durable inbox and the outbox, for fast service tests.

Rules of this module (those of :mod:`storage.memory` apply): the same contract as
:mod:`storage.inbox_sql`, proved by the same tests (``tests/storage/test_inbox.py``). Outbox ids
are never given twice. With a keyring, payloads and bodies are kept sealed, as a database would
hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from flows.ids import PersonId
from flows.session import JsonValue
from storage.assembly import MEMORY_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, unseal
from storage.inbox import BODY_AAD, PAYLOAD_AAD
from storage.inbox_sql import arrival_order, decode_body, encode_body
from storage.ports import OUTBOX_KEY, UPDATES_KEY, OutboxRecord, PendingUpdate


@dataclass
class DeliveryState:
    # Handled update keys and when they were seen.
    handled: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # Pending updates, the payload sealed.
    pending: dict[tuple[str, str], PendingUpdate] = field(default_factory=dict)
    # Outbox messages by id, with the sealed body beside the record (whose body is empty).
    outbox: dict[int, tuple[OutboxRecord, str]] = field(default_factory=dict)
    # When a sweep took a message, by id.
    claimed: dict[int, datetime] = field(default_factory=dict)
    next_id: int = 1

    def copy(self) -> DeliveryState:
        return DeliveryState(
            handled=dict(self.handled),
            pending=dict(self.pending),
            outbox=dict(self.outbox),
            claimed=dict(self.claimed),
            next_id=self.next_id,
        )


class MemoryUpdateLog:
    def __init__(self, state: DeliveryState, keyring: Keyring | None = None) -> None:
        self._state = state
        self._keyring = keyring

    async def first_time(self, channel: str, update_key: str, now: datetime) -> bool:
        key = (channel, update_key)
        self._state.pending.pop(key, None)
        if key in self._state.handled:
            return False
        self._state.handled[key] = to_utc(now)
        return True

    async def seen(self, channel: str, update_key: str) -> bool:
        return (channel, update_key) in self._state.handled

    async def hold(
        self, channel: str, update_key: str, person: PersonId | None, payload: str, now: datetime
    ) -> bool:
        key = (channel, update_key)
        if key in self._state.handled or key in self._state.pending:
            return False
        sealed = seal(self._keyring, payload, PAYLOAD_AAD)
        self._state.pending[key] = PendingUpdate(
            channel, update_key, person, sealed, to_utc(now), 0
        )
        return True

    async def pending(
        self, channel: str, *, received_before: datetime | None = None, limit: int = 500
    ) -> list[PendingUpdate]:
        found = [
            replace(p, payload=unseal(self._keyring, p.payload, PAYLOAD_AAD))
            for p in self._state.pending.values()
            if p.channel == channel
            and (received_before is None or p.received_at < to_utc(received_before))
        ]
        return sorted(found, key=arrival_order)[:limit]

    async def attempted(self, channel: str, update_key: str) -> int:
        key = (channel, update_key)
        found = self._state.pending.get(key)
        if found is None:
            return 0
        self._state.pending[key] = replace(found, attempts=found.attempts + 1)
        return found.attempts + 1

    async def erase(self, person: PersonId) -> int:
        gone = [k for k, p in self._state.pending.items() if p.person == person]
        for key in gone:
            del self._state.pending[key]
        return len(gone)

    async def purge_pending(self, before: datetime) -> int:
        gone = [k for k, p in self._state.pending.items() if p.received_at < to_utc(before)]
        for key in gone:
            del self._state.pending[key]
        return len(gone)

    async def prune(self, older_than: datetime) -> int:
        old = [k for k, seen_at in self._state.handled.items() if seen_at < to_utc(older_than)]
        for key in old:
            del self._state.handled[key]
        return len(old)


class MemoryOutbox:
    def __init__(self, state: DeliveryState, keyring: Keyring | None = None) -> None:
        self._state = state
        self._keyring = keyring

    def _out(self, stored: tuple[OutboxRecord, str]) -> OutboxRecord:
        record, sealed = stored
        return replace(record, body=decode_body(unseal(self._keyring, sealed, BODY_AAD)))

    async def add(
        self,
        person: PersonId,
        body: dict[str, JsonValue],
        now: datetime,
        *,
        about: PersonId | None = None,
    ) -> int:
        new_id = self._state.next_id
        self._state.next_id += 1
        sealed = seal(self._keyring, encode_body(body), BODY_AAD)
        record = OutboxRecord(new_id, person, {}, to_utc(now), 0, about)
        self._state.outbox[new_id] = (record, sealed)
        return new_id

    async def unsent(
        self,
        *,
        created_before: datetime | None = None,
        prefixes: tuple[str, ...] = (),
        limit: int = 200,
    ) -> list[OutboxRecord]:
        found = [
            self._out(stored)
            for message_id, stored in sorted(self._state.outbox.items())
            if (created_before is None or stored[0].created_at < to_utc(created_before))
            and (not prefixes or stored[0].person.startswith(prefixes))
        ]
        return found[:limit]

    async def of(self, person: PersonId) -> list[OutboxRecord]:
        return [
            self._out(stored)
            for _, stored in sorted(self._state.outbox.items())
            if stored[0].person == person
        ]

    async def claim(self, ids: tuple[int, ...], now: datetime, lease: timedelta) -> tuple[int, ...]:
        taken: list[int] = []
        for message_id in ids:
            found = self._state.outbox.get(message_id)
            if found is None:
                continue
            claimed = self._state.claimed.get(message_id)
            if claimed is None or claimed < to_utc(now - lease):
                self._state.claimed[message_id] = to_utc(now)
                taken.append(message_id)
        return tuple(taken)

    async def remove(self, ids: tuple[int, ...]) -> int:
        gone = [i for i in ids if self._state.outbox.pop(i, None) is not None]
        return len(gone)

    async def attempted(self, message_id: int) -> int:
        found = self._state.outbox.get(message_id)
        if found is None:
            return 0
        record, sealed = found
        self._state.outbox[message_id] = (replace(record, attempts=record.attempts + 1), sealed)
        return record.attempts + 1

    async def erase(self, person: PersonId) -> int:
        gone = [i for i, (r, _) in self._state.outbox.items() if person in (r.person, r.about)]
        for message_id in gone:
            del self._state.outbox[message_id]
            self._state.claimed.pop(message_id, None)
        return len(gone)

    async def purge(self, before: datetime) -> int:
        gone = [i for i, (r, _) in self._state.outbox.items() if r.created_at < to_utc(before)]
        for message_id in gone:
            del self._state.outbox[message_id]
        return len(gone)


MEMORY_ADAPTERS.register(
    UPDATES_KEY, lambda c: MemoryUpdateLog(c.state.part(DeliveryState), c.keyring)
)
MEMORY_ADAPTERS.register(OUTBOX_KEY, lambda c: MemoryOutbox(c.state.part(DeliveryState), c.keyring))
