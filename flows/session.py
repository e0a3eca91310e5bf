"""The session: everything the engine knows about one person's conversation.

A session is a frozen value. The engine returns a new one; ``storage/`` keeps the latest. Its
``version`` grows by one on every transition that changes it, which is how a reminder scheduled
earlier can tell that the conversation has moved on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, TypeAlias

from flows.ids import FlowId, PersonId, StepId

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
Status = Literal["active", "paused", "done"]


@dataclass(frozen=True)
class Session:
    person: PersonId
    flow: FlowId
    step: StepId | None
    language: str
    started_at: datetime
    updated_at: datetime
    status: Status = "active"
    version: int = 0
    # Answers by key. Never mutate: the engine builds a new dict for every change.
    answers: Mapping[str, JsonValue] = field(default_factory=dict)
    # Steps answered so far, most recent last: "terug" pops from here.
    history: tuple[StepId, ...] = ()
    # While editing from the summary, the step to return to after the answer.
    return_to: StepId | None = None
    # The step interrupted by an engine step such as the language picker or the resume offer.
    interrupted: StepId | None = None
    # How many nudges were sent since the last input (at most two, then silence).
    nudges: int = 0

    def answer(self, key: str) -> JsonValue:
        return self.answers.get(key)

    def with_answers(self, **changes: JsonValue) -> Session:
        merged = dict(self.answers)
        merged.update(changes)
        return replace(self, answers=merged)

    def without_answers(self, *keys: str) -> Session:
        return replace(self, answers={k: v for k, v in self.answers.items() if k not in keys})
