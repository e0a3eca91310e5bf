"""The web chat never loses a word: a real browser (Debian's Chromium, 390x844) against the
real ``opstap run`` process.

* a reload shows the whole conversation, both sides, and the current question's buttons once;
* an open page goes on after the server restarts (a real process restart on the same database):
  what was typed while it was down is sent, and the crisis reply arrives;
* after a switch to Arabic the page is ``lang=ar dir=rtl`` with Arabic labels;
* the quick-exit button leaves for a neutral page, and Back does not come back;
* after ``/wis`` the screen is cleared;
* scroll and focus are on the newest buttons; help lines are ``tel:`` links; no Telegram.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    Locator,
    Page,
    Route,
    ViewportSize,
    async_playwright,
)

from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.process import OpstapProcess

pytestmark = pytest.mark.e2e

NEUTRAL = "https://www.google.be/"
VIEWPORT: ViewportSize = {"width": 390, "height": 844}


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 15.0) -> None:
    # Polling from Python: the page's CSP (rightly) forbids the eval that wait_for_function uses.
    for _ in range(int(within / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def count_above(locator: Locator, count: int) -> None:
    async def more() -> bool:
        return await locator.count() > count

    await until(more, f"more than {count} elements")


@asynccontextmanager
async def browser_page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORT, locale="nl-BE")
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as pw:
        found = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield found
        finally:
            await found.close()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[OpstapProcess]:
    process = OpstapProcess(tmp_path, {})
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def enabled_buttons(page: Page) -> Locator:
    return page.locator(".bubble.bot .buttons button:not([disabled])")


async def start_intake(page: Page, url: str) -> None:
    await page.goto(url + "/")
    await enabled_buttons(page).first.wait_for(timeout=15_000)
    bot = page.locator(".bubble.bot")
    before = await bot.count()
    await page.locator(".bubble.bot .buttons button", has_text="Start").last.click()
    await count_above(bot, before)


async def type_text(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def bubbles(page: Page) -> list[tuple[str, str]]:
    # One read of the whole screen: the page may clear it between two element reads.
    found = await page.locator(".bubble").evaluate_all(
        "els => els.map(e => [e.classList.contains('me') ? 'me' : 'bot', e.innerText])"
    )
    return [(side, text) for side, text in found]


async def settled(page: Page, quiet: float = 1.0, within: float = 15.0) -> list[tuple[str, str]]:
    """The conversation once it stops changing: one reply can be several messages that arrive a
    moment apart (the crisis help, then whether a person was alerted), and a slow machine
    spreads them further."""
    last = await bubbles(page)
    still = 0.0
    for _ in range(int(within / 0.1)):
        await asyncio.sleep(0.1)
        now = await bubbles(page)
        still = still + 0.1 if now == last else 0.0
        if still >= quiet:
            return now
        last = now
    raise AssertionError("the conversation kept changing")


async def test_a_reload_restores_both_sides_and_the_question_once(
    browser: Browser, server: OpstapProcess
) -> None:
    async with browser_page(browser) as page:
        await start_intake(page, server.url)
        bot = page.locator(".bubble.bot")
        before = await bot.count()
        await type_text(page, "Ik zoek werk, zegt Zarkonia")
        await count_above(bot, before)
        shown = await settled(page)
        assert ("me", "Ik zoek werk, zegt Zarkonia") in shown
        await page.reload()

        async def restored() -> bool:
            return await bubbles(page) == shown

        await until(restored, "the same conversation after the reload")
        await asyncio.sleep(1.0)
        assert await bubbles(page) == shown  # and nothing repeated afterwards
        # The current question's buttons: enabled once, on the last bot message.
        live = page.locator(".buttons:has(button:not([disabled]))")
        assert await live.count() <= 1
        texts = [text for _, text in shown]
        assert len(texts) == len(set(texts)), "a message is shown twice"
    assert "Zarkonia" not in server.output()


async def test_an_open_page_goes_on_after_a_server_restart(
    browser: Browser, server: OpstapProcess, tmp_path: Path
) -> None:
    async with browser_page(browser) as page:
        await start_intake(page, server.url)
        shown = await bubbles(page)
        await server.stop()
        # Typed while the server is down: kept by the page, sent when it is back.
        await type_text(page, "ik wil dood")
        await page.locator("#offline").wait_for(state="visible", timeout=15_000)
        again = OpstapProcess(tmp_path, {})
        again.port = server.port
        again.env["OPSTAP_HTTP_PORT"] = str(server.port)
        await again.start()
        try:
            crisis = page.locator(".bubble.bot.crisis")
            await crisis.first.wait_for(timeout=20_000)
            assert await page.locator(".bubble.crisis a[href='tel:112']").count() >= 1
            await page.locator("#offline").wait_for(state="hidden", timeout=10_000)
            # Nothing shown before is lost or doubled, and the typed words are there once.
            after = await settled(page)
            assert after[: len(shown)] == shown
            assert [t for s, t in after if s == "me"].count("ik wil dood") == 1
            # A reload after the restart shows the same conversation.
            await page.reload()

            async def same() -> bool:
                return await bubbles(page) == after

            await until(same, "the conversation after a reload on the new process")
        finally:
            await again.stop()


async def test_after_a_switch_to_arabic_the_page_speaks_arabic(
    browser: Browser, server: OpstapProcess
) -> None:
    async with browser_page(browser) as page:
        await start_intake(page, server.url)
        html = page.locator("html")
        assert (await html.get_attribute("lang"), await html.get_attribute("dir")) == ("nl", "ltr")
        dutch_help = await page.locator("#help").inner_text()
        await type_text(page, "/taal")
        await page.locator(".bubble.bot .buttons button", has_text="العربية").last.click()

        async def arabic() -> bool:
            return await html.get_attribute("lang") == "ar"

        await until(arabic, "lang=ar")
        assert await html.get_attribute("dir") == "rtl"
        assert await page.locator("#help").inner_text() != dutch_help
        assert "Snel weg" not in await page.locator("#exit").inner_text()
        assert await page.get_attribute("#text", "placeholder") not in ("", None)
        assert "Typ" not in (await page.get_attribute("#text", "placeholder") or "")
        # A reload keeps it.
        await page.reload()
        await page.locator(".bubble").first.wait_for()
        assert await html.get_attribute("lang") == "ar"
        assert await html.get_attribute("dir") == "rtl"


async def test_quick_exit_leaves_no_way_back(browser: Browser, server: OpstapProcess) -> None:
    async with browser_page(browser) as page:

        async def neutral(route: Route) -> None:
            await route.fulfill(body="<html><body>Zoeken</body></html>", content_type="text/html")

        await page.route(NEUTRAL + "**", neutral)
        await start_intake(page, server.url)
        await page.click("#exit")
        await page.wait_for_url(NEUTRAL + "**", timeout=10_000)
        assert "Opstap" not in await page.content()
        await page.go_back()
        await asyncio.sleep(0.5)
        assert not page.url.startswith(server.url)


async def test_wis_clears_the_screen(browser: Browser, server: OpstapProcess) -> None:
    async with browser_page(browser) as page:
        await start_intake(page, server.url)
        await type_text(page, "Zarkonia")
        await count_above(page.locator(".bubble.me"), 0)
        await type_text(page, "/wis")
        yes = page.locator(".bubble.bot .buttons button:not([disabled])").first
        await until(lambda: _has_erase_buttons(page), "the /wis question")
        await yes.click()

        async def cleared() -> bool:
            found = await bubbles(page)
            return len(found) == 1 and found[0][0] == "bot"

        await until(cleared, "a screen with only the erasure's answer")
        assert "Zarkonia" not in await page.locator("#log").inner_text()
        await page.reload()
        await page.locator(".bubble").first.wait_for()
        await asyncio.sleep(0.5)
        assert "Zarkonia" not in await page.locator("#log").inner_text()


async def _has_erase_buttons(page: Page) -> bool:
    values = await page.locator(".buttons button:not([disabled])").evaluate_all(
        "bs => bs.map(b => b.dataset.value)"
    )
    return "privacy=erase:yes" in values


async def test_new_buttons_are_in_view_and_focused_and_no_telegram(
    browser: Browser, server: OpstapProcess
) -> None:
    async with browser_page(browser) as page:
        await start_intake(page, server.url)
        text = await page.locator("#log").inner_text()
        assert "Telegram" not in text
        for _ in range(3):
            live = enabled_buttons(page)
            if await live.count() == 0:
                break
            bot = page.locator(".bubble.bot")
            before = await bot.count()
            await live.first.click()
            await count_above(bot, before)
            await settled(page)
            newest = enabled_buttons(page)
            if await newest.count() == 0:
                continue
            box = await newest.last.bounding_box()
            assert box is not None and box["y"] + box["height"] <= VIEWPORT["height"]
            focused = await page.evaluate("document.activeElement.dataset.value || ''")
            values = await newest.evaluate_all("bs => bs.map(b => b.dataset.value)")
            assert focused in values
