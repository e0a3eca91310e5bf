"""Offline fakes for tests.

Rules of this package:

* Nothing in here talks to the internet; every fake listens on 127.0.0.1 only.
* The fakes validate what the code under test sends them and record every deviation as a
  violation instead of silently accepting it; a test fails when violations are left over.
* The Telegram Bot API specification is read at run time from ``/work/shared/telegram``
  (``botapi-10.0.json``); it is never copied into the project. When it is absent, a small
  built-in table covering the emulated methods is used instead.
"""

from .bot_api import (
    Call,
    FakeBotApi,
    SentDocument,
    SentMessage,
    Violation,
    WebhookState,
    fake_bot_api,
)
from .spec import BotApiSpec, Problem, UploadedFile, load_spec

__all__ = [
    "BotApiSpec",
    "Call",
    "FakeBotApi",
    "Problem",
    "SentDocument",
    "SentMessage",
    "UploadedFile",
    "Violation",
    "WebhookState",
    "fake_bot_api",
    "load_spec",
]
