"""Rendering the crisis response: the service's :class:`bot.service.CrisisResponder`.

Rules of this module:

* What to say is decided in :mod:`flows.safety.response` (pure); the renderer
  (:meth:`bot.render.Renderer.crisis`, the one place that renders) puts it in the person's
  language (``locales/<lang>/LC_MESSAGES/safety.po``) and lays it out: short paragraphs, the
  phone numbers one per line. This module picks what to render and when.
* Every message to the young person is ``crisis=True``: channels send it past rate limits and
  quiet hours.
* Sync and without I/O: :meth:`HelpLineResponder.messages` runs before the database is touched.
  Raising the alert is delegated to the safety net (:mod:`bot.safety.alerts`) once it is
  attached; without it the response still goes out.
* :func:`message_ids` lists every id this feature can render, so the catalog test can hold
  ``safety.po`` complete and free of stale entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time

from bot.i18n import Translator
from bot.render import Renderer
from bot.service import OutgoingMessage
from flows.effects import Button
from flows.ids import PersonId
from flows.safety.helplines import HelpLines
from flows.safety.response import check_question, crisis_response, day_and_night_options
from flows.text import Msg, msg

FollowUp = Literal["alerted_now", "alerted_later", "nobody", "talk_nobody"]

# Ids rendered here or in bot/safety/alerts.py (the composer's ids come from CrisisResponse).
FOLLOW_UP_IDS = frozenset(
    {
        "safety.alerted.now",
        "safety.alerted.later",
        "safety.nobody",
        "safety.talk.nobody",
        "safety.meanwhile",
        # The hint that brings the persistent help button in Telegram (bot/telegram/).
        "safety.button.hint",
    }
)
ALERT_IDS = frozenset(
    {
        "safety.alert",
        "safety.alert.again",
        "safety.alert.new_category",
        "safety.alert.check_no",
        "safety.alert.check_no_danger",
        "safety.alert.case",
        "safety.alert.escalated",
        "safety.alert.unsaved",
        "safety.alert.ack",
        "safety.alert.close",
        "safety.alert.acked",
        "safety.alert.taken",
        "safety.alert.closed",
        "safety.alert.not_yours",
    }
)
CATEGORY_IDS = frozenset(
    f"safety.category.{name}"
    for name in (
        "suicide",
        "overdose",
        "self_harm",
        "abuse_violence",
        "acute_danger",
        "help_request",
    )
)
# The one direct question of tier "check" (bot/safety/check.py).
CHECK_IDS = frozenset(
    {
        "safety.check.question",
        "safety.check.danger",
        "safety.check.yes",
        "safety.check.no",
        "safety.check.unsure",
        "safety.check.no_thanks",
    }
)
CHECK_ANSWERS = ("yes", "no", "unsure")


def check_value(answer: str, category: str) -> str:
    """The button value of an answer to the check question."""
    return f"safety=check:{answer}:{category}"


def parse_check(value: str) -> tuple[str, str] | None:
    """``("yes", "suicide")`` from ``check:yes:suicide`` (the part after ``safety=``)."""
    kind, _, rest = value.partition(":")
    answer, _, category = rest.partition(":")
    if kind != "check" or answer not in CHECK_ANSWERS or not category.isidentifier():
        return None
    return answer, category


# The service's own fallback, used only when no responder is configured.
FALLBACK_IDS = frozenset({"engine.help", "safety.continue"})
# The name of storage.safety.SafetyEventPart in the /mijngegevens summary (bot/privacy.py).
PRIVACY_IDS = frozenset({"privacy.part.safety_events"})


def message_ids(lines: HelpLines) -> frozenset[str]:
    """Every message id the safety net can render with these help lines."""
    composed: set[str] = set()
    probe = datetime(2026, 1, 5, 12, tzinfo=ZoneInfo(lines.timezone))
    for category in (None, "suicide", "overdose", "self_harm", "abuse_violence", "acute_danger"):
        for language in ("nl", "fr"):
            response = crisis_response(category, probe, lines, language)
            composed.update(_all_ids(response.messages))
    # Chat lines and next steps that depend on the hour: name them explicitly.
    composed.update(
        {"safety.chat.open", "safety.next.call", "safety.next.emergency", "safety.phone"}
    )
    return frozenset(
        composed
        | lines.message_ids()
        | FOLLOW_UP_IDS
        | ALERT_IDS
        | CATEGORY_IDS
        | FALLBACK_IDS
        | PRIVACY_IDS
        | CHECK_IDS
        | {f"safety.speaks.{n}" for n in range(1, 5)}
        | {f"safety.lang.{code}" for line in lines.lines for code in line.languages}
    )


def _all_ids(messages: Iterable[Msg]) -> set[str]:
    """Message ids, including those nested in parameters (the languages a line speaks)."""
    found: set[str] = set()
    stack = list(messages)
    while stack:
        message = stack.pop()
        found.add(message.id)
        stack.extend(value for _, value in message.params if isinstance(value, Msg))
    return found


class AlertRaiser(Protocol):
    async def raise_alert(
        self, person: PersonId, category: str | None, now: datetime, language: str
    ) -> None: ...


class HelpLineResponder:
    """Renders the crisis response from the help lines; raises alerts through ``alerts``."""

    def __init__(
        self,
        translator: Translator,
        lines: HelpLines,
        *,
        alerts: AlertRaiser | None = None,
    ) -> None:
        self.translator = translator
        self.lines = lines
        self.zone = ZoneInfo(lines.timezone)
        # Attached by the safety net at start-up (it needs this responder to render).
        self.alerts = alerts

    # --- the service's CrisisResponder ----------------------------------------------------

    def messages(self, category: str | None, now: datetime, language: str) -> list[OutgoingMessage]:
        response = crisis_response(category, now.astimezone(self.zone), self.lines, language)
        return [self.renderer.crisis(response, language)]

    async def raise_alert(
        self, person: PersonId, category: str | None, now: datetime, language: str
    ) -> None:
        if self.alerts is not None:
            await self.alerts.raise_alert(person, category, now, language)

    # --- rendering (bot/render.py: the one place) --------------------------------------------

    @property
    def renderer(self) -> Renderer:
        return Renderer(self.translator)

    def check_question(self, category: str, language: str) -> OutgoingMessage:
        """Tier ``check``: one gentle, direct question with Ja / Nee / Ik weet het niet, about
        self-harm or, for someone else's violence or danger, about being hurt or unsafe
        (:func:`flows.safety.response.check_question`). The buttons carry the category
        (``safety=check:<answer>:<category>``), so the answer needs no stored state."""
        buttons = tuple(
            (Button(msg(f"safety.check.{answer}"), check_value(answer, category)),)
            for answer in CHECK_ANSWERS
        )
        question = [check_question(category)]
        return self.renderer.message(question, language, buttons, crisis=True)

    def check_no(self, language: str) -> OutgoingMessage:
        """After "Nee": thanks, and where help is when it does get hard."""
        thanks = [msg("safety.check.no_thanks")]
        return self.renderer.message(thanks, language, crisis=True)

    def when(self, moment: datetime, language: str) -> str:
        """ "maandag 1 december, 09:00" in the person's language and the lines' time zone."""
        local = moment.astimezone(self.zone)
        try:
            return format_datetime(local, "EEEE d MMMM, HH:mm", locale=language)
        except (ValueError, LookupError):
            return format_datetime(local, "EEEE d MMMM, HH:mm", locale="nl")

    def clock_time(self, moment: datetime, language: str) -> str:
        local = moment.astimezone(self.zone)
        try:
            return format_time(local, "HH:mm", locale=language)
        except (ValueError, LookupError):
            return local.strftime("%H:%M")

    def follow_up(
        self,
        kind: FollowUp,
        language: str,
        *,
        until: datetime | None = None,
        read_at: datetime | None = None,
        buttons: tuple[tuple[tuple[str, str], ...], ...] = (),
    ) -> OutgoingMessage:
        """What the young person is told after an alert, honestly: a person knows and reads
        it today (``until`` the end of working hours), a person reads it only at ``read_at``,
        or nobody could be alerted. The day-and-night options follow every time."""
        if kind == "alerted_now":
            if until is None:
                raise ValueError("alerted_now needs until (the end of today's working hours)")
            first = msg("safety.alerted.now", until=self.clock_time(until, language))
        elif kind == "alerted_later":
            if read_at is None:
                raise ValueError("alerted_later needs read_at (the next working hours)")
            first = msg("safety.alerted.later", when=self.when(read_at, language))
        elif kind == "talk_nobody":
            # Nobody to alert: no "meanwhile", the numbers are the way to a person now.
            lines = [msg("safety.talk.nobody"), *day_and_night_options(self.lines, language)]
            return self.renderer.paragraphs([lines], language, buttons, crisis=True)
        else:
            first = msg("safety.nobody")
        meanwhile = (msg("safety.meanwhile"), *day_and_night_options(self.lines, language))
        return self.renderer.paragraphs([(first,), meanwhile], language, buttons, crisis=True)
