"""Encryption at rest, seen from outside: a canary typed in the chat is found neither in the
raw SQLite files nor in a ``pg_dump`` of PostgreSQL, while the service reads it back.

PostgreSQL unreachable (or ``pg_dump`` missing): skipped, but failed when ``CI`` is set.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from flows.hello import FLOW as HELLO
from flows.inputs import ButtonPressed, CommandReceived, TextReceived
from storage.crypto import Keyring
from storage.migrate import upgrade
from storage.ports import Storage
from storage.sql import open_storage
from tests.privacy.conftest import ANNA, CANARY, T0, make_harness
from tests.storage.conftest import create_database, drop_database, postgres_unavailable

PG_DUMP = shutil.which("pg_dump") or "/usr/bin/pg_dump"
HAVE_PG_DUMP = os.path.exists(PG_DUMP)


async def talk(storage: Storage) -> None:
    """A whole small conversation whose free-text answer is the canary."""
    harness = make_harness(storage, flows=(HELLO,))
    service = harness.service
    await service.handle(ANNA, CommandReceived("start", "", T0))
    await service.handle(ANNA, ButtonPressed("mood=bad", T0))
    await service.handle(ANNA, TextReceived(CANARY, T0))
    async with storage.transaction() as tx:
        session = await tx.sessions.get(ANNA)
    assert session is not None and session.answers["name"] == CANARY


def raw_bytes(folder: Path) -> bytes:
    # The database file and its WAL and shared-memory files: all of it is "at rest".
    return b"".join(p.read_bytes() for p in sorted(folder.glob("opstap.db*")))


async def test_the_canary_is_not_in_the_sqlite_files(tmp_path: Path, keyring: Keyring) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    storage = await open_storage(url, keyring)
    try:
        await talk(storage)
        while_open = raw_bytes(tmp_path)
    finally:
        await storage.close()
    at_rest = raw_bytes(tmp_path)
    for blob in (while_open, at_rest):
        assert b"enc:v1:" in blob  # the answers are there, encrypted
        assert CANARY.encode() not in blob
        assert CANARY.encode("utf-16-le") not in blob


async def test_without_a_key_the_canary_would_be_there(tmp_path: Path) -> None:
    # The control: the check above looks in the right place.
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    storage = await open_storage(url)
    try:
        await talk(storage)
    finally:
        await storage.close()
    assert CANARY.encode() in raw_bytes(tmp_path)


@pytest.mark.postgres
async def test_the_canary_is_not_in_a_pg_dump(keyring: Keyring) -> None:
    try:
        name, url = await create_database("opstap_canary")
    except Exception as error:  # any failure to connect means "no server"
        postgres_unavailable(f"{type(error).__name__}: {error}")
        return
    if not HAVE_PG_DUMP:
        await drop_database(name)
        postgres_unavailable("pg_dump is not installed")
        return
    try:
        await upgrade(url)
        storage = await open_storage(url, keyring)
        try:
            await talk(storage)
        finally:
            await storage.close()
        dump = await pg_dump(url)
    finally:
        await drop_database(name)
    assert "enc:v1:" in dump
    assert "sessions" in dump
    assert CANARY not in dump


async def pg_dump(url: str) -> str:
    parsed = make_url(url)
    args = [
        PG_DUMP,
        "--no-password",
        "--data-only",
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        "-d",
        parsed.database or "",
    ]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")
    return out.decode("utf-8")
