"""Hostile input (issue #16, deliverable 10): random updates through the real Telegram adapter.

Hypothesis posts updates to the webhook of a runtime built as ``opstap run`` builds it (the
real intake, screener, coach side, appointments, privacy and safety net; SQLite), which talks
to the fake Bot API: unknown kinds, edited messages, huge texts, odd Unicode, stale dates,
forged, stale and other chats' callback data, numbers out of every range (23 digits, negative,
Unicode digits), repeated update ids, JSON that is no update at all. Then:

* the webhook answers 2xx or 4xx, never 5xx;
* nothing is logged at ERROR and no traceback is printed (our handlers' "input failed" is an
  ERROR too: a generic "something went wrong" is not a kind answer);
* a private message gets an answer, a button press is answered (``answerCallbackQuery``), and
  everything Telegram expects no answer to (a member update, a group message, an unknown kind,
  a repeated update) stays silent without complaint.

The runtime and the fake run on an event loop in a thread of their own, so Hypothesis drives
plain functions and shrinks a failure to the smallest update that shows it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
from collections.abc import Awaitable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.flood import FloodGate
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.telegram.app import SECRET_HEADER, WEBHOOK_PATH, TelegramFrontDoor
from bot.telegram.limits import FloodLimiter
from flows.ids import MAX_ROW, row_number
from storage.crypto import Keyring
from storage.migrate import upgrade
from tests.e2e.process import TOKEN, free_port
from tests.fakes.bot_api import FakeBotApi

T = TypeVar("T")
SECRET = "hostile-webhook-secret-0123456789abcdef"
CHATS = (4101, 4102, 4103)
# Telegram's ids fit in 52 bits; a chat beyond that cannot be answered (and never exists).
REAL_CHAT = range(1, 2**52)
NOW = 1_796_000_000  # a date in 2026 (Unix seconds)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class HostileBot:
    """The runtime and the fake Bot API, on a loop in a thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.loop = asyncio.new_event_loop()
        self.records = Records()
        self.update_ids = itertools.count(1)
        self.fake: FakeBotApi | None = None
        self.runtime: Runtime | None = None
        self.url = ""
        # Chats that blocked the bot (my_chat_member "kicked"): silence is right there.
        self.blocked: set[int] = set()
        self.handled: list[int] = []
        self._level = logging.NOTSET

    def __repr__(self) -> str:
        return "HostileBot()"

    def run(self, coroutine: Awaitable[T], timeout: float = 60.0) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def start(self) -> None:
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        logging.getLogger().addHandler(self.records)
        # Our INFO lines explain a failure (ids only); ERROR and tracebacks fail the test.
        self._level = logging.getLogger("bot").level
        logging.getLogger("bot").setLevel(logging.INFO)
        self.run(self._start())

    async def _start(self) -> None:
        self.fake = FakeBotApi(token=TOKEN, strict_edits=False)
        await self.fake.start()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        settings = load_settings(
            {
                "TELEGRAM_TOKEN": TOKEN,
                "TELEGRAM_API_URL": self.fake.api_root,
                "OPSTAP_DATABASE_URL": f"sqlite+aiosqlite:///{self.root / 'opstap.db'}",
                "OPSTAP_HTTP_PORT": str(port),
                "OPSTAP_PUBLIC_URL": self.url,
                "OPSTAP_WEBHOOK_SECRET": SECRET,
                "OPSTAP_TICK_SECONDS": "3600",
                "OPSTAP_SECRET_KEY": Keyring.generate("hostile"),
                # Someone of the team hears a safety signal (else that is logged as an error).
                "OPSTAP_SAFETY_CHAT_ID": "9900",
            },
            env_file=None,
        )
        await upgrade(settings.database_url)
        self.runtime = await build_runtime(settings)
        # Flood control has tests of its own; here every input must reach the adapter's end.
        self.runtime.service.pipeline.flood = FloodGate(limit=10**9)
        await self.runtime.start()
        await asyncio.wait_for(self.runtime.telegram_ready.wait(), timeout=30)
        self.count_handled()

    def stop(self) -> None:
        async def stop() -> None:
            if self.runtime is not None:
                await self.runtime.stop()
            if self.fake is not None:
                await self.fake.stop()

        try:
            self.run(stop())
        finally:
            logging.getLogger().removeHandler(self.records)
            logging.getLogger("bot").setLevel(self._level)
            self.loop.call_soon_threadsafe(self.loop.stop)

    async def post(self, update: Any) -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.url}{WEBHOOK_PATH}",
                data=json.dumps(update),
                headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
            ) as response,
        ):
            return response.status

    def count_handled(self) -> None:
        """Counts the updates PTB finished handling (the webhook answers before that)."""
        assert self.runtime is not None
        front = self.runtime.telegram
        assert isinstance(front, TelegramFrontDoor)
        processor = front.application.update_processor
        handle = processor.do_process_update

        async def counted(update: object, coroutine: Awaitable[Any]) -> None:
            try:
                await handle(update, coroutine)
            finally:
                self.handled.append(getattr(update, "update_id", -1))

        processor.do_process_update = counted  # type: ignore[method-assign]

    async def settle(self, accepted: set[int]) -> None:
        """Until the ``accepted`` updates were handled and every reply reached the fake."""
        assert self.fake is not None
        for _ in range(1500):
            if accepted <= set(self.handled):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"never handled: {sorted(accepted - set(self.handled))}")
        await self.fake.wait_idle(0.2, timeout=30)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileBot]:
    patch = pytest.MonkeyPatch()
    # One message a second per chat is the limiter's business (tested elsewhere).
    patch.setattr(
        "bot.telegram.app.FloodLimiter",
        lambda **options: FloodLimiter(**{**options, "per_chat_per_second": 100}),
    )
    bot = HostileBot(tmp_path_factory.mktemp("hostile"))
    try:
        # Inside the try: a start that fails must not leave the patch on for later modules.
        bot.start()
        yield bot
    finally:
        bot.stop()
        patch.undo()


