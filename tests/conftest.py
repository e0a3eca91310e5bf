"""Shared fixtures: the fake Bot API server and the golden-transcript option."""

from __future__ import annotations

from tests.fakes.bot_api import fake_bot_api

pytest_plugins = ["tests.golden_plugin"]

__all__ = ["fake_bot_api"]
