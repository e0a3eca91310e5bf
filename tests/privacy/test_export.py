"""/mijngegevens: a readable summary and a JSON file with everything stored about the person,
in their own chat only (web: a one-time download for the same cookie)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FrozenClock
from bot.privacy import PrivacyDesk
from bot.service import ConversationService
from bot.web.app import CHANNEL_KEY, CLOCK_KEY, COOKIE, SECURE_KEY, SERVICE_KEY, add_routes
from bot.web.channel import DOWNLOAD_TTL, WebChannel
from flows.hello import FLOW as HELLO
from flows.ids import PersonId, ReminderKey
from flows.inputs import ButtonPressed, CommandReceived, TextReceived
from storage.memory import MemoryStorage
from tests.bot.fakes import id_translator
from tests.privacy.conftest import ANNA, CANARY, CONSENT_TEXT, T0, Harness, make_harness

Client = TestClient[web.Request, web.Application]


async def fill(harness: Harness) -> None:
    service = harness.service
    await service.handle(ANNA, CommandReceived("start", "", T0))
    await service.handle(ANNA, ButtonPressed("mood=good", T0))
    await service.handle(ANNA, ButtonPressed("consent=yes", T0))
    await service.handle(ANNA, ButtonPressed("domain_mental=2", T0))
    await service.handle(ANNA, TextReceived(CANARY, T0))
    async with harness.storage.transaction() as tx:
        await tx.reminders.schedule(ANNA, ReminderKey("appointment.1"), T0, 1)
        await tx.privacy.record_access(ANNA, "kortrijk", None, "received", T0)
        await tx.privacy.record_access(ANNA, "kortrijk", "coach-3", "viewed", T0)


def exported(harness: Harness) -> dict[str, Any]:
    person, filename, content, caption = harness.channel.documents[-1]
    assert person == ANNA
    assert filename == "opstap-mijn-gegevens-2026-11-24.json"
    assert caption == "privacy.export.caption"
    data: dict[str, Any] = json.loads(content.decode("utf-8"))
    return data


async def test_the_export_holds_every_stored_field_consent_and_reminder() -> None:
    harness = make_harness(MemoryStorage())
    await fill(harness)
    await harness.service.handle(ANNA, CommandReceived("mijngegevens", "", T0))

    document = exported(harness)
    assert document["format"] == "opstap-export/1"
    assert document["person"] == ANNA
    data = document["data"]
    assert set(data) == {
        "session",
        "reminders",
        "consents",
        "data_access",
        "delivery",
        "help_keyboard",
    }
    # Replies wait in the outbox until the relay's next flush (nobody runs it here).
    assert "hello.mood.ask" in [m["text"] for m in data["delivery"]]
    session = data["session"]
    assert session["answers"] == {
        "mood": "good",
        "consent_sensitive": "yes",
        "rating_mental": "2",
        "name": CANARY,
    }
    assert set(session) == {
        "flow",
        "step",
        "status",
        "language",
        "version",
        "started_at",
        "updated_at",
        "answers",
        "history",
        "return_to",
        "interrupted",
        "nudges",
    }
    assert data["consents"] == [
        {
            "category": "sensitive_domains",
            "given": True,
            "notice_version": "2026-11",
            "text_hash": hashlib.sha256(CONSENT_TEXT.encode()).hexdigest(),
            "at": T0.isoformat(),
        }
    ]
    # Every reminder row, whatever its status: the nudge was cancelled when the flow ended.
    assert [(r["key"], r["status"]) for r in data["reminders"]] == [
        ("nudge", "cancelled"),
        ("appointment.1", "pending"),
    ]
    assert data["data_access"] == [
        {"partnership": "kortrijk", "coach": None, "action": "received", "at": T0.isoformat()},
        {"partnership": "kortrijk", "coach": "coach-3", "action": "viewed", "at": T0.isoformat()},
    ]

    texts = harness.channel.texts(ANNA)
    summary = texts[-1] if texts[-1] != "hello.mood.ask" else texts[-2]
    lines = summary.split("\n")
    assert lines[0] == "privacy.export.title"
    assert "privacy.export.answers" in lines
    assert "privacy.consent.line" in lines
    assert lines.count("privacy.export.access.received") == 1
    assert lines.count("privacy.export.access.viewed") == 1
    assert lines[-1] == "privacy.export.file"
    async with harness.storage.transaction() as tx:
        assert await tx.privacy.counts() == {("2026-11", "privacy.exports"): 1}


async def test_the_summary_renders_who_saw_the_request() -> None:
    storage = MemoryStorage()
    harness = make_harness(storage)
    harness.service.translator = id_translator(
        entries={
            "privacy.export.access.viewed": "{coach} van {partnership} bekeek je vraag op {date}.",
            "privacy.export.answers": "Antwoorden: {count}",
        }
    )
    await fill(harness)
    await harness.service.handle(ANNA, ButtonPressed("privacy=export", T0))
    summary = next(t for t in harness.channel.texts(ANNA) if t.startswith("privacy.export.title"))
    assert "coach-3 van kortrijk bekeek je vraag op 24-11-2026." in summary
    assert "Antwoorden: 4" in summary
    assert CANARY not in summary  # the summary counts; the file holds the values
    # The summary as a PDF, then everything as JSON.
    assert [d[1].rsplit(".", 1)[-1] for d in harness.channel.documents] == ["pdf", "json"]
    assert harness.channel.documents[0][2].startswith(b"%PDF-")


async def test_a_feature_part_is_exported_without_touching_privacy_code() -> None:
    storage = MemoryStorage()

    class Cases:
        name = "cases"

        async def export(self, tx: object, person: PersonId) -> list[dict[str, str]]:
            return [{"case": "K-12", "status": "open"}]

        async def erase(self, tx: object, person: PersonId) -> int:
            return 1

        async def purge_expired(self, tx: object, now: object, policy: object) -> int:
            return 0

        async def withdraw(self, tx: object, person: PersonId, category: str) -> int:
            return 0

    storage.personal_data_parts.append(Cases())  # type: ignore[arg-type]
    harness = make_harness(storage)
    harness.service.translator = id_translator(
        entries={
            "privacy.export.other": "{part}: {count}",
            "privacy.part.cases": "Je vraag bij een coach",  # from the feature's own catalog
        }
    )
    await fill(harness)
    await harness.service.handle(ANNA, CommandReceived("mijngegevens", "", T0))
    assert exported(harness)["data"]["cases"] == [{"case": "K-12", "status": "open"}]
    assert any("Je vraag bij een coach: 1" in t for t in harness.channel.texts(ANNA))


@pytest.fixture
async def web_client() -> AsyncIterator[tuple[Client, WebChannel]]:
    clock = FrozenClock(T0)
    ticks = [0.0]
    storage = MemoryStorage()
    channel = WebChannel(storage, clock=clock, monotonic=lambda: ticks[0])
    service = ConversationService(
        storage=storage,
        flows={HELLO.id: HELLO},
        entry=HELLO.id,
        channels={"web": channel},
        translator=id_translator(),
        clock=clock,
    )
    PrivacyDesk(service).install()
    app = web.Application()
    app[SERVICE_KEY] = service
    app[CHANNEL_KEY] = channel
    app[CLOCK_KEY] = clock
    app[SECURE_KEY] = False
    add_routes(app)
    async with TestClient(TestServer(app)) as client:
        client.ticks = ticks  # type: ignore[attr-defined]
        yield client, channel


async def _download_url(client: Client) -> str:
    await client.post("/api/input", json={"kind": "open"})
    await client.post("/api/input", json={"kind": "button", "value": "mood=good"})
    await client.post("/api/input", json={"kind": "text", "text": CANARY})
    response = await client.post("/api/input", json={"kind": "text", "text": "/mijngegevens"})
    messages = (await response.json())["messages"]
    links = [m["download"] for m in messages if "download" in m]
    assert [link["filename"].rsplit(".", 1)[-1] for link in links] == ["pdf", "json"]
    links = links[1:]
    url: str = links[0]["url"]
    assert url.startswith("/api/export/")
    return url


async def test_the_web_chat_offers_a_one_time_download(
    web_client: tuple[Client, WebChannel],
) -> None:
    client, _ = web_client
    url = await _download_url(client)
    # Another browser (another cookie, or none) cannot fetch it, and does not spoil it.
    stranger = {COOKIE: "x" * 43}
    assert (await client.get(url, cookies=stranger)).status == 404
    response = await client.get(url)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    document = json.loads(await response.read())
    assert document["data"]["session"]["answers"]["name"] == CANARY
    assert (await client.get(url)).status == 404  # once


async def test_an_unfetched_download_expires(web_client: tuple[Client, WebChannel]) -> None:
    client, _ = web_client
    url = await _download_url(client)
    client.ticks[0] += DOWNLOAD_TTL + 1  # type: ignore[attr-defined]
    assert (await client.get(url)).status == 404


async def test_the_intake_summary_is_readable_in_the_persons_language() -> None:
    # Issue 14: a 19-year-old gets their own summary card as text, in their language, and the
    # same as a PDF; the JSON stays for machines.
    from bot.conversations import build_flows
    from bot.i18n import Translator
    from flows.ids import FlowId, StepId
    from flows.session import Session

    flows = build_flows()
    intake = flows[FlowId("intake")]
    harness = make_harness(MemoryStorage(), flows=(intake,))
    harness.service.translator = Translator.from_dir()
    session = Session(
        person=ANNA,
        flow=intake.id,
        step=StepId("contact"),
        language="ar",
        started_at=T0,
        updated_at=T0,
        version=3,
        answers={
            "own_words": "عندي ديون",
            "domains": ["money"],
            "age": 22,
            "place_text": "Leuven",
            "place_label": "Leuven",
            "place_status": "ok",
            "place_partnership": "Boest! Your Future",
            "place_route": "partnership",
            "rating_money": "2",
        },
        history=(
            StepId("welcome"),
            StepId("words"),
            StepId("age"),
            StepId("place"),
            StepId("domain_money"),
        ),
    )
    async with harness.storage.transaction() as tx:
        await tx.sessions.save(session, expected_version=None)
    await harness.service.handle(ANNA, CommandReceived("mijngegevens", "", T0))
    summary = next(m for p, m in harness.channel.sent if p == ANNA and "عندي ديون" in m.text)
    assert summary.rtl
    assert "العمر: 22" in summary.text and "Boest! Your Future" in summary.text
    assert "cases" not in summary.text and "Leeftijd" not in summary.text
    [pdf, machine] = harness.channel.documents
    assert pdf[1].endswith(".pdf") and pdf[2].startswith(b"%PDF-")
    assert pdf[3] == "📄 ملخصك بصيغة PDF"
    assert machine[1].endswith(".json")
