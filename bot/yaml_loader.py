"""The one YAML loader for the shipped data files: the safe loader, libyaml's when present.

Rules: only the safe loader (no Python objects from YAML). ``yaml.safe_load`` is the same
loader written in Python: six to ten times slower, which costs a start a few tenths of a
second (the places, the directory and the intake lexicon); libyaml gives the same data
(``tests/bot/test_yaml_loader.py`` checks every shipped file).
"""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load``, in C when libyaml is there."""
    # The loader is SafeLoader or its C twin CSafeLoader: no arbitrary objects.
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506
