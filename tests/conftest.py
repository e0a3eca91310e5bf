"""Shared fixtures: the fake Bot API server and the golden-transcript option."""

from __future__ import annotations

from hypothesis import settings

from tests.fakes.bot_api import fake_bot_api

pytest_plugins = ["tests.golden_plugin"]

# Machines here are noisy: a property test judges behaviour, never speed. No example database
# either, so a run leaves nothing behind in the work tree.
settings.register_profile("opstap", deadline=None, database=None)
settings.load_profile("opstap")

__all__ = ["fake_bot_api"]
