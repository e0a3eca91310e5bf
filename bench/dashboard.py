"""The dashboard: the queue and statistics pages of a partnership with 5,000 cases.

The runtime is built as ``opstap run`` builds it (SQLite file, encryption on, no Telegram),
served on loopback by aiohttp's test server; 5,000 cases are created through the coach side's
own storage (so they are encrypted as in production), a coordinator signs in with password and
TOTP, and the queue page and the statistics page are fetched repeatedly.

Target (issue #17): the queue under 200 ms p99. The statistics page is reported (issue #15:
it aggregates in SQL instead of decrypting every case).
"""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.people import percentile

CASES = 5_000
FETCHES = 60
PASSWORD = "bench password for the coordinator"
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


async def run(workdir: Path, results: dict[str, Any], *, cases: int = CASES) -> None:
    if importlib.util.find_spec("bot.team") is None:
        print("the team dashboard is not part of this build: not measured")
        return
    import pyotp
    from aiohttp.test_utils import TestClient, TestServer

    from bot.clock import FrozenClock
    from bot.runtime import build_runtime
    from bot.settings import load_settings
    from bot.team.app import TEAM_KEY
    from bot.team.auth import hash_password
    from flows.ids import PartnershipId, PersonId
    from storage.crypto import Keyring
    from storage.migrate import upgrade

    url = f"sqlite+aiosqlite:///{workdir / 'dashboard.db'}"
    await upgrade(url)
    settings = load_settings(
        {"OPSTAP_DATABASE_URL": url, "OPSTAP_SECRET_KEY": Keyring.generate("k1")},
        env_file=None,
    )
    # A Tuesday morning: the queue shows deadlines in working hours.
    clock = FrozenClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    runtime = await build_runtime(settings, clock=clock)
    deps = runtime.http[TEAM_KEY]
    partnership = PartnershipId(deps.directory.partnerships[0].id)
    storage = runtime.service.storage
    began = perf_counter()
    intake: dict[str, Any] = {
        "domains": ["work", "money", "housing"],
        "rating_work": "2",
        "rating_money": "3",
        "rating_housing": "4",
        "language": "nl",
        "place_label": "Leuven",
        "contact_channel": "chat",
    }
    for first in range(0, cases, 500):
        async with storage.transaction() as tx:
            for n in range(first, min(cases, first + 500)):
                await tx.cases.create(
                    PersonId(f"web:bench{n}"), partnership, None, "nl", dict(intake), clock.now()
                )
    print(f"seeded {cases:,} cases in one partnership in {perf_counter() - began:5.1f} s")
    secret = pyotp.random_base32()
    async with deps.store.transaction() as t:
        await t.team.add_user(
            email="coordinator@bench.example",
            name="Coordinator",
            role="coordinator",
            partnership=partnership,
            coach=None,
            password_hash=hash_password(PASSWORD),
            totp_secret=secret,
            now=clock.now(),
        )
    server = TestServer(runtime.http)
    client = TestClient(server)
    await client.start_server()
    try:
        page = await client.get("/team/login")
        token = _LOGIN_CSRF.search(await page.text())
        if token is None:
            raise RuntimeError("no login form on /team/login")
        response = await client.post(
            "/team/login",
            data={
                "login_csrf": token.group(1),
                "email": "coordinator@bench.example",
                "password": PASSWORD,
                "code": pyotp.TOTP(secret).at(clock.now()),
            },
            allow_redirects=False,
        )
        if response.status != 303:
            raise RuntimeError(f"login failed: HTTP {response.status}")
        times = []
        size = 0
        for _ in range(FETCHES):
            began = perf_counter()
            page = await client.get("/team/queue")
            body = await page.read()
            times.append(perf_counter() - began)
            if page.status != 200:
                raise RuntimeError(f"/team/queue answered {page.status}")
            size = len(body)
        # The first view counts the life domains of every case not counted yet (once).
        began = perf_counter()
        page = await client.get("/team/stats")
        await page.read()
        first_stats = perf_counter() - began
        stats_times = []
        for _ in range(FETCHES // 3):
            began = perf_counter()
            page = await client.get("/team/stats")
            await page.read()
            stats_times.append(perf_counter() - began)
            if page.status != 200:
                raise RuntimeError(f"/team/stats answered {page.status}")
    finally:
        await client.close()
        await runtime.service.storage.close()
    p50, p99 = 1000 * percentile(times, 0.5), 1000 * percentile(times, 0.99)
    results["queue_p50_ms"] = round(p50, 1)
    results["queue_p99_ms"] = round(p99, 1)
    print(
        f"queue page with {cases:,} cases: p50 {p50:6.1f} ms, p99 {p99:6.1f} ms "
        f"({size / 1024:5.0f} KB, {FETCHES} fetches)"
    )
    s50, s99 = 1000 * percentile(stats_times, 0.5), 1000 * percentile(stats_times, 0.99)
    results["stats_p50_ms"] = round(s50, 1)
    results["stats_p99_ms"] = round(s99, 1)
    results["stats_first_ms"] = round(1000 * first_stats, 1)
    print(
        f"statistics page with {cases:,} cases: p50 {s50:6.1f} ms, p99 {s99:6.1f} ms "
        f"({len(stats_times)} fetches; the first, counting every case once:"
        f" {1000 * first_stats:6.1f} ms)"
    )
