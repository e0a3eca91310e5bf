"""In a real browser: a poster's web link ``/?ref=<code>`` starts the chat from the link, and
the address bar forgets the code (a reload or a screenshot does not carry it on)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from bot.clock import FrozenClock
from bot.runtime import Runtime
from bot.settings import Settings
from storage.referral import referrals_of
from storage.referral_port import SourceCount
from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.test_routing_e2e import running as running  # the fixture
from tests.fakes.bot_api import FakeBotApi
from tests.referral.test_e2e import referral_link

pytestmark = pytest.mark.e2e


async def test_the_web_link_of_a_poster_starts_from_the_link_once(
    fake_bot_api: FakeBotApi,
    running: tuple[Runtime, FrozenClock, Settings],
    tmp_path: Path,
) -> None:
    runtime, clock, settings = running
    code = await referral_link(
        settings, clock, tmp_path, "--partnership", "dash", "--source", "CLB Diest"
    )
    executable = chromium_path()
    base = settings.web_url.rstrip("/")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844}, locale="nl-BE")
        await page.goto(f"{base}/?ref={code}")
        start = page.locator('.bubble.bot .buttons button:has-text("Start")').first
        await start.wait_for(timeout=10_000)
        assert page.url == f"{base}/"
        await page.reload()
        await page.locator(".bubble.bot").first.wait_for(timeout=10_000)
        await asyncio.sleep(0.5)
        await browser.close()
    async with runtime.service.storage.transaction() as tx:
        counts = await referrals_of(tx).source_counts()
    assert counts == [SourceCount("link", "CLB Diest", "dash", 1, 0, 0)]
