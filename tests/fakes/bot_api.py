"""An offline fake of the Telegram Bot API server, for tests that drive a real bot.

Rules of this module:

* It only ever listens on 127.0.0.1 (random free port) and never contacts Telegram. The only
  outgoing requests are webhook deliveries to the URL the bot itself registered.
* It answers like Telegram does (``{"ok": true, "result": ...}`` or ``{"ok": false,
  "error_code": N, "description": ..., "parameters": {...}}``) with the same HTTP status codes
  and, where known, the same descriptions, so the bot's error handling is exercised for real.
* Every request is validated against the published Bot API spec (see :mod:`tests.fakes.spec`).
  Everything Telegram would reject, and a few things Telegram accepts but a well-behaved bot
  must avoid ("message is not modified", unanswered callback queries, unknown parameters), is
  recorded as a :class:`Violation`. The ``fake_bot_api`` fixture fails the test at teardown
  when violations are left; a test that provokes one on purpose takes it with
  :meth:`FakeBotApi.take_violations`.
* Injected failures (:meth:`FakeBotApi.fail_next`, :meth:`FakeBotApi.block_chat`,
  :meth:`FakeBotApi.delay`) are behaviour of Telegram, not violations.
* Test-side helpers (``user_*``, ``messages``, ``calls``, ``wait_for_*``) are used from the
  test's event loop, the same loop the server runs on. Returned records are snapshots.
* Message ids count per chat and are shared by the user's and the bot's messages, as in a
  private chat on Telegram. A private chat's id equals the user's id unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import traceback
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from time import monotonic
from time import time as wall_clock
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from .spec import (
    BotApiSpec,
    JSONDict,
    MethodSpec,
    ParsedText,
    UploadedFile,
    load_spec,
    parse_text,
    utf16_len,
)

__all__ = [
    "Call",
    "FakeBotApi",
    "SentDocument",
    "SentMessage",
    "UploadedFile",
    "Violation",
    "WebhookDelivery",
    "WebhookState",
    "fake_bot_api",
]

T = TypeVar("T")
ChatId = int | str

DEFAULT_TIMEOUT = 5.0
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete"
    " the webhook first"
)
POLL_TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is"
    " running"
)
# Update types Telegram leaves out unless they are asked for explicitly.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_PATH_RE = re.compile(r"/bot(?P<token>[^/]*)/(?P<method>[^/]+)/?")
_FILE_PATH_RE = re.compile(r"/file/bot(?P<token>[^/]*)/(?P<path>.+)")
# getFile serves files up to 20 MB (https://core.telegram.org/bots/api#getfile).
MAX_DOWNLOAD = 20 * 1024 * 1024
FILE_TOO_BIG = "Bad Request: file is too big"
INVALID_FILE_ID = "Bad Request: invalid file_id"
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")

# ---------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class Violation:
    """A request Telegram would reject, or something a well-behaved bot must not do."""

    method: str
    reason: str
    params: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    time: float = field(default=0.0, compare=False)

    def __str__(self) -> str:
        return f"{self.method}: {self.reason}"


@dataclass
class Call:
    """One HTTP request to the fake. ``status``/``response`` are filled in once answered."""

    index: int
    method: str
    params: JSONDict
    time: float
    http_method: str = "POST"
    content_type: str = ""
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None
    response: JSONDict | None = None

    @property
    def done(self) -> bool:
        return self.status is not None

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK

    def __str__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k != "reply_markup"}
        return f"#{self.index} {self.method} {_short(shown, 120)} -> {self.status}"


@dataclass(frozen=True)
class SentDocument:
    """A file the bot sent: a document, or (``kind``) a photo or voice note."""

    message_id: int
    chat_id: ChatId
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)
    caption: str | None = None
    file_id: str = ""
    kind: str = "document"


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent, in its current state (after edits and deletes)."""

    message_id: int
    chat_id: ChatId
    text: str
    """The text (or caption) exactly as the bot sent it, markup included."""
    parse_mode: str | None = None
    reply_markup: JSONDict | None = None
    deleted: bool = False
    edits: int = 0
    plain_text: str = ""
    """The text after entity parsing, as a user sees it."""
    entities: tuple[JSONDict, ...] = ()
    kind: str = "text"
    """"text", "document", or what a generic send method sends ("photo", "location", ...)."""
    method: str = "sendMessage"
    date: int = 0
    edit_date: int | None = None
    index: int = 0
    """Position in ``FakeBotApi.messages(chat_id)``."""
    history: tuple[str, ...] = ()
    """Earlier texts, oldest first."""
    document: SentDocument | None = None

    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Keyboard rows as (text, callback_data); callback_data is None for other buttons."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        result: list[list[tuple[str, str | None]]] = []
        for row in rows:
            out: list[tuple[str, str | None]] = []
            for button in row if isinstance(row, list) else []:
                if isinstance(button, dict):
                    out.append((str(button.get("text", "")), button.get("callback_data")))
                else:
                    out.append((str(button), None))
            result.append(out)
        return result

    def button_texts(self) -> list[str]:
        return [text for row in self.buttons() for text, _ in row]


@dataclass(frozen=True)
class WebhookDelivery:
    update_id: int
    attempt: int
    status: int | None
    error: str | None = None


@dataclass(frozen=True)
class WebhookState:
    url: str
    secret_token: str | None
    allowed_updates: tuple[str, ...] | None
    max_connections: int
    pending_update_count: int
    last_error_date: int | None
    last_error_message: str | None
    deliveries: tuple[WebhookDelivery, ...]


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: list[WebhookDelivery] = field(default_factory=list)


@dataclass
class _CallbackQuery:
    payload: JSONDict
    delivered: bool = False
    answered: bool = False
    answer: JSONDict | None = None
    reported: bool = False


@dataclass(frozen=True)
class _Failure:
    status: int
    description: str
    retry_after: int | None


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        *,
        violation: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.violation = violation
        self.retry_after = retry_after


class _BadBodyError(Exception):
    pass


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error_payload(status: int, description: str, retry_after: int | None = None) -> JSONDict:
    payload: JSONDict = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        payload["parameters"] = {"retry_after": retry_after}
    return payload


def _default_description(status: int, retry_after: int | None) -> str:
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return f"Too Many Requests: retry after {retry_after}"
    if status == HTTPStatus.FORBIDDEN:
        return BLOCKED
    if status == HTTPStatus.BAD_REQUEST:
        return "Bad Request"
    if status == HTTPStatus.CONFLICT:
        return "Conflict"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _inline(markup: Any) -> JSONDict | None:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return markup
    return None


