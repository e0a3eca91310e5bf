"""The crisis response, composed from the help lines (pure).

Rules of this module (practice at crisis services, ``domain.md`` §4):

* Short and warm; the bot says it is a bot. Message ids and parameters only: ``bot/`` renders
  them in the person's language (``locales/<lang>/LC_MESSAGES/safety.po``).
* The right help first: the lines ``first`` names for the category come before all others
  (an overdose or poisoning already taken: 112 and the Antigifcentrum; violence or abuse: 1712;
  suicide: 1813), and "in danger right now? call 112" for the ``danger_now`` categories.
* Always a way to reach a person day and night: every line for everyone that is open 24/7
  (1813, 106) and the emergency number (112). Lines for one category are added for that
  category only (1712 for violence or abuse), without a claim about hours nobody verified.
* Every line says which languages it speaks; lines ``for_speakers`` of the person's language
  (French-language lines for French speakers) are added for them only.
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
    "check_no_signal",
    "check_question",
    "crisis_response",
    "day_and_night_options",
    "next_step",
]

# Button values; the part before "=" is the service's safety button prefix.
CONTINUE = "safety=continue"
TALK = "safety=talk"

_ABUSE = "abuse_violence"
_OVERDOSE = "overdose"
# The check tier's question fits what was found.  Issue #13 names "denk je eraan om jezelf iets
# aan te doen?" for indirect wishes to die, and it fits self-harm and pills too; after a hint of
# someone else's violence or of danger ("hij laat me niet meer buiten", "ik ben bang voor mijn
# huisbaas") that question misses what they said, so the bot asks whether someone hurts them
# or they are unsafe.  Ja / Nee / Ik weet het niet mean the same either way.
_ABOUT_OTHERS = frozenset({_ABUSE, "acute_danger"})


@dataclass(frozen=True)
class CrisisResponse:
    intro: Msg
    first: tuple[Msg, ...]
    """The lines for this situation, before everything else."""
    danger_now: Msg | None
    """"In danger right now? Call 112." where the category asks for it."""
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
            *self.first,
            *((self.danger_now,) if self.danger_now is not None else ()),
            self.heading,
            *self.day_and_night,
            *self.for_category,
            *self.chats,
            self.next_step,
            *(button.label for row in self.buttons for button in row),
        )


_MAX_LANGUAGES = 4


def check_question(category: str) -> Msg:
    """The one direct question of tier "check" for the category the screen found."""
    return msg("safety.check.danger" if category in _ABOUT_OTHERS else "safety.check.question")


def check_no_signal(category: str, label: str, time: str) -> Msg:
    """The team's low-level signal after "Nee": it names the question that was answered."""
    about = "safety.alert.check_no_danger" if category in _ABOUT_OTHERS else "safety.alert.check_no"
    return msg(about, category=label, time=time)


def speaks(line: HelpLine) -> Msg:
    """ "Nederlands, Frans" as message ids: ``safety.speaks.<n>`` with ``safety.lang.<code>``."""
    codes = line.languages[:_MAX_LANGUAGES]
    names = {f"l{i}": msg(f"safety.lang.{code}") for i, code in enumerate(codes, start=1)}
    count = len(codes)
    return msg(f"safety.speaks.{count}", **names)


def _phone(line: HelpLine) -> Msg:
    number = line.phone or ""
    if line.emergency:
        return msg("safety.phone.emergency", number=number, languages=speaks(line))
    return msg("safety.phone", number=number, name=line.name, languages=speaks(line))


def day_and_night_options(
    lines: HelpLines, language: str = "nl", skip: frozenset[str] = frozenset()
) -> tuple[Msg, ...]:
    """The lines for everyone open day and night, the emergency number last: the part of the
    response that is repeated whenever the young person has to wait for a person.  Lines for
    speakers of ``language`` come first; ``skip``: line ids already shown."""
    everyone = [
        line
        for line in lines.lines
        if line.fits(HELP)
        and line.day_and_night
        and line.offered_to(language)
        and line.id not in skip
    ]
    own = [line for line in everyone if line.for_speakers and not line.emergency]
    rest = [line for line in everyone if not line.for_speakers and not line.emergency]
    ordered = own + rest + [line for line in everyone if line.emergency]
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


def _first_line(line: HelpLine) -> Msg:
    """A line shown first: its number, and what it is for when its hours are not known."""
    if line.emergency or line.day_and_night or line.about is None:
        return _phone(line)
    return msg(line.about, number=line.phone or "", name=line.name, languages=speaks(line))


def crisis_response(
    category: str | None, now_local: datetime, lines: HelpLines, language: str = "nl"
) -> CrisisResponse:
    """The crisis response for a flagged ``category`` (``None``: /hulp or the help button),
    for a person who chose ``language``."""
    if now_local.tzinfo is None:
        raise ValueError("now_local must be an aware datetime in the help lines' time zone")
    kind = category or HELP
    if kind == _ABUSE:
        intro = msg("safety.intro.abuse")
    elif kind == _OVERDOSE:
        intro = msg("safety.intro.overdose")
    elif category is None:
        intro = msg("safety.intro.help")
    else:
        intro = msg("safety.intro.flagged")
    first_lines = [
        line
        for line_id in (lines.first.get(kind, ()) if category is not None else ())
        if (line := lines.line(line_id)) is not None and line.offered_to(language)
    ]
    shown = frozenset(line.id for line in first_lines)
    emergency = next((line for line in lines.lines if line.emergency), None)
    danger_now = None
    if (
        category is not None
        and kind in lines.danger_now
        and emergency is not None
        and emergency.id not in shown
    ):
        danger_now = msg("safety.danger_now", number=emergency.phone or "")
        shown = shown | {emergency.id}
    specific = tuple(
        _first_line(line)
        for line in lines.lines
        if category is not None
        and kind in line.categories
        and not line.day_and_night
        and line.about is not None
        and line.phone is not None
        and line.offered_to(language)
        and line.id not in shown
    )
    chats = tuple(
        msg("safety.chat.open", name=line.name, url=line.chat.url)
        for line in lines.lines
        if line.chat is not None
        and line.fits(kind)
        and line.chat.offered_at(now_local)
        and line.offered_to(language)
    )
    buttons: Keyboard = (
        (Button(msg("safety.talk.button"), TALK),),
        (Button(msg("safety.continue"), CONTINUE),),
    )
    return CrisisResponse(
        intro=intro,
        first=tuple(_first_line(line) for line in first_lines),
        danger_now=danger_now,
        heading=msg("safety.phones.heading"),
        day_and_night=day_and_night_options(lines, language, shown),
        for_category=specific,
        chats=chats,
        next_step=next_step(kind, now_local, lines),
        buttons=buttons,
    )
