"""Logging set-up: useful for operators, useless to an eavesdropper.

Rules: records never hold message text, answers, names or tokens. Our own code logs ids only;
as a second line of defence a filter redacts anything shaped like a bot token (and the secrets
it is given) in the message and in the traceback, and httpx (which logs request URLs, holding
the token, at INFO) is held at WARNING.
"""

from __future__ import annotations

import logging
import re

TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
NOISY = (
    "httpx",
    "httpcore",
    "apscheduler",
    "telegram.ext",
    "aiosqlite",
    "asyncio",
    "sqlalchemy.engine",
    "alembic",
)


class RedactTokens(logging.Filter):
    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return TOKEN_SHAPE.sub("[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        # A traceback quotes exception messages (PTB's InvalidToken names the token): the
        # formatter uses exc_text when it is set, so it gets the cleaned text.
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self._clean(_FORMATTER.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


_FORMATTER = logging.Formatter()


def configure_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def describe(error: BaseException) -> str:
    """An exception as its type and where it was raised, without its message: messages can
    quote what a person wrote (a parse error, a constraint on a column)."""
    frame = None
    tb = error.__traceback__
    while tb is not None:
        frame = tb
        tb = tb.tb_next
    if frame is None:
        return type(error).__name__
    code = frame.tb_frame.f_code
    return f"{type(error).__name__} at {code.co_filename.rsplit('/', 2)[-1]}:{frame.tb_lineno}"
