"""Which Telegram chats have the help button: one contract for memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows.ids import PersonId
from storage.help_keyboard import HelpKeyboardPart
from storage.help_keyboard_port import HELP_KEYBOARD_KEY
from storage.ports import RetentionPolicy, Storage
from tests.storage.conftest import Backend, backend, postgres_database, postgres_server

__all__ = ["backend", "postgres_database", "postgres_server"]

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
SAM = PersonId("tg:4242")
ANNA = PersonId("tg:4343")


async def test_shown_buttons_are_kept_by_chat_with_their_latest_language(
    backend: Backend,
) -> None:
    storage: Storage = await backend.open()
    async with storage.transaction() as tx:
        keyboards = tx[HELP_KEYBOARD_KEY]
        assert await keyboards.all() == {}
        await keyboards.record({SAM: "nl", ANNA: "ar"}, T0)
    async with storage.transaction() as tx:
        await tx[HELP_KEYBOARD_KEY].record({SAM: "en"}, T0 + timedelta(days=2))
    async with storage.reading() as tx:
        assert await tx[HELP_KEYBOARD_KEY].all() == {SAM: "en", ANNA: "ar"}
        sams = await tx[HELP_KEYBOARD_KEY].get(SAM)
    assert sams is not None and (sams.language, sams.shown_at) == ("en", T0 + timedelta(days=2))

    part = HelpKeyboardPart()
    assert "help_keyboard" in [p.name for p in storage.personal_data_parts]
    async with storage.transaction() as tx:
        assert await part.export(tx, SAM) == [
            {"language": "en", "shown_at": (T0 + timedelta(days=2)).isoformat()}
        ]
        assert await part.withdraw(tx, SAM, "health") == 0
        assert await part.erase(tx, SAM) == 1
        assert await part.export(tx, SAM) == []
        # Twelve months after it was shown the row goes (the hint may come once more).
        policy = RetentionPolicy()
        assert await part.purge_expired(tx, T0 + timedelta(days=300), policy) == 0
        assert await part.purge_expired(tx, T0 + timedelta(days=400), policy) == 1
        assert await tx[HELP_KEYBOARD_KEY].all() == {}
