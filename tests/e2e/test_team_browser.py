"""The team dashboard in Debian's Chromium, at phone and desktop size: a coordinator logs in
with TOTP, sees the queue, takes a case from the team queue, writes a note, proposes an
appointment, sees the life-domain chart and downloads the CSV. Screenshots go to
``var/artifacts/team/`` (ignored by git) as test artefacts.

The service runs in process as ``opstap run`` builds it, on a free port, with a frozen clock
(the TOTP code is computed from the same clock).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Page, ViewportSize, async_playwright

from bot.clock import FrozenClock
from bot.runtime import Runtime, build_runtime
from bot.team.app import TEAM_KEY
from bot.team.auth import hash_password
from flows.ids import CoachId, PartnershipId, PersonId
from flows.routing.card import card_answers
from storage.crypto import Keyring
from storage.migrate import upgrade
from storage.routing_port import CoachRecord
from tests.e2e.browser import CHROMIUM_FLAGS, chromium_path
from tests.e2e.test_routing_e2e import free_port
from tests.routing2.conftest import intake_answers, local

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "team"
A = PartnershipId("boest-your-future")
EMAIL, PASSWORD = "an@leuven.example", "een lange zin als wachtwoord"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[tuple[Runtime, str, str]]:
    from bot.settings import load_settings

    port = free_port()
    settings = load_settings(
        {
            "OPSTAP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}",
            "OPSTAP_SECRET_KEY": Keyring.generate("k1"),
            "OPSTAP_HTTP_PORT": str(port),
            "OPSTAP_BOT_USERNAME": "opstap_test_bot",
        },
        env_file=None,
    )
    await upgrade(settings.database_url)
    clock = FrozenClock(local(2026, 11, 24, 10))
    runtime = await build_runtime(settings, clock=clock)
    deps = runtime.http[TEAM_KEY]
    storage = runtime.service.storage
    an = CoachRecord(
        CoachId("an"),
        A,
        "An",
        "OCMW Leuven",
        ("work",),
        ("nl",),
        8,
        "coordinator",
        None,
        True,
        None,
        None,
        None,
        clock.now(),
    )
    # Lotte has not opened her invite yet: nobody can be offered Sam's case, so it goes to
    # the partnership's team queue, where the coordinator takes it.
    lotte = CoachRecord(
        CoachId("lotte"),
        A,
        "Lotte",
        "JAC",
        ("work", "money"),
        ("nl",),
        8,
        "coach",
        None,
        True,
        None,
        None,
        None,
        clock.now(),
    )
    async with storage.transaction() as tx:
        await tx.coaches.add(an)
        await tx.coaches.add(lotte)
        intake = card_answers(intake_answers(name="Sam"))
        intake["place_label"] = "Kessel-Lo (Leuven)"
        case = await tx.cases.create(PersonId("web:sam"), A, "24062", "nl", intake, clock.now())
        await deps.handoff.plan(tx, case, clock.now())
    secret = pyotp.random_base32()
    async with deps.store.transaction() as t:
        await t.team.add_user(
            email=EMAIL,
            name="An",
            role="coordinator",
            partnership=A,
            coach=an.id,
            password_hash=hash_password(PASSWORD),
            totp_secret=secret,
            now=clock.now(),
        )
    await runtime.start()
    try:
        yield runtime, f"http://127.0.0.1:{port}", pyotp.TOTP(secret).at(clock.now())
    finally:
        await runtime.stop()


async def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_a_coordinator_works_a_case_in_the_browser(service: tuple[Runtime, str, str]) -> None:
    runtime, url, code = service
    executable = chromium_path()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = await browser.new_context(viewport=PHONE, locale="nl-BE", accept_downloads=True)
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        await page.goto(url + "/team/queue")
        assert page.url.endswith("/team/login")
        await shoot(page, "phone-login")
        await page.fill("input[name=email]", EMAIL)
        await page.fill("input[name=password]", PASSWORD)
        await page.fill("input[name=code]", code)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/team/queue")
        await page.get_by_role("heading", name="Wachtrij").wait_for()
        assert await page.locator("table.queue a", has_text="#1").count() == 1
        assert await page.locator("table.queue", has_text="teamwachtrij").count() == 1
        await shoot(page, "phone-queue")

        await page.click("table.queue a:has-text('#1')")
        await page.wait_for_url("**/team/cases/1")
        await page.get_by_role("button", name="Ik neem dit op").click()
        await page.get_by_text("Je hebt dit dossier opgenomen.").wait_for()
        assert "Sam" in await page.locator("h1").inner_text()

        await page.fill("textarea[name=text]", "Belt liever na 16 uur.")
        await page.get_by_role("button", name="Notitie bewaren").click()
        await page.get_by_text("Je notitie is bewaard.").wait_for()
        assert await page.locator("article.note", has_text="Belt liever na 16 uur.").count() == 1

        await page.get_by_role("button", name="Voorstel versturen").click()
        await page.get_by_text("Het voorstel is naar de jongere gestuurd.").wait_for()
        assert "voorgesteld" in await page.locator("section", has_text="Afspraken").inner_text()

        chart = page.locator("img[src$='profile.svg']")
        await chart.scroll_into_view_if_needed()
        box = await chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
        svg = await page.request.get(url + "/team/cases/1/profile.svg")
        assert svg.status == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        assert "Werk en school" in await page.locator("section.chart table").inner_text()
        await shoot(page, "phone-case")

        await page.set_viewport_size(DESKTOP)
        await shoot(page, "desktop-case")
        await page.goto(url + "/team/stats")
        await page.get_by_role("heading", name="Intakes per week").wait_for()
        await shoot(page, "desktop-stats")
        async with page.expect_download() as waiting:
            await page.get_by_role("link", name="CSV voor ESF / Europa WSE (anoniem)").click()
        download = await waiting.value
        target = ARTIFACTS / "export.csv"
        await download.save_as(str(target))
        content = target.read_text(encoding="utf-8")
        assert content.startswith("partnership,metric,key,value")
        # One accepted case: a count under OPSTAP_REPORT_MIN_COUNT (5) is not shown as such.
        assert "boest-your-future,cases,accepted,<5" in content
        assert "boest-your-future,cases,accepted,1" not in content
        assert "Sam" not in content
        await page.goto(url + "/team/queue")
        await shoot(page, "desktop-queue")
        await browser.close()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    # The young person heard from the coach side, as from Telegram.
    found = await runtime.web_channel.read(PersonId("web:sam"), 0, mark_seen=False)
    texts = [str(e.body.get("text")) for e in found.entries if e.side == "bot"]
    assert any("An" in t for t in texts)
