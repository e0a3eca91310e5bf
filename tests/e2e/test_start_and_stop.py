"""Start-up and shutdown of the real ``opstap run`` (issue #16, deliverable 5).

A Bot API that rejects the token at start-up is tried again with back-off while the web chat
keeps working, and the token never shows up in the output; SIGTERM stops within 10 seconds.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.process import TOKEN, OpstapProcess
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.e2e
CHAT = 5151


def database_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("opstap.db*")))


async def web_chat_answers(process: OpstapProcess) -> bool:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{process.url}/api/input", json={"kind": "text", "text": "hallo"}) as response,
    ):
        body = await response.json()
    return response.status == 200 and bool(body["messages"])


async def test_a_rejected_token_is_retried_while_the_web_chat_runs(tmp_path: Path) -> None:
    # The fake knows another token: every call with ours gets 401 Unauthorized.
    async with FakeBotApi(token="654321:SOME-other-token-abcdefghijklmnop") as fake:
        process = OpstapProcess(
            tmp_path, {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_root}
        )
        await process.start()
        try:
            assert await web_chat_answers(process)
            # Tried more than once (back-off 1 s, 2 s, ...), the process still serving.
            for _ in range(100):
                if process.output().count("telegram start failed") >= 2:
                    break
                await asyncio.sleep(0.1)
            assert process.output().count("telegram start failed error=InvalidToken") >= 2
            assert await web_chat_answers(process)
        finally:
            code = await process.stop()
        # On its own, on the signal (stop fails the test when it has to kill it).
        assert code == 0
    output = process.output()
    assert TOKEN not in output
    assert TOKEN.split(":", 1)[1] not in output
    assert "Traceback" not in output


async def test_telegram_comes_up_when_the_bot_api_recovers(tmp_path: Path) -> None:
    async with FakeBotApi(token=TOKEN) as fake:
        fake.fail_next("getMe", 401, times=2)
        process = OpstapProcess(
            tmp_path, {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_root}
        )
        await process.start()
        try:
            fake.user_sends_command(CHAT, "/start")
            welcome = await fake.wait_for_message(
                CHAT, predicate=lambda m: bool(m.reply_markup), timeout=20
            )
            assert welcome.plain_text
        finally:
            await process.stop()
    output = process.output()
    assert "telegram start failed" in output
    assert TOKEN not in output


async def test_sigterm_refuses_new_requests_and_stops_within_ten_seconds(
    tmp_path: Path,
) -> None:
    process = OpstapProcess(tmp_path, {})
    await process.start()
    assert await web_chat_answers(process)
    # Stopped on its own within stop's deadline (ten seconds), and cleanly.
    assert await process.stop(signal.SIGTERM) == 0


async def test_a_first_start_without_a_key_stores_one_and_says_where(tmp_path: Path) -> None:
    process = OpstapProcess(tmp_path, {})
    await process.start()
    canary = "kanarie-eerste-start-91f"
    try:
        async with aiohttp.ClientSession() as http:
            for text in ("hallo", canary):
                async with http.post(
                    f"{process.url}/api/input", json={"kind": "text", "text": text}
                ) as response:
                    assert response.status == 200
    finally:
        await process.stop()
    env_file = tmp_path / ".env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert "OPSTAP_SECRET_KEY=k1:" in env_file.read_text(encoding="utf-8")
    output = process.output()
    assert f"an encryption key is stored in {env_file}" in output
    assert "Back it up" in output
    assert process.keyring() is not None
    stored = database_bytes(tmp_path)
    assert b"enc:v1:k1:" in stored
    assert canary.encode() not in stored
    # The next start uses the stored key and says nothing about it.
    again = OpstapProcess(tmp_path, {})
    await again.start()
    await again.stop()
    assert again.output().count("an encryption key is stored") == 1
