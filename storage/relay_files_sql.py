"""SQL adapter of :class:`storage.relay_files.RelayFileRepository` (SQLite and PostgreSQL).

Rules of this module (those of :mod:`storage.sql` apply): SQLAlchemy Core on the transaction's
connection; content and caption are sealed with the keyring (none: plaintext base64). Nothing is
logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import RowMapping, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import CaseId, PersonId
from storage.assembly import SQL_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal_bytes, seal_optional, unseal_bytes, unseal_optional
from storage.relay_files import CAPTION_AAD, CONTENT_AAD, RELAY_FILES
from storage.relay_files_port import RELAY_FILES_KEY, NewRelayFile, RelayFile, RelayFileKind
from storage.routing import CASES
from storage.routing_port import RelayDirection

T = RELAY_FILES


def _file(row: RowMapping, keyring: Keyring | None) -> RelayFile:
    return RelayFile(
        id=int(row["id"]),
        case_id=CaseId(str(row["case_id"])),
        person=PersonId(row["person"]),
        direction=cast(RelayDirection, row["direction"]),
        kind=cast(RelayFileKind, row["kind"]),
        mime=row["mime"],
        size=int(row["size"]),
        content=unseal_bytes(keyring, row["content"], CONTENT_AAD),
        caption=unseal_optional(keyring, row["caption"], CAPTION_AAD),
        at=row["at"],
    )


class SqlRelayFiles:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    async def add(self, new: NewRelayFile, now: datetime) -> int:
        if not new.case_id.isdigit():
            raise ValueError("a case id is a number")
        result = await self._conn.execute(
            T.insert()
            .values(
                case_id=int(new.case_id),
                person=new.person,
                direction=new.direction,
                kind=new.kind,
                mime=new.mime,
                size=len(new.content),
                content=seal_bytes(self._keyring, new.content, CONTENT_AAD),
                caption=seal_optional(self._keyring, new.caption, CAPTION_AAD),
                at=to_utc(now),
            )
            .returning(T.c.id)
        )
        return int(result.scalar_one())

    async def get(self, file_id: int) -> RelayFile | None:
        result = await self._conn.execute(select(T).where(T.c.id == file_id))
        row = result.mappings().first()
        return None if row is None else _file(row, self._keyring)

    async def of_person(self, person: PersonId) -> list[RelayFile]:
        result = await self._conn.execute(
            select(T).where(T.c.person == person).order_by(T.c.at, T.c.id)
        )
        return [_file(row, self._keyring) for row in result.mappings()]

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(T).where(T.c.person == person))
        return int(result.rowcount or 0)

    async def purge_orphans(self) -> int:
        result = await self._conn.execute(delete(T).where(T.c.case_id.not_in(select(CASES.c.id))))
        return int(result.rowcount or 0)


SQL_ADAPTERS.register(RELAY_FILES_KEY, lambda c: SqlRelayFiles(c.conn, c.keyring))