# --- what arrives ----------------------------------------------------------------------------

odd_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", categories=["Mn", "Me", "Cf", "Zs", "So", "Nd"])),
    st.sampled_from(
        [
            "",
            " ",
            "\u200f\u202e",
            "\x00\x01",
            "🙂" * 1500,
            "a" * 5000,
            "Ik zoek werk " * 400,
            "/start",
            "/start " + "x" * 300,
            "/hulp",
            "/case 12345678901234567890123",
            "/afspraak 99999999999999999999999",
            "/taal ar",
            "/wis",
            "/opnieuw",
            "/" + "a" * 40,
            "23",
            "١٢",
            "²³",
            "-5",
            "99999999999999999999999",
            "3000",
            "ja",
        ]
    ),
)
number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0", "²", "١٢", "𝟗", "9" * 23, "1" * 40, "-1", "+1", "1e5", " 7", ""]),
)
callback_data = st.one_of(
    st.sampled_from(
        [
            "welcome=start",
            "welcome=privacy",
            "welcome=_language",
            "age=under",
            "age=_back",
            "words=_skip",
            "summary=send",
            "more=none",
            "_resume=continue",
            "_language=ar",
            "privacy=export",
            "privacy=erase",
            "safety=talk",
            "safety=continue",
        ]
    ),
    st.builds(
        lambda prefix, n, action: f"{prefix}={n}:{action}" if action else f"{prefix}={n}",
        st.sampled_from(
            ["case", "safety", "appt", "apc", "apb", "followup", "rerate", "privacy", "age", "q"]
        ),
        number,
        st.sampled_from(["accept", "decline", "close", "ack", "pick", "cancel", "x", ""]),
    ),
    st.builds(
        lambda prefix, parts: f"{prefix}={':'.join(parts)}",
        st.sampled_from(["apb", "appt", "apc", "followup", "rerate", "case"]),
        st.lists(number, min_size=1, max_size=5),
    ),
    st.text(max_size=80),
)
chat_id = st.one_of(
    st.sampled_from(CHATS),
    st.sampled_from([10**22 + 7, -(10**22), 0, -100123, 2**63, 2**53 + 1]),
)
date = st.sampled_from([NOW, 0, 1, NOW - 10 * 86400, NOW + 86400, -5, 2**40])


