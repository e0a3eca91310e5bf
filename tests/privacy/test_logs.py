"""Logs at DEBUG during a whole Telegram conversation (answers, /privacy, /mijngegevens, /wis)
hold neither the canary answer nor the bot token nor the encryption key.

The bot runs for real (python-telegram-bot against the offline fake Bot API, SQLite with a
key, the real catalogs); every log record of every logger is captured.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.i18n import Translator
from bot.logs import configure_logging
from bot.privacy import PrivacyDesk
from bot.service import ConversationService
from bot.telegram.app import TelegramFrontDoor
from flows.hello import FLOW as HELLO
from storage.crypto import Keyring
from storage.migrate import upgrade
from storage.sql import open_storage
from tests.fakes.bot_api import FakeBotApi, SentMessage
from tests.privacy.conftest import CANARY

TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHAT = 730_461_928
GROUP = -4_100_200


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    capture = Capture()
    yield capture
    root.handlers[:], level = saved
    root.setLevel(level)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    # Short long polls: each step of the conversation waits for the next poll at most.
    api = FakeBotApi(token=TOKEN, long_poll_cap=0.2)
    async with api:
        yield api
    violations = api.finish()
    assert not violations, api.format_violations()


def has_button(value: str):  # type: ignore[no-untyped-def]
    def check(message: SentMessage) -> bool:
        return any(data == value for row in message.buttons() for _, data in row)

    return check


async def test_a_whole_conversation_at_debug_logs_no_answer_no_token(
    fake: FakeBotApi, debug_logs: Capture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = Keyring.generate("log1")
    configure_logging("DEBUG", (TOKEN, key.split(":", 1)[1]))
    logging.getLogger().addHandler(debug_logs)

    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    storage = await open_storage(url, Keyring.parse(key))
    service = ConversationService(
        storage=storage,
        flows={HELLO.id: HELLO},
        entry=HELLO.id,
        channels={},
        translator=Translator.from_dir(),
        clock=SystemClock(),
    )
    PrivacyDesk(service).install()
    front = TelegramFrontDoor(
        token=TOKEN, api_url=fake.api_root, service=service, clock=SystemClock()
    )
    service.channels = {"tg": front.channel}
    await front.start()
    try:
        fake.user_sends_command(CHAT, "/start")
        mood = await fake.wait_for_message(CHAT, predicate=has_button("mood=bad"), timeout=10)
        fake.user_presses_button(CHAT, mood.message_id, "mood=bad")
        await fake.wait_for_answer(CHAT, mood, timeout=10)
        fake.user_sends_text(CHAT, CANARY)
        await fake.wait_idle(0.3, timeout=10)

        fake.user_sends_command(CHAT, "/privacy")
        overview = await fake.wait_for_message(
            CHAT, predicate=has_button("privacy=erase"), timeout=10
        )
        fake.user_presses_button(CHAT, overview.message_id, "privacy=export")
        await fake.wait_for_call("sendDocument", timeout=10)
        await fake.wait_idle(0.3, timeout=10)

        # Not in a group: the private-chat filter keeps a group from getting anything.
        fake.user_sends_command(GROUP, "/mijngegevens")
        await fake.wait_idle(0.3, timeout=10)
        assert fake.messages(GROUP) == [] and fake.documents(GROUP) == []

        fake.user_sends_command(CHAT, "/wis")
        ask = await fake.wait_for_message(
            CHAT, predicate=has_button("privacy=erase:yes"), timeout=10
        )
        fake.user_presses_button(CHAT, ask.message_id, "privacy=erase:yes")
        await fake.wait_for_answer(CHAT, ask, timeout=10)
        await fake.wait_idle(0.3, timeout=10)
    finally:
        await front.stop()
        await storage.close()

    # The conversation really carried the canary: it is in the exported file.
    documents = fake.documents(CHAT)
    # The readable PDF of the summary, then the JSON for machines.
    assert [d.filename.rsplit(".", 1)[-1] for d in documents if d.filename] == ["pdf", "json"]
    exported = json.loads(documents[1].data)
    assert exported["data"]["session"]["answers"]["name"] == CANARY

    records = debug_logs.records
    assert logging.getLogger().level == logging.DEBUG
    assert records  # our own lines at least: the export and the erasure
    for record in records:
        text = record.getMessage() + (str(record.exc_info) if record.exc_info else "")
        assert TOKEN not in text, record.name
        assert CANARY not in text, record.name
        assert key.split(":", 1)[1] not in text, record.name
    stderr = capsys.readouterr().err
    assert stderr
    assert TOKEN not in stderr and CANARY not in stderr
    # The erasure is logged, without the person.
    erased = [r.getMessage() for r in records if "personal data erased" in r.getMessage()]
    assert erased and str(CHAT) not in erased[0]
