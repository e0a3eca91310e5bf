"""The compiled screener kept between starts (bot.safety.compiled): the same screener comes
back, and anything wrong with the file means building it as before."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.safety import compiled
from bot.safety.lexicon import load_screener

CRISIS = ("ik wil dood", "I want to kill myself", "je veux mourir", "ik heb schulden")


def patterns_of(root: object) -> list[re.Pattern[str]]:
    """Every compiled pattern reachable from ``root``, in a fixed order."""
    found: list[re.Pattern[str]] = []
    seen: set[int] = set()

    def walk(value: Any) -> None:
        if id(value) in seen or isinstance(value, str | bytes | int | float | bool | type(None)):
            return
        seen.add(id(value))
        if isinstance(value, re.Pattern):
            found.append(value)
        elif isinstance(value, dict):
            for key in sorted(value, key=repr):
                walk(key)
                walk(value[key])
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, set | frozenset):
            for item in sorted(value, key=repr):
                walk(item)
        else:
            for name in sorted(getattr(value, "__dict__", {})):
                walk(getattr(value, name))
            for name in getattr(type(value), "__slots__", ()):
                walk(getattr(value, name, None))

    walk(root)
    return found


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cache")
    compiled.store(load_screener(), folder)
    return folder


def test_the_stored_screener_has_every_pattern_with_the_code_re_made(stored: Path) -> None:
    loaded, stale = compiled.load(stored)
    assert not stale
    assert loaded is not load_screener()
    fresh = patterns_of(load_screener())
    again = patterns_of(loaded)
    assert len(fresh) > 50
    # Pattern equality compares the source, the flags and the compiled SRE code.
    assert again == fresh
    for text in CRISIS:
        assert loaded.screen(text) == load_screener().screen(text)


def test_no_cache_builds_the_screener_and_asks_for_one(tmp_path: Path) -> None:
    screener, stale = compiled.load(tmp_path)
    assert stale
    assert screener.screen("ik wil dood").flagged


def test_a_damaged_cache_is_ignored_and_replaced(stored: Path, tmp_path: Path) -> None:
    compiled.cache_file(tmp_path).write_bytes(b"not a pickle")
    screener, stale = compiled.load(tmp_path)
    assert stale
    assert screener.screen("ik wil dood").flagged
    written = compiled.store(screener, tmp_path)
    assert written.stat().st_mode & 0o077 == 0
    assert not compiled.load(tmp_path)[1]


def test_a_cache_of_other_lexicons_is_not_used_and_is_removed(tmp_path: Path) -> None:
    old = tmp_path / f"{compiled.FILE_PREFIX}0123456789abcdef.pickle"
    old.write_bytes(b"an older version")
    assert compiled.load(tmp_path)[1]
    compiled.store(load_screener(), tmp_path)
    assert not old.exists()


def test_without_a_folder_nothing_is_cached() -> None:
    screener, stale = compiled.load(None)
    assert screener is load_screener()
    assert not stale


async def test_a_stop_never_waits_for_the_cache_write() -> None:
    """Pickling the screener takes seconds (about 9 on a busy machine); SIGTERM must still stop
    the process in time, so the write runs in a daemon thread that a stop leaves behind."""
    import asyncio
    import threading

    from bot.runtime import Runtime

    release = threading.Event()

    def slow() -> Path:
        release.wait(10)
        return Path("cache")

    task = asyncio.create_task(Runtime._store_screener(slow))
    await asyncio.sleep(0.05)
    [thread] = [t for t in threading.enumerate() if t.name == "screener-cache"]
    assert thread.daemon  # the interpreter's exit does not join it
    task.cancel()
    await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), timeout=1)
    assert thread.is_alive()  # left behind, not waited for
    release.set()
    thread.join(2)


async def test_a_failed_cache_write_is_logged_and_start_up_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.runtime import Runtime

    def broken() -> Path:
        raise OSError("disk full")

    with caplog.at_level("WARNING"):
        await Runtime._store_screener(broken)
    assert "screener cache not written" in caplog.text
