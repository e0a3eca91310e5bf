"""End to end through the fake Bot API: a partner's link and a coach's personal invitation.

The runtime is built as ``opstap run`` builds it, with a frozen clock (the fixture of
``tests/e2e/test_routing_e2e.py``). Coaches are invited with ``opstap coach invite``; the
partner's link is made with ``opstap referral create`` (the bot's username from getMe).
"""

from __future__ import annotations

import argparse
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp

from bot.cli import _parser
from bot.clock import FrozenClock
from bot.referral.cli import run_referral
from bot.runtime import Runtime
from bot.settings import Settings
from flows.ids import CaseId, PersonId
from storage.referral import referrals_of
from storage.referral_port import SourceCount
from tests.e2e.journeys import Chat, invite
from tests.e2e.test_routing_e2e import running as running  # the fixture
from tests.fakes.bot_api import FakeBotApi

SAM, NOOR, LOTTE, SARA = 4242, 4343, 5001, 5003
INVITE = re.compile(r"https://t\.me/opstap_test_bot\?start=(i_[A-Za-z0-9_-]+)")


async def referral_link(settings: Settings, clock: FrozenClock, out: Path, *argv: str) -> str:
    args: argparse.Namespace = _parser().parse_args(
        ["referral", "create", *argv, "--out", str(out)]
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    assert await run_referral(args, settings, clock, stdout, stderr) == 0, stderr.getvalue()
    last = stdout.getvalue().strip().splitlines()[-1]
    assert last.startswith("https://t.me/opstap_test_bot?start=r_")
    return last.rsplit("=", 1)[1]


async def counts(runtime: Runtime) -> list[SourceCount]:
    async with runtime.service.storage.transaction() as tx:
        return await referrals_of(tx).source_counts()


async def test_a_partners_link_leads_to_its_partnership_with_the_source_recorded(
    fake_bot_api: FakeBotApi,
    running: tuple[Runtime, FrozenClock, Settings],
    tmp_path: Path,
) -> None:
    fake = fake_bot_api
    runtime, clock, settings = running
    lotte = Chat(fake, LOTTE, "Lotte T.", "lotte_private")
    sam = Chat(fake, SAM, "Sam", "sam_private")
    noor = Chat(fake, NOOR, "Noor", "noor_private")
    link = await invite(
        settings,
        clock,
        "--partnership",
        "teamwork-halle-asse",
        "--name",
        "Lotte",
        "--organisation",
        "OCMW Halle",
        "--domains",
        "work",
    )
    await lotte.command("/start", link, contains="Welkom, Lotte!")
    code = await referral_link(
        settings,
        clock,
        tmp_path,
        "--partnership",
        "teamwork-halle-asse",
        "--source",
        "OCMW Halle",
    )

    # Sam scans the poster: the normal welcome, and at the place question the partnership.
    await sam.command("/start", code, button="welcome=")
    await sam.taps("welcome=start", button="words=")
    await sam.says("Ik zoek werk", button="words_confirm=")
    await sam.taps("words_confirm=yes", button="age=")
    asked = await sam.says("23", button="place=referral")
    assert "Je kwam hier via Teamwork Halle-Asse" in asked.plain_text
    await sam.taps("place=referral", button="domain_work=")
    assert any("Teamwork Halle-Asse helpt je verder" in t for t in sam.texts())
    await sam.taps("domain_work=2", button="help_work=")
    await sam.taps("help_work=guide", button="more=")
    await sam.taps("more=none", button="contact=")
    await sam.taps("contact=chat", button="name=")
    summary = await sam.says("Sam", button="summary=send")
    assert "in de buurt van Teamwork Halle-Asse" in summary.plain_text
    await sam.taps("summary=send", contains="Teamwork Halle-Asse")

    # The card reaches the coach of that partnership; the source counts an intake and a case.
    card = await lotte.expect(0, button="case=1:accept")
    assert "Dossier #1" in card.plain_text
    assert await counts(runtime) == [
        SourceCount("link", "OCMW Halle", "teamwork-halle-asse", 1, 1, 1)
    ]

    # An unknown code: a kind word and the normal start; nothing is counted.
    greeted = await noor.command("/start", "r_doesnotexist", button="welcome=")
    assert any("Deze link werkt niet meer" in t for t in noor.texts())
    assert greeted is not None
    assert [c.arrivals for c in await counts(runtime)] == [1]
    # Any other payload too (an old poster, a typo).
    before = noor.seen
    await noor.command("/start", "oude-poster-2024", contains="Deze link werkt niet meer")
    await noor.expect(before, button="welcome=")

    await fake.wait_idle(0.3)
    assert fake.unanswered_callback_queries() == []
    fake.assert_no_violations()


async def test_a_personal_invitation_connects_to_that_coach_after_consent_once(
    fake_bot_api: FakeBotApi,
    running: tuple[Runtime, FrozenClock, Settings],
) -> None:
    fake = fake_bot_api
    runtime, clock, settings = running
    sara = Chat(fake, SARA, "Sara V.", "sara_private")
    sam = Chat(fake, SAM, "Sam", "sam_private")
    noor = Chat(fake, NOOR, "Noor", "noor_private")
    link = await invite(
        settings,
        clock,
        "--partnership",
        "boest-your-future",
        "--name",
        "Sara",
        "--organisation",
        "CAW Leuven",
    )
    await sara.command("/start", link, contains="Welkom, Sara!")

    # Sara makes a personal invitation in Telegram.
    made = await sara.command("/uitnodigen", contains="Persoonlijke uitnodiging")
    found = INVITE.search(made.plain_text)
    assert found is not None, made.plain_text
    code = found.group(1)

    # Sam opens it: asked first, in plain words.
    asked = await sam.command("/start", code, button="invite=yes")
    assert "Sara van CAW Leuven nodigt je uit" in asked.plain_text
    await sam.taps("invite=yes", contains="Goed nieuws! Sara van CAW Leuven")
    # Straight to Sara: the case is hers, no round of offers.
    await sara.expect(0, contains="Dossier #1 is van jou")
    assert not any("case=1:accept" in str(m.buttons()) for m in fake.messages(SARA))
    async with runtime.service.storage.transaction() as tx:
        case = await tx.cases.get(CaseId("1"))
        assert (
            case is not None and case.status == "open" and case.partnership == "boest-your-future"
        )
        coach = await tx.coaches.get(case.coach) if case.coach else None
        assert coach is not None and coach.first_name == "Sara"
        consent = await tx.consents.current(case.person)
        assert consent["coach_invite"].given
    assert await counts(runtime) == [
        SourceCount("invite", "CAW Leuven", "boest-your-future", 1, 1, 1)
    ]

    # They write to each other at once.
    await sam.says("Hoi Sara, hier ben ik", contains="Doorgegeven aan Sara")
    await sara.expect(0, contains="Hoi Sara, hier ben ik")

    # Their data says where they came from and what they agreed to.
    await sam.command("/mijngegevens", contains="Verbonden met de coach die je uitnodigde")
    for _ in range(2):
        # The summary (PDF) and the file for machines (JSON), in that order.
        await fake.wait_for_call("sendDocument", after=len(fake.documents(SAM)))
    exported = [d for d in fake.documents(SAM) if (d.filename or "").endswith(".json")]
    assert exported and '"referral"' in exported[-1].data.decode()

    # Used once: Noor cannot use the same link; a kind word and the normal start.
    await noor.command("/start", code, button="welcome=")
    assert any("Deze uitnodiging werkt niet meer" in t for t in noor.texts())

    # A new invitation expires after 14 days (the service's clock).
    later = await sara.command("/uitnodigen", contains="Persoonlijke uitnodiging")
    second = INVITE.search(later.plain_text)
    assert second is not None
    clock.set(clock.now() + timedelta(days=14, minutes=1))
    before = noor.seen
    await noor.command("/start", second.group(1), contains="Deze uitnodiging werkt niet meer")
    assert not any("invite=yes" in str(m.buttons()) for m in fake.messages(NOOR)[before:])

    await fake.wait_idle(0.3)
    assert fake.unanswered_callback_queries() == []
    fake.assert_no_violations()


async def test_saying_no_connects_nobody_and_the_invitation_is_still_theirs(
    fake_bot_api: FakeBotApi,
    running: tuple[Runtime, FrozenClock, Settings],
) -> None:
    fake = fake_bot_api
    runtime, clock, settings = running
    sara = Chat(fake, SARA, "Sara V.", "sara_private")
    sam = Chat(fake, SAM, "Sam", "sam_private")
    link = await invite(
        settings, clock, "--partnership", "dash", "--name", "Sara", "--organisation", "JAC"
    )
    await sara.command("/start", link, contains="Welkom, Sara!")
    made = await sara.command("/uitnodigen", contains="Persoonlijke uitnodiging")
    found = INVITE.search(made.plain_text)
    assert found is not None
    await sam.command("/start", found.group(1), button="invite=no")
    await sam.taps("invite=no", button="welcome=")
    assert any("ik verbind je niet" in t for t in sam.texts())
    async with runtime.service.storage.transaction() as tx:
        assert await tx.cases.latest_of(PersonId(f"tg:{SAM}")) is None
        assert not (await tx.consents.current(PersonId(f"tg:{SAM}")))["coach_invite"].given
    # They change their mind within the 14 days: the link still works for them.
    clock.set(clock.now() + timedelta(days=13))
    await sam.command("/start", found.group(1), button="invite=yes")
    await sam.taps("invite=yes", contains="Goed nieuws! Sara van JAC")
    await fake.wait_idle(0.3)
    fake.assert_no_violations()


async def test_the_web_chat_takes_a_partners_link_as_ref(
    fake_bot_api: FakeBotApi,
    running: tuple[Runtime, FrozenClock, Settings],
    tmp_path: Path,
) -> None:
    runtime, clock, settings = running
    code = await referral_link(
        settings, clock, tmp_path, "--partnership", "aan-boord", "--source", "JAC Tienen"
    )
    base = settings.web_url.rstrip("/")
    # unsafe: the cookie jar keeps cookies of an IP address (127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        page = await web.get(f"{base}/?ref={code}")
        assert page.status == 200
        opened = await (
            await web.post(f"{base}/api/input", json={"kind": "open", "referral": code})
        ).json()
        assert [b["value"] for b in opened["messages"][-1]["buttons"][0]] == [
            "welcome=start",
            "welcome=privacy",
        ]

        async def press(value: str) -> dict[str, Any]:
            answer = await web.post(
                f"{base}/api/input", json={"kind": "button", "value": value, "label": value}
            )
            return cast(dict[str, Any], await answer.json())

        async def say(text: str) -> dict[str, Any]:
            answer = await web.post(f"{base}/api/input", json={"kind": "text", "text": text})
            return cast(dict[str, Any], await answer.json())

        await press("welcome=start")
        await press("words=dont_know")
        asked = await say("24")
        last = asked["messages"][-1]
        assert "Je kwam hier via Aan Boord!" in last["text"]
        assert last["buttons"][0][0]["value"] == "place=referral"
        # A reload with the same link does not start again.
        again = await (
            await web.post(f"{base}/api/input", json={"kind": "open", "referral": code})
        ).json()
        assert again["messages"] == [] or again["messages"][-1]["text"] == last["text"]
    assert await counts(runtime) == [SourceCount("link", "JAC Tienen", "aan-boord", 1, 0, 0)]
