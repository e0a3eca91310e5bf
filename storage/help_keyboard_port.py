"""The help keyboard's port: which Telegram chats have the persistent help button.

Rules of this module: technology-free (no sqlalchemy, no table; ARCHITECTURE.md, "Storage per
feature"). A chat that got the button (a reply keyboard Telegram keeps in the app) and its
language are remembered across restarts, so the short hint that brings it comes once per chat
and language, not after every restart. Losing a row costs one hint more, never a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flows.ids import PersonId
from storage.assembly import RepositoryKey


@dataclass(frozen=True)
class HelpKeyboard:
    person: PersonId
    language: str
    shown_at: datetime


class HelpKeyboardRepository(Protocol):
    async def all(self) -> dict[PersonId, str]:
        """Every person who has the help button, with the language it was shown in."""
        ...

    async def record(self, shown: Mapping[PersonId, str], now: datetime) -> None:
        """The button was shown to these persons in these languages (a later language
        replaces an earlier one)."""
        ...

    async def get(self, person: PersonId) -> HelpKeyboard | None: ...

    async def erase(self, person: PersonId) -> int: ...

    async def purge(self, before: datetime) -> int:
        """Rows of buttons shown before ``before`` (the hint may then come once more)."""
        ...


HELP_KEYBOARD_KEY: RepositoryKey[HelpKeyboardRepository] = RepositoryKey("help_keyboard")
