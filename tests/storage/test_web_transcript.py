"""The WebTranscriptRepository contract on memory, SQLite and PostgreSQL, and its part."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from flows.ids import PersonId
from storage.crypto import Keyring
from storage.migrate import upgrade
from storage.ports import RetentionPolicy, Storage
from storage.sql import open_storage
from storage.web_transcript import WebTranscriptPart
from storage.web_transcript_port import WEB_TRANSCRIPT_KEY, NewTranscriptEntry
from tests.storage.conftest import Backend

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ANNA = PersonId("web:anna")
BEN = PersonId("web:ben")


def bot(ref: str, text: str) -> NewTranscriptEntry:
    return NewTranscriptEntry(ref=ref, side="bot", body={"text": text, "buttons": []})


def young(ref: str, text: str) -> NewTranscriptEntry:
    return NewTranscriptEntry(ref=ref, side="young", body={"text": text})


async def test_entries_get_growing_ids_that_another_process_sees(backend: Backend) -> None:
    first = await backend.open()
    async with first.transaction() as tx:
        stored = await tx[WEB_TRANSCRIPT_KEY].append(
            ANNA, (young("ref-young-1", "hoi"), bot("ref-bot-01", "Hallo!")), T0
        )
        await tx[WEB_TRANSCRIPT_KEY].append(BEN, (bot("ref-bot-02", "Ben"),), T0)
    assert stored[0].id < stored[1].id
    assert [e.body["text"] for e in stored] == ["hoi", "Hallo!"]
    second = await backend.open()  # a restarted process
    async with second.transaction() as tx:
        later = await tx[WEB_TRANSCRIPT_KEY].append(ANNA, (bot("ref-bot-03", "Nog iets"),), T0)
        found = await tx[WEB_TRANSCRIPT_KEY].after(ANNA, 0)
        bounds = await tx[WEB_TRANSCRIPT_KEY].bounds(ANNA)
    assert later[0].id > stored[1].id
    assert [(e.side, e.body["text"]) for e in found] == [
        ("young", "hoi"),
        ("bot", "Hallo!"),
        ("bot", "Nog iets"),
    ]
    assert (bounds.first, bounds.last) == (stored[0].id, later[0].id)


async def test_a_retried_ref_is_stored_once(storage: Storage) -> None:
    async with storage.transaction() as tx:
        once = await tx[WEB_TRANSCRIPT_KEY].append(ANNA, (young("same-ref-1", "hoi"),), T0)
        twice = await tx[WEB_TRANSCRIPT_KEY].append(ANNA, (young("same-ref-1", "hoi"),), T0)
        assert await tx[WEB_TRANSCRIPT_KEY].has_ref(ANNA, "same-ref-1")
        assert not await tx[WEB_TRANSCRIPT_KEY].has_ref(BEN, "same-ref-1")
        assert len(await tx[WEB_TRANSCRIPT_KEY].after(ANNA, 0)) == 1
    assert once[0].id == twice[0].id


async def test_a_ref_must_be_a_random_reference(storage: Storage) -> None:
    with pytest.raises(ValueError):
        async with storage.transaction() as tx:
            await tx[WEB_TRANSCRIPT_KEY].append(ANNA, (young("mijn naam is Anna", "x"),), T0)


async def test_pages_seen_marks_trim_and_erase(storage: Storage) -> None:
    async with storage.transaction() as tx:
        stored = await tx[WEB_TRANSCRIPT_KEY].append(
            ANNA, tuple(bot(f"ref-page-{n:02d}", str(n)) for n in range(5)), T0
        )
        page = await tx[WEB_TRANSCRIPT_KEY].after(ANNA, stored[1].id, limit=2)
        assert [e.body["text"] for e in page] == ["2", "3"]
        assert await tx[WEB_TRANSCRIPT_KEY].mark_seen(ANNA, stored[2].id, T0) == 3
        assert await tx[WEB_TRANSCRIPT_KEY].mark_seen(ANNA, stored[2].id, T0) == 0
        seen = [e.seen_at for e in await tx[WEB_TRANSCRIPT_KEY].after(ANNA, 0)]
        assert seen == [T0, T0, T0, None, None]
        assert await tx[WEB_TRANSCRIPT_KEY].trim(ANNA, 3) == 2
        assert (await tx[WEB_TRANSCRIPT_KEY].bounds(ANNA)).first == stored[2].id
        await tx[WEB_TRANSCRIPT_KEY].append(BEN, (bot("ref-ben-001", "b"),), T0)
        assert await tx[WEB_TRANSCRIPT_KEY].erase(ANNA) == 3
        bounds = await tx[WEB_TRANSCRIPT_KEY].bounds(ANNA)
        assert (bounds.first, bounds.last) == (None, 0)
        assert len(await tx[WEB_TRANSCRIPT_KEY].after(BEN, 0)) == 1


async def test_retention_keeps_unread_messages_longer(storage: Storage) -> None:
    policy = RetentionPolicy()
    part = WebTranscriptPart()
    async with storage.transaction() as tx:
        old = T0 - timedelta(days=40)
        await tx[WEB_TRANSCRIPT_KEY].append(
            ANNA, (young("ref-old-yng", "hoi"), bot("ref-old-read", "gelezen")), old
        )
        await tx[WEB_TRANSCRIPT_KEY].mark_seen(ANNA, 10**9, old)
        await tx[WEB_TRANSCRIPT_KEY].append(ANNA, (bot("ref-old-unrd", "coach"),), old)
        await tx[WEB_TRANSCRIPT_KEY].append(ANNA, (bot("ref-new-read", "nieuw"),), T0)
        await tx[WEB_TRANSCRIPT_KEY].append(
            BEN, (bot("ref-ancient1", "oud"),), T0 - timedelta(days=61)
        )
        assert await part.purge_expired(tx, T0, policy) == 3
        left = [e.body["text"] for e in await tx[WEB_TRANSCRIPT_KEY].after(ANNA, 0)]
        assert left == ["coach", "nieuw"]
        assert await tx[WEB_TRANSCRIPT_KEY].after(BEN, 0) == []


async def test_the_part_exports_both_sides_and_erases(storage: Storage) -> None:
    part = WebTranscriptPart()
    async with storage.transaction() as tx:
        await tx[WEB_TRANSCRIPT_KEY].append(
            ANNA, (young("ref-exp-001", "ik zoek werk"), bot("ref-exp-002", "Oké")), T0
        )
        exported = await part.export(tx, ANNA)
        assert exported == [
            {"at": T0.isoformat(), "from": "you", "text": "ik zoek werk", "read_at": None},
            {"at": T0.isoformat(), "from": "opstap", "text": "Oké", "read_at": None},
        ]
        assert await part.withdraw(tx, ANNA, "sensitive") == 2
        assert await part.export(tx, ANNA) == []


async def test_parallel_appends_of_one_person_commit_in_id_order(backend: Backend) -> None:
    # Two "processes" append at once; a reader that saw id N never later finds a new id < N.
    one, two = await backend.open(), await backend.open()
    seen: list[int] = []

    async def writer(storage: Storage, name: str) -> None:
        for n in range(8):
            async with storage.transaction() as tx:
                await tx[WEB_TRANSCRIPT_KEY].append(ANNA, (bot(f"ref-{name}-{n:03d}", name),), T0)

    async def reader() -> None:
        last = 0
        for _ in range(40):
            async with one.transaction() as tx:
                for entry in await tx[WEB_TRANSCRIPT_KEY].after(ANNA, last):
                    seen.append(entry.id)
                    last = entry.id
            await asyncio.sleep(0)

    await asyncio.gather(writer(one, "a"), writer(two, "b"), reader())
    async with one.transaction() as tx:
        for entry in await tx[WEB_TRANSCRIPT_KEY].after(ANNA, seen[-1] if seen else 0):
            seen.append(entry.id)
    assert len(seen) == 16 and seen == sorted(seen)


async def test_the_body_is_encrypted_at_rest(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    storage = await open_storage(url, Keyring.parse(Keyring.generate("k1")))
    try:
        async with storage.transaction() as tx:
            await tx[WEB_TRANSCRIPT_KEY].append(ANNA, (young("ref-secret1", "Zarkonia"),), T0)
            stored = await tx[WEB_TRANSCRIPT_KEY].after(ANNA, 0)
        assert stored[0].body["text"] == "Zarkonia"
        async with storage.engine.connect() as conn:
            raw = (await conn.execute(text("SELECT body FROM web_transcript"))).scalar_one()
        assert "Zarkonia" not in raw and raw.startswith("enc:v1:k1:")
    finally:
        await storage.close()
