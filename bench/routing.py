"""Routing and start-up: the resolver on every Flemish postcode and place name, and the time
from ``opstap run`` to a ready ``/healthz`` on an empty database.

Targets (issue #17): resolver p99 under 1 ms; start-up under 2 s.
"""

from __future__ import annotations

import random
import shutil
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
    """Cold starts on a new empty SQLite database each (migrations included), without
    Telegram, to a ready /healthz: the first without the compiled screener in the cache (a new
    version's first start, which then writes it), then the median of ``rounds`` with it."""
    cache = workdir / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    times = []
    for n in range(rounds + 1):
        url = f"sqlite+aiosqlite:///{workdir / f'startup-{n}.db'}"
        async with opstap(None, workdir, url, ready="healthz") as bot:
            times.append(bot.ready_s)
        if n == 0 and not any(cache.glob("screener-*")):
            raise RuntimeError("the first start wrote no screener cache")
    cold, warm = times[0], sorted(times[1:])
    median = warm[len(warm) // 2]
    results["startup_s"] = round(median, 2)
    results["startup_cold_cache_s"] = round(cold, 2)
    print(
        f"start-up to /healthz on an empty database: {median:5.2f} s "
        f"(median of {rounds}: {', '.join(f'{t:.2f}' for t in warm)}); "
        f"without the screener cache {cold:5.2f} s"
    )
