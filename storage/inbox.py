"""The durable inbox and outbox tables and their :class:`storage.ports.PersonalData` part.

Rules of this module (those of :mod:`storage.tables` apply; it imports this module so the tables
are on ``SQLModel.metadata``):

* ``inbox_pending`` holds an update from the moment it arrived until it was handled: the
  handling transaction records its key in ``processed_updates`` and deletes the row, so after a
  crash exactly the unhandled updates are left, and they are handled again at the next start.
  ``payload`` is the update as Telegram sent it (what the young person typed) and is
  :class:`storage.db.EncryptedText` (associated data ``"inbox_pending.payload"``).
* ``outbox`` holds a message caused by a state change, written in the transaction of that
  change and deleted once a channel took it (``bot.outbox``). ``body`` is the rendered
  message and is encrypted (``"outbox.body"``). Ids only grow (``AUTOINCREMENT`` on SQLite), so
  one person's messages go out in the order they were written. ``about`` names the young
  person whose data a message for someone else carries (a coach's card, a relayed message, the
  handover's PDF for VDAB), ``NULL`` when it carries nobody's (migration ``0019_outbox_about``).
* Both are short-lived: rows normally live for seconds. ``/wis`` erases a person's pending
  updates, the unsent messages to them and the unsent messages about them, in the erasure's
  transaction; the retention job drops rows stuck for longer than :data:`STUCK_AFTER`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import Index, Table
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.codec import aad
from storage.db import EncryptedText, UtcDateTime
from storage.ports import PendingUpdate, RetentionPolicy, Transaction

PAYLOAD_AAD = aad("inbox_pending", "payload")
BODY_AAD = aad("outbox", "body")
# A row older than this was not handled or sent in days of retries: dropped by retention.
STUCK_AFTER = timedelta(days=7)
# An update that failed this many times is given up, so one bad update cannot loop forever.
MAX_ATTEMPTS = 5

T = TypeVar("T")


class InboxPendingRow(SQLModel, table=True):
    __tablename__ = "inbox_pending"
    __table_args__ = (
        # The update's own id is the unique key (never "ignore anything lower").
        Index("uq_inbox_pending_channel_key", "channel", "update_key", unique=True),
        Index("ix_inbox_pending_received_at", "received_at"),
        Index("ix_inbox_pending_person", "person"),
        {"sqlite_autoincrement": True},
    )

    # A one-column key, so that ``opstap keys rotate`` can re-encrypt the payloads.
    id: int | None = Field(default=None, primary_key=True)
    channel: str
    update_key: str
    person: str | None = Field(default=None, nullable=True)
    payload: str = Field(sa_type=EncryptedText, nullable=False)  # the update's JSON
    received_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    attempts: int = 0


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_person_id", "person", "id"),
        Index("ix_outbox_created_at", "created_at"),
        Index("ix_outbox_about", "about"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    person: str
    # The young person whose data the message carries when it goes to someone else (their
    # coach, VDAB): ``/wis`` of that person deletes it unsent.
    about: str | None = Field(default=None, nullable=True)
    body: str = Field(sa_type=EncryptedText, nullable=False)  # JSON object
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    attempts: int = 0
    # When a sweep took it for sending (a leftover of a crash); another sweep leaves it alone
    # for a while.
    claimed_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)


INBOX_PENDING: Table = SQLModel.metadata.tables[str(InboxPendingRow.__tablename__)]
OUTBOX: Table = SQLModel.metadata.tables[str(OutboxRow.__tablename__)]


@dataclass(frozen=True)
class DeliveryPart:
    """Pending updates and unsent messages, as ``/mijngegevens``, ``/wis`` and retention see
    them."""

    name: str = "delivery"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        # Messages still waiting to be sent (normally none: they wait for seconds).
        return [
            {"at": m.created_at.isoformat(), "text": m.body.get("text")}
            for m in await tx.outbox.of(person)
        ]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        # The unsent messages to the person and those about them to anyone else (a caption
        # with their name for VDAB, their words for a coach), whatever feature wrote them.
        return await tx.outbox.erase(person) + await tx.updates.erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        before = now - STUCK_AFTER
        return await tx.outbox.purge(before) + await tx.updates.purge_pending(before)

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        # Messages wait seconds, not days; the reply to the withdrawal itself must still go.
        return 0


@dataclass(frozen=True)
class Replay(Generic[T]):
    """What :func:`take_pending` found: the inputs to handle again (decoded, arrival order) and
    the update keys given up, each with why (``"attempts"`` or the decoder's error type)."""

    found: list[T] = field(default_factory=list)
    given_up: list[tuple[str, str]] = field(default_factory=list)


async def take_pending(
    tx: Transaction,
    channel: str,
    now: datetime,
    decode: Callable[[PendingUpdate], T | None],
    *,
    received_before: datetime | None = None,
    skip: Callable[[str], bool] = lambda key: False,
    max_attempts: int = MAX_ATTEMPTS,
    count: bool = True,
) -> Replay[T]:
    """The replay of every channel's inbox: a channel's pending updates, each counted as one
    attempt more, decoded by the channel. ``skip`` names keys being handled in this process.
    One that failed ``max_attempts`` times or cannot be decoded (``None`` or an error) is
    recorded as handled, so it is not tried again; the caller logs those by key.
    ``count=False``: the channel counts an attempt itself when the handling really starts
    (:func:`start_attempt`), so a replay that a kill cut off while it still waited for its
    turn does not count (restarts seconds apart gave up updates that never ran)."""
    replay: Replay[T] = Replay()
    for row in await tx.updates.pending(channel, received_before=received_before):
        if skip(row.update_key):
            continue
        if await tx.updates.seen(channel, row.update_key):
            # Handled already (a crisis reply recorded while a second worker stored the
            # update): only the row is left, and a replay would screen it and help again.
            await tx.updates.first_time(channel, row.update_key, now)
            continue
        attempts = await tx.updates.attempted(channel, row.update_key) if count else row.attempts
        decoded: T | None = None
        why = "attempts"
        if attempts <= max_attempts:
            try:
                decoded = decode(row)
            except Exception as error:
                why = type(error).__name__
        if decoded is None:
            replay.given_up.append((row.update_key, why))
            await tx.updates.first_time(channel, row.update_key, now)
            continue
        replay.found.append(decoded)
    return replay


async def start_attempt(
    tx: Transaction, channel: str, update_key: str, now: datetime, max_attempts: int = MAX_ATTEMPTS
) -> bool:
    """A pending update's handling starts (in the person's turn): one attempt more. ``False``
    when it has had ``max_attempts`` already (it crashed the process each time): it is then
    recorded as handled and given up, so it cannot loop for ever."""
    attempts = await tx.updates.attempted(channel, update_key)
    if attempts <= max_attempts:
        return True
    await tx.updates.first_time(channel, update_key, now)
    return False
