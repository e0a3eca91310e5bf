"""End to end: the real ``opstap run`` process against the fake Bot API server.

/start, a question, a button press, free text, the answers in the database, the process
restarted, and the conversation continues where it was. SIGTERM stops it within 5 seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.ids import PersonId
from storage.sql import open_storage
from tests.e2e.process import TOKEN, OpstapProcess
from tests.fakes.bot_api import FakeBotApi, SentMessage

pytestmark = pytest.mark.e2e
CHAT = 4242


def has_inline(message: SentMessage) -> bool:
    return bool(message.reply_markup and message.reply_markup.get("inline_keyboard"))


async def stored_session(process: OpstapProcess):  # type: ignore[no-untyped-def]
    workdir = process.workdir
    storage = await open_storage(f"sqlite+aiosqlite:///{workdir / 'opstap.db'}", process.keyring())
    try:
        async with storage.transaction() as tx:
            return await tx.sessions.get(PersonId(f"tg:{CHAT}"))
    finally:
        await storage.close()


async def test_a_conversation_survives_a_restart(tmp_path: Path) -> None:
    async with FakeBotApi(token=TOKEN) as fake:
        env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_root}
        first = OpstapProcess(tmp_path, env)
        await first.start()
        try:
            fake.user_sends_command(CHAT, "/start")
            welcome = await fake.wait_for_message(CHAT, predicate=has_inline, timeout=15)
            # The commands menu was set per language at start-up.
            assert fake.commands("nl") and fake.commands("ar")
            assert "bot" in welcome.plain_text.lower()
            fake.user_presses_button(CHAT, welcome.message_id, "welcome=start")
            # The next question takes the pressed welcome's place: one edit per tap.
            words = await fake.wait_for_answer(CHAT, welcome, timeout=15)
            fake.user_sends_text(CHAT, "Ik zoek werk, zegt Zarkonia")
            confirm = await fake.wait_for_message(
                CHAT, after=words.index + 1, predicate=has_inline, timeout=15
            )
            await fake.wait_idle(0.5)
            # The pressed button was answered and its message edited: it cannot be pressed twice.
            assert fake.unanswered_callback_queries() == []
            pressed = next(m for m in fake.messages(CHAT) if m.message_id == welcome.message_id)
            assert "welcome=start" not in [d for row in pressed.buttons() for _, d in row]
            assert pressed.edits >= 1
        finally:
            code = await first.stop()
        # On its own, on the signal (stop fails the test when it has to kill it).
        assert code == 0
        saved = await stored_session(first)
        assert saved is not None and saved.step == "words_confirm"
        assert "Zarkonia" in str(saved.answers["own_words"])

        second = OpstapProcess(tmp_path, env)
        await second.start()
        try:
            before = len(fake.messages(CHAT))
            fake.user_presses_button(CHAT, confirm.message_id, "words_confirm=yes")
            # The question (inline buttons), not the help button's hint a new process sends first.
            reply = await fake.wait_for_message(
                CHAT, after=before, predicate=has_inline, timeout=15
            )
            # It continued with the next question (age), not from the welcome again.
            assert reply.plain_text != welcome.plain_text
            assert "oud" in reply.plain_text
        finally:
            code = await second.stop()
        # On its own, on the signal (stop fails the test when it has to kill it).
        assert code == 0
        saved_again = await stored_session(second)
        assert saved_again is not None and saved_again.step == "age"
        log = first.output() + second.output()
        assert TOKEN not in log
        assert "Zarkonia" not in log
        fake.assert_no_violations()
