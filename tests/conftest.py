"""Shared fixtures: the fake Bot API server, the golden-transcript option, one migrated SQLite
file to copy and one compiled-screener cache for every `opstap run` of the session."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import settings

from storage.migrate import upgrade
from tests.e2e import process
from tests.fakes.bot_api import fake_bot_api

pytest_plugins = ["tests.golden_plugin"]

# Machines here are noisy: a property test judges behaviour, never speed. No example database
# either, so a run leaves nothing behind in the work tree. Derandomized: CI runs the same
# examples every time, so a red build means a change broke something, not an unlucky draw
# (explore with HYPOTHESIS_PROFILE=explore to draw new examples).
settings.register_profile("opstap", deadline=None, database=None, derandomize=True)
settings.register_profile("explore", deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "opstap"))


@pytest.fixture(scope="session", autouse=True)
def shared_screener_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every ``opstap run`` of the session shares one compiled-screener cache
    (``tests.e2e.process.SCREENER_CACHE``)."""
    process.SCREENER_CACHE = tmp_path_factory.mktemp("screener-cache")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to the newest revision, copied by tests that need a migrated
    database (migrating takes a quarter of a second, a copy a millisecond). Migrated in a
    worker thread, so it never touches the event loop pytest-asyncio manages."""
    path = tmp_path_factory.mktemp("migrated-sqlite") / "opstap.db"
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, upgrade(f"sqlite+aiosqlite:///{path}")).result()
    # Every connection is closed: the file holds everything (no write-ahead log left).
    assert not path.with_name(path.name + "-wal").exists()
    return path


__all__ = ["fake_bot_api"]
