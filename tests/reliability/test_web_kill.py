"""The real ``opstap run`` (web chat only) killed with SIGKILL twice while young people use the
web chat: every button press is handled exactly once after the restarts (issue #16,
deliverable 1 for the web channel; the Telegram side is ``test_stop_and_kill.py``).

Each simulated page does what ``bot/web/static/chat.js`` does: one random ``ref`` per
message, and the same message sent again (``retry``) until the server answers 200 (a lost
answer, a refused connection, 503 or 429). A press handled twice would meet a newer question
and get the "that button belongs to an earlier question" answer; one handled never leaves its
conversation behind."""

from __future__ import annotations

import asyncio
import secrets
import signal
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.process import OpstapProcess, free_port

pytestmark = pytest.mark.e2e
PEOPLE = 8
# Each value belongs to one question, so a press handled twice is seen (a stale button).
PRESSES = ("welcome=start", "words=dont_know", "age=_back", "words=dont_know", "age=_back")
STALE = "eerdere vraag"
WITHIN = 90.0
PROGRESS = asyncio.Event()


@dataclass
class Page:
    """One young person's page: its identity cookie and what it sent."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    refs: list[str] = field(default_factory=list)
    answered: int = 0

    async def post(self, http: aiohttp.ClientSession, url: str, payload: dict[str, Any]) -> None:
        """Until the server took it, as the page does (the same ref, marked as a retry)."""
        for tries in range(400):
            body = {**payload, "after": 0, **({"retry": True} if tries else {})}
            try:
                async with http.post(
                    f"{url}/api/input",
                    json=body,
                    cookies={"opstap_web": self.token},
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    if response.status == 200:
                        await response.read()
                        self.answered += 1
                        PROGRESS.set()
                        return
                    assert response.status in (429, 503), response.status
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
        raise AssertionError("the server never took the input")

    async def converse(self, http: aiohttp.ClientSession, url: str) -> None:
        await self.post(http, url, {"kind": "open"})
        for value in PRESSES:
            ref = secrets.token_hex(12)
            self.refs.append(ref)
            await self.post(
                http, url, {"kind": "button", "value": value, "label": value, "ref": ref}
            )

    async def transcript(self, http: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
        async with http.get(
            f"{url}/api/messages?after=0", cookies={"opstap_web": self.token}
        ) as response:
            assert response.status == 200
            messages: list[dict[str, Any]] = (await response.json())["messages"]
            return messages


async def answered_at_least(pages: list[Page], count: int, within: float) -> None:
    async with asyncio.timeout(within):
        while sum(p.answered for p in pages) < count:
            PROGRESS.clear()
            await PROGRESS.wait()


def started(tmp_path: Path, port: int) -> OpstapProcess:
    process = OpstapProcess(tmp_path, {"OPSTAP_HTTP_PORT": str(port)})
    process.port = port
    return process


async def test_every_press_in_the_web_chat_is_handled_once_across_two_kills(
    tmp_path: Path,
) -> None:
    # One address for every process, as behind a proxy: the pages simply retry.
    port = free_port()
    process = started(tmp_path, port)
    url = process.url
    await process.start()
    pages = [Page() for _ in range(PEOPLE)]
    total = PEOPLE * (1 + len(PRESSES))
    async with aiohttp.ClientSession() as http:
        talking = asyncio.gather(*(p.converse(http, url) for p in pages))
        try:
            for share in (0.25, 0.6):
                await answered_at_least(pages, int(total * share), within=WITHIN)
                # Some inputs answered, some stored and not yet handled, some on their way.
                await process.stop(signal.SIGKILL)
                process = started(tmp_path, port)
                await process.start()
            await asyncio.wait_for(talking, timeout=WITHIN)
            # The restarted process finishes what the kill left, in the background.
            await asyncio.sleep(1.0)
            for page in pages:
                messages = await page.transcript(http, url)
                mine = [m["ref"] for m in messages if m["side"] == "me"]
                assert sorted(mine) == sorted(page.refs), "a press lost or shown twice"
                texts = [m["text"] for m in messages if m["side"] == "bot"]
                assert not any(STALE in t for t in texts), "a press handled twice"
                questions = [m for m in messages if m["side"] == "bot" and m["buttons"]]
                # Every press answered (a reply may go out twice after a kill, never lost).
                assert len(PRESSES) + 1 <= len(questions) <= 2 * (len(PRESSES) + 1)
                last = [b["value"] for row in questions[-1]["buttons"] for b in row]
                assert "words=dont_know" in last
        finally:
            if not talking.done():
                talking.cancel()
            await asyncio.gather(talking, return_exceptions=True)
            await process.stop()
    # Nothing left pending in the inbox.
    with sqlite3.connect(tmp_path / "opstap.db") as db:
        left = db.execute("select count(*) from inbox_pending where channel = 'web'").fetchone()
    assert left == (0,)
