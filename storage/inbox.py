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
  one person's messages go out in the order they were written.
* Both are short-lived: rows normally live for seconds. ``/wis`` erases them; the retention job
  drops rows stuck for longer than :data:`STUCK_AFTER`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, Table
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.codec import aad
from storage.db import EncryptedText, UtcDateTime
from storage.ports import RetentionPolicy, Transaction

PAYLOAD_AAD = aad("inbox_pending", "payload")
BODY_AAD = aad("outbox", "body")
# A row older than this was not handled or sent in days of retries: dropped by retention.
STUCK_AFTER = timedelta(days=7)


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
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    person: str
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
        return await tx.outbox.erase(person) + await tx.updates.erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        before = now - STUCK_AFTER
        return await tx.outbox.purge(before) + await tx.updates.purge_pending(before)

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        # Messages wait seconds, not days; the reply to the withdrawal itself must still go.
        return 0
