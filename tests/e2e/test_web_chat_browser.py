"""End to end in a real browser: ``opstap run`` without a token serves the web chat, and a
young person can press buttons and type answers on a phone-sized screen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Locator, async_playwright

from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.process import OpstapProcess

pytestmark = pytest.mark.e2e


async def more_than(locator: Locator, count: int, within: float = 10.0) -> None:
    # Polling from Python: the page's CSP (rightly) forbids the eval that wait_for_function uses.
    for _ in range(int(within / 0.1)):
        if await locator.count() > count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {await locator.count()} elements, expected more than {count}")


async def test_the_web_chat_works_in_a_phone_browser(tmp_path: Path) -> None:
    executable = chromium_path()
    server = OpstapProcess(tmp_path, {})
    await server.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
            page = await browser.new_page(viewport={"width": 390, "height": 844}, locale="nl-BE")
            await page.goto(server.url + "/")
            first_button = page.locator(".bubble.bot .buttons button").first
            await first_button.wait_for(timeout=10_000)
            bot_bubbles = page.locator(".bubble.bot")
            before = await bot_bubbles.count()
            await first_button.click()
            await more_than(bot_bubbles, before)
            # An answered question's buttons are disabled: they cannot be pressed twice.
            assert await first_button.is_disabled()
            before = await bot_bubbles.count()
            await page.fill("#text", "Ik zoek werk, zegt Zarkonia")
            await page.press("#text", "Enter")
            await more_than(bot_bubbles, before)
            mine = await page.locator(".bubble.me").last.inner_text()
            assert "Zarkonia" in mine
            # The help button is there in every state and answers at once.
            before = await bot_bubbles.count()
            await page.click("#help")
            crisis = page.locator(".bubble.bot.crisis").last
            await crisis.wait_for(timeout=10_000)
            assert "112" in await crisis.inner_text()
            await page.screenshot(path=str(tmp_path / "web-chat.png"))
            await browser.close()
    finally:
        code = await server.stop()
    # On its own, on the signal (stop fails the test when it has to kill it).
    assert code == 0
    assert "Ik zoek werk, zegt Zarkonia" not in server.output()
