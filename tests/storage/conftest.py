"""Fixtures that run one contract suite against every storage backend.

* ``memory``: :class:`storage.memory.MemoryStorage`.
* ``sqlite``: a migrated file in ``tmp_path`` (WAL; a second engine on the same file is a second
  process): a copy of one file the session migrated once (``migrated_sqlite``, tests/conftest.py).
* ``postgres``: one database ``opstap_test_<random>`` per test session, migrated once and emptied
  (TRUNCATE) before each test, dropped at the end. URL of the server from
  ``OPSTAP_TEST_POSTGRES_URL``. Unreachable: the tests skip, but fail when ``CI`` is set, so a
  broken CI database cannot pass silently.

Database set-up that happens outside a test's event loop runs :func:`asyncio.run` in a worker
thread, so it never touches the loop pytest-asyncio manages.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from storage import tables as _registered  # noqa: F401  (all tables on SQLModel.metadata)
from storage.memory import MemoryDatabase, MemoryStorage
from storage.migrate import upgrade
from storage.ports import Storage
from storage.sql import open_storage

POSTGRES_URL = os.environ.get(
    "OPSTAP_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CONNECT_TIMEOUT_S = 5

T = TypeVar("T")


def run_in_thread(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def postgres_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required when CI is set: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def url_for_database(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


async def admin_execute(*statements: str) -> None:
    """Run statements on the server's maintenance database, outside a transaction (CREATE
    DATABASE refuses to run in one)."""
    engine = create_async_engine(
        POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"timeout": CONNECT_TIMEOUT_S}
    )
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def create_database(prefix: str) -> tuple[str, str]:
    """A new empty database; returns (name, URL)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    await admin_execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    return name, url_for_database(name)


async def drop_database(name: str) -> None:
    await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> None:
    try:
        run_in_thread(lambda: admin_execute("SELECT 1"))
    except Exception as error:  # any failure to connect means "no server"
        postgres_unavailable(f"{type(error).__name__}: {error}")


@pytest.fixture(scope="session")
def postgres_database(postgres_server: None) -> Iterator[str]:
    name, url = run_in_thread(lambda: create_database("opstap_test"))
    try:
        run_in_thread(lambda: upgrade(url))
        yield url
    finally:
        run_in_thread(lambda: drop_database(name))


@dataclass
class Backend:
    """One database; :meth:`open` gives another client of it (another "process")."""

    name: str
    url: str | None = None
    memory: MemoryDatabase | None = None
    opened: list[Storage] = field(default_factory=list)
    # SQLite: a migrated file to copy instead of migrating again.
    template: Path | None = None

    async def prepare(self) -> None:
        if self.name == "sqlite":
            assert self.url is not None
            if self.template is not None:
                database = make_url(self.url).database
                assert database is not None
                shutil.copyfile(self.template, database)
            else:
                await upgrade(self.url)
        elif self.name == "postgres":
            assert self.url is not None
            await truncate_all(self.url)

    async def open(self) -> Storage:
        storage: Storage
        if self.memory is not None:
            storage = MemoryStorage(self.memory)
        else:
            assert self.url is not None
            storage = await open_storage(self.url)
        self.opened.append(storage)
        return storage

    async def close_all(self) -> None:
        for storage in self.opened:
            await storage.close()


async def truncate_all(url: str) -> None:
    storage = await open_storage(url)
    try:
        names = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
        async with storage.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await storage.close()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """A prepared, empty database; every storage opened on it is closed afterwards."""
    name: str = request.param
    if name == "memory":
        chosen = Backend(name, memory=MemoryDatabase())
    elif name == "sqlite":
        chosen = Backend(
            name,
            url=f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}",
            template=request.getfixturevalue("migrated_sqlite"),
        )
    else:
        # A session fixture; its set-up runs in a worker thread, so calling it from this loop
        # is safe.
        chosen = Backend(name, url=request.getfixturevalue("postgres_database"))
    await chosen.prepare()
    try:
        yield chosen
    finally:
        await chosen.close_all()


@pytest.fixture
async def storage(backend: Backend) -> Storage:
    return await backend.open()
