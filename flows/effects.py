"""Effects: what the engine asks the outside world to do.

``bot/service.py`` applies them in order after the new session is saved. They carry ids and
message references, never rendered text, so they can be logged and queued safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.ids import ReminderKey
from flows.text import Msg, Verbatim


@dataclass(frozen=True)
class Button:
    """``value`` comes back as :class:`flows.inputs.ButtonPressed` (at most 48 bytes, so that a
    channel prefix still fits Telegram's 64-byte ``callback_data``)."""

    label: Msg
    value: str


Keyboard = tuple[tuple[Button, ...], ...]
Part = Msg | Verbatim


@dataclass(frozen=True)
class SendMessage:
    """One chat bubble: the parts are joined with a blank line.

    ``prompt`` marks the question the person should answer now; a channel removes the buttons of
    an earlier prompt so an old button cannot be pressed into a wrong state.
    """

    parts: tuple[Part, ...]
    buttons: Keyboard = ()
    prompt: bool = False


@dataclass(frozen=True)
class SendCrisisHelp:
    """The crisis response (help lines open now, one next step). ``bot/`` renders it because
    which chat lines are open depends on configured hours."""

    category: str | None = None


@dataclass(frozen=True)
class ScheduleReminder:
    """Create or replace the person's reminder with this key. ``bot/`` stores it as a row with
    the session's new version; a reminder whose session moved on is ignored when due."""

    key: ReminderKey
    due_at: datetime


@dataclass(frozen=True)
class CancelReminders:
    """Cancel the person's pending reminders whose key starts with ``prefix``."""

    prefix: str


@dataclass(frozen=True)
class LanguageChanged:
    """The person chose a language: channels refresh what they localise (commands menu)."""

    language: str


@dataclass(frozen=True)
class RecordConsent:
    """A consent given or refused, kept with the notice version (privacy)."""

    category: str
    given: bool
    notice_version: str
    at: datetime


@dataclass(frozen=True)
class SubmitIntake:
    """The young person pressed "Verstuur": hand the answers over for routing."""

    at: datetime


@dataclass(frozen=True)
class Discard:
    """Keep nothing of this person (e.g. under 18): delete the session after sending."""


Effect = (
    SendMessage
    | SendCrisisHelp
    | ScheduleReminder
    | CancelReminders
    | LanguageChanged
    | RecordConsent
    | SubmitIntake
    | Discard
)
