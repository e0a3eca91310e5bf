"""SQL adapter of :class:`storage.handovers.HandoverRepository` (SQLite and PostgreSQL).

Rules of this module (those of :mod:`storage.sql` apply): the summary (JSON) and the PDF are
sealed with the keyring; answering is a compare-and-set on ``status = 'proposed'``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import CaseId, CoachId, PersonId
from flows.session import JsonValue
from storage.assembly import SQL_ADAPTERS
from storage.codec import to_utc
from storage.crypto import Keyring, seal, seal_bytes, unseal, unseal_bytes
from storage.handovers import HANDOVERS, PDF_AAD, SUMMARY_AAD
from storage.handovers_port import HANDOVERS_KEY, HandoverDelivery, HandoverRecord, HandoverStatus
from storage.routing import CASES

T = HANDOVERS


def encode_summary(summary: dict[str, JsonValue]) -> str:
    return json.dumps(summary, ensure_ascii=False, sort_keys=True)


def decode_summary(raw: str) -> dict[str, JsonValue]:
    found = json.loads(raw)
    if not isinstance(found, dict):
        raise ValueError("a handover summary is a JSON object")
    return cast(dict[str, JsonValue], found)


def _record(row: RowMapping, keyring: Keyring | None) -> HandoverRecord:
    pdf = row["pdf"]
    return HandoverRecord(
        id=int(row["id"]),
        case_id=CaseId(str(row["case_id"])),
        person=PersonId(row["person"]),
        coach=CoachId(row["coach"]),
        status=cast(HandoverStatus, row["status"]),
        summary=decode_summary(unseal(keyring, row["summary"], SUMMARY_AAD)),
        created_at=row["created_at"],
        answered_at=row["answered_at"],
        pdf=None if pdf is None else unseal_bytes(keyring, pdf, PDF_AAD),
        contact=row["contact"],
        delivery=cast("HandoverDelivery | None", row["delivery"]),
        delivered_at=row["delivered_at"],
    )


class SqlHandovers:
    def __init__(self, conn: AsyncConnection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    async def add(
        self,
        case_id: CaseId,
        person: PersonId,
        coach: CoachId,
        summary: dict[str, JsonValue],
        now: datetime,
    ) -> int:
        if not case_id.isdigit():
            raise ValueError("a case id is a number")
        result = await self._conn.execute(
            T.insert()
            .values(
                case_id=int(case_id),
                person=person,
                coach=coach,
                status="proposed",
                summary=seal(self._keyring, encode_summary(summary), SUMMARY_AAD),
                created_at=to_utc(now),
            )
            .returning(T.c.id)
        )
        return int(result.scalar_one())

    async def get(self, handover_id: int) -> HandoverRecord | None:
        result = await self._conn.execute(select(T).where(T.c.id == handover_id))
        row = result.mappings().first()
        return None if row is None else _record(row, self._keyring)

    async def latest_of_case(self, case_id: CaseId) -> HandoverRecord | None:
        if not case_id.isdigit():
            return None
        result = await self._conn.execute(
            select(T).where(T.c.case_id == int(case_id)).order_by(T.c.id.desc()).limit(1)
        )
        row = result.mappings().first()
        return None if row is None else _record(row, self._keyring)

    async def answer(self, handover_id: int, status: HandoverStatus, now: datetime) -> bool:
        result = await self._conn.execute(
            update(T)
            .where(T.c.id == handover_id, T.c.status == "proposed")
            .values(status=status, answered_at=to_utc(now))
        )
        return bool(result.rowcount)

    async def delivered(
        self,
        handover_id: int,
        pdf: bytes,
        contact: str,
        delivery: HandoverDelivery,
        now: datetime,
    ) -> None:
        await self._conn.execute(
            update(T)
            .where(T.c.id == handover_id)
            .values(
                pdf=seal_bytes(self._keyring, pdf, PDF_AAD),
                contact=contact,
                delivery=delivery,
                delivered_at=to_utc(now),
            )
        )

    async def undelivered(self, handover_id: int) -> bool:
        result = await self._conn.execute(
            update(T)
            .where(T.c.id == handover_id, T.c.delivery == "telegram")
            .values(delivery="telegram_failed")
        )
        return bool(result.rowcount)

    async def of_person(self, person: PersonId) -> list[HandoverRecord]:
        result = await self._conn.execute(select(T).where(T.c.person == person).order_by(T.c.id))
        return [_record(row, self._keyring) for row in result.mappings()]

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(T).where(T.c.person == person))
        return int(result.rowcount or 0)

    async def purge_orphans(self) -> int:
        result = await self._conn.execute(delete(T).where(T.c.case_id.not_in(select(CASES.c.id))))
        return int(result.rowcount or 0)


SQL_ADAPTERS.register(HANDOVERS_KEY, lambda c: SqlHandovers(c.conn, c.keyring))
