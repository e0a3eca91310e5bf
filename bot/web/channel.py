"""The web chat channel: an in-memory outbox per person, read by the page.

Rules: the outbox holds rendered messages only until the page fetches them (bounded, so a
closed tab cannot grow memory); a long poll waits on an event, never on a sleep loop. Web
identities are random cookie tokens; only their SHA-256 is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections import deque
from dataclasses import dataclass, field

from flows.ids import PersonId

from bot.service import OutgoingMessage

MAX_QUEUED = 200


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def person_for_token(token: str) -> PersonId:
    # The person id is derived from the hash, so the cookie token itself is never stored.
    return PersonId(f"web:{token_hash(token)[:32]}")


@dataclass
class _Outbox:
    messages: deque[tuple[int, OutgoingMessage]] = field(
        default_factory=lambda: deque(maxlen=MAX_QUEUED)
    )
    next_seq: int = 1
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class WebChannel:
    def __init__(self) -> None:
        self._boxes: dict[PersonId, _Outbox] = {}
        self._languages: dict[PersonId, str] = {}

    def _box(self, person: PersonId) -> _Outbox:
        box = self._boxes.get(person)
        if box is None:
            box = self._boxes[person] = _Outbox()
        return box

    async def deliver(self, person: PersonId, message: OutgoingMessage) -> None:
        box = self._box(person)
        box.messages.append((box.next_seq, message))
        box.next_seq += 1
        box.changed.set()

    async def language_changed(self, person: PersonId, language: str) -> None:
        self._languages[person] = language

    def language(self, person: PersonId) -> str | None:
        return self._languages.get(person)

    def since(self, person: PersonId, after: int) -> list[tuple[int, OutgoingMessage]]:
        return [(seq, m) for seq, m in self._box(person).messages if seq > after]

    def last_seq(self, person: PersonId) -> int:
        return self._box(person).next_seq - 1

    async def wait(self, person: PersonId, after: int, timeout: float) -> list[
        tuple[int, OutgoingMessage]
    ]:
        box = self._box(person)
        found = self.since(person, after)
        if found:
            return found
        box.changed.clear()
        try:
            await asyncio.wait_for(box.changed.wait(), timeout)
        except TimeoutError:
            return []
        return self.since(person, after)

    def forget(self, person: PersonId) -> None:
        self._boxes.pop(person, None)
        self._languages.pop(person, None)
