"""The web chat channel: delivering a message is appending it to the person's transcript.

Rules:

* The transcript in the database (:mod:`storage.web_transcript`) is both the conversation the
  page shows (both sides) and the web channel's durable outbox: :meth:`WebChannel.deliver`
  returns once the message is stored, and the page reads everything after the last id it
  showed. Ids come from the database, so they survive restarts; a message of a reminder or a
  coach waits there until the page fetches it (``seen_at``).
* The young person's own words are stored in order with the replies: :meth:`received` holds the
  input in memory, and the first delivery of its reply (or :meth:`flush` when nothing was
  replied) stores both in one transaction. So the transcript waits for nothing before the
  crisis reply. The words are durable before that, in the web inbox (:mod:`bot.web.inbox`,
  stored beside the screen before the page hears 200); an input handled again after a crash
  is put here again, and the ref keeps it from appearing twice.
* Safety first: when the database fails or is slow (:data:`SAVE_TIMEOUT`), a message is kept in
  memory (bounded) and served from there until a later append stores it; the page recognises
  every message by its random ``ref``, so it never shows one twice. Under
  :func:`bot.delivery.strict_delivery` (a reminder, which is ``sent`` only once a channel took
  it) the failure is raised instead, so the reminder goes back to the queue.
* A long poll waits on an event per person, never on a sleep loop; it looks at the database
  again every :data:`RECHECK_SECONDS` for messages another process stored.
* Web identities are random cookie tokens; only their SHA-256 is used. Nothing a person typed is
  logged.

A document (the ``/mijngegevens`` export) is kept in memory under a random id for
:data:`DOWNLOAD_TTL`; the message carries the link ``/api/export/<id>``. It is handed out once,
and only to the same person (cookie), then forgotten. Nothing of it touches the disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import SystemClock
from bot.delivery import delivery_is_strict
from bot.logs import describe
from bot.service import Clock, OutgoingMessage
from flows.ids import PersonId
from flows.session import JsonValue
from storage.ports import Storage
from storage.web_transcript import WebTranscriptPart
from storage.web_transcript_port import WEB_TRANSCRIPT_KEY, NewTranscriptEntry, TranscriptSide

log = logging.getLogger(__name__)

DOWNLOAD_PATH = "/api/export/"
DOWNLOAD_TTL = 15 * 60.0
MAX_DOWNLOADS = 50
# A person's transcript keeps this many entries; older ones go (a page shows the newest).
MAX_ENTRIES = 1000
# Entries read in one answer; the page asks again from the last id it got.
PAGE_SIZE = 500
# Messages kept in memory per person while the database fails.
MAX_UNSAVED = 100
SAVE_TIMEOUT = 2.0
RECHECK_SECONDS = 5.0


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_ref() -> str:
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def person_for_token(token: str) -> PersonId:
    # The person id is derived from the hash, so the cookie token itself is never stored.
    return PersonId(f"web:{token_hash(token)[:32]}")


def body_of(message: OutgoingMessage) -> dict[str, JsonValue]:
    """A bot message as the page shows it."""
    body: dict[str, JsonValue] = {
        "text": message.text,
        "buttons": [[[label, value] for label, value in row] for row in message.buttons],
        "prompt": message.prompt,
        "rtl": message.rtl,
        "crisis": message.crisis,
    }
    if message.download is not None:
        body["download"] = list(message.download)
    return body


@dataclass(frozen=True)
class Download:
    person: PersonId
    filename: str
    content: bytes = field(repr=False)
    expires: float


@dataclass(frozen=True)
class WebEntry:
    """One message of the conversation; ``id`` is ``None`` while it waits for the database."""

    id: int | None
    ref: str
    side: TranscriptSide
    body: dict[str, JsonValue]


@dataclass(frozen=True)
class WebPage:
    """What the page gets: the entries after its last id and where the transcript stands."""

    entries: list[WebEntry]
    first: int | None
    """The lowest id the person has: a page showing a lower one clears its screen (erased)."""
    last: int | None
    """The highest id; ``None`` when the database did not answer (bounds unknown)."""
    language: str | None
    """The session's language, when there is a session."""


