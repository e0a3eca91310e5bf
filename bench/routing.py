"""Routing and start-up: the resolver on every Flemish postcode and place name, and the time
from ``opstap run`` to a ready ``/healthz`` on an empty database.

Targets (issue #17): resolver p99 under 1 ms; start-up under 2 s.
"""

from __future__ import annotations

import random
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.people import percentile
from bench.stack import opstap
from bot.routing.gazetteer import load_gazetteer, load_resolver


def inputs() -> list[str]:
    """Every postcode and every municipality, place and former-municipality name of Flanders,
    as typed (a few with a postcode in front, a few in lower case, a few with a typo)."""
    gazetteer = load_gazetteer()
    rng = random.Random(17)
    texts: list[str] = []
    for nis in gazetteer.flemish_nis():
        municipality = gazetteer.municipality(nis)
        postcodes = gazetteer.postcodes_of(nis)
        texts.extend(postcodes)
        if municipality is not None:
            texts.append(municipality.name_nl)
            if postcodes:
                texts.append(f"ik woon in {postcodes[0]} {municipality.name_nl}")
        texts.extend(place.name for place in gazetteer.places_in(nis))
        texts.extend(former.name for former in gazetteer.former_in(nis))
    typos = []
    for text in rng.sample(texts, min(200, len(texts))):
        if len(text) > 4 and not text.isdigit():
            cut = rng.randrange(1, len(text) - 1)
            typos.append(text[:cut] + text[cut + 1 :])
    return texts + [t.lower() for t in rng.sample(texts, min(200, len(texts)))] + typos


def run_resolver(results: dict[str, Any]) -> None:
    resolver = load_resolver()
    texts = inputs()
    for text in texts[:200]:  # warm caches, as a running service has them
        resolver.resolve(text)
    times = []
    for text in texts:
        began = perf_counter()
        resolver.resolve(text)
        times.append(perf_counter() - began)
    p50, p99 = 1000 * percentile(times, 0.5), 1000 * percentile(times, 0.99)
    results["route_p50_ms"] = round(p50, 3)
    results["route_p99_ms"] = round(p99, 3)
    results["route_inputs"] = len(texts)
    print(
        f"resolver over {len(texts):,} inputs: p50 {p50:6.3f} ms, p99 {p99:6.3f} ms "
        f"(max {1000 * max(times):6.2f} ms)"
    )


async def run_startup(workdir: Path, results: dict[str, Any], *, rounds: int = 3) -> None:
    """Median of ``rounds`` cold starts on a new empty SQLite database (migrations included),
    without Telegram: the web chat and /healthz."""
    times = []
    for n in range(rounds):
        url = f"sqlite+aiosqlite:///{workdir / f'startup-{n}.db'}"
        async with opstap(None, workdir, url, ready="healthz") as bot:
            times.append(bot.ready_s)
    times.sort()
    median = times[len(times) // 2]
    results["startup_s"] = round(median, 2)
    print(
        f"start-up to /healthz on an empty database: {median:5.2f} s "
        f"(median of {rounds}: {', '.join(f'{t:.2f}' for t in times)})"
    )
