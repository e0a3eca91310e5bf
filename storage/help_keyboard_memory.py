"""In-memory adapter of :class:`storage.help_keyboard_port.HelpKeyboardRepository` (the same
contract as :mod:`storage.help_keyboard_sql`, proved by ``tests/storage/test_help_keyboard.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flows.ids import PersonId
from storage.assembly import MEMORY_ADAPTERS
from storage.codec import to_utc
from storage.help_keyboard_port import HELP_KEYBOARD_KEY, HelpKeyboard


@dataclass
class HelpKeyboardState:
    rows: dict[PersonId, HelpKeyboard] = field(default_factory=dict)

    def copy(self) -> HelpKeyboardState:
        return HelpKeyboardState(dict(self.rows))


class MemoryHelpKeyboards:
    def __init__(self, state: HelpKeyboardState) -> None:
        self._state = state

    async def all(self) -> dict[PersonId, str]:
        return {person: row.language for person, row in self._state.rows.items()}

    async def record(self, shown: Mapping[PersonId, str], now: datetime) -> None:
        for person, language in shown.items():
            self._state.rows[person] = HelpKeyboard(person, language, to_utc(now))

    async def get(self, person: PersonId) -> HelpKeyboard | None:
        return self._state.rows.get(person)

    async def erase(self, person: PersonId) -> int:
        return 1 if self._state.rows.pop(person, None) is not None else 0

    async def purge(self, before: datetime) -> int:
        old = [p for p, row in self._state.rows.items() if row.shown_at < to_utc(before)]
        for person in old:
            del self._state.rows[person]
        return len(old)


MEMORY_ADAPTERS.register(
    HELP_KEYBOARD_KEY, lambda c: MemoryHelpKeyboards(c.state.part(HelpKeyboardState))
)
