"""Chaos (issue #16, deliverable 9): nothing lost or doubled under kill -9, SIGTERM, webhook
mode and two workers, on SQLite and PostgreSQL.

Young people do the intake (buttons and typed text) against the real ``opstap run`` and the
fake Bot API while a worker is stopped at seeded random moments and started again. Then:

* every input got its answer at least once and at most twice (:func:`tests.reliability.chaos.
  judge`: the questions that came back between an input and the person's next one),
* every reminder due meanwhile was sent once (at most twice), within a minute of its time,
* every person finished the intake (the stored session is ``done``),
* the database is intact (``PRAGMA integrity_check``; on PostgreSQL the stored sessions read
  back), and the logs hold no traceback (nor a ``Conflict`` with two workers).

CI runs a small size (5 people, 2 kills, 3 reminders: about 30-40 s a case);
``OPSTAP_CHAOS_FULL=1`` runs the issue's: 50 people, 10 kills, 30 reminders. Everything listens
on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.process import TOKEN
from tests.fakes.bot_api import FakeBotApi
from tests.reliability.chaos import (
    Cluster,
    Outcome,
    Person,
    Watch,
    chaos,
    converse,
    finished_sessions,
    full_size,
    judge,
    plant_reminders,
    sqlite_intact,
    timeline,
    tracebacks,
)
from tests.storage.conftest import (  # noqa: F401  (postgres_server: a fixture, used by name)
    create_database,
    drop_database,
    postgres_server,
)

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Size:
    people: int
    kills: int
    reminders: int


CI = Size(people=5, kills=2, reminders=3)
FULL = Size(people=50, kills=10, reminders=30)


def size() -> Size:
    return FULL if full_size() else CI


@pytest.fixture
async def chaos_database(postgres_server: None) -> AsyncIterator[str]:  # noqa: F811
    """A new PostgreSQL database for this test only, dropped afterwards."""
    name, url = await create_database("chaos")
    try:
        yield url
    finally:
        await drop_database(name)


async def run_chaos(
    root: Path,
    database_url: str,
    *,
    seed: int,
    workers: int = 1,
    webhook: bool = False,
    sig: int = signal.SIGKILL,
) -> tuple[Outcome, Cluster]:
    chosen = size()
    rng = random.Random(seed)
    origin, wall = time.monotonic(), datetime.now(UTC)
    # Telegram retries a webhook delivery for a long time; the fake does so while we restart.
    async with FakeBotApi(token=TOKEN, webhook_retries=10_000, webhook_retry_delay=0.02) as fake:
        watch = Watch(fake)
        watch.start()
        cluster = Cluster(root, fake, database_url, workers=workers, webhook=webhook)
        try:
            await cluster.start_all()
            span = chosen.kills * 6.0
            reminder_chats = [8000 + n for n in range(chosen.reminders)]
            reminders = await plant_reminders(
                fake, watch, cluster, reminder_chats, rng, window=(3.0, span)
            )

            async def person(chat: int, seed: float) -> Person:
                own = random.Random(seed)
                await asyncio.sleep(own.uniform(0.0, span * 0.5))
                return await converse(fake, watch, cluster, chat, own)

            chats = [7000 + n for n in range(chosen.people)]
            talking = [asyncio.create_task(person(chat, rng.random())) for chat in chats]
            downtimes = await chaos(cluster, rng, kills=chosen.kills, sig=sig)
            people = await asyncio.wait_for(asyncio.gather(*talking), timeout=600)
            # The reminders still to come: each at most a minute late.
            for _ in range(140):
                if all(watch.of(r.chat, r.since) for r in reminders):
                    break
                await asyncio.sleep(0.5)
            await fake.wait_idle(1.0, timeout=60)
        finally:
            await cluster.stop_all()
            await watch.stop()
        outcome = judge(people, watch, reminders, downtimes)
        stored = await finished_sessions(cluster, chats)
        stuck = {chat for chat, status in stored.items() if status != "done"}
        outcome.unfinished = sorted(stuck | set(outcome.unfinished))
        failing = [i.chat for i in [*outcome.unanswered, *outcome.tripled]]
        shown = list(dict.fromkeys([*failing, *outcome.unfinished]))[:6]
        by_chat = {p.chat: p for p in people}
        outcome.details = "\n".join(
            timeline(fake, by_chat[chat], origin, wall) for chat in shown if chat in by_chat
        )
    return outcome, cluster


def verdict(outcome: Outcome, cluster: Cluster) -> None:
    figures = outcome.figures()
    print(f"chaos: {figures}")  # the figures of the run, also when it passes (pytest -s)
    assert outcome.ok(), f"chaos: {figures}\n{outcome.unanswered[:5]}\n{outcome.details}"
    output = cluster.output()
    assert "Traceback" not in output, tracebacks(output)
    assert TOKEN not in output


async def test_sigkill_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "opstap.db"
    outcome, cluster = await run_chaos(tmp_path, f"sqlite+aiosqlite:///{database}", seed=16_0901)
    assert await sqlite_intact(database) == "ok"
    verdict(outcome, cluster)


async def test_sigkill_in_webhook_mode(tmp_path: Path) -> None:
    database = tmp_path / "opstap.db"
    outcome, cluster = await run_chaos(
        tmp_path, f"sqlite+aiosqlite:///{database}", seed=16_0902, webhook=True
    )
    assert await sqlite_intact(database) == "ok"
    verdict(outcome, cluster)


async def test_sigterm_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "opstap.db"
    outcome, cluster = await run_chaos(
        tmp_path, f"sqlite+aiosqlite:///{database}", seed=16_0903, sig=signal.SIGTERM
    )
    assert await sqlite_intact(database) == "ok"
    verdict(outcome, cluster)


@pytest.mark.postgres
async def test_sigkill_on_postgres(tmp_path: Path, chaos_database: str) -> None:
    outcome, cluster = await run_chaos(tmp_path, chaos_database, seed=16_0904)
    verdict(outcome, cluster)


@pytest.mark.postgres
async def test_two_workers_on_postgres(tmp_path: Path, chaos_database: str) -> None:
    outcome, cluster = await run_chaos(tmp_path, chaos_database, seed=16_0905, workers=2)
    verdict(outcome, cluster)
    # One worker polls at a time (bot/telegram/leader.py): Telegram never says Conflict.
    assert "Conflict" not in cluster.output()
