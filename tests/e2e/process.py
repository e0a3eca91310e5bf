"""Running the real ``opstap`` console script as a subprocess, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from storage.crypto import Keyring

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
# The compiled crisis screener (bot/safety/compiled.py) is shared by every ``opstap run`` of
# a test session: the first start builds and stores it, the next ones load it (a tenth of a
# second) instead of building it again and writing it to their own work directory (seconds of
# CPU each). tests/conftest.py points this at a folder of the session's temporary directory;
# a test that gives its own OPSTAP_CACHE_DIR keeps it.
SCREENER_CACHE: Path | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def opstap_command() -> list[str]:
    script = Path(sys.executable).parent / "opstap"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bot.cli"]


class OpstapProcess:
    """``opstap run`` in a temporary working directory (so no developer ``.env`` is read)."""

    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "OPSTAP_HTTP_PORT": str(self.port),
            "OPSTAP_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'opstap.db'}",
            "OPSTAP_TICK_SECONDS": "0.5",
            "OPSTAP_LOG_LEVEL": "DEBUG",
            **({"OPSTAP_CACHE_DIR": str(SCREENER_CACHE)} if SCREENER_CACHE is not None else {}),
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.log = workdir / "opstap.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, within: float = 30.0) -> None:
        handle = self.log.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *opstap_command(),
            "run",
            cwd=self.workdir,
            env=self.env,
            stdout=handle,
            stderr=handle,
        )
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise AssertionError(f"opstap exited early:\n{self.output()}")
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"opstap did not become healthy:\n{self.output()}")

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop with ``sig``; returns the exit code. A process that ignores the signal (still
        running after ten seconds, a deadline, not a measurement) fails the test."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise AssertionError(f"opstap ignored the signal:\n{self.output()}") from None
        code = self.process.returncode
        assert code is not None
        return code

    def keyring(self) -> Keyring | None:
        """The key ``opstap run`` stored on its first start (``.env`` in the work directory)."""
        from bot.settings import load_settings

        return load_settings(environ=self.env, env_file=self.workdir / ".env").keyring

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