def _update_type(update: Mapping[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


def _attach_refs(value: Any) -> Iterable[str]:
    if isinstance(value, str) and value.startswith("attach://"):
        yield value.removeprefix("attach://")
    elif isinstance(value, dict):
        for item in value.values():
            yield from _attach_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _attach_refs(item)


def _chat_key(value: Any) -> ChatId:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    try:
        return int(text)
    except ValueError:
        return text


# ---------------------------------------------------------------------------------------------
# the server


class FakeBotApi:
    """A Telegram Bot API server on 127.0.0.1 that records and validates everything.

    Point the bot at it with ``TELEGRAM_API_URL=fake.api_root`` or, with python-telegram-bot,
    ``ApplicationBuilder().base_url(fake.base_url).token(fake.token)``.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        bot_username: str = "opstap_test_bot",
        *,
        bot_first_name: str = "Opstap (test)",
        long_poll_cap: float = 2.0,
        strict_edits: bool = True,
        webhook_retries: int = 3,
        webhook_retry_delay: float = 0.05,
        spec: BotApiSpec | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        try:
            self.bot_id = int(token.split(":", 1)[0])
        except ValueError:
            self.bot_id = 123456
        self.long_poll_cap = long_poll_cap
        """getUpdates waits at most min(timeout, long_poll_cap) seconds."""
        self.strict_edits = strict_edits
        """Editing/deleting a message that does not exist is a violation (it is always a 400)."""
        self.webhook_retries = webhook_retries
        self.webhook_retry_delay = webhook_retry_delay
        self.spec = spec if spec is not None else load_spec()
        self.host = host

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()

        self._calls: list[Call] = []
        self._violations: list[Violation] = []
        self._messages: dict[ChatId, list[SentMessage]] = {}
        self._user_messages: dict[tuple[ChatId, int], JSONDict] = {}
        self._documents: dict[ChatId, list[SentDocument]] = {}
        self._next_message_id: dict[ChatId, int] = {}
        self._chat_names: dict[ChatId, str] = {}
        self._updates: list[JSONDict] = []
        self._returned_update_ids: set[int] = set()
        self._update_ids = itertools.count(1)
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._polled = False
        self._callback_queries: dict[str, _CallbackQuery] = {}
        self._callback_ids = itertools.count(4_217_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        # Files a user or the bot sent, by file_id: (content, file_path), for getFile.
        self._files: dict[str, tuple[bytes, str]] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._webhook: _Webhook | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_history: list[WebhookDelivery] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._blocked: set[ChatId] = set()
        self._in_flight = 0
        self._last_activity = monotonic()

        self._handlers: dict[str, Callable[[Call], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendVoice": self._send_voice,
            "getFile": self._get_file,
            "sendChatAction": self._true,
            "close": self._true,
            "logOut": self._true,
        }

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        self._closing.set()
        self._notify()
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def api_root(self) -> str:
        """E.g. ``http://127.0.0.1:41234`` (the value for TELEGRAM_API_URL)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """python-telegram-bot's ``base_url`` (it appends the token)."""
        return f"{self.api_root}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.api_root}/file/bot"

    def method_url(self, method: str) -> str:
        return f"{self.api_root}/bot{self.token}/{method}"

    # -- failure injection ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` answer this error (after validation)."""
        if status == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        failure = _Failure(
            status, description or _default_description(status, retry_after), retry_after
        )
        key = self._method_key(method)
        self._failures.setdefault(key, deque()).extend([failure] * times)

    def block_chat(self, chat_id: ChatId) -> None:
        """Every request with this chat_id answers 403 "bot was blocked by the user"."""
        self._blocked.add(_chat_key(chat_id))

    def unblock_chat(self, chat_id: ChatId) -> None:
        self._blocked.discard(_chat_key(chat_id))

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call of ``method`` ``seconds`` later (0 switches it off)."""
        key = self._method_key(method)
        if seconds > 0:
            self._delays[key] = seconds
        else:
            self._delays.pop(key, None)

    # -- injecting user input -----------------------------------------------------------------

    def user_sends_text(
        self,
        chat_id: int,
        text: str,
        *,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
        username: str | None = None,
    ) -> JSONDict:
        content: JSONDict = {"text": text}
        match = _COMMAND_RE.match(text)
        if match is not None:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}
            ]
        message = self._user_message(chat_id, first_name, language_code, user_id, username, content)
        return self._push_update("message", message)

    def user_sends_command(
        self,
        chat_id: int,
        command: str,
        args: str = "",
        *,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
        username: str | None = None,
    ) -> JSONDict:
        command = command if command.startswith("/") else f"/{command}"
        text = f"{command} {args}" if args else command
        content: JSONDict = {
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}],
        }
        message = self._user_message(chat_id, first_name, language_code, user_id, username, content)
        return self._push_update("message", message)

    def user_presses_button(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """A callback_query for a button that must exist on the bot's (current) message."""
        message = self._bot_message_for_user(chat_id, message_id)
        available = [data for row in message.buttons() for _, data in row if data is not None]
        if callback_data not in available:
            raise AssertionError(
                f"message {message_id} in chat {chat_id} has no button with callback_data"
                f" {callback_data!r}; its buttons: {message.buttons()}"
            )
        query_id = str(next(self._callback_ids))
        payload: JSONDict = {
            "id": query_id,
            "from": self._user(chat_id, first_name, language_code, user_id, username),
            "message": self._message_json(message),
            "chat_instance": str(7_919_000_000 + abs(chat_id)),
            "data": callback_data,
        }
        self._callback_queries[query_id] = _CallbackQuery(payload)
        return self._push_update("callback_query", payload)

    def user_presses_button_text(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
    ) -> JSONDict:
        """Press the inline button labelled ``text`` (it must carry callback_data)."""
        message = self._bot_message_for_user(chat_id, message_id)
        for row in message.buttons():
            for label, data in row:
                if label == text and data is not None:
                    return self.user_presses_button(
                        chat_id,
                        message_id,
                        data,
                        first_name=first_name,
                        language_code=language_code,
                        user_id=user_id,
                    )
        raise AssertionError(
            f"message {message_id} in chat {chat_id} has no callback button labelled {text!r};"
            f" its buttons: {message.buttons()}"
        )

    def user_sends_sticker(
        self,
        chat_id: int,
        *,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
        username: str | None = None,
    ) -> JSONDict:
        n = next(self._file_ids)
        sticker = {
            "file_id": f"CAACAgIAAxkBAAFake{n}",
            "file_unique_id": f"AgADFake{n}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._push_user_content(
            chat_id, {"sticker": sticker}, first_name, language_code, user_id, username
        )

    def user_sends_photo(
        self,
        chat_id: int,
        caption: str | None = None,
        *,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
        username: str | None = None,
        data: bytes | None = None,
        reply_to: SentMessage | None = None,
    ) -> JSONDict:
        """A photo; with ``data`` its largest size can be fetched with getFile (the smaller
        sizes are the same bytes here)."""
        n = next(self._file_ids)
        photo = [
            {
                "file_id": f"AgACAgIAAxkBAAFake{n}_{size}",
                "file_unique_id": f"AQADFake{n}_{size}",
                "width": size,
                "height": size * 3 // 4,
                "file_size": size * 40 if data is None else len(data),
            }
            for size in (90, 320, 800)
        ]
        if data is not None:
            for size in photo:
                self._files[str(size["file_id"])] = (data, f"photos/file_{n}.jpg")
        content: JSONDict = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        if reply_to is not None:
            content["reply_to_message"] = self._message_json(reply_to)
        return self._push_user_content(
            chat_id, content, first_name, language_code, user_id, username
        )

    def user_sends_voice(
        self,
        chat_id: int,
        duration: int = 3,
        *,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
        username: str | None = None,
        data: bytes | None = None,
    ) -> JSONDict:
        n = next(self._file_ids)
        voice = {
            "file_id": f"AwACAgIAAxkBAAFake{n}",
            "file_unique_id": f"AgADFakeVoice{n}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": 4000 * duration if data is None else len(data),
        }
        if data is not None:
            self._files[str(voice["file_id"])] = (data, f"voice/file_{n}.oga")
        return self._push_user_content(
            chat_id, {"voice": voice}, first_name, language_code, user_id, username
        )

    def user_sends_document(
        self,
        chat_id: int,
        data: bytes,
        *,
        file_name: str | None = "document.pdf",
        mime_type: str | None = "application/pdf",
        caption: str | None = None,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
        username: str | None = None,
        reply_to: SentMessage | None = None,
    ) -> JSONDict:
        """A file sent as a document (a PDF, a photo sent "as file"); getFile serves it."""
        n = next(self._file_ids)
        document: JSONDict = {
            "file_id": f"BQACAgIAAxkBAAFake{n}",
            "file_unique_id": f"AgADFakeDoc{n}",
            "file_size": len(data),
        }
        if file_name is not None:
            document["file_name"] = file_name
        if mime_type is not None:
            document["mime_type"] = mime_type
        self._files[str(document["file_id"])] = (data, f"documents/file_{n}")
        content: JSONDict = {"document": document}
        if caption is not None:
            content["caption"] = caption
        if reply_to is not None:
            content["reply_to_message"] = self._message_json(reply_to)
        return self._push_user_content(
            chat_id, content, first_name, language_code, user_id, username
        )

    def user_sends_location(
        self,
        chat_id: int,
        latitude: float = 51.0543,
        longitude: float = 3.7174,
        *,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
        username: str | None = None,
    ) -> JSONDict:
        location = {"latitude": latitude, "longitude": longitude}
        return self._push_user_content(
            chat_id, {"location": location}, first_name, language_code, user_id, username
        )

    def user_edits_message(
        self,
        chat_id: int,
        message_id: int,
        new_text: str,
        *,
        first_name: str = "Test",
        language_code: str = "nl",
        user_id: int | None = None,
    ) -> JSONDict:
        """An ``edited_message`` update for one of the user's earlier messages."""
        key = (_chat_key(chat_id), message_id)
        original = self._user_messages.get(key)
        if original is None:
            raise AssertionError(f"the user sent no message {message_id} in chat {chat_id}")
        edited = {
            **{k: v for k, v in original.items() if k not in {"text", "entities", "caption"}},
            "text": new_text,
            "edit_date": int(wall_clock()),
            "from": self._user(chat_id, first_name, language_code, user_id, None),
        }
        self._user_messages[key] = edited
        return self._push_update("edited_message", edited)

    def user_blocks_bot(
        self, chat_id: int, *, first_name: str = "Test", user_id: int | None = None
    ) -> JSONDict:
        """A my_chat_member update (member -> kicked); from now on sends answer 403."""
        bot = self._bot_user()
        payload: JSONDict = {
            "chat": self._chat_json(_chat_key(chat_id)),
            "from": self._user(chat_id, first_name, "nl", user_id, None),
            "date": int(wall_clock()),
            "old_chat_member": {"status": "member", "user": bot},
            "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
        }
        self.block_chat(chat_id)
        return self._push_update("my_chat_member", payload)

    def push_update(self, update_type: str, payload: JSONDict) -> JSONDict:
        """Queue any other kind of update (the update_id is assigned here)."""
        return self._push_update(update_type, payload)

    # -- observing ----------------------------------------------------------------------------

    def messages(self, chat_id: ChatId) -> list[SentMessage]:
        """The bot's messages in this chat, in sending order, in their current state."""
        return list(self._messages.get(_chat_key(chat_id), []))

    def last_message(self, chat_id: ChatId) -> SentMessage | None:
        found = self._messages.get(_chat_key(chat_id), [])
        return found[-1] if found else None

    def calls(self, method: str | None = None, *, include_polling: bool = True) -> list[Call]:
        """Every request in arrival order (``method`` is case-insensitive)."""
        key = self._method_key(method) if method else None
        return [
            c
            for c in self._calls
            if (key is None or self._method_key(c.method) == key)
            and (include_polling or c.method != "getUpdates")
        ]

    def documents(self, chat_id: ChatId) -> list[SentDocument]:
        return list(self._documents.get(_chat_key(chat_id), []))

    def commands(
        self, language_code: str | None = None, *, scope: JSONDict | None = None
    ) -> list[tuple[str, str]]:
        """The commands set for (scope, language_code) as (command, description) pairs."""
        stored = self._commands.get((self._scope_key(scope), language_code or ""), [])
        return [(str(c.get("command")), str(c.get("description"))) for c in stored]

    @property
    def webhook(self) -> WebhookState | None:
        wh = self._webhook
        if wh is None:
            return None
        allowed = tuple(self._allowed_updates) if self._allowed_updates is not None else None
        return WebhookState(
            url=wh.url,
            secret_token=wh.secret_token,
            allowed_updates=allowed,
            max_connections=wh.max_connections,
            pending_update_count=len(self._updates),
            last_error_date=wh.last_error_date,
            last_error_message=wh.last_error_message,
            deliveries=tuple(wh.deliveries),
        )

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """All delivery attempts, across webhook (re)registrations."""
        return list(self._webhook_history)

    def pending_updates(self) -> list[JSONDict]:
        """Updates not confirmed by the bot yet (getUpdates offset / webhook 2xx)."""
        return copy.deepcopy(self._updates)

    def was_delivered(self, update_id: int) -> bool:
        """Whether the bot fetched the update (or the webhook was given it), confirmed or not."""
        return update_id in self._returned_update_ids

    def unanswered_callback_queries(self) -> list[JSONDict]:
        """Callback queries delivered to the bot that it has not answered (yet)."""
        return [
            copy.deepcopy(q.payload)
            for q in self._callback_queries.values()
            if q.delivered and not q.answered
        ]

    def callback_answer(self, query_id: str) -> JSONDict | None:
        """The parameters of answerCallbackQuery for this query, if it was answered."""
        query = self._callback_queries.get(query_id)
        return dict(query.answer) if query and query.answer is not None else None

    @property
    def violations(self) -> list[Violation]:
        return list(self._violations)

    def take_violations(self, method: str | None = None) -> list[Violation]:
        """Remove and return the violations (of one method): for tests provoking them."""
        key = self._method_key(method) if method else None
        taken = [v for v in self._violations if key is None or self._method_key(v.method) == key]
        self._violations = [v for v in self._violations if all(v is not t for t in taken)]
        return taken

    def assert_no_violations(self, *, include_unanswered: bool = False) -> None:
        if include_unanswered:
            self._report_unanswered()
        if self._violations:
            raise AssertionError(self.format_violations())

    def format_violations(self) -> str:
        lines = [f"FakeBotApi recorded {len(self._violations)} violation(s):"]
        lines += [f"  - {v}" for v in self._violations]
        return "\n".join(lines)

    def finish(self) -> list[Violation]:
        """End-of-test check: unanswered callback queries become violations; returns all."""
        self._report_unanswered()
        return list(self._violations)

    # -- waiting --------------------------------------------------------------------------------

    async def wait_for_message(
        self,
        chat_id: ChatId,
        *,
        contains: str | None = None,
        predicate: Callable[[SentMessage], bool] | None = None,
        after: int = 0,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a deadline for the wait, by design
    ) -> SentMessage:
        """The first message at index >= ``after`` in ``messages(chat_id)`` that matches.

        ``contains`` is looked for in the text as sent and in the visible text; messages are
        matched in their current state (edited, possibly deleted: check ``.deleted``).
        """

        def find() -> SentMessage | None:
            for message in self.messages(chat_id)[after:]:
                if contains is not None and not (
                    contains in message.text or contains in message.plain_text
                ):
                    continue
                if predicate is not None and not predicate(message):
                    continue
                return message
            return None

        def explain() -> str:
            wanted = []
            if contains is not None:
                wanted.append(f"containing {contains!r}")
            if predicate is not None:
                wanted.append("matching the predicate")
            return (
                f"no bot message in chat {chat_id} {' and '.join(wanted) or ''} at index >= {after}"
                f" within {timeout}s\n" + self.describe(chat_id)
            )

        return await self._wait_until(find, timeout, explain)

    async def wait_for_answer(
        self,
        chat_id: ChatId,
        pressed: SentMessage,
        *,
        contains: str | None = None,
        predicate: Callable[[SentMessage], bool] | None = None,
        after: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a deadline for the wait, by design
    ) -> SentMessage:
        """The bot's answer to a press of a button on ``pressed`` (the message as it was when
        pressed): the pressed message itself once edited into new content (Telegram's own
        convention: the next question in place of the pressed one), else the first matching
        message at index >= ``after`` (default: after the pressed message). Only the choice
        appended to the old text, or the buttons taken off, is not an answer."""
        start = pressed.index + 1 if after is None else after

        def matches(message: SentMessage) -> bool:
            if contains is not None and not (
                contains in message.text or contains in message.plain_text
            ):
                return False
            return predicate is None or predicate(message)

        def find() -> SentMessage | None:
            messages = self.messages(chat_id)
            now = messages[pressed.index] if pressed.index < len(messages) else None
            if (
                now is not None
                and now.edits > pressed.edits
                and not now.text.startswith(pressed.text)
                and matches(now)
            ):
                return now
            for message in messages[start:]:
                if matches(message):
                    return message
            return None

        def explain() -> str:
            return (
                f"no answer in chat {chat_id} to the press on message {pressed.message_id}"
                f" within {timeout}s\n" + self.describe(chat_id)
            )

        return await self._wait_until(find, timeout, explain)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        after: int = 0,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a deadline for the wait, by design
    ) -> Call:
        """The first answered call of ``method`` at index >= ``after`` in ``calls(method)``."""

        def find() -> Call | None:
            for call in self.calls(method)[after:]:
                if call.done and (predicate is None or predicate(call)):
                    return call
            return None

        def explain() -> str:
            return f"no {method} call (index >= {after}) within {timeout}s\n" + self.describe()

        return await self._wait_until(find, timeout, explain)

    async def wait_idle(
        self,
        seconds: float = 0.3,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a deadline for the wait, by design
    ) -> None:
        """Wait until no request other than getUpdates has arrived or run for ``seconds``,
        no webhook delivery is running and the bot has fetched every queued update."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            quiet_for = monotonic() - self._last_activity
            busy = self._in_flight > 0 or self._unfetched_updates()
            if not busy and quiet_for >= seconds:
                return
            if loop.time() >= deadline:
                raise AssertionError(
                    f"FakeBotApi not idle for {seconds}s within {timeout}s (in flight:"
                    f" {self._in_flight}, unfetched updates: {self._unfetched_updates()})\n"
                    + self.describe()
                )
            await asyncio.sleep(min(0.05, max(seconds - quiet_for, 0.01)))

    def describe(self, chat_id: ChatId | None = None, *, last: int = 10) -> str:
        """A human-readable summary of recent messages, calls and violations."""
        lines: list[str] = []
        chats = [_chat_key(chat_id)] if chat_id is not None else list(self._messages)
        for chat in chats:
            messages = self._messages.get(chat, [])
            lines.append(f"messages in chat {chat} ({len(messages)}):")
            for m in messages[-last:]:
                flags = " [deleted]" if m.deleted else ""
                flags += f" [edited x{m.edits}]" if m.edits else ""
                buttons = f" buttons={m.buttons()}" if m.reply_markup else ""
                lines.append(f"  [{m.index}] id={m.message_id}{flags} {m.text[:300]!r}{buttons}")
        if not chats:
            lines.append("the bot sent no messages")
        recent = [c for c in self._calls if c.method != "getUpdates"][-last:]
        lines.append(f"last calls (getUpdates left out, {len(recent)} shown):")
        lines += [f"  {c}" for c in recent]
        if self._violations:
            lines.append(self.format_violations())
        return "\n".join(lines)

    # -- internals: bookkeeping -----------------------------------------------------------------

    def _method_key(self, method: str) -> str:
        return (self.spec.canonical_method(method) or method).lower()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        self._last_activity = monotonic()

    async def _wait_changed(self, event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(seconds, 0))

    async def _wait_until(
        self, find: Callable[[], T | None], seconds: float, explain: Callable[[], str]
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            event = self._changed
            found = find()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(explain())
            await self._wait_changed(event, remaining)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def _violate(self, method: str, reason: str, params: Mapping[str, Any] | None = None) -> None:
        self._violations.append(Violation(method, reason, dict(params or {}), monotonic()))

    def _report_unanswered(self) -> None:
        for query in self._callback_queries.values():
            if query.delivered and not query.answered and not query.reported:
                query.reported = True
                data = query.payload.get("data")
                self._violate(
                    "answerCallbackQuery",
                    f"callback query {query.payload['id']} (data={data!r}) was delivered but"
                    " never answered; Telegram clients keep showing a spinner",
                )

    def _unfetched_updates(self) -> int:
        if not self._polled and self._webhook is None:
            return 0
        return sum(1 for u in self._updates if u["update_id"] not in self._returned_update_ids)

    def _allowed(self, update: Mapping[str, Any]) -> bool:
        kind = _update_type(update)
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in NOT_DEFAULT_UPDATES

    def _deliverable(self, limit: int) -> list[JSONDict]:
        """Drop the updates Telegram would not send with the current allowed_updates."""
        self._updates = [u for u in self._updates if self._allowed(u)]
        return self._updates[:limit]

    def _mark_delivered(self, updates: Iterable[Mapping[str, Any]]) -> None:
        for update in updates:
            self._returned_update_ids.add(update["update_id"])
            query = update.get("callback_query")
            if isinstance(query, dict) and query.get("id") in self._callback_queries:
                self._callback_queries[query["id"]].delivered = True

    def _push_update(self, update_type: str, payload: JSONDict) -> JSONDict:
        update: JSONDict = {"update_id": next(self._update_ids), update_type: payload}
        self._updates.append(update)
        self._notify()
        return copy.deepcopy(update)

    def _user(
        self,
        chat_id: int,
        first_name: str,
        language_code: str,
        user_id: int | None,
        username: str | None,
    ) -> JSONDict:
        uid = user_id if user_id is not None else (chat_id if chat_id > 0 else 4242)
        user: JSONDict = {
            "id": uid,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        if username:
            user["username"] = username
        return user

    def _user_message(
        self,
        chat_id: int,
        first_name: str,
        language_code: str,
        user_id: int | None,
        username: str | None,
        content: JSONDict,
    ) -> JSONDict:
        chat = _chat_key(chat_id)
        if chat_id > 0:
            self._chat_names.setdefault(chat, first_name)
        message: JSONDict = {
            "message_id": self._new_message_id(chat),
            "from": self._user(chat_id, first_name, language_code, user_id, username),
            "chat": self._chat_json(chat),
            "date": int(wall_clock()),
            **content,
        }
        self._user_messages[(chat, message["message_id"])] = message
        return message

    def _push_user_content(
        self,
        chat_id: int,
        content: JSONDict,
        first_name: str,
        language_code: str,
        user_id: int | None,
        username: str | None,
    ) -> JSONDict:
        message = self._user_message(chat_id, first_name, language_code, user_id, username, content)
        return self._push_update("message", message)

    def _bot_message_for_user(self, chat_id: int, message_id: int) -> SentMessage:
        for message in self._messages.get(_chat_key(chat_id), []):
            if message.message_id == message_id:
                if message.deleted:
                    raise AssertionError(f"message {message_id} in chat {chat_id} was deleted")
                return message
        raise AssertionError(f"the bot sent no message {message_id} in chat {chat_id}")

    def _new_message_id(self, chat: ChatId) -> int:
        next_id = self._next_message_id.get(chat, 1)
        self._next_message_id[chat] = next_id + 1
        return next_id

    def _bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _chat_json(self, chat: ChatId) -> JSONDict:
        if isinstance(chat, str):
            name = chat.removeprefix("@")
            return {
                "id": -1001000000000 - sum(map(ord, name)),
                "type": "channel",
                "title": name,
                "username": name,
            }
        if chat > 0:
            return {"id": chat, "type": "private", "first_name": self._chat_names.get(chat, "Test")}
        kind = "supergroup" if chat <= -1000000000000 else "group"
        return {"id": chat, "type": kind, "title": f"Test {kind}"}

    def _message_json(self, m: SentMessage) -> JSONDict:
        data: JSONDict = {
            "message_id": m.message_id,
            "from": self._bot_user(),
            "chat": self._chat_json(m.chat_id),
            "date": m.date,
        }
        if m.edit_date is not None:
            data["edit_date"] = m.edit_date
        if m.kind == "text":
            data["text"] = m.plain_text
            if m.entities:
                data["entities"] = [dict(e) for e in m.entities]
        elif m.plain_text:
            data["caption"] = m.plain_text
            if m.entities:
                data["caption_entities"] = [dict(e) for e in m.entities]
        if m.document is not None and m.kind == "photo":
            data["photo"] = [
                {
                    "file_id": m.document.file_id,
                    "file_unique_id": m.document.file_id[-12:],
                    "width": 800,
                    "height": 600,
                    "file_size": len(m.document.data),
                }
            ]
        elif m.document is not None and m.kind == "voice":
            data["voice"] = {
                "file_id": m.document.file_id,
                "file_unique_id": m.document.file_id[-12:],
                "duration": 1,
                "mime_type": m.document.content_type or "audio/ogg",
                "file_size": len(m.document.data),
            }
        elif m.document is not None:
            doc: JSONDict = {
                "file_id": m.document.file_id,
                "file_unique_id": m.document.file_id[-12:],
                "file_size": len(m.document.data),
            }
            if m.document.filename:
                doc["file_name"] = m.document.filename
            if m.document.content_type:
                doc["mime_type"] = m.document.content_type
            data["document"] = doc
        inline = _inline(m.reply_markup)
        if inline is not None:
            data["reply_markup"] = inline
        return data

    def _store_message(
        self,
        chat: ChatId,
        *,
        text: str,
        parse_mode: str | None,
        parsed: ParsedText,
        reply_markup: JSONDict | None,
        kind: str,
        method: str,
        document: SentDocument | None = None,
        message_id: int | None = None,
    ) -> SentMessage:
        messages = self._messages.setdefault(chat, [])
        message = SentMessage(
            message_id=message_id if message_id is not None else self._new_message_id(chat),
            chat_id=chat,
            text=text,
            parse_mode=parse_mode,
            reply_markup=copy.deepcopy(reply_markup),
            plain_text=parsed.text,
            entities=parsed.entities,
            kind=kind,
            method=method,
            date=int(wall_clock()),
            index=len(messages),
            document=document,
        )
        messages.append(message)
        return message

    def _replace_message(self, message: SentMessage) -> None:
        self._messages[message.chat_id][message.index] = message

    def _find_for_change(self, params: Mapping[str, Any], method: str) -> SentMessage:
        chat = _chat_key(params["chat_id"])
        message_id = params["message_id"]
        action = "delete" if method == "deleteMessage" else "edit"
        for message in self._messages.get(chat, []):
            if message.message_id == message_id and not message.deleted:
                return message
        if (chat, message_id) in self._user_messages and action == "edit":
            raise _ApiError(
                400,
                "Bad Request: message can't be edited",
                violation=f"message {message_id} in chat {chat} was sent by the user, not the bot",
            )
        violation = None
        if self.strict_edits:
            violation = (
                f"{method} on message {message_id} in chat {chat}, which does not exist or was"
                " deleted (set strict_edits=False when a test expects this)"
            )
        raise _ApiError(400, f"Bad Request: message to {action} not found", violation=violation)

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope:
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True)

    def _parsed(self, text: str, params: Mapping[str, Any], entities_field: str) -> ParsedText:
        mode = params.get("parse_mode")
        entities = params.get(entities_field)
        if not mode and isinstance(entities, list):
            return ParsedText(text, tuple(e for e in entities if isinstance(e, dict)))
        return parse_text(text, mode if isinstance(mode, str) else None)

    # -- internals: HTTP --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        download = _FILE_PATH_RE.fullmatch(request.path)
        if download is not None:
            return self._download(download["token"], download["path"])
        match = _PATH_RE.fullmatch(request.path)
        if match is None:
            return web.json_response(_error_payload(404, "Not Found"), status=404)
        if match["token"] != self.token:
            return web.json_response(_error_payload(401, "Unauthorized"), status=401)
        raw_method = match["method"]
        method = self.spec.canonical_method(raw_method) or raw_method
        try:
            raw, files = await self._read_request(request)
        except _BadBodyError as exc:
            self._violate(method, str(exc))
            return web.json_response(_error_payload(400, f"Bad Request: {exc}"), status=400)
        params = self.spec.coerce(method, raw)
        referenced = set(_attach_refs(params))
        for name, upload in files.items():
            if name not in referenced:
                params[name] = upload
        call = Call(
            index=len(self._calls),
            method=method,
            params=params,
            time=monotonic(),
            http_method=request.method,
            content_type=request.content_type,
            files=files,
        )
        self._calls.append(call)
        polling = method == "getUpdates"
        if not polling:
            self._in_flight += 1
            self._touch()
        self._notify()
        status, payload = 500, _error_payload(500, "Internal Server Error")
        try:
            status, payload = await self._process(call)
        except Exception as exc:  # a bug in the fake must not pass unnoticed
            trace = "".join(traceback.format_exception(exc)[-3:])
            self._violate(method, f"FakeBotApi crashed handling this request: {trace}", params)
        finally:
            if not polling:
                self._in_flight -= 1
                self._touch()
            call.status = status
            call.response = payload
            self._notify()
        return web.json_response(payload, status=status)

    async def _read_request(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if not request.body_exists:
            return raw, files
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = json.loads(await request.read())
            except ValueError as exc:
                raise _BadBodyError("the request body is not valid JSON") from exc
            if not isinstance(body, dict):
                raise _BadBodyError("the JSON request body must be an object")
            raw.update(body)
        elif content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(
                        key, value.filename, value.content_type, value.file.read()
                    )
                else:
                    raw[key] = value
        elif (await request.read()).strip():
            raise _BadBodyError(f"unsupported Content-Type {content_type!r}")
        return raw, files

    async def _process(self, call: Call) -> tuple[int, JSONDict]:
        method = call.method
        spec = self.spec.method(method)
        if spec is None:
            self._violate(method, "unknown Bot API method (not in the spec)", call.params)
            return 404, _error_payload(404, "Not Found")
        problems = self.spec.validate(method, call.params)
        for problem in problems:
            self._violate(method, problem.reason, call.params)
        delay = self._delays.get(self._method_key(method))
        if delay:
            await self._sleep(delay)
        queue = self._failures.get(self._method_key(method))
        if queue:
            failure = queue.popleft()
            return failure.status, _error_payload(
                failure.status, failure.description, failure.retry_after
            )
        rejected = [p for p in problems if p.rejected]
        if rejected:
            return 400, _error_payload(400, rejected[0].description)
        chat = call.params.get("chat_id")
        if chat is not None and _chat_key(chat) in self._blocked:
            return 403, _error_payload(403, BLOCKED)
        handler = self._handlers.get(spec.name)
        try:
            result = await handler(call) if handler else self._generic(call, spec)
        except _ApiError as exc:
            if exc.violation:
                self._violate(method, exc.violation, call.params)
            return exc.status, _error_payload(exc.status, exc.description, exc.retry_after)
        return 200, {"ok": True, "result": result}

    # -- internals: methods -------------------------------------------------------------------

    async def _true(self, call: Call) -> bool:
        return True

    async def _get_me(self, call: Call) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: Call) -> list[JSONDict]:
        p = call.params
        self._polled = True
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes an older long poll, which is then terminated
        if self._webhook is not None:
            raise _ApiError(409, WEBHOOK_ACTIVE)
        offset = p.get("offset") or 0
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        if "allowed_updates" in p:
            self._allowed_updates = list(p["allowed_updates"]) or None
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        timeout = min(max(float(p.get("timeout") or 0), 0.0), self.long_poll_cap)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if generation != self._poll_generation:
                raise _ApiError(409, POLL_TERMINATED)
            if self._webhook is not None:
                raise _ApiError(409, WEBHOOK_ACTIVE)
            ready = self._deliverable(limit)
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or self._closing.is_set():
                break
            await self._wait_changed(event, remaining)
        self._mark_delivered(ready)
        return copy.deepcopy(ready)

    async def _set_webhook(self, call: Call) -> bool:
        p = call.params
        if p.get("drop_pending_updates"):
            self._updates.clear()
        if "allowed_updates" in p:
            self._allowed_updates = list(p["allowed_updates"]) or None
        url = str(p["url"])
        self._cancel_webhook_task()
        if not url:
            self._webhook = None
        else:
            self._webhook = _Webhook(
                url=url,
                secret_token=p.get("secret_token"),
                max_connections=int(p.get("max_connections") or 40),
                ip_address=p.get("ip_address"),
            )
            self._webhook_task = asyncio.create_task(
                self._deliver_webhook(self._webhook), name="FakeBotApi webhook delivery"
            )
        self._notify()
        return True

    async def _delete_webhook(self, call: Call) -> bool:
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        self._cancel_webhook_task()
        self._webhook = None
        self._notify()
        return True

    def _cancel_webhook_task(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _get_webhook_info(self, call: Call) -> JSONDict:
        wh = self._webhook
        info: JSONDict = {
            "url": wh.url if wh else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if wh is not None:
            info["max_connections"] = wh.max_connections
            info["ip_address"] = wh.ip_address or "127.0.0.1"
            if self._allowed_updates is not None:
                info["allowed_updates"] = list(self._allowed_updates)
            if wh.last_error_date is not None:
                info["last_error_date"] = wh.last_error_date
                info["last_error_message"] = wh.last_error_message
        return info

    async def _deliver_webhook(self, wh: _Webhook) -> None:
        while self._webhook is wh and not self._closing.is_set():
            event = self._changed
            pending = self._deliverable(1)
            if not pending:
                await self._wait_changed(event, 1.0)
                continue
            update = pending[0]
            delivered, last_error = False, ""
            self._in_flight += 1
            self._touch()
            try:
                for attempt in range(1, self.webhook_retries + 2):
                    status, error = await self._post_update(wh, update)
                    delivery = WebhookDelivery(update["update_id"], attempt, status, error)
                    wh.deliveries.append(delivery)
                    self._webhook_history.append(delivery)
                    if status is not None and 200 <= status < 300:
                        delivered = True
                        break
                    last_error = error or f"Wrong response from the webhook: {status}"
                    wh.last_error_date = int(wall_clock())
                    wh.last_error_message = last_error
                    if self._webhook is not wh:
                        return
                    await self._sleep(self.webhook_retry_delay * attempt)
            finally:
                self._in_flight -= 1
                self._touch()
            self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
            if delivered:
                self._mark_delivered([update])
            else:
                self._returned_update_ids.add(update["update_id"])
                self._violate(
                    "webhook",
                    f"update {update['update_id']} ({_update_type(update)}) was not accepted by"
                    f" {wh.url} after {self.webhook_retries + 1} attempts: {last_error}",
                )
            self._notify()

    async def _post_update(self, wh: _Webhook, update: JSONDict) -> tuple[int | None, str | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {"Content-Type": "application/json"}
        if wh.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = wh.secret_token
        try:
            async with self._session.post(wh.url, data=json.dumps(update), headers=headers) as r:
                await r.read()
                if 200 <= r.status < 300:
                    return r.status, None
                return r.status, f"Wrong response from the webhook: {r.status} {r.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"Connection failed: {exc!r}"

    async def _send_message(self, call: Call) -> JSONDict:
        p = call.params
        chat = _chat_key(p["chat_id"])
        text = str(p["text"])
        parsed = self._parsed(text, p, "entities")
        message = self._store_message(
            chat,
            text=text,
            parse_mode=p.get("parse_mode"),
            parsed=parsed,
            reply_markup=p.get("reply_markup"),
            kind="text",
            method="sendMessage",
        )
        return self._message_json(message)

    async def _edit_message_text(self, call: Call) -> JSONDict | bool:
        p = call.params
        if p.get("chat_id") is None and p.get("inline_message_id") is not None:
            return True
        message = self._find_for_change(p, "editMessageText")
        if message.kind != "text":
            raise _ApiError(
                400,
                "Bad Request: there is no text in the message to edit",
                violation=f"message {message.message_id} is a {message.kind}, not a text message",
            )
        text = str(p["text"])
        parsed = self._parsed(text, p, "entities")
        new_markup = p.get("reply_markup")
        if (
            parsed.text == message.plain_text
            and parsed.entities == message.entities
            and _inline(new_markup) == _inline(message.reply_markup)
        ):
            raise _ApiError(
                400,
                NOT_MODIFIED,
                violation=f"editMessageText would not change message {message.message_id}"
                " (same text and keyboard); Telegram answers 400 - do not send such edits",
            )
        if new_markup is None and _inline(message.reply_markup) is None:
            new_markup = message.reply_markup  # a reply keyboard is not part of the edit
        updated = replace(
            message,
            text=text,
            parse_mode=p.get("parse_mode"),
            plain_text=parsed.text,
            entities=parsed.entities,
            reply_markup=copy.deepcopy(new_markup),
            edits=message.edits + 1,
            edit_date=int(wall_clock()),
            history=(*message.history, message.text),
        )
        self._replace_message(updated)
        return self._message_json(updated)

    async def _edit_message_reply_markup(self, call: Call) -> JSONDict | bool:
        p = call.params
        if p.get("chat_id") is None and p.get("inline_message_id") is not None:
            return True
        message = self._find_for_change(p, "editMessageReplyMarkup")
        new_markup = p.get("reply_markup")
        if _inline(new_markup) == _inline(message.reply_markup):
            raise _ApiError(
                400,
                NOT_MODIFIED,
                violation=f"editMessageReplyMarkup would not change message {message.message_id}"
                " (same keyboard); Telegram answers 400 - do not send such edits",
            )
        updated = replace(
            message,
            reply_markup=copy.deepcopy(new_markup),
            edits=message.edits + 1,
            edit_date=int(wall_clock()),
        )
        self._replace_message(updated)
        return self._message_json(updated)

    async def _delete_message(self, call: Call) -> bool:
        p = call.params
        key = (_chat_key(p["chat_id"]), p["message_id"])
        if key in self._user_messages:
            del self._user_messages[key]
            return True
        message = self._find_for_change(p, "deleteMessage")
        self._replace_message(replace(message, deleted=True))
        return True

    async def _answer_callback_query(self, call: Call) -> bool:
        query_id = str(call.params["callback_query_id"])
        query = self._callback_queries.get(query_id)
        if query is None:
            raise _ApiError(400, QUERY_INVALID, violation=f"unknown callback_query_id {query_id!r}")
        if query.answered:
            raise _ApiError(
                400, QUERY_INVALID, violation=f"callback query {query_id} was answered twice"
            )
        query.answered = True
        query.answer = dict(call.params)
        return True

    async def _set_my_commands(self, call: Call) -> bool:
        p = call.params
        key = (self._scope_key(p.get("scope")), str(p.get("language_code") or ""))
        self._commands[key] = copy.deepcopy(list(p["commands"]))
        return True

    async def _get_my_commands(self, call: Call) -> list[JSONDict]:
        p = call.params
        key = (self._scope_key(p.get("scope")), str(p.get("language_code") or ""))
        return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, call: Call) -> bool:
        p = call.params
        self._commands.pop(
            (self._scope_key(p.get("scope")), str(p.get("language_code") or "")), None
        )
        return True

    async def _send_document(self, call: Call) -> JSONDict:
        p = call.params
        chat = _chat_key(p["chat_id"])
        document = p["document"]
        caption = str(p.get("caption") or "")
        parsed = self._parsed(caption, p, "caption_entities")
        file_id = f"BQACAgQAAxkDAAFake{next(self._file_ids):08d}"
        message_id = self._new_message_id(chat)
        if isinstance(document, UploadedFile):
            sent = SentDocument(
                message_id,
                chat,
                document.filename,
                document.content_type,
                document.data,
                caption or None,
                file_id,
            )
            self._files[file_id] = (document.data, f"documents/sent_{file_id[-8:]}")
        else:  # a file_id or a URL
            sent = SentDocument(message_id, chat, None, None, b"", caption or None, str(document))
        self._documents.setdefault(chat, []).append(sent)
        message = self._store_message(
            chat,
            text=caption,
            parse_mode=p.get("parse_mode"),
            parsed=parsed,
            reply_markup=p.get("reply_markup"),
            kind="document",
            method="sendDocument",
            document=sent,
            message_id=message_id,
        )
        return self._message_json(message)

    async def _send_photo(self, call: Call) -> JSONDict:
        return self._send_file(call, "photo", "sendPhoto", "AgACAgQAAxkDAAFake")

    async def _send_voice(self, call: Call) -> JSONDict:
        return self._send_file(call, "voice", "sendVoice", "AwACAgQAAxkDAAFake")

    def _send_file(self, call: Call, kind: str, method: str, prefix: str) -> JSONDict:
        p = call.params
        chat = _chat_key(p["chat_id"])
        upload = p[kind]
        caption = str(p.get("caption") or "")
        parsed = self._parsed(caption, p, "caption_entities")
        message_id = self._new_message_id(chat)
        if isinstance(upload, UploadedFile):
            file_id = f"{prefix}{next(self._file_ids):08d}"
            data, content_type = upload.data, upload.content_type
        elif str(upload) in self._files:  # a file_id Telegram knows
            file_id = str(upload)
            data, content_type = self._files[file_id][0], None
        else:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        self._files[file_id] = (data, f"{kind}s/sent_{file_id[-8:]}")
        sent = SentDocument(
            message_id, chat, None, content_type, data, caption or None, file_id, kind
        )
        self._documents.setdefault(chat, []).append(sent)
        message = self._store_message(
            chat,
            text=caption,
            parse_mode=p.get("parse_mode"),
            parsed=parsed,
            reply_markup=p.get("reply_markup"),
            kind=kind,
            method=method,
            document=sent,
            message_id=message_id,
        )
        return self._message_json(message)

    async def _get_file(self, call: Call) -> JSONDict:
        file_id = str(call.params["file_id"])
        found = self._files.get(file_id)
        if found is None:
            raise _ApiError(400, INVALID_FILE_ID)
        data, path = found
        if len(data) > MAX_DOWNLOAD:
            raise _ApiError(400, FILE_TOO_BIG)
        return {
            "file_id": file_id,
            "file_unique_id": file_id[-12:],
            "file_size": len(data),
            "file_path": path,
        }

    def _download(self, token: str, path: str) -> web.StreamResponse:
        if token != self.token:
            return web.json_response(_error_payload(401, "Unauthorized"), status=401)
        for data, file_path in self._files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.json_response(_error_payload(404, "Not Found"), status=404)

    def _generic(self, call: Call, spec: MethodSpec) -> Any:
        """Methods without a dedicated emulation: plain sends and methods returning True."""
        p = call.params
        if spec.returns == ("Message",) and spec.name.startswith("send") and "chat_id" in p:
            caption = p.get("caption")
            text = str(caption) if isinstance(caption, str) else ""
            message = self._store_message(
                _chat_key(p["chat_id"]),
                text=text,
                parse_mode=p.get("parse_mode"),
                parsed=self._parsed(text, p, "caption_entities"),
                reply_markup=p.get("reply_markup"),
                kind=spec.name.removeprefix("send").lower(),
                method=spec.name,
            )
            return self._message_json(message)
        if spec.returns and all(r in {"Boolean", "True"} for r in spec.returns):
            return True
        raise _ApiError(
            400,
            f"Bad Request: {spec.name} is not emulated by FakeBotApi",
            violation=f"{spec.name} is a valid Bot API method that FakeBotApi does not emulate;"
            " extend tests/fakes/bot_api.py",
        )


# ---------------------------------------------------------------------------------------------
# the fixture


@pytest_asyncio.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """A started :class:`FakeBotApi`; the test fails at teardown when violations are left.

    Import it into a conftest.py. Stop the bot under test before this fixture tears down
    (fixtures that depend on ``fake_bot_api`` are torn down first).
    """
    api = FakeBotApi()
    async with api:
        yield api
    violations = api.finish()
    if violations:
        pytest.fail(api.format_violations(), pytrace=False)
