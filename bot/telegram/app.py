"""Wiring python-telegram-bot to the conversation service.

Rules:

* Requests go to ``{TELEGRAM_API_URL}/bot{token}/{method}``: the same setting serves Telegram,
  a self-hosted Bot API server and the fake one in the tests.
* Every update becomes one :class:`~bot.inbound.Inbound` for the inbound pipeline
  (:mod:`bot.pipeline`): screening, answering the callback query, dedupe and routing are the
  pipeline's, the same as for the web chat.
* Every callback query is answered at once (the pipeline's acknowledge stage, before any other
  work, never paced), also when handling fails; the message whose button was pressed becomes
  the next question (one edit) or loses its buttons (choice shown), so it cannot be pressed
  twice.
* Updates of one chat are routed in arrival order, different chats in parallel: the
  :class:`PerChatUpdateProcessor` reserves the chat's turn in the pipeline's lock the moment
  PTB hands it the update. Updates are deduplicated by key (``telegram:<update_id>``), never by
  "ignore lower": Telegram may jump ids after a quiet week.
* Nothing Telegram handed over is lost (the durable inbox, :mod:`bot.telegram.inbox`): every
  update is stored as pending before Telegram may forget it. Polling is our own loop: the
  offset of the next ``getUpdates`` (which confirms a batch) moves only after the batch was
  stored; storing never holds up the next look for updates (it looks again from the same
  offset meanwhile), so a press is answered at once also while SQLite waits for its lock.
  Webhook mode answers 200 only after the update was stored, 503 when the database does not
  take it (Telegram retries). At start, and every :data:`PENDING_EVERY` for stale rows,
  pending updates are handled again; replies left in the outbox go out first.
* Webhook mode: our aiohttp route compares ``X-Telegram-Bot-Api-Secret-Token`` in constant time
  and answers 401 otherwise; polling mode deletes any webhook first (polling while a webhook is
  set gives 409).
* Several workers on one PostgreSQL database poll one at a time: with a ``leader`` lock only
  its holder polls (:mod:`bot.telegram.leader`); every worker sends. The leftovers of a worker
  that died (its young outbox rows, its pending updates) are taken over by the worker that
  gets the lock after it, never by a worker that merely starts: those could be on their way
  in the live leader. Only the leader handles stale pending updates again.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from functools import partial
from typing import Any

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    CallbackQuery,
    Message,
    Update,
)
from telegram.error import BadRequest, Conflict, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.commands import COMMANDS, parse_command
from bot.inbound import Inbound
from bot.pipeline import Turn
from bot.service import Clock, ConversationService
from bot.telegram.channel import TelegramChannel, person_of
from bot.telegram.inbox import TelegramInbox, key_of
from bot.telegram.keyboards import HelpKeyboards
from bot.telegram.leader import PollingLeadership
from bot.telegram.limits import FloodLimiter
from bot.web.limits import AUTHENTICATED_KEY
from flows.ids import PersonId
from flows.inputs import (
    ButtonPressed,
    FileRef,
    Input,
    MediaKind,
    MediaReceived,
    TextReceived,
)
from flows.text import msg
from storage.leader import LeaderLock

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
POLL_TIMEOUT = 10
# Seconds between polls after a failure: doubling up to the last.
POLL_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
# While a batch is being stored, how often polling looks for new updates without waiting.
PEEK_EVERY = 0.25
# How often stale pending updates (another worker's, or left by a failure) are looked for.
PENDING_EVERY = 30.0
# The webhook answers within this, or 503 (Telegram retries).
HOLD_TIMEOUT = 5.0
# How long an update handed over waits to be stored before it is left to the pending sweep.
STORE_WAIT = 60.0

Blocked = Callable[[int], Awaitable[None]]


# The turn the processor reserved for the update being handled (read by the handlers).
_TURN: ContextVar[Turn | None] = ContextVar("opstap_telegram_turn", default=None)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Different chats in parallel, one chat strictly in arrival order.

    The order is the pipeline's (:class:`bot.pipeline.KeyedLocks`): the chat's turn is
    reserved here, synchronously, in the order PTB hands over the updates; the pipeline enters
    it after screening and answering, so a callback query is answered at once even while an
    earlier update of the chat is still running."""

    def __init__(
        self,
        reserve: Callable[[PersonId], Turn],
        max_concurrent_updates: int = 256,
        on_done: Callable[[object, bool], None] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._reserve = reserve
        # Told when an update was handled (True) or interrupted (False): the durable inbox.
        self._on_done = on_done

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        finished = False
        try:
            await self._process(update, coroutine)
            finished = True
        finally:
            if self._on_done is not None:
                self._on_done(update, finished)

    async def _process(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        turn = self._reserve(person_of(chat.id))
        token = _TURN.set(turn)
        try:
            await coroutine
        finally:
            _TURN.reset(token)
            # Passes the line on when no handler entered the turn (a my_chat_member update).
            turn.release()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _media_kind(message: Message) -> MediaKind:
    kinds: tuple[tuple[str, MediaKind], ...] = (
        ("sticker", "sticker"),
        ("photo", "photo"),
        ("voice", "voice"),
        ("video_note", "video"),
        ("video", "video"),
        ("animation", "video"),
        ("audio", "audio"),
        ("document", "document"),
        ("location", "location"),
        ("venue", "location"),
        ("contact", "contact"),
    )
    for attribute, kind in kinds:
        if getattr(message, attribute, None):
            return kind
    return "other"


def _media_file(message: Message) -> FileRef | None:
    """The file of a photo (its largest size), document or voice note; never its name."""
    if message.photo:
        largest = message.photo[-1]
        return FileRef(largest.file_id, largest.file_size, "image/jpeg")
    if message.document is not None:
        document = message.document
        return FileRef(document.file_id, document.file_size, document.mime_type)
    if message.voice is not None:
        voice = message.voice
        return FileRef(voice.file_id, voice.file_size, voice.mime_type or "audio/ogg")
    return None


def _reply_to_bot(message: Message) -> str | None:
    """The text of the bot's message this one replies to (how a coach picks a case)."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or not replied.from_user.is_bot:
        return None
    return replied.text or replied.caption


MAX_UPDATE_ID = 2**63 - 1


def parse_update(data: object, bot: Any) -> Update | None:
    """An :class:`Update` from webhook JSON, or ``None`` when it is not one (not an object, no
    whole-number ``update_id``, or fields PTB cannot read)."""
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    if not 0 <= update_id <= MAX_UPDATE_ID:
        return None
    try:
        return Update.de_json(data, bot)
    except Exception:
        return None


# Telegram's words when a press is too old to answer (about 15 minutes; a replayed update).
_STALE_QUERY = ("query is too old", "query id is invalid")


async def answer_query(query: CallbackQuery) -> None:
    """``answerCallbackQuery`` for a press. Telegram refuses it for a press that is too old,
    which every update replayed after a restart is: expected, so logged at DEBUG (by type
    only, as every failure: never the query's data, text or the token). Other failures at
    INFO."""
    try:
        await query.answer()
    except BadRequest as error:
        if any(words in str(error).lower() for words in _STALE_QUERY):
            log.debug("answerCallbackQuery refused: the press is too old")
        else:
            log.info("answerCallbackQuery failed error=%s", type(error).__name__)
    except TelegramError as error:
        log.info("answerCallbackQuery failed error=%s", type(error).__name__)


class TelegramFrontDoor:
    """Builds the PTB application and translates between updates and inputs."""

    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        service: ConversationService,
        clock: Clock,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        on_blocked: Blocked | None = None,
        on_unblocked: Blocked | None = None,
        sends_per_second: int = 30,
        leader: LeaderLock | None = None,
    ) -> None:
        self.service = service
        self.pipeline = service.pipeline
        self.clock = clock
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        # A young person blocked the bot (my_chat_member "kicked", or a 403 on a send), and
        # came back (my_chat_member "member"): the appointment feature stops and resumes.
        self.on_blocked = on_blocked
        self.on_unblocked = on_unblocked
        # Polling with several workers: only the holder of this lock polls.
        self.leadership = (
            None
            if leader is None or webhook_url is not None
            else PollingLeadership(leader, self._lead, self._stop_polling)
        )
        root = api_url.rstrip("/")
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            # PTB's default pool: with 16 connections, replies to 200 busy chats queued for a
            # free connection (57 against 75 updates a second in the closed loop at 1000
            # sends a second; docs/benchmarks.md).
            .request(HTTPXRequest(connection_pool_size=256, read_timeout=15, write_timeout=15))
            .get_updates_request(HTTPXRequest(read_timeout=40))
            .rate_limiter(FloodLimiter(overall_per_second=sends_per_second))
            .concurrent_updates(
                PerChatUpdateProcessor(service.pipeline.reserve, on_done=self._handled)
            )
            # Our own aiohttp route (webhook) or our own loop (polling) receive the updates,
            # so that each is stored before Telegram may forget it; PTB's updater is not used.
            .updater(None)
        )
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.inbox = TelegramInbox(service.storage, clock, self.application.bot)
        # Update ids queued or being handled in this process (the pending sweep skips them).
        self._working: set[int] = set()
        # Updates queued before they were stored: whether to handle them (True: stored and
        # new). The screen runs at once; the rest waits for this (Inbound.stored).
        self._fresh: dict[int, asyncio.Future[bool]] = {}
        self._gave_up: set[int] = set()
        # Pending updates handled again: their attempt is counted when their turn comes.
        self._replayed: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._polling: asyncio.Task[None] | None = None
        # The chats that have the help button, across restarts (bot/telegram/keyboards.py).
        self.keyboards = HelpKeyboards(service.storage, clock)
        translator = service.translator
        help_labels = {
            lang: translator.render(msg("safety.button"), lang) for lang in translator.languages
        }
        help_hints = {
            lang: translator.render(msg("safety.button.hint"), lang)
            for lang in translator.languages
        }
        self.channel = TelegramChannel(
            self.application.bot,
            help_labels,
            on_language=self.set_chat_commands,
            help_hints=help_hints,
            on_forbidden=self._forbidden,
            on_keyboard=self.keyboards.shown,
        )
        app = self.application
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(
            MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED, self._on_edit)
        )
        app.add_handler(
            MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, self._on_message)
        )
        app.add_handler(ChatMemberHandler(self._on_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self._on_error)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        await self.set_default_commands()
        # Before any update: the chats an earlier process showed the help button get no hint.
        self.channel.remember_keyboards(await self.keyboards.load())
        if self.webhook_url is None:
            # Polling while a webhook is set gives 409.
            await app.bot.delete_webhook()
        # What a crash or a stop left: first the replies in the outbox, then the updates.
        relay = self.service.relay
        relay.channel_ready("tg")
        if self.leadership is None:
            # Sent in the background, but each person's leftovers before their new inputs.
            await relay.sweep(everything=True, background=True)
        await app.start()
        if self.leadership is None:
            await self._take_over()
        if self.webhook_url is not None:
            await app.bot.set_webhook(
                self.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            if self.leadership is None:
                await self._start_polling()
            else:
                # Several workers: only the holder of the leader lock polls.
                self.leadership.start()
        self._tasks.append(asyncio.create_task(self._stale(), name="telegram pending"))

    async def _take_over(self) -> None:
        """Handle again every pending update this process does not work on: at start with
        one worker, or when this worker becomes the polling leader."""
        for update in await self.inbox.pending(stale_only=False, skip=self._busy):
            self._queue(update)

    async def _lead(self) -> None:
        """This worker holds the leader lock: the previous poller is gone (its lock went with
        its connection), so its leftovers are this worker's now: the replies it left in the
        outbox and the updates it left pending, then polling. A worker that starts without
        the lock leaves young rows alone: they may be on their way in the leader (taking them
        sent the two-worker chaos test's answers twice)."""
        await self.service.relay.sweep(everything=True, background=True)
        await self._take_over()
        await self._start_polling()

    async def _start_polling(self) -> None:
        self._polling = asyncio.create_task(self._poll(), name="telegram polling")

    async def _stop_polling(self) -> None:
        polling, self._polling = self._polling, None
        if polling is not None:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)

    async def _stop_tasks(self) -> None:
        if self.leadership is not None:
            # Stops polling when leading, and gives the lock to another worker.
            await self.leadership.stop()
        await self._stop_polling()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Stop taking updates, then finish the ones queued (PTB's ``stop`` works off its
        queue, and their replies still go out); whatever does not finish stays pending for the
        next start, and so do replies not sent."""
        await self._stop_tasks()
        app = self.application
        try:
            if app.running:
                await app.stop()
        finally:
            self.service.relay.hold_back("tg")
        await app.shutdown()
        await self.keyboards.stored()

    async def reset(self) -> None:
        """After a failed :meth:`start`: undo what started, so the next attempt begins clean
        (the runtime retries with back-off)."""
        self.service.relay.hold_back("tg")
        app = self.application
        try:
            await self._stop_tasks()
            if app.running:
                await app.stop()
        except Exception as error:
            log.info("telegram reset error=%s", type(error).__name__)

    # --- the durable inbox ----------------------------------------------------------------

    def _queue(self, update: Update, *, stored: bool = True) -> None:
        """Hand an update to PTB. ``stored=False``: it is being stored right now (see
        :meth:`_stored`); a pending update handled again is stored already."""
        self._working.add(update.update_id)
        log.debug("update queued update=%s stored=%s", update.update_id, stored)
        if stored:
            self._replayed.add(update.update_id)
        else:
            self._fresh[update.update_id] = asyncio.get_running_loop().create_future()
        self.application.update_queue.put_nowait(update)

    def _took(self, update: Update, new: bool) -> None:
        fresh = self._fresh.get(update.update_id)
        if fresh is not None and not fresh.done():
            fresh.set_result(new)

    async def _stored(self, update_id: int) -> bool:
        if update_id in self._replayed:
            # A pending update handled again: its attempt counts now that it runs (one that
            # crashed the process five times is given up).
            self._replayed.discard(update_id)
            try:
                return await self.inbox.attempt(update_id)
            except Exception as error:
                log.error("pending update not counted error=%s", type(error).__name__)
                self._gave_up.add(update_id)
                return False
        fresh = self._fresh.get(update_id)
        if fresh is None:
            return True
        try:
            async with asyncio.timeout(STORE_WAIT):
                return await asyncio.shield(fresh)
        except TimeoutError:
            # Not stored in time (the database is down): not handled here. Once stored it is
            # pending, and the pending sweep hands it over again.
            self._gave_up.add(update_id)
            return False

    def _handled(self, update: object, finished: bool) -> None:
        if not isinstance(update, Update):
            return
        self._working.discard(update.update_id)
        fresh = self._fresh.pop(update.update_id, None)
        gave_up = update.update_id in self._gave_up
        self._gave_up.discard(update.update_id)
        self._replayed.discard(update.update_id)
        log.debug("update done update=%s finished=%s", update.update_id, finished and not gave_up)
        if not finished or gave_up:
            # Interrupted or not handled: it stays pending (or Telegram keeps it).
            return
        # Also updates the pipeline never saw (a bot blocked, a group message) are recorded,
        # so they are not handled again; but only once they are stored and ours. One still
        # being stored is left pending: the pending sweep finishes it.
        if fresh is None or (fresh.done() and not fresh.cancelled() and fresh.result()):
            self.service.relay.settle(key_of(update.update_id))

    def _busy(self, update_id: int) -> bool:
        """Being handled here, or handled and not yet written back (``Relay.settle``)."""
        return update_id in self._working or self.service.relay.is_settled(key_of(update_id))

    def _hand_over(self, updates: Sequence[Update]) -> list[Update]:
        """Queue the updates not already here; the ones queued."""
        queued = [u for u in updates if not self._busy(u.update_id)]
        for update in queued:
            self._queue(update, stored=False)
        return queued

    async def _poll(self) -> None:
        """Long polling. Each update is handed over at once (the screen waits for nothing)
        and stored; only after it was stored does the offset move, so a later ``getUpdates``
        confirms it. Storing does not hold up polling: while a batch is being stored (on
        SQLite it can wait seconds for the write lock behind busy conversations) the loop
        looks again every :data:`PEEK_EVERY` from the same offset, so a press that arrives
        meanwhile is still answered at once (the updates it gets again are skipped). While
        storing fails, polling goes on from the same offset (new updates are still screened
        and answered) and storing is tried again after a back-off."""
        bot = self.application.bot
        loop = asyncio.get_running_loop()
        offset: int | None = None
        unstored: dict[int, tuple[Update, object]] = {}
        storing: tuple[asyncio.Task[list[Update]], list[tuple[Update, object]]] | None = None
        poll_failures = 0
        store_failures = 0
        store_after = 0.0
        try:
            while True:
                try:
                    updates = await bot.get_updates(
                        offset=offset,
                        timeout=0 if unstored else POLL_TIMEOUT,
                        allowed_updates=ALLOWED_UPDATES,
                    )
                    poll_failures = 0
                    self._hand_over(updates)
                    for update in updates:
                        # A look while storing gets the unconfirmed ones again: keep the first.
                        if update.update_id not in unstored:
                            unstored[update.update_id] = (update, update.to_dict())
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    wait = POLL_BACKOFF[min(poll_failures, len(POLL_BACKOFF) - 1)]
                    poll_failures += 1
                    # The type only: PTB's messages can quote the token.
                    level = logging.WARNING if isinstance(error, Conflict) else logging.ERROR
                    if isinstance(error, InvalidToken):
                        wait = POLL_BACKOFF[-1]
                    log.log(
                        level,
                        "telegram polling failed error=%s retry_in=%.0fs",
                        type(error).__name__,
                        wait,
                    )
                    await asyncio.sleep(wait)
                if storing is None and unstored and loop.time() >= store_after:
                    batch = list(unstored.values())
                    storing = (asyncio.create_task(self.inbox.hold(batch)), batch)
                if storing is not None:
                    task, batch = storing
                    await asyncio.wait({task}, timeout=PEEK_EVERY)
                    if not task.done():
                        continue
                    storing = None
                    try:
                        new = task.result()
                    except Exception as error:
                        wait = POLL_BACKOFF[min(store_failures, len(POLL_BACKOFF) - 1)]
                        store_failures += 1
                        store_after = loop.time() + wait
                        log.error(
                            "telegram updates not stored error=%s retry_in=%.0fs",
                            type(error).__name__,
                            wait,
                        )
                        continue
                    store_failures = 0
                    for update, _ in batch:
                        self._took(update, update in new)
                        del unstored[update.update_id]
                    # Only now: the next call confirms these to Telegram.
                    offset = max(update.update_id for update, _ in batch) + 1
                elif unstored:
                    # Storing failed: look again within a second (a press is still answered),
                    # store again once the back-off has passed.
                    await asyncio.sleep(max(0.0, min(store_after - loop.time(), POLL_BACKOFF[0])))
        finally:
            if storing is not None:
                storing[0].cancel()
                await asyncio.gather(storing[0], return_exceptions=True)
            # Stopped before they were stored: Telegram keeps them (never confirmed).
            for update, _ in unstored.values():
                self._took(update, False)

    async def _stale(self) -> None:
        """Pending updates nobody works on (a failure here, a killed worker elsewhere)."""
        while True:
            await asyncio.sleep(PENDING_EVERY)
            if self.leadership is not None and not self.leadership.leading:
                # Several workers: the updates are the leader's (it polled them).
                continue
            try:
                for update in await self.inbox.pending(stale_only=True, skip=self._busy):
                    self._queue(update)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.error("pending updates not read error=%s", type(error).__name__)

    # --- commands menu --------------------------------------------------------------------

    def _commands(self, language: str) -> list[BotCommand]:
        t = self.service.translator
        return [BotCommand(name, t.render(msg(f"command.{name}"), language)) for name in COMMANDS]

    async def set_default_commands(self) -> None:
        bot = self.application.bot
        try:
            await bot.set_my_commands(self._commands("nl"), scope=BotCommandScopeDefault())
            for language in self.service.translator.languages:
                await bot.set_my_commands(
                    self._commands(language),
                    scope=BotCommandScopeDefault(),
                    language_code=language,
                )
        except TelegramError as error:
            # The menu is a convenience: the bot works without it.
            log.warning("could not set commands error=%s", type(error).__name__)

    async def set_chat_commands(self, chat_id: int, language: str) -> None:
        try:
            await self.application.bot.set_my_commands(
                self._commands(language), scope=BotCommandScopeChat(chat_id)
            )
        except TelegramError as error:
            log.info("could not set chat commands chat=%s error=%s", chat_id, type(error).__name__)

    # --- handlers -------------------------------------------------------------------------

    def _inbound(self, update: Update, event: Input, **extra: Any) -> Inbound:
        assert update.effective_chat is not None
        user = update.effective_user
        return Inbound(
            person_of(update.effective_chat.id),
            event,
            user.language_code if user is not None else None,
            key=key_of(update.update_id),
            stored=partial(self._stored, update.update_id),
            **extra,
        )

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_chat is None:
            return
        now = self.clock.now()
        event: Input
        if message.text is not None:
            command = parse_command(message.text, now)
            event = command if command is not None else TextReceived(message.text, now)
        else:
            event = MediaReceived(
                _media_kind(message), now, caption=message.caption, file=_media_file(message)
            )
        inbound = self._inbound(update, event, reply_to=_reply_to_bot(message))
        await self.pipeline.handle(inbound, turn=_TURN.get())

    async def _on_edit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # An edited message is screened like new text (a crisis phrase may be added later),
        # but it does not answer the question twice: the person gets a kind note instead.
        message = update.effective_message
        if message is None or update.effective_chat is None:
            return
        event = MediaReceived("edited", self.clock.now(), caption=message.text or message.caption)
        await self.pipeline.handle(self._inbound(update, event, edited=True), turn=_TURN.get())

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        if query.data is None or update.effective_chat is None:
            await self._answer(query)
            return
        pressed = ButtonPressed(query.data, self.clock.now())
        message = query.message
        replies = None
        if isinstance(message, Message):
            replies = partial(
                self.channel.replying_to,
                message.chat_id,
                message.message_id,
                partial(self._retire_pressed, query),
            )
        inbound = self._inbound(
            update, pressed, acknowledge=partial(self._answer, query), replies=replies
        )
        await self.pipeline.handle(inbound, turn=_TURN.get())

    async def _answer(self, query: CallbackQuery) -> None:
        await answer_query(query)

    async def _retire_pressed(self, query: CallbackQuery) -> None:
        message = query.message
        if not isinstance(message, Message):
            return
        label = None
        markup = message.reply_markup
        if markup is not None:
            for row in markup.inline_keyboard:
                for button in row:
                    if button.callback_data == query.data:
                        label = button.text
        try:
            if message.text and label is not None and len(message.text) + len(label) < 4000:
                await message.edit_text(f"{message.text}\n\n✓ {label}", reply_markup=None)
            else:
                await message.edit_reply_markup(reply_markup=None)
        except BadRequest:
            # Already edited by an earlier press: the engine will call this button stale.
            pass
        except TelegramError as error:
            log.info("could not retire pressed message error=%s", type(error).__name__)

    async def _on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = update.my_chat_member
        if member is None:
            return
        if member.new_chat_member.status in ("kicked", "left"):
            log.info("bot blocked chat=%s", member.chat.id)
            self.channel.blocked.add(member.chat.id)
            if self.on_blocked is not None:
                await self.on_blocked(member.chat.id)
        elif member.new_chat_member.status == "member":
            # Also after a restart, when this process never saw the block: marking reachable
            # is idempotent.
            log.info("bot unblocked chat=%s", member.chat.id)
            self.channel.blocked.discard(member.chat.id)
            if self.on_unblocked is not None:
                await self.on_unblocked(member.chat.id)

    async def _forbidden(self, chat_id: int) -> None:
        if self.on_blocked is not None:
            await self.on_blocked(chat_id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error("telegram handler failed error=%s", type(error).__name__)

    # --- webhook --------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        expected = (self.webhook_secret or "").encode()
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(given, expected):
            raise web.HTTPUnauthorized()
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest() from None
        update = parse_update(data, self.application.bot)
        if update is None:
            # Not an update: 4xx, never a 500 with a traceback (bot.web.limits).
            raise web.HTTPBadRequest()
        # Stored before the 200: after that Telegram forgets it. A database that does not take
        # it answers 503, and Telegram delivers it again later.
        # Handed over at once (the screen waits for nothing); handled once stored. A copy
        # already here (Telegram retrying) is not handed over twice.
        self._hand_over([update])
        try:
            async with asyncio.timeout(HOLD_TIMEOUT):
                new = await self.inbox.hold([(update, data)])
        except Exception as error:
            # The copy handed over waits a while for a retry that stores it.
            log.error("webhook update not stored error=%s", type(error).__name__)
            raise web.HTTPServiceUnavailable(headers={"Retry-After": "5"}) from None
        self._took(update, update in new)
        return web.Response(text="ok")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self.webhook)
        app.setdefault(AUTHENTICATED_KEY, []).append(self._from_telegram)

    def _from_telegram(self, request: web.Request) -> bool:
        """A webhook delivery that carries our secret token (not limited per address)."""
        expected = (self.webhook_secret or "").encode()
        given = request.headers.get(SECRET_HEADER, "").encode()
        return (
            request.path == WEBHOOK_PATH and bool(expected) and hmac.compare_digest(given, expected)
        )
