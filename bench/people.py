"""Simulated young people for the inbound benchmarks: they read the screen and act.

Rules of this module:

* A person looks only at what the fake Bot API shows in their chat (the last bot message and
  its buttons), the way a user would; no knowledge of the flow's step ids is built in, so the
  driver keeps working when the intake changes.
* A button press picks, with a seeded random generator, among the buttons that move on (not
  "back", not a restart or an erasure); without buttons the person types the next of a few
  plausible answers (own words, an age, a postcode, a rating).
* An action counts as answered when the bot sends or edits a message in that chat after it
  was posted; its latency runs until the last message of that reply (the chat then stays quiet
  for ``SETTLE``), both times read from the same monotonic clock in this process.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from time import monotonic

from bench.fake import BenchFake

TEXTS = ("Ik zoek werk en ik heb schulden", "21", "3010", "goed", "ja")
# A reply is complete when the chat stays quiet this long (not part of the latency).
SETTLE = 0.15
AVOID = (
    "_back",
    "restart",
    "opnieuw",
    "erase",
    "wis",
    "delete",
    "privacy",
    "stop",
    "lang",
    "safety",
    "crisis",
    "help",
)


@dataclass
class Person:
    chat: int
    rng: random.Random
    typed: int = 0
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0

    def _post(self, fake: BenchFake) -> None:
        last = fake.last_message(self.chat)
        if last is not None:
            choices = [
                data
                for row in last.buttons()
                for _, data in row
                if data is not None and not any(word in data for word in AVOID)
            ]
            if choices:
                fake.user_presses_button(self.chat, last.message_id, self.rng.choice(choices))
                return
        fake.user_sends_text(self.chat, TEXTS[self.typed % len(TEXTS)])
        self.typed += 1

    async def start(self, fake: BenchFake, within: float) -> None:
        posted = monotonic()
        fake.user_sends_command(self.chat, "start")
        await self._await(fake, posted, within)

    async def act(self, fake: BenchFake, within: float) -> bool:
        """One action and its answer; ``False`` when no answer came within ``within``."""
        posted = monotonic()
        self._post(fake)
        return await self._await(fake, posted, within)

    async def _await(self, fake: BenchFake, posted: float, within: float) -> bool:
        answered = await fake.wait_answer(self.chat, posted, within)
        if answered is None:
            self.unanswered += 1
            return False
        # The reply is the whole burst (an edit and the next question, say): wait until the
        # chat is quiet, and time the last message of it.
        last = answered
        while (more := await fake.wait_answer(self.chat, last, SETTLE)) is not None:
            last = more
        self.latencies.append(last - posted)
        return True


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