def _user(chat: int) -> dict[str, Any]:
    return {"id": chat, "is_bot": False, "first_name": "Test", "language_code": "nl"}


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    chat = draw(chat_id)
    kind = draw(st.sampled_from(["private", "private", "private", "group", "channel"]))
    message: dict[str, Any] = {
        "message_id": draw(st.integers(min_value=-5, max_value=10**23)),
        "date": draw(date),
        "chat": {"id": chat, "type": kind, "first_name": "Test"},
        "from": _user(chat),
    }
    content = draw(st.sampled_from(["text", "text", "text", "sticker", "location", "nothing"]))
    if content == "text":
        text = draw(odd_text)
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split(" ")[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    elif content == "sticker":
        message["sticker"] = {
            "file_id": "s1",
            "file_unique_id": "u1",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
    elif content == "location":
        message["location"] = {"latitude": 50.88, "longitude": 4.7}
    if draw(st.booleans()):
        message["reply_to_message"] = {
            "message_id": 1,
            "date": NOW,
            "chat": message["chat"],
            "from": {"id": 123456, "is_bot": True, "first_name": "Opstap"},
            "text": draw(st.sampled_from(["📁 Dossier #1", "📁 Dossier #99999999999999999999"])),
        }
    return message


@st.composite
def callback_queries(draw: st.DrawFn) -> dict[str, Any]:
    chat = draw(chat_id)
    # The message the button was on: its chat may be another than the presser's.
    on_chat = draw(st.one_of(st.just(chat), st.sampled_from(CHATS)))
    query: dict[str, Any] = {
        "id": str(draw(st.integers(min_value=0, max_value=10**25))),
        "from": _user(chat),
        "chat_instance": "7919",
        "data": draw(callback_data),
    }
    if draw(st.integers(0, 9)) > 0:
        query["message"] = {
            "message_id": draw(st.integers(min_value=1, max_value=10**6)),
            "date": draw(date),
            "chat": {"id": on_chat, "type": "private", "first_name": "Test"},
            "from": {"id": 123456, "is_bot": True, "first_name": "Opstap"},
            "text": "Vraag",
            "reply_markup": {
                "inline_keyboard": [[{"text": "Knop", "callback_data": "welcome=start"}]]
            },
        }
    if draw(st.integers(0, 9)) == 0:
        del query["data"]
    return query


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "message",
                "message",
                "callback_query",
                "callback_query",
                "edited_message",
                "my_chat_member",
                "unknown",
                "broken",
            ]
        )
    )
    update: dict[str, Any] = {}
    if kind in ("message", "edited_message"):
        message = draw(messages())
        if kind == "edited_message":
            message["edit_date"] = NOW
        update[kind] = message
    elif kind == "callback_query":
        update[kind] = draw(callback_queries())
    elif kind == "my_chat_member":
        chat = draw(chat_id)
        update[kind] = {
            "chat": {"id": chat, "type": "private", "first_name": "Test"},
            "from": _user(chat),
            "date": NOW,
            "old_chat_member": {"status": "member", "user": _user(123456)},
            "new_chat_member": {
                "status": draw(st.sampled_from(["kicked", "member", "left", "boss"])),
                "user": _user(123456),
                "until_date": 0,
            },
        }
    elif kind == "unknown":
        update[draw(st.sampled_from(["poll", "inline_query", "chat_boost", "x_future_kind"]))] = {
            "id": "1",
            "anything": draw(st.text(max_size=10)),
        }
    else:
        return draw(
            st.one_of(
                st.just({"message": {"text": "geen update_id"}}),
                st.just({"update_id": "12", "message": {}}),
                st.just({"update_id": 5, "message": {"chat": "niet een chat"}}),
                st.just({"update_id": 5, "callback_query": {"data": 7}}),
                st.just({"update_id": 10**23, "message": {}}),
                st.lists(st.integers(), max_size=3),
                st.text(max_size=5),
                st.none(),
            )
        )
    update["update_id"] = -1  # set when sent: unique, unless repeated on purpose
    return update


