"""Logging never carries a bot token, even when a library logs a request URL."""

from __future__ import annotations

import logging

import pytest

from bot.logs import RedactTokens, configure_logging

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
