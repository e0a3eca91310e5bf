"""An input as a channel received it, before the conversation service sees it.

Rules: a channel hands every private input to its :data:`InboundRouter` first (the coach desk);
when the router returns ``True`` the input was handled and the young person's conversation
never sees it. The router gets ids and the text of the replied-to message, never channel
objects, so it does not depend on Telegram.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from flows.ids import PersonId
from flows.inputs import Input


@dataclass(frozen=True)
class Inbound:
    person: PersonId
    event: Input
    language_hint: str | None = None
    reply_to: str | None = None
    """The text of the bot's message this one replies to (a coach answering a case message)."""
    edited: bool = False
    """An edit of an earlier message, not a new one."""


InboundRouter = Callable[[Inbound], Awaitable[bool]]
"""Handles an input that is not for the young person's conversation; ``True`` when handled."""
