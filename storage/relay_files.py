"""The relay's files (photos, PDFs, voice notes) and their :class:`storage.ports.PersonalData`
part.

Rules of this module (those of :mod:`storage.tables` apply; it imports this module so the table
is on ``SQLModel.metadata``):

* A file belongs to its case (``ON DELETE CASCADE``): erasing a case or its retention erases its
  files. ``person`` is kept beside it so ``/wis`` and the export find them directly.
* ``content`` (the file's bytes, metadata stripped before it is stored) and ``caption`` are
  :class:`storage.db.EncryptedText` (associated data ``relay_files.<column>``): a letter about
  debts or a voice note can say anything. ``kind``, ``mime`` and ``size`` say what sort of file
  it is, never what is in it; a file's name is never stored.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Table
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.codec import aad
from storage.db import EncryptedText, UtcDateTime
from storage.ports import RetentionPolicy, Transaction
from storage.relay_files_port import RELAY_FILE_KINDS, RELAY_FILES_KEY
from storage.routing_port import RELAY_DIRECTIONS

CONTENT_AAD = aad("relay_files", "content")
CAPTION_AAD = aad("relay_files", "caption")


"""The feature's port in a transaction: ``tx[RELAY_FILES_KEY]``."""


def _among(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class RelayFileRow(SQLModel, table=True):
    __tablename__ = "relay_files"
    __table_args__ = (
        ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_relay_files_case", ondelete="CASCADE"
        ),
        Index("ix_relay_files_case_id", "case_id"),
        Index("ix_relay_files_person", "person"),
        CheckConstraint(_among("direction", RELAY_DIRECTIONS), name="ck_relay_files_direction"),
        CheckConstraint(_among("kind", RELAY_FILE_KINDS), name="ck_relay_files_kind"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int
    person: str
    direction: str
    kind: str
    mime: str
    size: int
    content: str = Field(sa_type=EncryptedText, nullable=False)
    caption: str | None = Field(default=None, sa_type=EncryptedText, nullable=True)
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)


RELAY_FILES: Table = SQLModel.metadata.tables[str(RelayFileRow.__tablename__)]


@dataclass(frozen=True)
class RelayFilePart:
    """The relay's files as ``/mijngegevens``, ``/wis`` and the retention job see them. The
    export carries each file itself (base64), so the young person gets back what they sent and
    received."""

    name: str = "relay_files"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        return [
            {
                "case": f.case_id,
                "direction": f.direction,
                "kind": f.kind,
                "type": f.mime,
                "size": f.size,
                "caption": f.caption,
                "at": f.at.isoformat(),
                "content_base64": base64.b64encode(f.content).decode("ascii"),
            }
            for f in await tx[RELAY_FILES_KEY].of_person(person)
        ]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx[RELAY_FILES_KEY].erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        # The case's own retention (the cases part) removed the case; its files go with it.
        return await tx[RELAY_FILES_KEY].purge_orphans()

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        # Like the relay's messages: what was sent on to a coach stays with the case.
        return 0
