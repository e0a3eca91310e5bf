"""Golden transcripts: every scripted intake conversation must produce exactly the stored
transcript (inputs, effects with message ids and Dutch renderings, session after each input).

A change in wording or behaviour shows up here as a readable diff. When the change is meant,
rewrite the files with ``pytest --regen-golden`` (or ``python -m pytest -p tests.golden_plugin
--regen-golden`` until the plugin is registered) and review the diff like code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.flows import SCENARIOS, run

GOLDEN = Path(__file__).resolve().parent / "golden"


def dump(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries, ensure_ascii=False, indent=1) + "\n"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_transcript_matches_golden(name: str, regen_golden: bool) -> None:
    entries = run(SCENARIOS[name]).entries
    path = GOLDEN / f"{name}.json"
    if regen_golden:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(dump(entries), encoding="utf-8")
        return
    assert path.is_file(), f"{path.name} is missing: run pytest --regen-golden and review it"
    expected = json.loads(path.read_text(encoding="utf-8"))
    # Compare through JSON so tuples and lists count as the same thing.
    actual = json.loads(dump(entries))
    assert len(actual) == len(expected), f"{name}: number of inputs changed"
    for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert got == want, f"{name}: input #{index} {got['input']} differs from the golden file"


def test_every_golden_file_has_a_scenario() -> None:
    # A scenario renamed or removed must not leave a transcript nobody checks.
    stored = {p.stem for p in GOLDEN.glob("*.json")}
    assert stored <= set(SCENARIOS)
