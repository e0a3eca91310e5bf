"""The web chat's page against the real ``opstap run`` whose database does not take the input
(another process holds SQLite's write lock): the server answers 503, the page shows that it is
offline, keeps the words and sends them again, and they are handled once (issue #16, the web
chat's durable inbox). Debian's Chromium, 390x844."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from playwright.async_api import Browser

from tests.e2e.process import OpstapProcess
from tests.e2e.test_web_chat_lossless import (
    browser,  # noqa: F401 - the fixture
    browser_page,
    bubbles,
    server,  # noqa: F401 - the fixture
    start_intake,
    type_text,
    until,
)

WORDS = "Ik zoek een job"
LOCK_SECONDS = 8


async def test_words_the_database_refused_are_kept_by_the_page_and_handled_once(
    browser: Browser,  # noqa: F811
    server: OpstapProcess,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with browser_page(browser) as page:
        await start_intake(page, server.url)
        shown = await bubbles(page)
        holder = subprocess.Popen(  # noqa: ASYNC220 - a second process, on purpose
            [
                sys.executable,
                "-c",
                "import sqlite3, sys, time\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "c.execute('BEGIN IMMEDIATE')\n"
                "print('locked', flush=True)\n"
                f"time.sleep({LOCK_SECONDS})\n",
                str(tmp_path / "opstap.db"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            assert (await asyncio.to_thread(holder.stdout.readline)).strip() == "locked"
            await type_text(page, WORDS)
            # Not stored: 503, and the page says it is offline (and keeps trying).
            await page.locator("#offline").wait_for(state="visible", timeout=15_000)
        finally:
            await asyncio.to_thread(holder.wait)
        await page.locator("#offline").wait_for(state="hidden", timeout=20_000)

        async def answered() -> bool:
            found = await bubbles(page)
            return len(found) > len(shown) + 1 and found[-1][0] == "bot"

        await until(answered, "the answer to the words sent again", within=20.0)
        assert '"POST /api/input HTTP/1.1" 503' in server.output()
        after = await bubbles(page)
        assert after[: len(shown)] == shown
        assert [t for s, t in after if s == "me"].count(WORDS) == 1
        # The server's transcript agrees: the words once, handled once.
        await page.reload()

        async def same() -> bool:
            return await bubbles(page) == after

        await until(same, "the same conversation after a reload")
