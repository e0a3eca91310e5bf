"""Load the shipped crisis lexicons and build the (cached) screener.

Rules of this module:

* This is the only place that opens ``flows/safety/lexicon/*.yaml``; the pure package
  ``flows.safety`` never touches files.  Files are read as package resources with
  :mod:`importlib.resources`, so they are found in a wheel or zip as well as in a checkout.
* Every ``*.yaml`` file in that folder is a lexicon; its stem is the language code
  (``nl.yaml`` -> ``nl``; ``common.yaml`` holds language-neutral emoji combinations).  Adding a
  language is adding a file.
* YAML is parsed with the safe loader only (``bot.yaml_loader``).  Bad data raises
  ``ValueError`` naming the file and phrase (from ``Screener.from_mappings``): the bot must
  fail at start-up, not screen with a half-loaded lexicon.
* The classifier (``flows/safety/model/model.json``, written by ``python -m bot.safety.train``)
  is read here too, the same way, and handed to the screener as a parsed mapping.  It is one
  small JSON file whose weights are one base64 string: loading it costs a few milliseconds,
  against the second the rules take to compile.  No model file: the rules screen alone.
* :func:`load_screener` is cached (one compiled screener per process); tests that need other
  data call ``Screener.from_mappings`` directly.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from bot.yaml_loader import safe_load
from flows.safety.detect import Screener

LEXICON_PACKAGE = "flows.safety"
LEXICON_FOLDER = "lexicon"


def _lexicon_dir() -> Traversable:
    return files(LEXICON_PACKAGE) / LEXICON_FOLDER


def load_lexicons() -> dict[str, Any]:
    """Parse every shipped lexicon file: language code -> parsed YAML (not yet validated)."""
    lexicons: dict[str, Any] = {}
    entries = sorted(
        (e for e in _lexicon_dir().iterdir() if e.is_file() and e.name.endswith(".yaml")),
        key=lambda e: e.name,
    )
    for entry in entries:
        language = entry.name.removesuffix(".yaml")
        try:
            text = entry.read_text(encoding="utf-8")
            lexicons[language] = safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"lexicon file {entry.name}: invalid YAML: {exc}") from exc
    if not lexicons:
        raise ValueError(f"no lexicon files found in {LEXICON_PACKAGE}/{LEXICON_FOLDER}")
    return lexicons


FORMS_FOLDER = "forms"


def load_forms() -> dict[str, dict[str, str]]:
    """The word-form tables (``lexicon/forms/<lang>.json``, made by ``make safety-forms``)."""
    folder = _lexicon_dir() / FORMS_FOLDER
    tables: dict[str, dict[str, str]] = {}
    if not folder.is_dir():
        return tables
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_file() and entry.name.endswith(".json"):
            try:
                data = json.loads(entry.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ValueError(f"forms file {entry.name}: invalid JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise ValueError(f"forms file {entry.name}: expected an object form -> lemma")
            tables[entry.name.removesuffix(".json")] = data
    return tables


MODEL_FOLDER = "model"
MODEL_FILE = "model.json"


def load_model() -> dict[str, Any] | None:
    """The parsed classifier data (``flows/safety/model/model.json``), or None without one."""
    entry = files(LEXICON_PACKAGE) / MODEL_FOLDER / MODEL_FILE
    if not entry.is_file():
        return None
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"model file {MODEL_FILE}: invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"model file {MODEL_FILE}: expected an object")
    return data


@lru_cache(maxsize=1)
def load_screener() -> Screener:
    """The screener built from the shipped lexicons and model, compiled once per process."""
    return Screener.from_mappings(load_lexicons(), load_forms(), load_model())
