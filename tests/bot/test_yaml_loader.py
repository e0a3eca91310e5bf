"""The fast safe loader (libyaml's) reads every shipped YAML file as ``yaml.safe_load`` does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.yaml_loader import safe_load

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for folder in ("flows", "bot") for p in (ROOT / folder).rglob("*.yaml"))


def test_every_data_file_is_found() -> None:
    names = {p.name for p in SHIPPED}
    assert {"places.yaml", "directory.yaml", "lexicon.yaml", "helplines.yaml", "nl.yaml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_same_data_as_the_python_safe_loader(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert safe_load(text) == yaml.safe_load(text)


def test_no_python_objects_from_yaml() -> None:
    with pytest.raises(yaml.YAMLError):
        safe_load("!!python/object/apply:os.system ['true']")
