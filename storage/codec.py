"""Session <-> row: the one place that decides how a session looks at rest.

Rules of this module:

* Pure: no SQLAlchemy, no I/O. Both the SQL adapters and :mod:`storage.memory` use it, so the
  fake stores exactly what a database would (a tuple inside the answers comes back as a list).
* ``answers`` and ``history`` are JSON text. With a keyring, the columns that can say something
  about a person (:data:`ENCRYPTED_SESSION_COLUMNS`: the answers, and the step ids, which can
  name a sensitive domain) are encrypted here, with ``sessions.<column>`` as associated data
  (:mod:`storage.crypto`); without one they are stored as plaintext.
* Every datetime at rest is aware UTC; a naive datetime is refused (:func:`to_utc`) rather than
  guessed, because a guessed zone silently moves a reminder by an hour or two.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast, get_args

from flows.ids import FlowId, PersonId, StepId
from flows.session import JsonValue, Session, Status
from storage.crypto import Keyring, seal, seal_optional, unseal, unseal_optional

SESSION_COLUMNS = (
    "person",
    "flow",
    "step",
    "status",
    "language",
    "version",
    "started_at",
    "updated_at",
    "answers",
    "history",
    "return_to",
    "interrupted",
    "nudges",
)

_STATUSES: frozenset[str] = frozenset(get_args(Status))
SESSIONS_TABLE = "sessions"
ENCRYPTED_SESSION_COLUMNS = ("step", "return_to", "interrupted", "answers", "history")


def aad(table: str, column: str) -> str:
    """The associated data of an encrypted column: a value cannot move to another column."""
    return f"{table}.{column}"


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; refuses a naive datetime (its zone would be a guess)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("naive datetime: storage keeps aware UTC datetimes only")
    return value.astimezone(UTC)


def encode_answers(answers: Mapping[str, JsonValue]) -> str:
    # ensure_ascii=False keeps Arabic or emoji answers readable and short at rest;
    # allow_nan=False because NaN is not JSON and would not survive another reader.
    return json.dumps(dict(answers), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def decode_answers(text: str) -> dict[str, JsonValue]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("stored answers are not a JSON object")
    return cast(dict[str, JsonValue], value)


def encode_history(history: tuple[StepId, ...]) -> str:
    return json.dumps(list(history), ensure_ascii=False, separators=(",", ":"))


def decode_history(text: str) -> tuple[StepId, ...]:
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(step, str) for step in value):
        raise ValueError("stored history is not a JSON list of step ids")
    return tuple(StepId(step) for step in value)


def session_to_row(session: Session, keyring: Keyring | None = None) -> dict[str, Any]:
    """Column values for the ``sessions`` table (keys are :data:`SESSION_COLUMNS`)."""

    def sealed(column: str, value: str) -> str:
        return seal(keyring, value, aad(SESSIONS_TABLE, column))

    def sealed_optional(column: str, value: str | None) -> str | None:
        return seal_optional(keyring, value, aad(SESSIONS_TABLE, column))

    return {
        "person": session.person,
        "flow": session.flow,
        "step": sealed_optional("step", session.step),
        "status": session.status,
        "language": session.language,
        "version": session.version,
        "started_at": to_utc(session.started_at),
        "updated_at": to_utc(session.updated_at),
        "answers": sealed("answers", encode_answers(session.answers)),
        "history": sealed("history", encode_history(session.history)),
        "return_to": sealed_optional("return_to", session.return_to),
        "interrupted": sealed_optional("interrupted", session.interrupted),
        "nudges": session.nudges,
    }


def session_from_row(row: Mapping[str, Any], keyring: Keyring | None = None) -> Session:
    status = row["status"]
    if status not in _STATUSES:
        raise ValueError("stored session has an unknown status")

    def opened(column: str) -> str | None:
        value: str | None = row[column]
        return unseal_optional(keyring, value, aad(SESSIONS_TABLE, column))

    step = opened("step")
    return_to = opened("return_to")
    interrupted = opened("interrupted")
    return Session(
        person=PersonId(row["person"]),
        flow=FlowId(row["flow"]),
        step=None if step is None else StepId(step),
        language=row["language"],
        started_at=to_utc(row["started_at"]),
        updated_at=to_utc(row["updated_at"]),
        status=cast(Status, status),
        version=int(row["version"]),
        answers=decode_answers(unseal(keyring, row["answers"], aad(SESSIONS_TABLE, "answers"))),
        history=decode_history(unseal(keyring, row["history"], aad(SESSIONS_TABLE, "history"))),
        return_to=None if return_to is None else StepId(return_to),
        interrupted=None if interrupted is None else StepId(interrupted),
        nudges=int(row["nudges"]),
    )
