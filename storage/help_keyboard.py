"""The help keyboard's table and personal-data part (port: :mod:`storage.help_keyboard_port`).

``help_keyboards``: one row per Telegram chat that was shown the persistent help button, with
its language and when. No text. Exported by ``/mijngegevens``, erased by ``/wis``, purged
after ``OPSTAP_RETENTION_CLOSED_MONTHS`` (the hint then comes once more).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table
from sqlmodel import Field, SQLModel

from flows.ids import PersonId
from flows.session import JsonValue
from storage.db import UtcDateTime
from storage.help_keyboard_port import HELP_KEYBOARD_KEY
from storage.ports import RetentionPolicy, Transaction


class HelpKeyboardRow(SQLModel, table=True):
    __tablename__ = "help_keyboards"

    person: str = Field(primary_key=True)
    language: str
    shown_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


HELP_KEYBOARDS: Table = SQLModel.metadata.tables["help_keyboards"]


@dataclass(frozen=True)
class HelpKeyboardPart:
    name: str = "help_keyboard"

    async def export(self, tx: Transaction, person: PersonId) -> JsonValue:
        found = await tx[HELP_KEYBOARD_KEY].get(person)
        if found is None:
            return []
        return [{"language": found.language, "shown_at": found.shown_at.isoformat()}]

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return await tx[HELP_KEYBOARD_KEY].erase(person)

    async def purge_expired(self, tx: Transaction, now: datetime, policy: RetentionPolicy) -> int:
        return await tx[HELP_KEYBOARD_KEY].purge(policy.closed_before(now))

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        return 0
