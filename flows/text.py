"""Text by reference.

The engine never holds a translated sentence. It says *which* message and *with what values*;
``bot/i18n.py`` renders it in the person's language. A parameter may itself be a :class:`Msg`
(a domain label inside a question) so that it is translated too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from flows.ids import MessageId

Param = Union[str, int, "Msg", "Verbatim"]


@dataclass(frozen=True)
class Verbatim:
    """Text the young person or a coach typed: shown as is, never translated."""

    text: str


@dataclass(frozen=True)
class Msg:
    id: MessageId
    params: tuple[tuple[str, Param], ...] = ()

    def param(self, name: str) -> Param | None:
        for key, value in self.params:
            if key == name:
                return value
        return None


def msg(message_id: str, **params: Param) -> Msg:
    """Shorthand used by flow definitions: ``msg("intake.age.ask")``."""
    return Msg(MessageId(message_id), tuple(sorted(params.items())))
