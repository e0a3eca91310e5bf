"""The durable inbox (UpdateLog) and outbox contracts on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flows.ids import PersonId
from flows.session import JsonValue
from storage.crypto import Keyring
from storage.inbox import MAX_ATTEMPTS, DeliveryPart, take_pending
from storage.migrate import upgrade
from storage.ports import DEDUPE_WINDOW, PendingUpdate, RetentionPolicy, Storage
from storage.sql import open_storage
from tests.storage.conftest import Backend

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ANNA = PersonId("tg:11")
BEN = PersonId("web:ben")


async def test_a_held_update_is_pending_until_handled_in_a_transaction(storage: Storage) -> None:
    async with storage.transaction() as tx:
        assert await tx.updates.hold("telegram", "10", ANNA, '{"update_id": 10}', T0)
        assert await tx.updates.hold("telegram", "9", ANNA, '{"update_id": 9}', T0)
        # Held twice (Telegram sent it again): not new, so not handled twice.
        assert not await tx.updates.hold("telegram", "10", ANNA, "{}", T0)
    async with storage.transaction() as tx:
        pending = await tx.updates.pending("telegram")
    # Arrival order is the update id's order, as numbers ("9" before "10").
    assert [p.update_key for p in pending] == ["9", "10"]
    assert pending[1].payload == '{"update_id": 10}' and pending[1].person == ANNA
    try:
        async with storage.transaction() as tx:
            assert await tx.updates.first_time("telegram", "9", T0)
            raise RuntimeError("crash before the commit")
    except RuntimeError:
        pass
    async with storage.transaction() as tx:
        # The rollback left it pending and unhandled.
        assert [p.update_key for p in await tx.updates.pending("telegram")] == ["9", "10"]
        assert not await tx.updates.seen("telegram", "9")
        assert await tx.updates.first_time("telegram", "9", T0)
    async with storage.transaction() as tx:
        assert [p.update_key for p in await tx.updates.pending("telegram")] == ["10"]
        assert await tx.updates.seen("telegram", "9")
        # Handled: holding it again (a redelivery) does not make it pending again.
        assert not await tx.updates.hold("telegram", "9", ANNA, "{}", T0)
        assert not await tx.updates.first_time("telegram", "9", T0)
        assert await tx.updates.attempted("telegram", "10") == 1
        assert await tx.updates.attempted("telegram", "10") == 2
    async with storage.transaction() as tx:
        assert [p.attempts for p in await tx.updates.pending("telegram")] == [2]
        later = await tx.updates.pending("telegram", received_before=T0)
    assert later == []


async def test_prune_forgets_keys_after_the_redelivery_window(storage: Storage) -> None:
    async with storage.transaction() as tx:
        await tx.updates.first_time("telegram", "1", T0 - DEDUPE_WINDOW - timedelta(minutes=1))
        await tx.updates.first_time("telegram", "2", T0 - DEDUPE_WINDOW + timedelta(minutes=1))
    async with storage.transaction() as tx:
        assert await tx.updates.prune(T0 - DEDUPE_WINDOW) == 1
        assert not await tx.updates.seen("telegram", "1")
        assert await tx.updates.seen("telegram", "2")


async def test_outbox_keeps_order_per_channel_and_forgets_what_was_sent(
    backend: Backend,
) -> None:
    first = await backend.open()
    async with first.transaction() as tx:
        a = await tx.outbox.add(ANNA, {"text": "een", "buttons": []}, T0)
        b = await tx.outbox.add(BEN, {"text": "web"}, T0)
        c = await tx.outbox.add(ANNA, {"text": "twee"}, T0 + timedelta(seconds=5))
    assert a < b < c
    second = await backend.open()  # another process, or the same one after a restart
    async with second.transaction() as tx:
        everything = await tx.outbox.unsent()
        telegram = await tx.outbox.unsent(prefixes=("tg:",))
        old = await tx.outbox.unsent(created_before=T0 + timedelta(seconds=1))
        assert await tx.outbox.attempted(c) == 1
    assert [m.body["text"] for m in everything] == ["een", "web", "twee"]
    assert [m.id for m in telegram] == [a, c]
    assert [m.id for m in old] == [a, b]
    async with second.transaction() as tx:
        assert await tx.outbox.remove((a, b)) == 2
        assert await tx.outbox.remove((a,)) == 0
    async with first.transaction() as tx:
        left = await tx.outbox.unsent()
        d = await tx.outbox.add(ANNA, {"text": "drie"}, T0)
    assert [(m.id, m.attempts) for m in left] == [(c, 1)]
    assert d > c


async def test_a_row_that_names_a_stored_document_keeps_the_reference(backend: Backend) -> None:
    """A message that carries a stored document (the handover's PDF for VDAB) is stored as a
    reference, kind and id, inside the encrypted body: another process reads it back as is."""
    first = await backend.open()
    body: dict[str, JsonValue] = {"text": "Warme overdracht", "attachment": ["handover", 12]}
    async with first.transaction() as tx:
        row = await tx.outbox.add(ANNA, body, T0)
    second = await backend.open()
    async with second.transaction() as tx:
        [stored] = await tx.outbox.of(ANNA)
    assert stored.id == row and stored.body == body


async def test_the_part_exports_erases_and_purges(storage: Storage) -> None:
    part = DeliveryPart()
    assert part.name in {p.name for p in storage.personal_data_parts}
    async with storage.transaction() as tx:
        await tx.outbox.add(ANNA, {"text": "Wat is je naam?"}, T0)
        await tx.outbox.add(BEN, {"text": "old"}, T0 - timedelta(days=8))
        await tx.updates.hold("telegram", "5", ANNA, '{"text": "Anna"}', T0)
        await tx.updates.hold("telegram", "6", None, "{}", T0 - timedelta(days=8))
        exported = await part.export(tx, ANNA)
    assert exported == [{"at": T0.isoformat(), "text": "Wat is je naam?"}]
    async with storage.transaction() as tx:
        assert await part.purge_expired(tx, T0, RetentionPolicy()) == 2
        assert await part.erase(tx, ANNA) == 2
        assert await tx.outbox.unsent() == []
        assert await tx.updates.pending("telegram") == []


async def test_erasure_drops_the_unsent_messages_about_the_person_to_anyone(
    storage: Storage,
) -> None:
    """A message for someone else that carries the person's data (their coach's copy, the
    handover's PDF for VDAB with their name) goes with ``/wis``; others' messages stay."""
    coach, vdab = PersonId("tg:500"), PersonId("tg:7070")
    async with storage.transaction() as tx:
        own = await tx.outbox.add(ANNA, {"text": "Wat is je naam?"}, T0)
        card = await tx.outbox.add(coach, {"text": "Anna schrijft"}, T0, about=ANNA)
        document = await tx.outbox.add(vdab, {"text": "Overdracht van Anna"}, T0, about=ANNA)
        bens = await tx.outbox.add(coach, {"text": "Ben schrijft"}, T0, about=BEN)
        plain = await tx.outbox.add(coach, {"text": "Je hebt 2 dossiers"}, T0)
    async with storage.transaction() as tx:
        assert [(r.id, r.about) for r in await tx.outbox.of(vdab)] == [(document, ANNA)]
        assert [r.about for r in await tx.outbox.of(ANNA)] == [None]
        assert await DeliveryPart().erase(tx, ANNA) == 3
    async with storage.transaction() as tx:
        left = [r.id for r in await tx.outbox.unsent()]
    assert own not in left and card not in left and document not in left
    assert left == [bens, plain]


async def test_payloads_are_encrypted_at_rest(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    keyring = Keyring.parse(Keyring.generate("k1"))
    storage = await open_storage(url, keyring)
    try:
        async with storage.transaction() as tx:
            await tx.outbox.add(ANNA, {"text": "Geheim antwoord"}, T0)
            await tx.updates.hold("telegram", "7", ANNA, '{"text": "Geheime vraag"}', T0)
        async with storage.transaction() as tx:
            assert (await tx.outbox.unsent())[0].body["text"] == "Geheim antwoord"
            assert "Geheime vraag" in (await tx.updates.pending("telegram"))[0].payload
    finally:
        await storage.close()
    raw = (tmp_path / "opstap.db").read_bytes()
    wal = tmp_path / "opstap.db-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert b"Geheim" not in raw


async def test_a_leftover_is_taken_by_one_sweep_at_a_time(backend: Backend) -> None:
    first = await backend.open()
    second = await backend.open()  # another worker
    async with first.transaction() as tx:
        a = await tx.outbox.add(ANNA, {"text": "een"}, T0)
        b = await tx.outbox.add(ANNA, {"text": "twee"}, T0)
    lease = timedelta(seconds=60)
    async with first.transaction() as tx:
        assert await tx.outbox.claim((a,), T0, lease) == (a,)
    async with second.transaction() as tx:
        assert await tx.outbox.claim((a, b), T0 + timedelta(seconds=1), lease) == (b,)
    async with second.transaction() as tx:
        # The first worker died with it: after the lease another may take it.
        assert await tx.outbox.claim((a,), T0 + timedelta(seconds=61), lease) == (a,)
        assert await tx.outbox.claim((999,), T0, lease) == ()


async def test_the_shared_replay_counts_attempts_skips_busy_keys_and_gives_up(
    storage: Storage,
) -> None:
    async with storage.transaction() as tx:
        for key in ("ben:aaaaaaaa", "ben:bbbbbbbb", "ben:cccccccc", "ben:dddddddd"):
            await tx.updates.hold("web", key, BEN, key, T0)
        await tx.updates.hold("telegram", "7", ANNA, "{}", T0)
        for _ in range(MAX_ATTEMPTS):
            await tx.updates.attempted("web", "ben:dddddddd")

    def decode(row: PendingUpdate) -> str | None:
        if row.payload == "ben:bbbbbbbb":
            raise ValueError("unreadable")
        return row.payload

    async with storage.transaction() as tx:
        replay = await take_pending(tx, "web", T0, decode, skip=lambda key: key == "ben:cccccccc")
    # Only this channel's; the busy one left alone; the unreadable and the worn-out given up.
    assert replay.found == ["ben:aaaaaaaa"]
    assert sorted(replay.given_up) == [("ben:bbbbbbbb", "ValueError"), ("ben:dddddddd", "attempts")]
    async with storage.transaction() as tx:
        left = {p.update_key: p.attempts for p in await tx.updates.pending("web")}
        assert await tx.updates.seen("web", "ben:bbbbbbbb")
        assert [p.update_key for p in await tx.updates.pending("telegram")] == ["7"]
    # Given up means recorded as handled: not tried again.
    assert left == {"ben:aaaaaaaa": 1, "ben:cccccccc": 0}
