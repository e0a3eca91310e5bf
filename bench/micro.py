"""In-process micro benchmarks: the screener and the engine, as ratios to trivial work."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.conversations import build_flows
from bot.safety.lexicon import load_forms, load_lexicons, load_model, load_screener
from flows.engine import resume, start
from flows.ids import PersonId
from flows.inputs import ButtonPressed, TextReceived
from flows.safety import Screener
from flows.safety.classifier import Classifier


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median seconds per call over five rounds of ``repeat`` calls."""
    rounds = []
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(repeat):
            action()
        rounds.append((time.perf_counter() - began) / repeat)
    return statistics.median(rounds)


def bench_screener() -> None:
    screener = load_screener()
    short = "ik heb schulden en mijn kot is te duur, wat moet ik doen?"
    long = (short + " ") * 70
    baseline = timed(lambda: short.casefold().split(), 2000)
    per_short = timed(lambda: screener.screen(short), 500)
    per_long = timed(lambda: screener.screen(long), 20)
    print(
        f"screen short message   {per_short * 1e6:9.1f} µs  "
        f"({per_short / baseline:7.0f}x casefold+split)"
    )
    print(
        f"screen 4 kB message    {per_long * 1e6:9.1f} µs  "
        f"({per_long / per_short:7.1f}x the short one, {len(long) / len(short):.0f}x longer)"
    )
    rules = screener.with_model(None)
    rules_short = timed(lambda: rules.screen(short), 500)
    print(
        f"  rules alone, short   {rules_short * 1e6:9.1f} µs  "
        f"(the classifier adds {(per_short - rules_short) * 1e6:.0f} µs; target < 5 ms a message)"
    )


def best_of(action: Callable[[], object], rounds: int = 2) -> float:
    """Fewest seconds of ``rounds`` calls (start-up work: one call is the unit)."""
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def bench_screener_startup() -> None:
    """What the screen costs at start-up, as ratios to compiling the lexicon phrases alone:
    the concept rules (word forms of six languages included) should cost at most about as
    much again (was a timed test in tests/safety/test_concepts.py), and loading the
    classifier a few per cent of it."""
    lexicons = load_lexicons()
    forms = load_forms()
    plain = {
        lang: {k: v for k, v in doc.items() if k not in ("concepts", "rules")}
        for lang, doc in lexicons.items()
    }
    phrases = best_of(lambda: Screener.from_mappings(plain))
    concepts = best_of(lambda: Screener.from_mappings(lexicons, forms))

    def model() -> object:
        data = load_model()
        return None if data is None else Classifier.from_mapping(data)

    classifier = best_of(model, rounds=3)
    print(
        f"screener start-up      {concepts * 1e3:9.1f} ms  "
        f"({concepts / phrases:7.2f}x the phrases alone; target <= 2.25x)"
    )
    print(
        f"classifier load        {classifier * 1e3:9.1f} ms  "
        f"({classifier / concepts:7.3f}x the screener's start-up)"
    )


def bench_engine() -> None:
    flows = build_flows()
    flow = flows["intake"]  # type: ignore[index]
    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    first = start(flow, PersonId("bench"), at=at, language="nl")

    def walk() -> None:
        session = first.session
        session = resume(flow, session, ButtonPressed("welcome=start", at)).session
        session = resume(flow, session, TextReceived("ik zoek werk", at)).session
        resume(flow, session, ButtonPressed("words_confirm=yes", at + timedelta(seconds=1)))

    baseline = timed(lambda: start(flow, PersonId("bench"), at=at, language="nl"), 500)
    per_walk = timed(walk, 200)
    print(
        f"engine: 3 inputs       {per_walk * 1e6:9.1f} µs  ({per_walk / baseline:7.1f}x one start)"
    )


def run() -> None:
    bench_screener_startup()
    bench_screener()
    bench_engine()
