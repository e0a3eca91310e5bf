"""Shared fixtures: the fake Bot API server and the golden-transcript option."""

from __future__ import annotations

import os

from hypothesis import settings

from tests.fakes.bot_api import fake_bot_api

pytest_plugins = ["tests.golden_plugin"]

# Machines here are noisy: a property test judges behaviour, never speed. No example database
# either, so a run leaves nothing behind in the work tree. Derandomized: CI runs the same
# examples every time, so a red build means a change broke something, not an unlucky draw
# (explore with HYPOTHESIS_PROFILE=explore to draw new examples).
settings.register_profile("opstap", deadline=None, database=None, derandomize=True)
settings.register_profile("explore", deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "opstap"))

__all__ = ["fake_bot_api"]
