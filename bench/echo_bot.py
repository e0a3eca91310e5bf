"""The anchor: a minimal python-telegram-bot echo bot, run against the same fake Bot API.

Run: ``python -m bench.echo_bot API_ROOT TOKEN``. It answers a text with the same text and a
button press with ``answerCallbackQuery`` plus an edit, in long polling, with PTB's defaults
(``concurrent_updates`` on, as a production bot would have it): the floor the full service is
compared with.
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(f"✓ {query.data}")


def main() -> None:
    root, token = sys.argv[1].rstrip("/"), sys.argv[2]
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .concurrent_updates(True)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    app.run_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)


if __name__ == "__main__":
    main()
