"""Fixtures for the flow tests: the intake flow built on the real lexicon, the translator, and
whether golden transcripts are to be rewritten (``--regen-golden``, see tests/golden_plugin.py).
"""

from __future__ import annotations

import pytest

from bot.i18n import Translator
from flows.engine import Flow
from tests.flows import intake_flow, translator
from tests.golden_plugin import regen_requested


@pytest.fixture
def flow() -> Flow:
    return intake_flow()


@pytest.fixture
def tr() -> Translator:
    return translator()


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return regen_requested(request.config)
