"""The first small flow: greeting, one question with buttons, one free-text question, thanks.

It proves the path from a channel through the engine to storage and back. The intake flow
(:mod:`flows.intake`) is the real conversation; this one stays as the smallest example.
"""

from __future__ import annotations

from datetime import timedelta

from flows.engine import Flow, Parsed, Step, option
from flows.ids import FlowId, StepId
from flows.languages import CODES
from flows.session import Session
from flows.text import msg

HELLO = FlowId("hello")
LANGUAGES = CODES  # one list for all: flows/languages.py


def _name(text: str, session: Session) -> Parsed:
    # A first name or nickname: keep it short so it fits on a card.
    if len(text) > 40:
        return Parsed(error=msg("hello.name.too_long"))
    return Parsed(value=text)


FLOW = Flow(
    id=HELLO,
    first=StepId("greet"),
    languages=LANGUAGES,
    nudges=(timedelta(hours=24), timedelta(hours=72)),
    steps={
        StepId("greet"): Step(
            id=StepId("greet"),
            prompt=msg("hello.greet"),
            label=msg("hello.greet.label"),
            waits=False,
            next=StepId("mood"),
        ),
        StepId("mood"): Step(
            id=StepId("mood"),
            prompt=msg("hello.mood.ask"),
            label=msg("hello.mood.label"),
            options=(
                option("good", msg("hello.mood.good")),
                option("so_so", msg("hello.mood.so_so")),
                option("bad", msg("hello.mood.bad")),
            ),
            next=StepId("name"),
        ),
        StepId("name"): Step(
            id=StepId("name"),
            prompt=msg("hello.name.ask"),
            label=msg("hello.name.label"),
            text=_name,
            next=StepId("thanks"),
        ),
        StepId("thanks"): Step(
            id=StepId("thanks"),
            prompt=msg("hello.thanks"),
            label=msg("hello.thanks.label"),
            waits=False,
            next=None,
        ),
    },
)
