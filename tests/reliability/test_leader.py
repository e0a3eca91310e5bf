"""More than one worker (issue #16, deliverable 3): one polling leader per PostgreSQL database.

* The lock (:mod:`storage.leader`): one holder; free again when the holder releases it, closes
  or loses its connection (a killed process), and then another worker takes it.
* The leadership (:mod:`bot.telegram.leader`): polls only while holding the lock, stops polling
  the moment the lock is lost, releases it on stop.
* End to end: two ``opstap run`` workers on one database, one Bot API: exactly one polls, both
  answer through it; SIGKILL the poller and the other takes over within seconds; Telegram
  never says ``Conflict``.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.telegram.leader import PollingLeadership
from storage.leader import PostgresAdvisoryLock, leader_lock
from tests.e2e.process import TOKEN
from tests.fakes.bot_api import FakeBotApi
from tests.reliability.chaos import Cluster, tracebacks
from tests.storage.conftest import (  # noqa: F401  (postgres_server: a fixture, used by name)
    admin_execute,
    create_database,
    drop_database,
    postgres_server,
)

LEADS = "telegram polling: this worker leads"


@pytest.fixture
async def leader_database(postgres_server: None) -> AsyncIterator[str]:  # noqa: F811
    name, url = await create_database("leader")
    try:
        yield url
    finally:
        await drop_database(name)


def test_sqlite_has_no_lock_one_worker_polls() -> None:
    assert leader_lock("sqlite+aiosqlite:///opstap.db", 123456) is None
    assert isinstance(leader_lock("postgresql://u@h/db", 123456), PostgresAdvisoryLock)


@pytest.mark.postgres
async def test_one_holder_and_the_next_takes_over(leader_database: str) -> None:
    first = PostgresAdvisoryLock(leader_database, 123456)
    second = PostgresAdvisoryLock(leader_database, 123456)
    other_bot = PostgresAdvisoryLock(leader_database, 654321)
    try:
        assert await first.try_acquire()
        assert await first.try_acquire()  # held already: still ours
        assert not await second.try_acquire()
        assert await other_bot.try_acquire()  # another bot polls for itself
        assert await first.still_held()
        await first.release()
        assert not await first.still_held()
        assert await second.try_acquire()
        assert not await first.try_acquire()
    finally:
        for lock in (first, second, other_bot):
            await lock.release()


@pytest.mark.postgres
async def test_a_lost_connection_frees_the_lock(leader_database: str) -> None:
    first = PostgresAdvisoryLock(leader_database, 123456)
    second = PostgresAdvisoryLock(leader_database, 123456)
    try:
        assert await first.try_acquire()
        connection = first._connection
        assert connection is not None
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
        # What a killed worker looks like to the server: its session ends.
        assert isinstance(pid, int)
        await admin_execute(f"SELECT pg_terminate_backend({pid})")
        assert not await first.still_held()
        assert await second.try_acquire()
        # The lock connection holds no transaction open (it would stop VACUUM).
        state = await second._connection.execute(  # type: ignore[union-attr]
            text("SELECT state FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        )
        assert state.scalar() == "active"
        idle = await second._connection.execute(  # type: ignore[union-attr]
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE state = 'idle in transaction' AND datname = current_database()"
            )
        )
        assert idle.scalar() == 0
    finally:
        await first.release()
        await second.release()


class ToyLock:
    """A lock the test hands out and takes away."""

    def __init__(self) -> None:
        self.free = False
        self.held = False
        self.released = 0

    async def try_acquire(self) -> bool:
        if self.free:
            self.held = True
        return self.held

    async def still_held(self) -> bool:
        return self.held

    async def release(self) -> None:
        self.held = False
        self.released += 1


async def until(check: object, within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within time"
        await asyncio.sleep(0.01)


async def test_polls_only_while_holding_the_lock() -> None:
    lock = ToyLock()
    polling: list[str] = []

    async def start() -> None:
        polling.append("start")

    async def stop() -> None:
        polling.append("stop")

    leadership = PollingLeadership(lock, start, stop, retry=0.01, check=0.01)
    leadership.start()
    await asyncio.sleep(0.05)
    assert polling == []  # another worker holds it
    lock.free = True
    await until(lambda: polling == ["start"])
    assert leadership.leading
    # The lock connection broke: polling stops before anyone else could start.
    lock.free = False
    lock.held = False
    await until(lambda: polling == ["start", "stop"])
    assert not leadership.leading
    lock.free = True
    await until(lambda: polling == ["start", "stop", "start"])
    await leadership.stop()
    assert polling == ["start", "stop", "start", "stop"]
    assert lock.released >= 1 and not lock.held


async def test_a_failed_start_gives_the_lock_back() -> None:
    lock = ToyLock()
    lock.free = True
    tries: list[int] = []

    async def start() -> None:
        tries.append(1)
        if len(tries) < 3:
            raise ConnectionError("Bot API unreachable")

    async def stop() -> None:
        return None

    leadership = PollingLeadership(lock, start, stop, retry=0.01, check=0.01)
    leadership.start()
    await until(lambda: leadership.leading)
    assert len(tries) == 3 and lock.released == 2
    await leadership.stop()


def leads(cluster: Cluster, index: int) -> bool:
    process = cluster.processes[index]
    return process is not None and LEADS in process.output()


@pytest.mark.e2e
@pytest.mark.postgres
async def test_two_workers_one_poller_and_a_takeover(tmp_path: Path, leader_database: str) -> None:
    async with FakeBotApi(token=TOKEN) as fake:
        cluster = Cluster(tmp_path, fake, leader_database, workers=2)
        try:
            await cluster.start_all()
            await until(lambda: leads(cluster, 0) or leads(cluster, 1), within=15)
            await asyncio.sleep(2.0)  # the other one tried meanwhile, and waits
            leader = 0 if leads(cluster, 0) else 1
            follower = 1 - leader
            assert not leads(cluster, follower)
            fake.user_sends_command(4401, "/start")
            await fake.wait_for_message(4401, predicate=lambda m: bool(m.buttons()), timeout=15)

            await cluster.stop(leader, signal.SIGKILL)
            # The other one takes over by itself (a deadline for when it never does).
            await until(lambda: leads(cluster, follower), within=15)
            fake.user_sends_command(4402, "/start")
            await fake.wait_for_message(4402, predicate=lambda m: bool(m.buttons()), timeout=15)
            # The killed one comes back and waits: one poller again.
            await cluster.start(leader)
            await asyncio.sleep(3.0)
            assert not leads(cluster, leader)
            fake.user_sends_command(4403, "/start")
            await fake.wait_for_message(4403, predicate=lambda m: bool(m.buttons()), timeout=15)
        finally:
            await cluster.stop_all()
        output = cluster.output()
    assert "Conflict" not in output
    assert "Traceback" not in output, tracebacks(output)
    # Telegram said Conflict to nobody alive: at most to the killed worker's last long poll.
    conflicts = [c for c in fake.calls("getUpdates") if c.status == 409]
    assert len(conflicts) <= 1


class SwitchLock:
    """A leader lock the test hands out: held once ``free`` is set."""

    def __init__(self) -> None:
        self.free = False
        self.held = False

    async def try_acquire(self) -> bool:
        self.held = self.held or self.free
        return self.held

    async def still_held(self) -> bool:
        return self.held

    async def release(self) -> None:
        self.held = False


async def test_only_the_worker_that_takes_the_lock_takes_over_the_leftovers(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    # Two workers: a restarted worker that swept every young outbox row and replayed every
    # pending update at start sent answers the leader was sending at that very moment (the
    # full-size two-worker chaos test: 71 inputs answered twice). The leftovers of a dead
    # leader are the next leader's, taken over when it gets the lock.
    from bot.clock import SystemClock
    from bot.service import ConversationService
    from bot.telegram.app import TelegramFrontDoor
    from flows.ids import PersonId
    from storage.migrate import upgrade
    from storage.sql import open_storage
    from tests.bot.fakes import id_translator
    from tests.bot.test_pipeline import tap_flow

    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    storage = await open_storage(url)
    clock = SystemClock()
    async with storage.transaction() as tx:
        await tx.outbox.add(
            PersonId("tg:77"), {"text": "left by the dead leader", "buttons": []}, clock.now()
        )
    flow = tap_flow(2)
    service = ConversationService(
        storage=storage,
        flows={flow.id: flow},
        entry=flow.id,
        channels={},
        translator=id_translator(("nl",)),
        clock=clock,
    )
    lock = SwitchLock()
    front = TelegramFrontDoor(
        token=fake_bot_api.token,
        api_url=fake_bot_api.api_root,
        service=service,
        clock=clock,
        leader=lock,
    )
    service.channels = {"tg": front.channel}
    front.leadership.retry = 0.05  # type: ignore[union-attr]
    await front.start()
    try:
        # Started without the lock: the young row may be on its way in the leader.
        assert not service.relay._busy and not service.relay._sweeps
        assert fake_bot_api.messages(77) == []
        lock.free = True  # the leader died
        message = await fake_bot_api.wait_for_message(77, timeout=10)
        assert message.text == "left by the dead leader"
    finally:
        await front.stop()
        await storage.close()
