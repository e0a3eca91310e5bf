"""The ``--regen-golden`` option for golden transcripts (``tests/flows/golden/*.json``).

pytest accepts ``pytest_addoption`` only in the rootdir conftest or in a plugin, so it lives
here. Register it with ``pytest_plugins = ["tests.golden_plugin"]`` in ``tests/conftest.py``,
or load it for one run with ``python -m pytest -p tests.golden_plugin --regen-golden``
(``python -m`` puts the checkout on ``sys.path`` before plugins load).
"""

from __future__ import annotations

import pytest

OPTION = "--regen-golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        action="store_true",
        default=False,
        help="rewrite the golden transcripts in tests/flows/golden/ instead of comparing",
    )


def regen_requested(config: pytest.Config) -> bool:
    """True when ``--regen-golden`` was given; False when the plugin is not registered."""
    return bool(config.getoption(OPTION, default=False))
