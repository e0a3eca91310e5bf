"""Shared fixtures: the fake Bot API server and the golden-transcript option."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

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


__all__ = ["fake_bot_api"]
