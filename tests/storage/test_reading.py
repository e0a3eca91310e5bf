"""``Storage.reading``: a read-only transaction that waits for no writer (all backends)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from storage.ports import Storage
from tests.storage.conftest import Backend

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


async def test_a_read_sees_what_was_committed(storage: Storage) -> None:
    async with storage.transaction() as tx:
        assert await tx.updates.first_time("telegram", "1", T0)
    async with storage.reading() as tx:
        assert await tx.updates.seen("telegram", "1")
        assert not await tx.updates.seen("telegram", "2")


async def test_a_write_in_a_read_does_not_stick(backend: Backend, storage: Storage) -> None:
    if backend.name == "memory":
        # Memory has no read-only mode: what is written is dropped with the snapshot.
        async with storage.reading() as tx:
            await tx.updates.first_time("telegram", "7", T0)
    else:
        with pytest.raises(Exception, match=r"(?i)read.?only|readonly|query_only"):
            async with storage.reading() as tx:
                await tx.updates.first_time("telegram", "7", T0)
    async with storage.transaction() as tx:
        assert not await tx.updates.seen("telegram", "7")
        # The pooled connection that served the read writes again (query_only is switched off).
        assert await tx.updates.first_time("telegram", "8", T0)
    async with storage.reading() as tx:
        assert await tx.updates.seen("telegram", "8")


async def test_a_read_does_not_wait_for_a_writer(backend: Backend, storage: Storage) -> None:
    """Another client holds a write transaction (SQLite: the database's write lock) until the
    read has finished: the read must not queue behind it. Before ``reading`` every lookup began
    with ``BEGIN IMMEDIATE`` and waited out SQLite's 5 s busy timeout here."""
    async with storage.transaction() as tx:
        assert await tx.updates.first_time("telegram", "1", T0)
    writer = storage if backend.name == "memory" else await backend.open()
    read_done = asyncio.Event()

    async def hold_the_write_lock() -> None:
        async with writer.transaction() as tx:
            await tx.updates.first_time("telegram", "2", T0)
            await read_done.wait()

    holder = asyncio.create_task(hold_the_write_lock())
    await asyncio.sleep(0.2)  # the holder has begun its transaction
    assert not holder.done()
    async with storage.reading() as tx:
        seen = await tx.updates.seen("telegram", "1")
        not_yet = await tx.updates.seen("telegram", "2")
    read_done.set()
    await holder
    # The read finished while the writer still held its transaction (else the holder, which
    # waits for the read, could not have committed), and it saw the snapshot before it.
    assert seen and not not_yet
    async with storage.reading() as tx:
        assert await tx.updates.seen("telegram", "2")
