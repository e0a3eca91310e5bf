"""Reminders and memory at scale: many stored young people, many reminders due at once.

What it does: seed a database with ``people`` young people who started the intake (a session
each, the way the engine writes it, encrypted with the run's key) and one intake nudge each;
``due`` of those nudges are due now, the rest in a week. Then start the real ``opstap run``
against a fake Bot API that enforces Telegram's limits, and measure start-up to ready with all
of them pending, the sustained delivery rate of the due ones, 429s, losses and doubles, RSS
idle and after the burst, and bytes per stored person in the database.

Targets (issue #17): start to ready under 3 s with 100,000 pending; due reminders delivered at
28-30 per second sustained, never a 429, none lost, none doubled; RSS with 100,000 stored people
and 10,000 open conversations under 250 MB.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

from sqlalchemy import insert

from bench.fake import BenchFake
from bench.stack import TOKEN, opstap, rss_mb
from bot.conversations import ENTRY, build_flows
from bot.safety import compiled
from bot.safety.lexicon import load_screener
from flows.effects import ScheduleReminder
from flows.engine import NUDGE_KEY, resume, start
from flows.ids import PersonId
from flows.inputs import ButtonPressed
from storage.codec import session_to_row
from storage.crypto import Keyring
from storage.db import make_engine
from storage.migrate import upgrade
from storage.tables import ReminderRow, SessionRow

BATCH = 2_000
FIRST_CHAT = 7_000_000


async def seed(url: str, key: str, *, people: int, due: int, now: datetime) -> None:
    """``people`` sessions past the welcome, each with its nudge; the first ``due`` are due.

    One session is made by the engine and stored through the codec the service uses (so the
    rows are what the service would write, encrypted); the others are copies under other ids,
    written in bulk (the storage API would take minutes for 100,000)."""
    await upgrade(url)
    keyring = Keyring.parse(key)
    flow = build_flows()[ENTRY]
    at = now - timedelta(days=2)
    opened = start(flow, PersonId("tg:0"), at=at, language="nl")
    moved = resume(flow, opened.session, ButtonPressed("welcome=start", at))
    nudges = [e.key for e in moved.effects if isinstance(e, ScheduleReminder)]
    nudge = nudges[0] if nudges else NUDGE_KEY
    template = moved.session
    engine = make_engine(url)
    sessions = SessionRow.__table__  # type: ignore[attr-defined]
    reminders = ReminderRow.__table__  # type: ignore[attr-defined]
    try:
        for first in range(0, people, BATCH):
            batch = range(first, min(people, first + BATCH))
            rows = [
                session_to_row(replace(template, person=PersonId(f"tg:{FIRST_CHAT + n}")), keyring)
                for n in batch
            ]
            due_rows = [
                {
                    "person": f"tg:{FIRST_CHAT + n}",
                    "key": nudge,
                    "due_at": now - timedelta(seconds=30) if n < due else now + timedelta(days=7),
                    "session_version": template.version,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in batch
            ]
            async with engine.begin() as conn:
                await conn.execute(insert(sessions), rows)
                await conn.execute(insert(reminders), due_rows)
    finally:
        await engine.dispose()


def database_bytes(url: str, workdir: Path) -> int:
    path = Path(url.split("///", 1)[1])
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def run(workdir: Path, results: dict[str, Any], *, people: int, due: int) -> None:
    url = f"sqlite+aiosqlite:///{workdir / 'reminders.db'}"
    key = Keyring.generate("k1")
    # Quiet hours would defer every nudge: the run pretends it is the middle of the day.
    now = datetime.now(UTC)
    began = monotonic()
    await seed(url, key, people=people, due=due, now=now)
    print(f"seeded {people:,} people ({due:,} nudges due) in {monotonic() - began:5.1f} s")
    size = database_bytes(url, workdir)
    results["db_bytes_per_person"] = round(size / people)
    print(f"database: {size / 1e6:7.1f} MB, {size / people:7.0f} bytes per stored person")
    # Start-up is measured as every start after a version's first (the compiled screener in
    # the cache): when this part runs on its own, the cache is made here.
    cache = workdir / "cache"
    if compiled.load(cache)[1]:
        compiled.store(load_screener(), cache)
    fake = BenchFake(token=TOKEN, long_poll_cap=10.0, enforce_limits=True)
    await fake.start()
    try:
        extra = {
            "OPSTAP_SECRET_KEY": key,
            "OPSTAP_TICK_SECONDS": "1",
            "OPSTAP_QUIET_START": "0",
            "OPSTAP_QUIET_END": "0",
        }
        async with opstap(fake, workdir, url, extra=extra) as bot:
            results["startup_100k_pending_s"] = round(bot.ready_s, 2)
            idle = rss_mb(bot.pid)
            print(
                f"start to ready with {people:,} pending: {bot.ready_s:5.2f} s; RSS {idle:6.1f} MB"
            )
            chats = [FIRST_CHAT + n for n in range(due)]
            first_seen: dict[int, float] = {}
            t0 = monotonic()
            # Slower than 10 a second counts the rest as lost (a run stays bounded).
            deadline = t0 + due / 10 + 60
            while len(first_seen) < due and monotonic() < deadline:
                for chat in chats:
                    if chat not in first_seen and fake.sent_per_chat.get(chat):
                        first_seen[chat] = monotonic()
                await asyncio.sleep(0.25)
            busy = rss_mb(bot.pid)
        times = sorted(first_seen.values())
        # Sustained: from the 10th to the 90th percentile of first deliveries.
        if len(times) >= 20:
            lo, hi = times[len(times) // 10], times[len(times) * 9 // 10]
            rate = (len(times) * 8 // 10) / (hi - lo) if hi > lo else float("inf")
        else:
            rate = float("nan")
        # A doubled reminder is the same text twice in one chat (the help-keyboard hint that
        # may follow a first message is a different text).
        doubled = 0
        for chat in chats:
            texts = [m.text for m in fake.messages(chat)]
            doubled += len(texts) != len(set(texts))
        lost = due - len(first_seen)
        results.update(
            reminders_per_s=round(rate, 1),
            reminders_429=fake.rejected,
            reminders_lost=lost,
            reminders_doubled=doubled,
            rss_mb_idle_100k=round(idle, 1),
            rss_mb_after_burst=round(busy, 1),
        )
        growth = (busy - idle) / due if due else 0.0
        projected = idle + growth * 10_000
        results["rss_kb_per_open_conversation"] = round(growth * 1024, 2)
        results["rss_mb_100k"] = round(projected, 1)
        print(
            f"reminders: {len(first_seen):,}/{due:,} delivered, {rate:5.1f}/s sustained, "
            f"429s {fake.rejected}, lost {lost}, doubled {doubled}"
        )
        print(
            f"RSS: idle {idle:6.1f} MB, after {due:,} conversations {busy:6.1f} MB "
            f"({growth * 1024:5.1f} KB each); with 10,000 open: {projected:6.1f} MB "
            "(projected from the growth)"
        )
    finally:
        await fake.stop()
