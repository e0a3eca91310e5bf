"""Inputs: facts that happened, handed to the engine.

Channels turn Telegram updates and web chat posts into these; the scheduler turns a due
reminder row into :class:`ReminderDue`. Every input carries the time it happened, so the engine
never reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from flows.ids import ReminderKey, StepId
from flows.session import JsonValue


@dataclass(frozen=True)
class TextReceived:
    text: str
    at: datetime


@dataclass(frozen=True)
class ButtonPressed:
    """A button from :class:`flows.effects.SendMessage` was pressed; ``value`` is its value."""

    value: str
    at: datetime


@dataclass(frozen=True)
class CommandReceived:
    """A slash command such as ``/stop``; ``name`` without the slash, lower case."""

    name: str
    args: str
    at: datetime


MediaKind = Literal[
    "sticker",
    "photo",
    "voice",
    "video",
    "audio",
    "document",
    "location",
    "contact",
    "edited",
    "other",
]


@dataclass(frozen=True)
class FileRef:
    """A file the channel can fetch later (Telegram's ``file_id``), with what the sender's app
    said about it; never its name."""

    id: str
    size: int | None = None
    mime: str | None = None


@dataclass(frozen=True)
class MediaReceived:
    """Anything that is not text. A caption, when present, is screened like text by ``bot/``.
    ``file``: a photo, document or voice note the channel can fetch (the relay passes it on)."""

    kind: MediaKind
    at: datetime
    caption: str | None = None
    file: FileRef | None = None


@dataclass(frozen=True)
class ReminderDue:
    """A reminder row fell due. ``session_version`` is the session version that scheduled it:
    when the session has moved on since, the engine ignores the reminder (goflow's rule)."""

    key: ReminderKey
    session_version: int
    at: datetime


@dataclass(frozen=True)
class ConsentScope:
    """What one consent covers in a session: the flow's answer that holds "yes"/"no", the
    answers kept only with it, list answers from which some values go, and the questions only
    asked with it (:data:`flows.consent.CATEGORIES` declares one per category)."""

    answer: str
    dependent_answers: frozenset[str]
    dependent_values: Mapping[str, frozenset[str]]
    dependent_steps: frozenset[StepId]


@dataclass(frozen=True)
class ConsentChanged:
    """A consent given or withdrawn outside the flow (the ``/privacy`` buttons). The engine
    makes the session follow: the flow's answer becomes "yes" or "no"; a withdrawal drops what
    depends on the consent and moves an open question that needs it on, as after a skip."""

    scope: ConsentScope
    given: bool
    at: datetime


@dataclass(frozen=True)
class LinkFollowed:
    """``/start`` through a partner's referral link (``bot/referral``). The engine handles it as
    ``/start`` (the welcome, or "continue?") and, when a question is open afterwards, records
    ``answers`` (the link's, :func:`flows.intake.flow.referral_answers`): the flow offers them
    later (the intake's place question offers the link's partnership in one tap)."""

    answers: Mapping[str, JsonValue]
    at: datetime


@dataclass(frozen=True)
class ConnectedToCoach:
    """The person accepted a coach's personal invitation (``bot/referral``) and is connected
    to that coach: the flow is done, in every state. The answers given so far are kept (the
    coach's case has them), the nudges stop, and what the person writes next goes to the
    coach (the after-flow hooks)."""

    at: datetime


Input = (
    TextReceived
    | ButtonPressed
    | CommandReceived
    | MediaReceived
    | ReminderDue
    | ConsentChanged
    | LinkFollowed
    | ConnectedToCoach
)
