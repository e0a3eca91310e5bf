"""The web chat channel: an in-memory outbox per person, read by the page.

Rules: the outbox holds rendered messages only until the page fetches them (bounded, so a
closed tab cannot grow memory); a long poll waits on an event, never on a sleep loop. Web
identities are random cookie tokens; only their SHA-256 is stored.

A document (the ``/mijngegevens`` export) is kept in memory under a random id for
:data:`DOWNLOAD_TTL`; the message carries the link ``/api/export/<id>``. It is handed out once,
and only to the same person (cookie), then forgotten. Nothing of it touches the disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.service import OutgoingMessage
from flows.ids import PersonId

MAX_QUEUED = 200
DOWNLOAD_PATH = "/api/export/"
DOWNLOAD_TTL = 15 * 60.0
MAX_DOWNLOADS = 50


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def person_for_token(token: str) -> PersonId:
    # The person id is derived from the hash, so the cookie token itself is never stored.
    return PersonId(f"web:{token_hash(token)[:32]}")


@dataclass(frozen=True)
class Download:
    person: PersonId
    filename: str
    content: bytes = field(repr=False)
    expires: float


@dataclass
class _Outbox:
    messages: deque[tuple[int, OutgoingMessage]] = field(
        default_factory=lambda: deque(maxlen=MAX_QUEUED)
    )
    next_seq: int = 1
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class WebChannel:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._boxes: dict[PersonId, _Outbox] = {}
        self._languages: dict[PersonId, str] = {}
        self._downloads: OrderedDict[str, Download] = OrderedDict()

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

    async def deliver_document(
        self, person: PersonId, filename: str, content: bytes, caption: str
    ) -> None:
        self._drop_expired()
        key = secrets.token_urlsafe(24)
        self._downloads[key] = Download(person, filename, content, self._monotonic() + DOWNLOAD_TTL)
        while len(self._downloads) > MAX_DOWNLOADS:
            self._downloads.popitem(last=False)
        await self.deliver(
            person, OutgoingMessage(caption, download=(f"{DOWNLOAD_PATH}{key}", filename))
        )

    def take_download(self, key: str, person: PersonId) -> Download | None:
        """The file once, for its own person only; a wrong person leaves it in place (so a
        guessed id cannot destroy someone's export either)."""
        self._drop_expired()
        found = self._downloads.get(key)
        if found is None or not secrets.compare_digest(found.person, person):
            return None
        del self._downloads[key]
        return found

    def _drop_expired(self) -> None:
        now = self._monotonic()
        for key in [k for k, d in self._downloads.items() if d.expires <= now]:
            del self._downloads[key]

    async def language_changed(self, person: PersonId, language: str) -> None:
        self._languages[person] = language

    def language(self, person: PersonId) -> str | None:
        return self._languages.get(person)

    def since(self, person: PersonId, after: int) -> list[tuple[int, OutgoingMessage]]:
        return [(seq, m) for seq, m in self._box(person).messages if seq > after]

    def last_seq(self, person: PersonId) -> int:
        return self._box(person).next_seq - 1

    async def wait(
        self, person: PersonId, after: int, seconds: float
    ) -> list[tuple[int, OutgoingMessage]]:
        box = self._box(person)
        found = self.since(person, after)
        if found:
            return found
        box.changed.clear()
        try:
            await asyncio.wait_for(box.changed.wait(), seconds)
        except TimeoutError:
            return []
        return self.since(person, after)

    def forget(self, person: PersonId) -> None:
        box = self._boxes.get(person)
        if box is not None:
            # Keep the sequence number: the open page only shows messages after the last one
            # it saw, so a message sent after the erasure must not start again at 1.
            box.messages.clear()
        self._languages.pop(person, None)
        for key in [k for k, d in self._downloads.items() if d.person == person]:
            del self._downloads[key]