# --- what must come back ---------------------------------------------------------------------


def answerable_chat(update: dict[str, Any]) -> int | None:
    """The private chat that must get an answer to this update, if any."""
    message = update.get("message") or update.get("edited_message")
    chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(chat, dict) and chat.get("type") == "private" and chat.get("id") in REAL_CHAT:
        return int(chat["id"])
    return None


def problems(bot: HostileBot, since: int) -> list[str]:
    found = []
    for record in bot.records.records[since:]:
        if record.exc_info or record.levelno >= logging.ERROR:
            found.append(f"{record.levelname} {record.name}: {record.getMessage()}")
        elif "Traceback" in record.getMessage():
            found.append(f"traceback {record.name}: {record.getMessage()}")
    return found


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(st.tuples(updates(), st.booleans()), min_size=1, max_size=4))
def test_random_updates_get_a_kind_answer_or_silence_never_a_traceback(
    hostile: HostileBot, batch: list[tuple[Any, bool]]
) -> None:
    fake = hostile.fake
    assert fake is not None
    logged = len(hostile.records.records)
    accepted: set[int] = set()
    expected: list[tuple[int, int]] = []  # (chat, messages before)
    queries: list[str] = []
    for update, repeat in batch:
        if isinstance(update, dict) and update.get("update_id") == -1:
            update["update_id"] = next(hostile.update_ids)
        chat = answerable_chat(update) if isinstance(update, dict) else None
        before = len(fake.messages(chat)) if chat is not None else 0
        status = hostile.run(hostile.post(update))
        assert status < 500, f"HTTP {status} for {update!r:.300}"
        if repeat:
            # Telegram delivers it again (our 200 was lost): handled once (whether it reaches
            # PTB again is the durable inbox's business, so it is not counted).
            again = hostile.run(hostile.post(update))
            assert again == status, f"HTTP {again} then {status} for {update!r:.300}"
        if status != 200:
            # Not an update PTB can read (a date beyond the year 9999, no chat): refused, and
            # Telegram never sends such a thing.
            continue
        accepted.add(update["update_id"])
        member = update.get("my_chat_member")
        if isinstance(member, dict) and "new_chat_member" in member:
            new_status = member["new_chat_member"]["status"]
            if new_status in ("kicked", "left"):
                hostile.blocked.add(member["chat"]["id"])
            elif new_status == "member":
                hostile.blocked.discard(member["chat"]["id"])
        if chat is not None and chat not in hostile.blocked:
            expected.append((chat, before))
        query = update.get("callback_query")
        if isinstance(query, dict) and "from" in query and query["from"]["id"] in REAL_CHAT:
            queries.append(query["id"])
    hostile.run(hostile.settle(accepted))
    assert problems(hostile, logged) == []
    for chat, before in expected:
        assert len(fake.messages(chat)) > before, (
            f"no answer in chat {chat}: "
            + "; ".join(r.getMessage() for r in hostile.records.records[logged:])[-1500:]
        )
    answered = {str(c.params.get("callback_query_id")) for c in fake.calls("answerCallbackQuery")}
    assert [q for q in queries if q not in answered] == []
    # Requests Telegram would refuse for other reasons than a forged id are real bugs.
    for violation in fake.take_violations():
        assert violation.method in (
            "answerCallbackQuery",
            "editMessageText",
            "editMessageReplyMarkup",
            "deleteMessage",
        ), str(violation)


def test_a_row_number_is_ascii_digits_within_an_integer_column() -> None:
    assert row_number("12") == 12
    assert row_number("0") == 0
    assert row_number(str(MAX_ROW)) == MAX_ROW
    for forged in ("", "-1", "+1", " 7", "1e5", "²", "١٢", "𝟗", str(MAX_ROW + 1), "9" * 23):
        assert row_number(forged) is None, forged
