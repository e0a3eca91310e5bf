"""Whether a message was really handed to a channel, for work that must not be lost.

Rules: an input from a person always has its channel, and a message to someone this process
cannot reach (a coach in Telegram, from a process without a token) is logged and dropped there.
A reminder is different: it is ``sent`` only when a channel took it. The tick runs its
handlers inside :func:`strict_delivery`, where a missing channel raises :class:`NoChannel`, so
the reminder goes back to the queue for a process that has the channel. The tick's sends are
also background work (:func:`background_delivery`): under a flood limit they wait behind the
replies people are waiting for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_STRICT: ContextVar[bool] = ContextVar("strict_delivery", default=False)
_BACKGROUND: ContextVar[bool] = ContextVar("background_delivery", default=False)
_URGENT: ContextVar[bool] = ContextVar("urgent_delivery", default=False)


class NoChannel(RuntimeError):
    """This process has no channel for the person (the message was not delivered)."""


@contextmanager
def strict_delivery() -> Iterator[None]:
    token = _STRICT.set(True)
    try:
        yield
    finally:
        _STRICT.reset(token)


def delivery_is_strict() -> bool:
    return _STRICT.get()


@contextmanager
def background_delivery() -> Iterator[None]:
    """Messages sent in this block are background work (the reminder tick): a channel with a
    flood limit lets the replies people are waiting for go first (bot.telegram.limits)."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def delivery_is_background() -> bool:
    return _BACKGROUND.get()


@contextmanager
def urgent_delivery() -> Iterator[None]:
    """Messages sent in this block are the crisis response: a channel with a flood limit sends
    them without waiting for the chat's pace (bot.telegram.limits; the overall limit, 30 a
    second, still holds, as a reply). Never paced, as ``OutgoingMessage.crisis`` promises."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


def delivery_is_urgent() -> bool:
    return _URGENT.get()
