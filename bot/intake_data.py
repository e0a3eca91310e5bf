"""Loading the intake's data files (the pure core in :mod:`flows.intake` never opens files).

Rules: files are read with :mod:`importlib.resources` so they are found both in a checkout and
in an installed wheel (``pyproject.toml`` ships ``*.yaml`` as package data); YAML is read with
the safe loader only (``bot.yaml_loader``); each file is parsed once per process
(``lru_cache``), and a broken file fails at start-up with the file's name in the error.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from bot.yaml_loader import safe_load
from flows.intake.lexicon import DomainLexicon

LEXICON_PACKAGE = "flows.intake"
LEXICON_FILE = "lexicon.yaml"


@lru_cache(maxsize=1)
def load_domain_lexicon() -> DomainLexicon:
    """The multilingual keyword lexicon of :mod:`flows.intake`, parsed and compiled."""
    text = resources.files(LEXICON_PACKAGE).joinpath(LEXICON_FILE).read_text(encoding="utf-8")
    data: Any = safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{LEXICON_PACKAGE}/{LEXICON_FILE}: expected a mapping at the top")
    try:
        return DomainLexicon.from_mapping(data)
    except ValueError as error:
        raise ValueError(f"{LEXICON_PACKAGE}/{LEXICON_FILE}: {error}") from error
