"""Shared fixtures: the fake Bot API server (and, once merged, the golden-transcript option)."""

from __future__ import annotations

from tests.fakes.bot_api import fake_bot_api

__all__ = ["fake_bot_api"]
