"""SQL adapter of :class:`storage.help_keyboard_port.HelpKeyboardRepository`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.ids import PersonId
from storage.assembly import SQL_ADAPTERS
from storage.codec import to_utc
from storage.help_keyboard import HELP_KEYBOARDS as K
from storage.help_keyboard_port import HELP_KEYBOARD_KEY, HelpKeyboard


class SqlHelpKeyboards:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def all(self) -> dict[PersonId, str]:
        result = await self._conn.execute(select(K.c.person, K.c.language))
        return {PersonId(row.person): str(row.language) for row in result}

    async def record(self, shown: Mapping[PersonId, str], now: datetime) -> None:
        if not shown:
            return
        rows = [
            {"person": person, "language": language, "shown_at": to_utc(now)}
            for person, language in sorted(shown.items())
        ]
        if self._conn.dialect.name == "postgresql":
            pg = postgresql.insert(K).values(rows)
            upsert: postgresql.Insert | sqlite.Insert = pg.on_conflict_do_update(
                index_elements=[K.c.person],
                set_={"language": pg.excluded.language, "shown_at": pg.excluded.shown_at},
            )
        else:
            lite = sqlite.insert(K).values(rows)
            upsert = lite.on_conflict_do_update(
                index_elements=[K.c.person],
                set_={"language": lite.excluded.language, "shown_at": lite.excluded.shown_at},
            )
        await self._conn.execute(upsert)

    async def get(self, person: PersonId) -> HelpKeyboard | None:
        result = await self._conn.execute(select(K).where(K.c.person == person))
        row = result.mappings().first()
        if row is None:
            return None
        return HelpKeyboard(PersonId(row["person"]), row["language"], row["shown_at"])

    async def erase(self, person: PersonId) -> int:
        result = await self._conn.execute(delete(K).where(K.c.person == person))
        return result.rowcount

    async def purge(self, before: datetime) -> int:
        result = await self._conn.execute(delete(K).where(K.c.shown_at < to_utc(before)))
        return result.rowcount


SQL_ADAPTERS.register(HELP_KEYBOARD_KEY, lambda c: SqlHelpKeyboards(c.conn))