class _Waiters:
    """One event per person with a long poll open; dropped when nobody waits."""

    def __init__(self) -> None:
        self._events: dict[PersonId, tuple[asyncio.Event, int]] = {}

    def notify(self, person: PersonId) -> None:
        found = self._events.get(person)
        if found is not None:
            found[0].set()

    async def wait(self, person: PersonId, seconds: float) -> None:
        event, users = self._events.get(person, (asyncio.Event(), 0))
        self._events[person] = (event, users + 1)
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            event, users = self._events[person]
            if users <= 1:
                del self._events[person]
            else:
                event.clear()
                self._events[person] = (event, users - 1)


class WebChannel:
    # Texts with a ``web.<id>`` entry (bot/i18n.py) are worded for the web: no Telegram.
    text_variant = "web"

    def __init__(
        self,
        storage: Storage,
        *,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._clock = clock or SystemClock()
        self._monotonic = monotonic
        self._inbound: dict[PersonId, list[NewTranscriptEntry]] = {}
        self._unsaved: dict[PersonId, list[NewTranscriptEntry]] = {}
        self._languages: dict[PersonId, str] = {}
        self._downloads: OrderedDict[str, Download] = OrderedDict()
        self._waiters = _Waiters()
        # The channel brings its own table, so it registers the table's personal-data part.
        if not any(p.name == WebTranscriptPart.name for p in storage.personal_data_parts):
            storage.personal_data_parts.append(WebTranscriptPart())

    # --- writing --------------------------------------------------------------------------

    async def deliver(self, person: PersonId, message: OutgoingMessage) -> None:
        await self._append(person, [NewTranscriptEntry(new_ref(), "bot", body_of(message))])

    def received(self, person: PersonId, ref: str, body: dict[str, JsonValue]) -> None:
        """The young person's input, stored with the first reply to it (or by :meth:`flush`)."""
        self._inbound.setdefault(person, []).append(NewTranscriptEntry(ref, "young", body))

    def withdraw(self, person: PersonId, ref: str) -> None:
        """Take back an input :meth:`received` that was not stored nor handled (the page sends
        it again), unless a delivery stored it meanwhile (then the retry finds it there)."""
        for held in (self._inbound, self._unsaved):
            entries = held.get(person)
            if entries:
                held[person] = [e for e in entries if not (e.side == "young" and e.ref == ref)]

    async def flush(self, person: PersonId) -> None:
        """Store what :meth:`received` holds, and retry what the database refused before."""
        if self._inbound.get(person) or self._unsaved.get(person):
            await self._append(person, [])

    async def _append(self, person: PersonId, entries: Sequence[NewTranscriptEntry]) -> None:
        waiting = [*self._unsaved.pop(person, []), *self._inbound.pop(person, []), *entries]
        try:
            async with asyncio.timeout(SAVE_TIMEOUT), self._storage.transaction() as tx:
                await tx[WEB_TRANSCRIPT_KEY].append(person, tuple(waiting), self._now())
                await tx[WEB_TRANSCRIPT_KEY].trim(person, MAX_ENTRIES)
        except Exception as error:
            log.error(
                "web transcript append failed person=%s entries=%d error=%s",
                person,
                len(waiting),
                describe(error),
            )
            if delivery_is_strict():
                # A reminder is "sent" only once stored: it goes back to the queue instead.
                self._unsaved[person] = waiting[: len(waiting) - len(entries)][-MAX_UNSAVED:]
                raise
            # The page still gets them (from memory); a later append stores them, in order.
            self._unsaved[person] = waiting[-MAX_UNSAVED:]
        self._waiters.notify(person)

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

    # --- reading --------------------------------------------------------------------------

    async def peek(self, person: PersonId) -> WebPage:
        """Where the transcript stands and the session's language, without entries."""
        return await self.read(person, None)

    async def read(self, person: PersonId, after: int | None, *, mark_seen: bool = True) -> WebPage:
        """The entries after id ``after`` (and those waiting in memory), marked as seen;
        ``after=None``: none."""
        unsaved = [WebEntry(None, e.ref, e.side, e.body) for e in self._unsaved.get(person, [])]
        try:
            async with self._storage.transaction() as tx:
                stored = (
                    []
                    if after is None
                    else await tx[WEB_TRANSCRIPT_KEY].after(person, after, limit=PAGE_SIZE)
                )
                bounds = await tx[WEB_TRANSCRIPT_KEY].bounds(person)
                session = await tx.sessions.get(person)
                if mark_seen and stored:
                    await tx[WEB_TRANSCRIPT_KEY].mark_seen(person, stored[-1].id, self._now())
        except Exception as error:
            log.error("web transcript read failed person=%s error=%s", person, describe(error))
            return WebPage(unsaved, None, None, self._languages.get(person))
        entries = [WebEntry(e.id, e.ref, e.side, e.body) for e in stored]
        language = session.language if session is not None else self._languages.get(person)
        return WebPage([*entries, *unsaved], bounds.first, bounds.last, language)

    async def wait(self, person: PersonId, after: int, seconds: float) -> WebPage:
        """Like :meth:`read`, but waits up to ``seconds`` for something new."""
        deadline = self._monotonic() + seconds
        while True:
            found = await self.read(person, after)
            left = deadline - self._monotonic()
            if found.entries or left <= 0:
                return found
            await self._waiters.wait(person, min(left, RECHECK_SECONDS))

    async def has_ref(self, person: PersonId, ref: str) -> bool:
        """Whether this input was taken already (a page retrying after a lost answer)."""
        if any(
            e.ref == ref for e in [*self._inbound.get(person, []), *self._unsaved.get(person, [])]
        ):
            return True
        try:
            async with asyncio.timeout(SAVE_TIMEOUT), self._storage.transaction() as tx:
                return await tx[WEB_TRANSCRIPT_KEY].has_ref(person, ref)
        except Exception as error:
            log.error("web transcript lookup failed person=%s error=%s", person, describe(error))
            return False

    # --- downloads ------------------------------------------------------------------------

    def take_download(self, key: str, person: PersonId) -> Download | None:
        """The file once, for its own person only; a wrong person leaves it in place (so a
        guessed id cannot destroy someone's export either)."""
        self._drop_expired()
        found = self._downloads.get(key)
        if found is None or not secrets.compare_digest(found.person, person):
            return None
        del self._downloads[key]
        return found

    def download_available(self, url: str, person: PersonId) -> bool:
        """Whether the link of a stored message can still be fetched (not taken, not expired,
        not lost in a restart): an old link is not shown again."""
        self._drop_expired()
        if not url.startswith(DOWNLOAD_PATH):
            return False
        found = self._downloads.get(url[len(DOWNLOAD_PATH) :])
        return found is not None and found.person == person

    def _drop_expired(self) -> None:
        now = self._monotonic()
        for key in [k for k, d in self._downloads.items() if d.expires <= now]:
            del self._downloads[key]

    # --- the rest of the Channel protocol -------------------------------------------------

    async def language_changed(self, person: PersonId, language: str) -> None:
        self._languages[person] = language

    def language(self, person: PersonId) -> str | None:
        return self._languages.get(person)

    def forget(self, person: PersonId) -> None:
        """After an erasure: the transcript rows went with the erasure's transaction (the
        ``web_transcript`` part); drop what memory holds. The next message gets a higher id
        than any before, and the page, seeing its old ids gone, clears its screen."""
        self._inbound.pop(person, None)
        self._unsaved.pop(person, None)
        self._languages.pop(person, None)
        for key in [k for k, d in self._downloads.items() if d.person == person]:
            del self._downloads[key]
        self._waiters.notify(person)

    def _now(self) -> datetime:
        return self._clock.now()
