"""Full-stack benchmarks: the real ``opstap run`` against the fake Bot API, and the anchor.

Rules of this module:

* Everything runs on loopback: the fake Bot API in this process, the bot as a subprocess, a
  database on this machine (a temporary SQLite file, or a scratch PostgreSQL database
  ``opstap_bench`` on 127.0.0.1:5432 that is dropped and made again).
* Every figure that matters is a ratio against the python-telegram-bot echo bot measured in the
  same run on the same fake (:mod:`bench.echo_bot`), or a count; absolute times are printed for
  the README's dated table, never asserted.
* Loops are bounded in count and time, and every process started here is stopped here.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

import aiohttp

from bench.fake import SENDS, BenchFake
from bench.people import Person, percentile

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-token-abcdefghijklmnopqrstuvwxyz"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_BENCH_DB = "opstap_bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dev_key() -> str:
    return "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode()


async def postgres_available() -> bool:
    try:
        import asyncpg  # type: ignore[import-untyped]

        connection = await asyncpg.connect(PG_ADMIN, timeout=3)
        await connection.close()
        return True
    except Exception:
        return False


async def fresh_postgres() -> str:
    """A scratch PostgreSQL database; returns its SQLAlchemy URL."""
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    finally:
        await connection.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_BENCH_DB}"


@dataclass
class Bot:
    """A bot subprocess: its pid, where it logs, and how long it took to be ready."""

    process: asyncio.subprocess.Process
    log: Path
    ready_s: float
    http_port: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            # A profiled bot writes its report as it stops: that takes a while.
            within = 120 if os.environ.get("BENCH_PROFILE") else 10
            try:
                await asyncio.wait_for(self.process.wait(), within)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _wait_until(
    check: Callable[[], Awaitable[bool]],
    within: float,
    what: str,
    process: asyncio.subprocess.Process,
    log: Path,
) -> None:
    deadline = monotonic() + within
    while monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"{what}: the process exited:\n{_tail(log)}")
        if await check():
            return
        await asyncio.sleep(0.01)
    raise RuntimeError(f"{what}: not ready within {within} s:\n{_tail(log)}")


def profiled(command: list[str], port: int) -> list[str]:
    """With ``BENCH_PROFILE=<folder>``: the bot under pyinstrument, a wall-clock profile per
    process written to ``<folder>/opstap-<port>.txt`` when it stops (pyinstrument is a
    developer's tool, not a dependency: ``pip install pyinstrument``)."""
    profile = os.environ.get("BENCH_PROFILE")
    if not profile:
        return command
    folder = Path(profile).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    report = str(folder / f"opstap-{port}.txt")
    return [sys.executable, "-m", "pyinstrument", "-o", report, "-m", "bot.cli"]


@asynccontextmanager
async def opstap(
    fake: BenchFake | None,
    workdir: Path,
    database_url: str,
    *,
    webhook: bool = False,
    extra: dict[str, str] | None = None,
    ready: str = "telegram",
) -> AsyncIterator[Bot]:
    """``opstap run`` as a subprocess; ready when /healthz answers and, with Telegram, when it
    polls (or registered its webhook)."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "HOME": str(workdir),
        "OPSTAP_HTTP_PORT": str(port),
        "OPSTAP_DATABASE_URL": database_url,
        "OPSTAP_SECRET_KEY": dev_key(),
        "OPSTAP_LOG_LEVEL": "WARNING",
        # Every start of one run shares the compiled screener (bot.safety.compiled).
        "OPSTAP_CACHE_DIR": str(workdir / "cache"),
        **(extra or {}),
    }
    if fake is not None:
        env["TELEGRAM_TOKEN"] = TOKEN
        env["TELEGRAM_API_URL"] = fake.api_root
        if webhook:
            env["OPSTAP_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
            env["OPSTAP_WEBHOOK_SECRET"] = "bench-secret-0123456789abcdef"
    log = workdir / f"opstap-{port}.log"
    script = Path(sys.executable).parent / "opstap"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    command = profiled(command, port)
    began = monotonic()
    with log.open("ab") as handle:
        process = await asyncio.create_subprocess_exec(
            *command, "run", cwd=workdir, env=env, stdout=handle, stderr=handle
        )
    async with aiohttp.ClientSession() as http:

        async def healthy() -> bool:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        async def telegram_ready() -> bool:
            if fake is None or ready != "telegram":
                return True
            if webhook:
                return fake.webhook is not None
            return bool(fake.calls("getUpdates"))

        try:
            await _wait_until(healthy, 60, "opstap /healthz", process, log)
            await _wait_until(telegram_ready, 60, "opstap telegram", process, log)
        except BaseException:
            process.kill()
            await process.wait()
            raise
    bot = Bot(process, log, monotonic() - began, port)
    try:
        yield bot
    finally:
        await bot.stop()


@asynccontextmanager
async def echo_bot(fake: BenchFake, workdir: Path) -> AsyncIterator[Bot]:
    log = workdir / "echo.log"
    began = monotonic()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)}
    with log.open("ab") as handle:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.echo_bot",
            fake.api_root,
            TOKEN,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=handle,
        )

    async def polling() -> bool:
        return bool(fake.calls("getUpdates"))

    await _wait_until(polling, 60, "echo bot", process, log)
    bot = Bot(process, log, monotonic() - began)
    try:
        yield bot
    finally:
        await bot.stop()


@dataclass(frozen=True)
class Load:
    """What one run measured."""

    label: str
    updates: int
    seconds: float
    cpu_s: float
    latencies: tuple[float, ...]
    unanswered: int
    # Bot API calls Telegram counts against the flood limits (sends and edits).
    sends: int = 0

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def sends_per_update(self) -> float:
        return self.sends / self.updates if self.updates else float("nan")

    @property
    def cpu_ms_per_update(self) -> float:
        return 1000 * self.cpu_s / self.updates if self.updates else float("nan")

    def p(self, fraction: float) -> float:
        return 1000 * percentile(list(self.latencies), fraction)


async def _warm_up(fake: BenchFake, people: list[Person]) -> None:
    await asyncio.gather(*(person.start(fake, 30) for person in people))
    # A person counts as started at the bot's first message (the help button's hint); under
    # the flood limit the welcome itself may still be queued. Wait until the bot is quiet, so
    # the measured run does not inherit the warm-up's backlog.
    deadline = monotonic() + 60
    quiet_since, seen = monotonic(), -1
    while monotonic() < deadline:
        count = len(fake.calls(include_polling=False))
        if count != seen:
            quiet_since, seen = monotonic(), count
        elif monotonic() - quiet_since >= 1.0:
            return
        await asyncio.sleep(0.1)


def _sends(fake: BenchFake) -> int:
    return sum(1 for call in fake.calls() if call.method in SENDS)


async def closed_loop(
    fake: BenchFake, bot: Bot, label: str, *, chats: int, seconds: float, first_chat: int
) -> Load:
    """``chats`` people, each acting as soon as the previous answer is complete."""
    people = [Person(first_chat + i, random.Random(first_chat + i)) for i in range(chats)]
    await _warm_up(fake, people)
    for person in people:
        person.latencies.clear()
    cpu_before = cpu_seconds(bot.pid)
    sends_before = _sends(fake)
    began = monotonic()
    stop_at = began + seconds

    async def run(person: Person) -> None:
        while monotonic() < stop_at:
            await person.act(fake, 10)

    await asyncio.gather(*(run(p) for p in people))
    elapsed = monotonic() - began
    cpu = cpu_seconds(bot.pid) - cpu_before
    latencies = tuple(x for p in people for x in p.latencies)
    unanswered = sum(p.unanswered for p in people)
    return Load(
        label, len(latencies), elapsed, cpu, latencies, unanswered, _sends(fake) - sends_before
    )


async def open_loop(
    fake: BenchFake,
    bot: Bot,
    label: str,
    *,
    chats: int,
    rate: float,
    seconds: float,
    first_chat: int,
) -> Load:
    """Updates offered at ``rate`` per second, spread evenly over ``chats`` people on a fixed
    schedule. A person whose previous answer is still due waits for it (as a person would), so
    a slow bot lowers the offered rate: the run reports the rate it really reached."""
    people = [Person(first_chat + i, random.Random(first_chat + i)) for i in range(chats)]
    await _warm_up(fake, people)
    for person in people:
        person.latencies.clear()
    period = chats / rate
    cpu_before = cpu_seconds(bot.pid)
    sends_before = _sends(fake)
    began = monotonic()
    rounds = max(1, int(seconds / period))

    async def run(index: int, person: Person) -> None:
        await asyncio.sleep(index * period / chats)
        for round_ in range(rounds):
            due = began + index * period / chats + round_ * period
            await asyncio.sleep(max(0.0, due - monotonic()))
            await person.act(fake, 10)

    await asyncio.gather(*(run(i, p) for i, p in enumerate(people)))
    elapsed = monotonic() - began
    cpu = cpu_seconds(bot.pid) - cpu_before
    latencies = tuple(x for p in people for x in p.latencies)
    unanswered = sum(p.unanswered for p in people)
    return Load(
        label, len(latencies), elapsed, cpu, latencies, unanswered, _sends(fake) - sends_before
    )


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="opstap-bench-")
