"""The crisis response, composed from the help lines (pure).

Rules of this module (practice at crisis services, ``domain.md`` §4):

* Short and warm; the bot says it is a bot. Message ids and parameters only: ``bot/`` renders
  them in the person's language (``locales/<lang>/LC_MESSAGES/safety.po``).
* Always a way to reach a person day and night: every line for everyone that is open 24/7
  (1813, 106) and the emergency number (112). Lines for one category are added for that
  category only (1712 for violence or abuse), without a claim about hours nobody verified.
* A chat line only while it is open *and* its hours are verified.
* One clear next step: the first line of ``next_step`` for the category that is reachable now.
* Two buttons: "Ik wil met iemand praten" (a person of the team is alerted, and the young
  person is told honestly when they will read it) and the way back to the questions.
* ``now_local`` is the wall-clock time in the help lines' time zone; ``bot/`` converts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.effects import Button, Keyboard
from flows.safety.helplines import HELP, HelpLine, HelpLines
from flows.text import Msg, msg

__all__ = [
    "CONTINUE",
    "TALK",
    "CrisisResponse",
    "crisis_response",
    "day_and_night_options",
    "next_step",
]

# Button values; the part before "=" is the service's safety button prefix.
CONTINUE = "safety=continue"
TALK = "safety=talk"

_ABUSE = "abuse_violence"


@dataclass(frozen=True)
class CrisisResponse:
    intro: Msg
    heading: Msg
    day_and_night: tuple[Msg, ...]
    """The lines open day and night, the emergency number last."""
    for_category: tuple[Msg, ...]
    """Lines for this category only (1712 for violence or abuse)."""
    chats: tuple[Msg, ...]
    """Chat lines open now (verified hours only)."""
    next_step: Msg
    buttons: Keyboard

    @property
    def messages(self) -> tuple[Msg, ...]:
        """Every message id in reading order (tests and catalogs)."""
        return (
            self.intro,
            self.heading,
            *self.day_and_night,
            *self.for_category,
            *self.chats,
            self.next_step,
            *(button.label for row in self.buttons for button in row),
        )


def _phone(line: HelpLine) -> Msg:
    number = line.phone or ""
    if line.emergency:
        return msg("safety.phone.emergency", number=number)
    return msg("safety.phone", number=number, name=line.name)


def day_and_night_options(lines: HelpLines) -> tuple[Msg, ...]:
    """The lines for everyone open day and night, the emergency number last: the part of the
    response that is repeated whenever the young person has to wait for a person."""
    everyone = [line for line in lines.lines if line.fits(HELP) and line.day_and_night]
    ordered = [line for line in everyone if not line.emergency] + [
        line for line in everyone if line.emergency
    ]
    return tuple(_phone(line) for line in ordered)


def next_step(category: str, now_local: datetime, lines: HelpLines) -> Msg:
    """One clear next step: call the first suggested line that is reachable now."""
    chosen = lines.next_step.get(category) or lines.next_step.get("default", ())
    for line_id in chosen:
        line = lines.line(line_id)
        if line is not None and line.reachable_at(now_local):
            if line.emergency:
                return msg("safety.next.emergency", number=line.phone or "")
            return msg("safety.next.call", number=line.phone or "", name=line.name)
    # parse_helplines guarantees a day-and-night line last; this is the belt to those braces.
    fallback = next(line for line in lines.lines if line.day_and_night and not line.emergency)
    return msg("safety.next.call", number=fallback.phone or "", name=fallback.name)


def crisis_response(category: str | None, now_local: datetime, lines: HelpLines) -> CrisisResponse:
    """The crisis response for a flagged ``category`` (``None``: /hulp or the help button)."""
    if now_local.tzinfo is None:
        raise ValueError("now_local must be an aware datetime in the help lines' time zone")
    kind = category or HELP
    if kind == _ABUSE:
        intro = msg("safety.intro.abuse")
    elif category is None:
        intro = msg("safety.intro.help")
    else:
        intro = msg("safety.intro.flagged")
    specific = tuple(
        msg(line.about, number=line.phone or "", name=line.name)
        for line in lines.lines
        if category is not None
        and kind in line.categories
        and not line.day_and_night
        and line.about is not None
        and line.phone is not None
    )
    chats = tuple(
        msg("safety.chat.open", name=line.name, url=line.chat.url)
        for line in lines.lines
        if line.chat is not None and line.fits(kind) and line.chat.offered_at(now_local)
    )
    buttons: Keyboard = (
        (Button(msg("safety.talk.button"), TALK),),
        (Button(msg("safety.continue"), CONTINUE),),
    )
    return CrisisResponse(
        intro=intro,
        heading=msg("safety.phones.heading"),
        day_and_night=day_and_night_options(lines),
        for_category=specific,
        chats=chats,
        next_step=next_step(kind, now_local, lines),
        buttons=buttons,
    )
