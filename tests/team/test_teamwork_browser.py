"""In Debian's Chromium: a coordinator makes a referral link in the dashboard and sees its QR
code, which a decoder reads back as the link; the PNG download scans too; then the case
discussion shows the open case's profile. Screenshots go to
``var/artifacts/team/`` (ignored by git).

The service runs as ``opstap run`` builds it (the fixture of ``tests/e2e/test_team_browser.py``:
SQLite, a frozen clock, a coordinator with TOTP).
"""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import async_playwright

from bot.runtime import Runtime
from storage.referral import referrals_of
from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.test_team_browser import DESKTOP, EMAIL, PASSWORD, PHONE, shoot
from tests.e2e.test_team_browser import service as service  # the fixture

pytestmark = pytest.mark.e2e


async def test_a_coordinator_makes_a_referral_link_and_sees_its_qr_code(
    service: tuple[Runtime, str, str],
) -> None:
    runtime, url, code = service
    executable = chromium_path()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = await browser.new_context(viewport=PHONE, locale="nl-BE", accept_downloads=True)
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        await page.goto(url + "/team/login")
        await page.fill("input[name=email]", EMAIL)
        await page.fill("input[name=password]", PASSWORD)
        await page.fill("input[name=code]", code)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/team/queue")
        await page.get_by_role("link", name="Verwijslinks").click()
        await page.wait_for_url("**/team/referrals")
        await page.fill("input[name=source]", "CLB Leuven")
        await page.get_by_role("button", name="Link en QR-code maken").click()
        await page.get_by_text("De link en de QR-code zijn klaar.").wait_for()

        async with runtime.service.storage.transaction() as tx:
            (link,) = await referrals_of(tx).links()
        deep_link = f"https://t.me/opstap_test_bot?start={link.code}"
        item = page.locator("li.referral", has_text="CLB Leuven")
        assert deep_link in await item.inner_text()
        qr = item.locator("img.qr")
        await qr.scroll_into_view_if_needed()
        # The browser drew the QR code: it loaded (naturalWidth) and has a size on the page.
        assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
        box = await qr.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
        await shoot(page, "phone-referrals")
        # What the page shows scans as the link (a screenshot of the image, as a phone sees it).
        shot = await qr.screenshot()
        assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))] == [deep_link]

        async with page.expect_download() as waiting:
            await item.get_by_role("link", name="QR-code als PNG").click()
        download = await waiting.value
        assert download.suggested_filename == f"{link.code}.png"
        path = await download.path()
        assert path is not None
        assert [r.text for r in zxingcpp.read_barcodes(Image.open(path))] == [deep_link]

        await page.set_viewport_size(DESKTOP)
        await shoot(page, "desktop-referrals")
        # The case discussion of the team's meeting: the open case with its domain profile.
        await page.get_by_role("link", name="Casusoverleg").click()
        await page.get_by_role("heading", name="Casusoverleg: Boest! Your Future").wait_for()
        assert await page.locator("article.meeting-case meter").count() >= 2
        await shoot(page, "desktop-meeting")
        await browser.close()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    assert re.fullmatch(r"r_[A-Za-z0-9_-]+", link.code)
