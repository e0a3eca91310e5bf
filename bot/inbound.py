"""An input as a channel received it, before the inbound pipeline (:mod:`bot.pipeline`) sees it.

Rules: a channel turns what it received into one :class:`Inbound` and hands it to
``Pipeline.handle``; everything else (screening, answering a button press, dedupe, routing) is
the pipeline's. An ``Inbound`` carries ids, the input and a few channel callbacks, never channel
objects, so nothing behind the pipeline depends on Telegram.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from flows.ids import PersonId
from flows.inputs import Input

Acknowledge = Callable[[], Awaitable[None]]
"""Answers a button press on the channel (Telegram's ``answerCallbackQuery``)."""
Stored = Callable[[], Awaitable[bool]]
"""Waits until the channel stored the input durably (the durable inbox); ``False``: not to be
handled here (handled or pending already, or not stored, so the channel gets it again)."""
ReplyScope = Callable[[], AbstractAsyncContextManager[None]]
"""Entered around the route stage: the channel's context for the replies to this input (in
Telegram: the pressed message may be edited into the next question)."""


@dataclass(frozen=True)
class Inbound:
    person: PersonId
    event: Input
    language_hint: str | None = None
    reply_to: str | None = None
    """The text of the bot's message this one replies to (a coach answering a case message)."""
    edited: bool = False
    """An edit of an earlier message, not a new one."""
    screened: bool = False
    """Screened already: a held answer the young person said "Nee" about (tier "check"),
    handed on to their flow by the pipeline itself. The screen stage lets it pass."""
    key: str | None = None
    """The channel's id of this delivery (``telegram:<update_id>``): the same key is handled
    once. ``None``: the channel does not redeliver (the web chat answers the request)."""
    acknowledge: Acknowledge | None = None
    replies: ReplyScope | None = None
    stored: Stored | None = None
    """Awaited in the person's turn before the dedupe stage, never before the screen: a crisis
    reply does not wait for the database."""
