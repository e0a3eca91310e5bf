"""A traceback in the logs never prints the bot token (issue #16): PTB's ``InvalidToken``
quotes it, and the filter cleans the formatted traceback as well as the message."""

from __future__ import annotations

import io
import logging

from bot.logs import RedactTokens

TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def formatted(record_error: BaseException, secrets: tuple[str, ...] = ()) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactTokens(secrets))
    logger = logging.getLogger("tests.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    try:
        raise record_error
    except BaseException:
        logger.error("start failed", exc_info=True)
    return out.getvalue()


def test_a_traceback_quoting_the_token_is_redacted() -> None:
    text = formatted(RuntimeError(f"The token `{TOKEN}` was rejected by the server."))
    assert "Traceback" in text and "was rejected" in text
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text


def test_a_configured_secret_is_redacted_in_a_traceback_too() -> None:
    secret = "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy0hIQ"
    text = formatted(ValueError(f"bad key {secret}"), (secret,))
    assert secret not in text and "[redacted]" in text
