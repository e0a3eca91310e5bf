"""Load the help lines (``flows/safety/helplines.yaml``).

Rules of this module: the only place that opens the file; read as a package resource so it is
found in a wheel too; the safe loader only (``bot.yaml_loader``); parsed once per process
(``lru_cache``); bad data fails at start-up with every problem listed
(:class:`flows.safety.helplines.HelpLinesError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib.resources import files

import yaml

from bot.yaml_loader import safe_load
from flows.safety.helplines import HelpLines, HelpLinesError, parse_helplines

PACKAGE = "flows.safety"
FILE = "helplines.yaml"


def load_helplines_mapping(text: str | None = None) -> Mapping[str, object]:
    """The YAML as loaded (or ``text``, to check a draft)."""
    if text is None:
        text = files(PACKAGE).joinpath(FILE).read_text(encoding="utf-8")
    try:
        data = safe_load(text)
    except yaml.YAMLError as error:
        raise HelpLinesError([f"not valid YAML: {error}"]) from None
    if not isinstance(data, dict):
        raise HelpLinesError(["expected a mapping at the top"])
    return data


@lru_cache(maxsize=1)
def load_helplines() -> HelpLines:
    return parse_helplines(load_helplines_mapping())
