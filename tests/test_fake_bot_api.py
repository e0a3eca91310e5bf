"""Tests of the offline fake Telegram Bot API (tests/fakes/bot_api.py, tests/fakes/spec.py).

Rules of this module:

* A real python-telegram-bot 22.8 ``Application`` drives the fake in polling mode wherever
  PTB's behaviour matters; raw aiohttp requests are used to send what PTB would never send.
* Tests that provoke violations on purpose take them with ``take_violations()``, so that the
  ``fake_bot_api`` fixture (which fails a test with leftover violations) stays quiet.
* Nothing leaves 127.0.0.1; the whole module runs in well under 15 seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.helpers import escape_markdown

from tests.fakes.bot_api import FakeBotApi, fake_bot_api
from tests.fakes.spec import (
    SPEC_DIR,
    SPEC_FILE,
    builtin_spec,
    load_spec,
    parse_html,
    parse_markdown_v2,
)

__all__ = ["fake_bot_api"]  # the fixture is used by name below

CHAT = 4242
JSONDict = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# a tiny bot


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(
        f"<b>Echo</b>: {message.text}",
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("OK", callback_data="ok")],
                [InlineKeyboardButton("Stil", callback_data="silent")],
            ]
        ),
    )


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if query.data == "silent":
        return  # a buggy handler: never answers
    await query.answer("Bedankt")
    await query.edit_message_text(f"Gekozen: {query.data}")


@pytest_asyncio.fixture
async def app(fake_bot_api: FakeBotApi) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    application = (
        Application.builder().base_url(fake_bot_api.base_url).token(fake_bot_api.token).build()
    )
    application.add_handler(MessageHandler(filters.TEXT, _echo))
    application.add_handler(CallbackQueryHandler(_button))
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    await application.start()
    try:
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def _post(
    fake: FakeBotApi, method: str, payload: JSONDict | None = None, *, token: str | None = None
) -> tuple[int, JSONDict]:
    url = f"{fake.api_root}/bot{token or fake.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, json=payload or {}) as r:
        return r.status, await r.json()


# ---------------------------------------------------------------------------------------------
# a real PTB application in polling mode


async def test_get_me_and_text_reply(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    assert app.bot.username == "opstap_test_bot"
    assert fake_bot_api.calls("getMe")[0].ok
    fake_bot_api.user_sends_text(CHAT, "Hallo & welkom")
    reply = await fake_bot_api.wait_for_message(CHAT, contains="Echo")
    assert reply.text == "<b>Echo</b>: Hallo & welkom"
    assert reply.plain_text == "Echo: Hallo & welkom"
    assert reply.parse_mode == "HTML"
    assert reply.entities == ({"type": "bold", "offset": 0, "length": 4},)
    assert reply.buttons() == [[("OK", "ok")], [("Stil", "silent")]]
    assert reply.message_id == 2  # the user's message was 1: ids are shared per chat
    call = await fake_bot_api.wait_for_call("sendMessage")
    assert call.params["chat_id"] == CHAT  # form-encoded "4242" decoded by the spec type
    assert call.content_type == "application/x-www-form-urlencoded"
    await fake_bot_api.wait_idle()


async def test_button_press_is_answered_and_edits_the_message(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    fake_bot_api.user_sends_text(CHAT, "kies")
    sent = await fake_bot_api.wait_for_message(CHAT, contains="Echo")
    update = fake_bot_api.user_presses_button(CHAT, sent.message_id, "ok")
    edited = await fake_bot_api.wait_for_message(CHAT, predicate=lambda m: m.edits == 1)
    assert edited.message_id == sent.message_id
    assert edited.text == "Gekozen: ok"
    assert edited.reply_markup is None  # editMessageText without markup drops the keyboard
    assert edited.history == (sent.text,)
    answer = fake_bot_api.callback_answer(update["callback_query"]["id"])
    assert answer is not None and answer["text"] == "Bedankt"
    assert fake_bot_api.unanswered_callback_queries() == []
    with pytest.raises(AssertionError, match="no button"):
        fake_bot_api.user_presses_button(CHAT, sent.message_id, "ok")  # keyboard is gone


async def test_unanswered_callback_query_is_a_violation(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    fake_bot_api.user_sends_text(CHAT, "kies")
    sent = await fake_bot_api.wait_for_message(CHAT)
    fake_bot_api.user_presses_button_text(CHAT, sent.message_id, "Stil")
    await fake_bot_api.wait_idle()
    [pending] = fake_bot_api.unanswered_callback_queries()
    assert pending["data"] == "silent"
    [violation] = fake_bot_api.finish()
    assert "never answered" in violation.reason
    fake_bot_api.take_violations()


RETRY_AFTER_WARNING = "ignore:.*retry_after.*:DeprecationWarning"


@pytest.mark.filterwarnings(RETRY_AFTER_WARNING)
async def test_rate_limit_raises_retry_after(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    fake_bot_api.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await app.bot.send_message(CHAT, "hoi")
    assert caught.value.retry_after in (3, dtm.timedelta(seconds=3))
    fake_bot_api.fail_next("sendMessage", 502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await app.bot.send_message(CHAT, "hoi")
    await app.bot.send_message(CHAT, "hoi")  # injections are used up
    assert [m.text for m in fake_bot_api.messages(CHAT)] == ["hoi"]


@pytest.mark.filterwarnings(RETRY_AFTER_WARNING)
async def test_rate_limiter_retries_after_429(fake_bot_api: FakeBotApi) -> None:
    application = (
        Application.builder()
        .base_url(fake_bot_api.base_url)
        .token(fake_bot_api.token)
        .rate_limiter(AIORateLimiter(max_retries=1))
        .build()
    )
    async with application:
        fake_bot_api.fail_next("sendMessage", 429, retry_after=1)
        await application.bot.send_message(CHAT, "na een pauze")
    statuses = [c.status for c in fake_bot_api.calls("sendMessage")]
    assert statuses == [429, 200]
    assert fake_bot_api.messages(CHAT)[0].text == "na een pauze"


async def test_blocked_chat_answers_403(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    update = fake_bot_api.user_blocks_bot(CHAT)
    parsed = Update.de_json(update, app.bot)
    assert parsed.my_chat_member is not None
    assert parsed.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match="blocked by the user"):
        await app.bot.send_message(CHAT, "hoi")
    with pytest.raises(Forbidden):
        await app.bot.send_chat_action(CHAT, "typing")
    fake_bot_api.unblock_chat(CHAT)
    await app.bot.send_message(CHAT, "weer welkom")
    fake_bot_api.fail_next("sendMessage", 403)
    with pytest.raises(Forbidden, match="blocked"):
        await app.bot.send_message(CHAT, "hoi")


async def test_slow_answer_times_out_but_is_still_processed(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    fake_bot_api.delay("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await app.bot.send_message(CHAT, "traag", read_timeout=0.1)
    # like Telegram, the server still sends it: a blind retry would duplicate the message
    await fake_bot_api.wait_for_message(CHAT, contains="traag")
    fake_bot_api.delay("sendMessage", 0)


# ---------------------------------------------------------------------------------------------
# validation (raw requests: PTB would not send these)


async def test_callback_data_over_64_bytes_is_rejected(fake_bot_api: FakeBotApi) -> None:
    def markup(data: str) -> JSONDict:
        return {"inline_keyboard": [[{"text": "x", "callback_data": data}]]}

    status, body = await _post(
        fake_bot_api,
        "sendMessage",
        {"chat_id": CHAT, "text": "a", "reply_markup": markup("ü" * 32)},
    )
    assert status == 200, body  # 64 bytes is fine
    status, body = await _post(
        fake_bot_api,
        "sendMessage",
        {"chat_id": CHAT, "text": "a", "reply_markup": markup("x" * 65)},
    )
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    [violation] = fake_bot_api.take_violations()
    assert "callback_data is 65 bytes" in violation.reason
    status, _ = await _post(
        fake_bot_api,
        "sendMessage",
        {"chat_id": CHAT, "text": "a", "reply_markup": markup("ü" * 33)},
    )
    assert status == 400  # 33 characters, but 66 bytes
    assert fake_bot_api.take_violations()
    assert len(fake_bot_api.messages(CHAT)) == 1


async def test_text_length_is_counted_after_entity_parsing(fake_bot_api: FakeBotApi) -> None:
    status, body = await _post(fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": "a" * 4097})
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    [violation] = fake_bot_api.take_violations()
    assert violation.method == "sendMessage" and "4097 characters" in violation.reason
    html = "<b>" + "a" * 4090 + "</b>&amp;&lt;&gt;&quot;&#33;x"
    status, body = await _post(
        fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": html, "parse_mode": "HTML"}
    )
    assert status == 200, body  # 4096 visible characters
    assert body["result"]["text"].endswith('&<>"!x')
    status, body = await _post(fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": "  \n"})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    assert fake_bot_api.take_violations()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("<b>x</i>", "Unmatched end tag"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'must have class "tg-spoiler"'),
        ("1 < 2", 'Unsupported start tag ""'),
    ],
)
async def test_bad_html_is_rejected(fake_bot_api: FakeBotApi, text: str, fragment: str) -> None:
    status, body = await _post(
        fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": text, "parse_mode": "HTML"}
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities: ")
    assert fragment in body["description"]
    assert fake_bot_api.take_violations()


async def test_telegram_html_is_accepted_with_entities(fake_bot_api: FakeBotApi) -> None:
    parsed = parse_html(
        '<b>vet</b> <a href="https://example.org/?a=1&amp;b=2">link</a> Tom & Jerry'
        ' <span class="tg-spoiler">geheim</span> <pre><code class="language-python">x</code></pre>'
        " <blockquote expandable>q</blockquote>"
    )
    assert parsed.text == "vet link Tom & Jerry geheim x q"
    types = [(e["type"], e.get("url") or e.get("language")) for e in parsed.entities]
    assert types == [
        ("bold", None),
        ("text_link", "https://example.org/?a=1&b=2"),
        ("spoiler", None),
        ("pre", "python"),
        ("expandable_blockquote", None),
    ]


async def test_entity_offsets_are_utf16_like_telegram(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    sent = await app.bot.send_message(CHAT, "😀 <b>vet</b> en <i>schuin</i>", parse_mode="HTML")
    assert isinstance(sent, Message)
    assert sorted(sent.parse_entities().values()) == ["schuin", "vet"]
    assert sent.text_html == "😀 <b>vet</b> en <i>schuin</i>"


@settings(max_examples=200, deadline=None, database=None)
@given(st.text())
def test_escaped_text_always_parses(text: str) -> None:
    expected = text.strip()
    assert parse_html(html.escape(text)).text == expected
    assert parse_markdown_v2(escape_markdown(text, version=2)).text == expected
    assert parse_html(f"<b>{html.escape(text)}</b>").text == expected


async def test_markdown_v2_reserved_characters(fake_bot_api: FakeBotApi) -> None:
    for text, expected in [
        ("Klaar.", 400),
        ("Klaar\\.", 200),
        ("*vet* [link](https://x.be/a.b)", 200),
    ]:
        status, body = await _post(
            fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": text, "parse_mode": "MarkdownV2"}
        )
        assert status == expected, (text, body)
    [violation] = fake_bot_api.take_violations()
    assert "reserved" in violation.reason


async def test_keyboard_shapes(fake_bot_api: FakeBotApi) -> None:
    bad_markups: list[JSONDict] = [
        {"inline_keyboard": [{"text": "not in a row", "callback_data": "x"}]},
        {"inline_keyboard": [[{"text": "no action"}]]},
        {"inline_keyboard": [[{"text": "two", "callback_data": "x", "url": "https://a.be"}]]},
        {"inline_keyboard": [[{"text": "", "callback_data": "x"}]]},
        {"inline_keyboard": [[{"text": "local", "url": "http://localhost:8080/"}]]},
        {"keyboard": [[{"request_contact": True}]]},
    ]
    for markup in bad_markups:
        status, body = await _post(
            fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": "a", "reply_markup": markup}
        )
        assert status == 400, (markup, body)
        assert fake_bot_api.take_violations(), markup
    good = {"keyboard": [[{"text": "Ja"}, {"text": "Nee"}]], "one_time_keyboard": True}
    status, _ = await _post(
        fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": "a", "reply_markup": good}
    )
    assert status == 200
    assert fake_bot_api.messages(CHAT)[0].buttons() == [[("Ja", None), ("Nee", None)]]


async def test_reply_keyboard_from_ptb_is_valid(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    markup = ReplyKeyboardMarkup([[KeyboardButton("Deel locatie", request_location=True)]])
    await app.bot.send_message(CHAT, "Waar ben je?", reply_markup=markup)
    assert fake_bot_api.messages(CHAT)[0].button_texts() == ["Deel locatie"]


async def test_unknown_method_parameter_token_and_types(fake_bot_api: FakeBotApi) -> None:
    status, body = await _post(fake_bot_api, "getMe", token="999:wrong")
    assert (status, body["description"]) == (401, "Unauthorized")
    status, body = await _post(fake_bot_api, "sendMesage", {"chat_id": CHAT, "text": "x"})
    assert (status, body["error_code"]) == (404, 404)
    status, body = await _post(
        fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": "x", "colour": "blue"}
    )
    assert status == 200  # Telegram ignores unknown parameters, but we flag them
    status, body = await _post(fake_bot_api, "sendMessage", {"chat_id": CHAT})
    assert status == 400 and "text" in body["description"]
    status, _ = await _post(fake_bot_api, "deleteMessage", {"chat_id": CHAT, "message_id": "een"})
    assert status == 400
    reasons = [str(v) for v in fake_bot_api.take_violations()]
    assert reasons[0].startswith("sendMesage: unknown Bot API method")
    assert "unknown parameter 'colour'" in reasons[1]
    assert "required field 'text' is missing" in reasons[2]
    assert "message_id must be Integer" in reasons[3]
    assert len(reasons) == 4
    # method names are case-insensitive, GET with a query string works too
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake_bot_api.method_url('sendmessage')}?chat_id=7&text=via+GET") as r,
    ):
        assert (await r.json())["result"]["text"] == "via GET"
    assert fake_bot_api.messages(7)[0].text == "via GET"


# ---------------------------------------------------------------------------------------------
# edits, deletes, callback answers


async def test_edit_errors_match_telegram(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    bot = app.bot
    sent = await bot.send_message(
        CHAT,
        "Eén",
        reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("x", callback_data="x")),
    )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Eén",
            chat_id=CHAT,
            message_id=sent.message_id,
            reply_markup=InlineKeyboardMarkup.from_button(
                InlineKeyboardButton("x", callback_data="x")
            ),
        )
    assert "would not change" in fake_bot_api.take_violations()[0].reason
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=CHAT,
            message_id=sent.message_id,
            reply_markup=InlineKeyboardMarkup.from_button(
                InlineKeyboardButton("x", callback_data="x")
            ),
        )
    assert fake_bot_api.take_violations()
    await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)
    assert fake_bot_api.messages(CHAT)[0].reply_markup is None
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("Twee", chat_id=CHAT, message_id=999)
    assert fake_bot_api.take_violations()
    assert await bot.delete_message(CHAT, sent.message_id)
    assert fake_bot_api.messages(CHAT)[0].deleted
    fake_bot_api.strict_edits = False
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)
    assert fake_bot_api.violations == []
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")
    assert "unknown callback_query_id" in fake_bot_api.take_violations()[0].reason


# ---------------------------------------------------------------------------------------------
# getUpdates and webhooks


async def test_get_updates_offsets_limit_and_long_polling(fake_bot_api: FakeBotApi) -> None:
    first = fake_bot_api.user_sends_text(CHAT, "een")["update_id"]
    fake_bot_api.user_sends_text(CHAT, "twee")
    fake_bot_api.user_sends_sticker(CHAT)
    _, body = await _post(fake_bot_api, "getUpdates", {"limit": 2})
    assert [u["update_id"] for u in body["result"]] == [first, first + 1]
    _, body = await _post(fake_bot_api, "getUpdates", {"offset": first + 1})
    assert [u["update_id"] for u in body["result"]] == [first + 1, first + 2]  # first confirmed
    _, body = await _post(fake_bot_api, "getUpdates", {"offset": -1})
    assert [u["update_id"] for u in body["result"]] == [first + 2]
    _, body = await _post(fake_bot_api, "getUpdates", {"offset": first + 3, "timeout": 0})
    assert body["result"] == []

    # A long poll that, without an update, would wait far longer than this test's deadline.
    poll = asyncio.create_task(
        _post(fake_bot_api, "getUpdates", {"offset": first + 3, "timeout": 3600})
    )
    await asyncio.sleep(0.2)
    assert not poll.done()
    fake_bot_api.user_sends_voice(CHAT)
    _, body = await asyncio.wait_for(poll, timeout=30)  # woken by the update
    assert "voice" in body["result"][0]["message"]

    await _post(
        fake_bot_api, "getUpdates", {"offset": first + 4, "allowed_updates": ["callback_query"]}
    )
    fake_bot_api.user_sends_text(CHAT, "wordt gefilterd")
    _, body = await _post(fake_bot_api, "getUpdates", {"timeout": 0})
    assert body["result"] == []
    assert fake_bot_api.pending_updates() == []


async def test_webhook_delivery_with_secret_and_retry(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    received: list[tuple[str | None, JSONDict]] = []
    answers = [500]  # the first delivery fails, the retry succeeds

    async def receive(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=answers.pop() if answers else 200)

    hook = web.Application()
    hook.router.add_post("/hook", receive)
    runner = web.AppRunner(hook)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        assert app.updater is not None
        await app.updater.stop()  # hand the updates over to the webhook
        await app.bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t-_x")
        with pytest.raises(Conflict, match="webhook is active"):
            await app.bot.get_updates()
        update = fake_bot_api.user_sends_text(CHAT, "via webhook")
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.02)
        assert [secret for secret, _ in received] == ["s3cr3t-_x", "s3cr3t-_x"]
        assert received[-1][1] == update
        state = fake_bot_api.webhook
        assert state is not None and state.url.endswith("/hook")
        assert [(d.attempt, d.status) for d in state.deliveries] == [(1, 500), (2, 200)]
        info = await app.bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert info.last_error_message is not None and "500" in info.last_error_message
        await app.bot.delete_webhook()
        assert fake_bot_api.webhook is None
        assert await app.bot.get_updates(timeout=0) == ()
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------------------------------------
# documents, commands, user input builders


async def test_send_document_multipart_is_stored(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    data = b"naam;gemeente\nAn;Gent\n"
    message = await app.bot.send_document(
        CHAT, InputFile(data, filename="export.csv"), caption="<i>Export</i>", parse_mode="HTML"
    )
    assert message.document is not None and message.document.file_name == "export.csv"
    assert message.caption == "Export"
    [doc] = fake_bot_api.documents(CHAT)
    assert (doc.filename, doc.data, doc.caption) == ("export.csv", data, "<i>Export</i>")
    [call] = fake_bot_api.calls("sendDocument")
    assert call.content_type == "multipart/form-data"
    assert fake_bot_api.messages(CHAT)[0].kind == "document"


async def test_set_my_commands_per_language(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    bot = app.bot
    await bot.set_my_commands([BotCommand("start", "Begin")])
    await bot.set_my_commands(
        [BotCommand("start", "Begin"), BotCommand("hulp", "Hulp")], language_code="nl"
    )
    await bot.set_my_commands([BotCommand("start", "Commencer")], language_code="fr")
    assert fake_bot_api.commands() == [("start", "Begin")]
    assert fake_bot_api.commands("nl") == [("start", "Begin"), ("hulp", "Hulp")]
    assert fake_bot_api.commands("fr") == [("start", "Commencer")]
    assert [c.command for c in await bot.get_my_commands(language_code="nl")] == ["start", "hulp"]
    await bot.delete_my_commands(language_code="fr")
    assert fake_bot_api.commands("fr") == []
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Begin")])
    assert "does not match" in fake_bot_api.take_violations()[0].reason


async def test_user_input_builders_parse_with_ptb(
    fake_bot_api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    bot = app.bot
    command = Update.de_json(fake_bot_api.user_sends_command(CHAT, "/start", args="abc"), bot)
    assert command.message is not None and command.message.text == "/start abc"
    assert command.message.parse_entities(["bot_command"])
    assert command.message.from_user is not None and command.message.from_user.language_code == "nl"
    photo = Update.de_json(fake_bot_api.user_sends_photo(CHAT, caption="foto"), bot)
    assert photo.message is not None and photo.message.photo and photo.message.caption == "foto"
    location = Update.de_json(fake_bot_api.user_sends_location(CHAT), bot)
    assert location.message is not None and location.message.location is not None
    sticker = Update.de_json(fake_bot_api.user_sends_sticker(CHAT, first_name="Sam"), bot)
    assert sticker.message is not None and sticker.message.sticker is not None
    voice = Update.de_json(fake_bot_api.user_sends_voice(CHAT), bot)
    assert voice.message is not None and voice.message.voice is not None
    text = fake_bot_api.user_sends_text(CHAT, "origineel", user_id=7, first_name="Lien")
    edited = Update.de_json(
        fake_bot_api.user_edits_message(CHAT, text["message"]["message_id"], "aangepast"), bot
    )
    assert edited.edited_message is not None and edited.edited_message.text == "aangepast"
    await fake_bot_api.wait_idle()  # the echo bot answers every text, edited ones included
    assert all(m.text.startswith("<b>Echo</b>") for m in fake_bot_api.messages(CHAT))


async def test_wait_for_message_timeout_explains(fake_bot_api: FakeBotApi) -> None:
    await _post(fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": "iets anders"})
    with pytest.raises(AssertionError) as caught:
        await fake_bot_api.wait_for_message(CHAT, contains="welkom", timeout=0.2)
    assert "iets anders" in str(caught.value)


async def test_a_delayed_method_answers_only_after_its_delay(
    fake_bot_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake's own wait, held until the test lets it go: no stopwatch needed.
    waits: list[float] = []
    let_go = asyncio.Event()

    async def held(seconds: float) -> None:
        waits.append(seconds)
        await let_go.wait()

    monkeypatch.setattr(fake_bot_api, "_sleep", held)
    fake_bot_api.delay("sendMessage", 0.3)
    post = asyncio.create_task(
        _post(fake_bot_api, "sendMessage", {"chat_id": CHAT, "text": "traag"})
    )
    try:
        for _ in range(1000):
            if waits:
                break
            await asyncio.sleep(0.01)
        assert waits == [0.3]
        assert not post.done() and not fake_bot_api.calls("sendMessage")[0].done
    finally:
        let_go.set()
    status, _ = await post
    assert status == 200


# ---------------------------------------------------------------------------------------------
# the spec


def test_spec_is_read_from_shared_directory_or_falls_back() -> None:
    spec = load_spec()
    if (SPEC_DIR / SPEC_FILE).exists():
        assert spec.version == "Bot API 10.0"
        assert len(spec.methods) > 100
    fallback = load_spec(Path("/nonexistent/botapi.json"))
    assert fallback.source == "built-in table"
    for candidate in (spec, builtin_spec()):
        problems = candidate.validate(
            "sendMessage",
            {
                "chat_id": 1,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "x" * 65}]]},
            },
        )
        assert [p.description for p in problems] == ["Bad Request: BUTTON_DATA_INVALID"]
        assert candidate.validate("sendMessage", {"chat_id": 1, "text": "ok"}) == []
        assert candidate.coerce("sendMessage", {"chat_id": "-100", "text": "12"}) == {
            "chat_id": -100,
            "text": "12",
        }
