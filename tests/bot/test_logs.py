"""Logging never carries a bot token, even when a library logs a request URL."""

from __future__ import annotations

import logging
from typing import cast

import pytest
from telegram import CallbackQuery
from telegram.error import BadRequest, NetworkError

from bot.logs import RedactTokens, configure_logging
from bot.telegram.app import answer_query

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_a_token_in_a_url_is_redacted() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "HTTP Request: POST %s",
        (f"https://api.telegram.org/bot{TOKEN}/getUpdates",),
        None,
    )
    RedactTokens((TOKEN,)).filter(record)
    assert TOKEN not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_httpx_is_held_at_warning(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", (TOKEN,))
    logging.getLogger("httpx").info("HTTP Request: POST https://x/bot%s/getMe", TOKEN)
    logging.getLogger("bot.test").debug("tick person=%s", "tg:1")
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert "getMe" not in err
    assert "tick person=tg:1" in err


class Query:
    """A pressed button whose answer Telegram refuses with ``error``."""

    data = "welcome=start"

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def answer(self) -> bool:
        raise self.error


async def test_a_stale_button_answer_is_logged_at_debug_other_failures_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A press replayed after a restart is too old to answer: Telegram's BadRequest for it is
    expected, so DEBUG and without the button's data; any other refusal stays at INFO."""
    stale = BadRequest("Query is too old and response timeout expired or query id is invalid")
    with caplog.at_level(logging.DEBUG, logger="bot.telegram.app"):
        await answer_query(cast(CallbackQuery, Query(stale)))
    [record] = caplog.records
    assert record.levelno == logging.DEBUG
    assert "welcome=start" not in caplog.text and "too old" in record.getMessage()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="bot.telegram.app"):
        await answer_query(cast(CallbackQuery, Query(BadRequest("Message is not modified"))))
        await answer_query(cast(CallbackQuery, Query(NetworkError("connection reset"))))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "answerCallbackQuery failed error=BadRequest"),
        (logging.INFO, "answerCallbackQuery failed error=NetworkError"),
    ]
