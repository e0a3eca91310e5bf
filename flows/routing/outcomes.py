"""How a case ends, in the words reporting uses: one list for the close buttons in Telegram,
the dashboard and the anonymous counts.

Rules of this module:

* Pure data. The ids are stored (``cases.outcome``; ``storage.routing_port.CaseOutcome`` must equal
  :data:`OUTCOMES`, a test checks it) and counted as ``cases.closed.<id>``; a coach reads
  ``coach.outcome.<id>``.
* The order is the order of the buttons: the outcomes ESF and Europa WSE reporting ask about
  first (work, training, referred, not reached, still ongoing), then stopped and other.
* :data:`REPORTING` names each outcome's reporting category, so an export needs no mapping of
  its own.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["OUTCOMES", "REPORTING", "Outcome", "is_outcome"]

Outcome = Literal["work", "training", "referred", "not_reached", "ongoing", "stopped", "other"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

REPORTING: dict[Outcome, str] = {
    "work": "werk",
    "training": "opleiding",
    "referred": "doorverwezen",
    "not_reached": "niet bereikt",
    "ongoing": "lopend",
    "stopped": "gestopt",
    "other": "andere",
}


def is_outcome(value: str) -> bool:
    return value in OUTCOMES
