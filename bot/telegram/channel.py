"""Delivering rendered messages to Telegram chats.

Rules:

* Buttons are inline keyboards whose ``callback_data`` is the engine's button value (at most
  64 bytes, checked). When a new question is sent, the buttons of the previous question are
  removed so they cannot be pressed into a wrong state.
* The persistent "Ik heb nu hulp nodig" button is a reply keyboard, attached to the first
  message without inline buttons that a chat gets. A message can carry only
  one keyboard, so when that first message has inline buttons (every question has), a short
  hint with the help button comes just before it (just after it when it is the crisis response,
  which always comes first): the young person has the button from the start. Messages for the
  team (``OutgoingMessage.team``) never get it, and neither do reminders (background delivery,
  :func:`bot.delivery.background_delivery`): they go to chats that already have it. Once per
  chat and language, also across restarts: the chats that have it come in at start
  (:meth:`TelegramChannel.remember_keyboards`, from storage) and each new one goes out
  through ``on_keyboard`` (the front door stores it); a new language brings it again.
* Arabic messages get a right-to-left mark at the start of every line.
* One Bot API call per tap where Telegram allows it: while the replies to a button press are
  delivered (:meth:`TelegramChannel.replying_to`, entered by the pipeline around the route
  stage), the first reply edits the pressed message into itself when the pressed message is
  the chat's current question and still its last message, and the reply is the next question,
  fits one message and needs no reply keyboard (never a statement, a crisis reply or a team
  message: those always come as new messages). Otherwise the pressed message loses its
  buttons (the choice shown under it) and the replies come as new messages. Buttons are taken
  off a message once (a double tap does not edit it twice).
* Errors are logged by type and chat id, never with text.
* A 403 Forbidden means the person blocked the bot: the chat goes into :attr:`TelegramChannel.
  blocked` and, the first time, ``on_forbidden`` is called in a task of its own (it reaches the
  database and the coach; a send must not wait for that, nor run it inside a caller's
  transaction).
* Documents (the ``/mijngegevens`` export) go to the person's own private chat: a person id is
  ``tg:<chat id>`` of the private chat the request came from (the handlers accept private chats
  only), so a document never lands in a group.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.delivery import delivery_is_background, urgent_delivery
from bot.service import OutgoingMessage
from bot.splitting import split_text
from flows.ids import PersonId

log = logging.getLogger(__name__)
MAX_CAPTION = 1024
RLM = "\u200f"
LanguageHook = Callable[[int, str], Awaitable[None]]
ForbiddenHook = Callable[[int], Awaitable[None]]
# A chat was shown the help button, in this language (called at once; it must not block).
KeyboardHook = Callable[[int, str], None]


@dataclass
class _Press:
    """The button press whose replies are being delivered (in this task only)."""

    chat_id: int
    message_id: int
    was_prompt: bool
    used: bool = False
    prompted: bool = False
    # Another part (the coach desk) edited or deleted the pressed message meanwhile.
    touched: bool = False


_PRESS: ContextVar[_Press | None] = ContextVar("opstap_telegram_press", default=None)


def chat_id_of(person: PersonId) -> int:
    prefix, _, raw = person.partition(":")
    if prefix != "tg":
        raise ValueError("not a Telegram person id")
    return int(raw)


def person_of(chat_id: int) -> PersonId:
    return PersonId(f"tg:{chat_id}")


def rtl(text: str) -> str:
    return "\n".join(RLM + line if line else line for line in text.split("\n"))


class TelegramChannel:
    def __init__(
        self,
        bot: Bot,
        help_labels: dict[str, str],
        on_language: LanguageHook | None = None,
        help_hints: dict[str, str] | None = None,
        on_forbidden: ForbiddenHook | None = None,
        on_keyboard: KeyboardHook | None = None,
    ) -> None:
        self._bot = bot
        self.on_language = on_language
        self._help_labels = help_labels
        self._help_hints = help_hints or {}
        self._last_prompt: dict[int, int] = {}
        # The last message this process sent to each chat: only that one may be edited into
        # the next question (an edit further up would hide the question above newer messages).
        self._last_sent: dict[int, int] = {}
        # Messages edited into a later question (their buttons may be newer than a press).
        self._morphed: dict[int, set[int]] = {}
        # Messages whose buttons were taken off.
        self._bare: dict[int, set[int]] = {}
        self._keyboard_sent: set[int] = set()
        # The language each chat's help button was shown in (with _keyboard_sent).
        self._keyboard_languages: dict[int, str] = {}
        self.on_keyboard = on_keyboard
        # The last language each chat was spoken to in (for the help button and its hint).
        self._languages: dict[int, str] = {}
        self.blocked: set[int] = set()
        self.on_forbidden = on_forbidden
        self._hooks: set[asyncio.Task[None]] = set()

    def _help_keyboard(self, language: str) -> ReplyKeyboardMarkup:
        label = self._help_labels.get(language) or self._help_labels.get("nl", "Hulp")
        return ReplyKeyboardMarkup(
            [[KeyboardButton(label)]], resize_keyboard=True, is_persistent=True
        )

    async def deliver(self, person: PersonId, message: OutgoingMessage) -> None:
        await self.deliver_tracked(person, message)

    async def deliver_tracked(self, person: PersonId, message: OutgoingMessage) -> list[int]:
        """Send like :meth:`deliver`; the ids of the messages that carry the text (the coach
        side remembers them to edit or delete them later; empty when the chat blocked us)."""
        if not message.crisis:
            return await self._send(person, message)
        # The crisis response never waits for the chat's pace (bot.telegram.limits).
        with urgent_delivery():
            return await self._send(person, message)

    async def _send(self, person: PersonId, message: OutgoingMessage) -> list[int]:
        chat_id = chat_id_of(person)
        ids: list[int] = []
        text = rtl(message.text) if message.rtl else message.text
        chunks = split_text(text or "…")
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
        if message.language is not None:
            self._languages[chat_id] = message.language
        # The person's language, as the service said it (the text direction alone cannot tell
        # English from Dutch).
        language = message.language or self._languages.get(chat_id, "ar" if message.rtl else "nl")
        # The help button still has to be shown in this chat, next to this message. Not with a
        # reminder (background delivery): it goes to a chat that talked with us before and so
        # already has the persistent button, and a hint per reminder after every restart would
        # halve the reminders Telegram's 30 sends a second carry.
        hint = (
            self._help_hints.get(language) or self._help_hints.get("nl")
            if message.buttons
            and not message.team
            and chat_id not in self._keyboard_sent
            and not delivery_is_background()
            else None
        )
        if message.buttons:
            rows = []
            for row in message.buttons:
                buttons = []
                for label, value in row:
                    if not 0 < len(value.encode()) <= 64:
                        raise ValueError("callback data must be 1-64 bytes")
                    buttons.append(InlineKeyboardButton(label[:200], callback_data=value))
                rows.append(buttons)
            markup = InlineKeyboardMarkup(rows)
        elif chat_id not in self._keyboard_sent and not message.team:
            markup = self._help_keyboard(language)
            self._keyboard_shown(chat_id, language)
        press = _PRESS.get()
        if press is not None and press.chat_id == chat_id and message.prompt:
            press.prompted = True
        edited = await self._edit_pressed(chat_id, message, chunks, markup, hint)
        if edited is not None:
            return edited
        if message.prompt:
            await self._retire_prompt(chat_id)
        try:
            if hint is not None and not message.crisis:
                await self._send_hint(chat_id, hint, language, message.rtl)
            sent = None
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                sent = await self._bot.send_message(
                    chat_id, chunk, reply_markup=markup if last else None
                )
                self._last_sent[chat_id] = sent.message_id
                ids.append(sent.message_id)
            if hint is not None and message.crisis:
                await self._send_hint(chat_id, hint, language, message.rtl)
        except Forbidden:
            self._forbidden(chat_id)
            return ids
        if message.prompt and message.buttons and sent is not None:
            self._last_prompt[chat_id] = sent.message_id
        return ids

    async def delete_message(self, person: PersonId, message_id: int) -> bool:
        """Delete one of our messages; ``False`` when Telegram refuses (older than 48 hours,
        already gone)."""
        self._touch(chat_id_of(person), message_id)
        try:
            return bool(await self._bot.delete_message(chat_id_of(person), message_id))
        except Forbidden:
            self._forbidden(chat_id_of(person))
            return False
        except TelegramError as error:
            log.info("could not delete chat=%s error=%s", chat_id_of(person), type(error).__name__)
            return False

    async def replace_text(self, person: PersonId, message_id: int, text: str) -> bool:
        """Edit one of our messages to ``text`` without buttons; ``False`` when refused."""
        self._touch(chat_id_of(person), message_id)
        try:
            await self._bot.edit_message_text(
                text, chat_id=chat_id_of(person), message_id=message_id, reply_markup=None
            )
        except Forbidden:
            self._forbidden(chat_id_of(person))
            return False
        except TelegramError as error:
            log.info("could not edit chat=%s error=%s", chat_id_of(person), type(error).__name__)
            return False
        return True

    def _touch(self, chat_id: int, message_id: int) -> None:
        press = _PRESS.get()
        if press is not None and press.chat_id == chat_id and press.message_id == message_id:
            press.touched = True
        self._bare.setdefault(chat_id, set()).add(message_id)

    async def _edit_pressed(
        self,
        chat_id: int,
        message: OutgoingMessage,
        chunks: list[str],
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None,
        hint: str | None,
    ) -> list[int] | None:
        """Edit the pressed message into ``message`` (see the module rules): the id of the
        message that now carries the text (none when the chat blocked us), or ``None`` when it
        must be sent as a new message."""
        press = _PRESS.get()
        if (
            press is None
            or press.used
            or press.chat_id != chat_id
            or not press.was_prompt
            or not message.prompt
            or message.crisis
            or message.team
            or len(chunks) != 1
            or hint is not None
            or isinstance(markup, ReplyKeyboardMarkup)
            or self._last_sent.get(chat_id) != press.message_id
        ):
            return None
        press.used = True
        try:
            await self._bot.edit_message_text(
                chunks[0], chat_id=chat_id, message_id=press.message_id, reply_markup=markup
            )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                # Too old or gone: the reply comes as a new message after all.
                press.used = False
                return None
        except Forbidden:
            self._forbidden(chat_id)
            return []
        self._morphed.setdefault(chat_id, set()).add(press.message_id)
        self._bare.get(chat_id, set()).discard(press.message_id)
        if message.buttons:
            self._last_prompt[chat_id] = press.message_id
        else:
            self._last_prompt.pop(chat_id, None)
        return [press.message_id]

    @asynccontextmanager
    async def replying_to(
        self, chat_id: int, message_id: int, retire: Callable[[], Awaitable[None]]
    ) -> AsyncIterator[None]:
        """Deliveries in this block reply to the press of a button on ``message_id``; when
        none of them took the pressed message over, ``retire`` takes its buttons off (and
        shows the choice), unless a new question already retired it or another part edited it
        meanwhile (the coach desk's card). A message that was once
        edited into a question only loses its buttons: the press may carry its older text."""
        was_prompt = self._last_prompt.get(chat_id) == message_id
        press = _Press(chat_id, message_id, was_prompt)
        token = _PRESS.set(press)
        try:
            yield
        finally:
            _PRESS.reset(token)
            if not press.used and not press.touched and not (was_prompt and press.prompted):
                self.forget_prompt(chat_id, message_id)
                if message_id in self._bare.get(chat_id, ()):
                    pass
                elif message_id in self._morphed.get(chat_id, ()):
                    await self._take_buttons_off(chat_id, message_id)
                else:
                    await retire()
                    self._bare.setdefault(chat_id, set()).add(message_id)

    async def _send_hint(self, chat_id: int, hint: str, language: str, right_to_left: bool) -> None:
        sent = await self._bot.send_message(
            chat_id,
            rtl(hint) if right_to_left else hint,
            reply_markup=self._help_keyboard(language),
        )
        self._last_sent[chat_id] = sent.message_id
        self._keyboard_shown(chat_id, language)

    def _keyboard_shown(self, chat_id: int, language: str) -> None:
        self._keyboard_sent.add(chat_id)
        self._keyboard_languages[chat_id] = language
        if self.on_keyboard is not None:
            self.on_keyboard(chat_id, language)

    def remember_keyboards(self, shown: Mapping[int, str]) -> None:
        """Chats that were shown the help button before (by an earlier process), with its
        language: no hint for them until their language changes."""
        for chat_id, language in shown.items():
            self._keyboard_sent.add(chat_id)
            self._keyboard_languages[chat_id] = language

    async def deliver_document(
        self, person: PersonId, filename: str, content: bytes, caption: str
    ) -> None:
        chat_id = chat_id_of(person)
        try:
            sent = await self._bot.send_document(
                chat_id,
                InputFile(content, filename=filename),
                caption=caption[:MAX_CAPTION] or None,
            )
            self._last_sent[chat_id] = sent.message_id
        except Forbidden:
            self._forbidden(chat_id)

    async def fetch_file(self, file_id: str, limit: int) -> bytes | None:
        """The bytes of a file a person sent (getFile, then the download), kept in memory
        only; ``None`` when it is larger than ``limit`` (Telegram's "file is too big" too).
        Other errors are raised: the caller says the file did not come through."""
        try:
            found = await self._bot.get_file(file_id)
        except BadRequest as error:
            if "too big" in str(error).lower():
                return None
            raise
        if found.file_size is not None and found.file_size > limit:
            return None
        data = bytes(await found.download_as_bytearray())
        return data if len(data) <= limit else None

    async def deliver_file(
        self, person: PersonId, kind: str, content: bytes, caption: str
    ) -> list[int]:
        """Send a photo, PDF or voice note of the relay (a neutral file name, never the
        sender's); the ids of the messages sent (empty when the chat blocked us)."""
        chat_id = chat_id_of(person)
        text = caption[:MAX_CAPTION] or None
        try:
            if kind == "photo":
                sent = await self._bot.send_photo(
                    chat_id, InputFile(content, filename="foto.jpg"), caption=text
                )
            elif kind == "voice":
                sent = await self._bot.send_voice(
                    chat_id, InputFile(content, filename="spraakbericht.ogg"), caption=text
                )
            else:
                sent = await self._bot.send_document(
                    chat_id, InputFile(content, filename="document.pdf"), caption=text
                )
        except Forbidden:
            self._forbidden(chat_id)
            return []
        self._last_sent[chat_id] = sent.message_id
        return [sent.message_id]

    def _forbidden(self, chat_id: int) -> None:
        log.warning("telegram chat blocked the bot chat=%s", chat_id)
        if chat_id in self.blocked:
            return
        self.blocked.add(chat_id)
        if self.on_forbidden is not None:
            task = asyncio.get_running_loop().create_task(self._run_hook(chat_id))
            # Kept until done: the loop holds tasks only weakly.
            self._hooks.add(task)
            task.add_done_callback(self._hooks.discard)

    async def _run_hook(self, chat_id: int) -> None:
        assert self.on_forbidden is not None
        try:
            await self.on_forbidden(chat_id)
        except Exception as error:
            log.error("blocked hook failed chat=%s error=%s", chat_id, type(error).__name__)

    async def settle(self) -> None:
        """Wait for the blocked hooks still running (shutdown, tests)."""
        while self._hooks:
            await asyncio.gather(*list(self._hooks), return_exceptions=True)

    def forget(self, person: PersonId) -> None:
        chat_id = chat_id_of(person)
        self._last_prompt.pop(chat_id, None)
        self._last_sent.pop(chat_id, None)
        self._morphed.pop(chat_id, None)
        self._bare.pop(chat_id, None)
        self._keyboard_sent.discard(chat_id)
        self._keyboard_languages.pop(chat_id, None)
        self.blocked.discard(chat_id)

    async def _retire_prompt(self, chat_id: int) -> None:
        previous = self._last_prompt.pop(chat_id, None)
        if previous is None:
            return
        await self._take_buttons_off(chat_id, previous)

    async def _take_buttons_off(self, chat_id: int, previous: int) -> None:
        bare = self._bare.setdefault(chat_id, set())
        if previous in bare:
            return
        bare.add(previous)
        try:
            await self._bot.edit_message_reply_markup(chat_id, previous, reply_markup=None)
        except BadRequest:
            # Already edited (the button was pressed) or too old: nothing to retire.
            pass
        except TelegramError as error:
            log.info("could not retire prompt chat=%s error=%s", chat_id, type(error).__name__)

    def forget_prompt(self, chat_id: int, message_id: int) -> None:
        if self._last_prompt.get(chat_id) == message_id:
            del self._last_prompt[chat_id]

    async def language_changed(self, person: PersonId, language: str) -> None:
        chat_id = chat_id_of(person)
        self._languages[chat_id] = language
        if self._keyboard_languages.get(chat_id, language) != language:
            # The help button and its hint come again, in the new language, with the next
            # question.
            self._keyboard_sent.discard(chat_id)
        # The menu language follows the person's choice; done by the application with the
        # translated descriptions (see bot.telegram.app.set_chat_commands).
        if self.on_language is not None:
            await self.on_language(chat_id_of(person), language)
