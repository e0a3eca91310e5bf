"""Fixtures shared by the crisis screen's tests."""

from __future__ import annotations

import pytest

from bot.safety.lexicon import load_screener
from flows.safety import Screener


@pytest.fixture(scope="module")
def rules() -> Screener:
    """The shipped lexicons without the classifier: for tests of rule changes, which the
    classifier does not decide."""
    return load_screener().with_model(None)
