"""Flood control per person: the inbound pipeline's stage between acknowledge and the turn.

Someone who sends more than :data:`LIMIT` inputs within :data:`WINDOW` (a stuck key, a paste
that arrives as fifty messages, a friend playing with the phone) is slowed down:

* **Safety first, still.** The screen stage runs before this one, for every message: a crisis
  phrase inside a flood gets help at once, and ``/hulp`` always works. A button press is
  answered (the spinner stops) before this stage too.
* **One kind message, then quiet.** The first input over the limit gets ``channel.flood`` in
  the person's chosen language: their last messages were not read, wait ten seconds, then
  send again. Further inputs of the same flood get nothing (a reply to each would be the
  flood turned around).
* **Told, not queued.** The inputs over the limit are not handled later: each one would be
  taken as the answer to whatever question is current by then, so fifty queued messages
  would race through the intake with answers the person never meant for those questions, and
  their replies would bury the one that matters. A person expects what a busy person at a
  desk does: "slow down, I missed that, say it again". So the message says plainly that their
  last messages were not read, and nothing is lost silently.
* The limit is twice what a person can mean: someone tapping through button questions at a
  tap a second is never slowed down, a paste or a stuck key is.
* Every arrival counts, handled or not: someone who keeps sending as fast stays slowed down;
  after :data:`WINDOW` without a message everything is handled again.
* Not counted: button presses (answers to our own questions: the keyboard bounds them, a
  stale press is ignored, and a fast tapper going through the intake is never slowed down),
  the reminder tick's inputs and the team's chats (coaches). What reaches the
  team is bounded by this stage too: the coach relay forwards only inputs handled here, and a
  safety alert is one per safety event (``bot.safety.alerts``), however many messages flag.

Counts are per process and in memory (bounded, least recently seen forgotten first): a
restart forgets them, which errs on the side of reading.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from bot.inbound import Inbound
from flows.ids import PersonId
from flows.inputs import ButtonPressed, ReminderDue
from flows.text import msg

if TYPE_CHECKING:
    from bot.pipeline import Pipeline

log = logging.getLogger(__name__)
LIMIT = 20
WINDOW = timedelta(seconds=10)
MAX_REMEMBERED = 50_000


class Verdict(Enum):
    HANDLE = "handle"
    NOTICE = "notice"
    """Over the limit for the first time in this flood: tell the person."""
    DROP = "drop"


@dataclass
class _Pace:
    arrivals: deque[datetime]
    told: bool = False


@dataclass
class FloodGate:
    """Counts each person's inputs in a sliding window (:data:`LIMIT` per :data:`WINDOW`)."""

    limit: int = LIMIT
    window: timedelta = WINDOW
    remembered: int = MAX_REMEMBERED
    _paces: OrderedDict[PersonId, _Pace] = field(default_factory=OrderedDict)

    def verdict(self, person: PersonId, now: datetime) -> Verdict:
        pace = self._paces.get(person)
        if pace is None:
            pace = _Pace(deque(maxlen=self.limit))
            self._paces[person] = pace
            while len(self._paces) > self.remembered:
                self._paces.popitem(last=False)
        self._paces.move_to_end(person)
        arrivals = pace.arrivals
        while arrivals and now - arrivals[0] >= self.window:
            arrivals.popleft()
        over = len(arrivals) >= self.limit
        arrivals.append(now)
        if not over:
            pace.told = False
            return Verdict.HANDLE
        if pace.told:
            return Verdict.DROP
        pace.told = True
        return Verdict.NOTICE

    async def admit(self, pipeline: Pipeline, inbound: Inbound) -> bool:
        """``True``: handle the input; ``False``: it was over the limit (the person was told)."""
        person = inbound.person
        if isinstance(inbound.event, ReminderDue | ButtonPressed) or pipeline.is_team(person):
            return True
        service = pipeline.service
        verdict = self.verdict(person, service.clock.now())
        if verdict is Verdict.HANDLE:
            return True
        log.info("flood person=%s verdict=%s", person, verdict.value)
        if verdict is Verdict.NOTICE:
            language = await pipeline.language_of(person, inbound.language_hint)
            notice = service.renderer.message([msg("channel.flood")], language)
            try:
                await service.deliver(person, [notice])
            except Exception as error:
                log.info("flood notice failed person=%s error=%s", person, type(error).__name__)
        return False
