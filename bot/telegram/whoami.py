"""Asking the Bot API who the bot is: its @username, for coach invite links.

Rules: requests go to ``{TELEGRAM_API_URL}/bot{token}/getMe`` like every other request, so the
fake Bot API answers in tests; the token is never part of an error or a log line.
"""

from __future__ import annotations

from telegram import Bot
from telegram.error import TelegramError


class BotIdentityError(RuntimeError):
    """getMe failed; the message names the error type only."""


async def fetch_bot_username(token: str, api_url: str) -> str:
    root = api_url.rstrip("/")
    bot = Bot(token, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot")
    try:
        async with bot:
            me = await bot.get_me()
    except TelegramError as error:
        raise BotIdentityError(f"getMe failed ({type(error).__name__})") from None
    if not me.username:
        raise BotIdentityError("getMe returned no username")
    return me.username
