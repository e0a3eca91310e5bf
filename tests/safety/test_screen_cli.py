"""Tests for `opstap screen` (bot.safety.screen_cli) and the evaluation entry point."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from bot.safety import evaluate
from bot.safety.screen_cli import run_screen


def _run(text: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    assert run_screen(io.StringIO(text), out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_per_input_line() -> None:
    lines = ["ik wil dood", "", "ik zoek werk", "hij slaat me"]
    results = _run("\n".join(lines) + "\n")
    assert [r["text"] for r in results] == lines
    assert [r["flagged"] for r in results] == [True, False, False, True]
    assert [r["category"] for r in results] == ["suicide", None, None, "abuse_violence"]
    for r in results:
        assert set(r) == {"text", "flagged", "tier", "category", "score", "matches"}
        assert isinstance(r["matches"], list)
        assert r["flagged"] == bool(r["matches"])


def test_tier_is_printed_and_flagged_is_true_for_both_tiers() -> None:
    lines = ["ik wil dood", "morgen ben ik er niet meer", "ik zoek werk"]
    results = _run("\n".join(lines) + "\n")
    assert [r["tier"] for r in results] == ["crisis", "check", None]
    assert [r["flagged"] for r in results] == [True, True, False]


def test_match_fields_and_offsets_on_the_original_text() -> None:
    text = "Ik LACH me dood maar eigenlijk WIL ik DOOOOD!!"
    (result,) = _run(text + "\n")
    assert result["flagged"] and result["category"] == "suicide" and result["tier"] == "crisis"
    match = result["matches"][0]
    assert set(match) == {"phrase", "category", "language", "start", "end", "tier"}
    assert match["category"] == "suicide" and match["language"] == "nl"
    assert isinstance(match["start"], int) and isinstance(match["end"], int)
    assert text[match["start"] : match["end"]] == "WIL ik DOOOOD"
    assert "dood" in match["phrase"]


def test_emoji_offsets_cover_the_emoji_and_output_is_not_ascii_escaped() -> None:
    text = "ik heb 💊💊💊 geslikt"
    out = io.StringIO()
    run_screen(io.StringIO(text), out)
    raw = out.getvalue()
    assert "💊" in raw and "\\u" not in raw  # ensure_ascii=False
    result = json.loads(raw)
    assert result["flagged"]
    spans = [text[m["start"] : m["end"]] for m in result["matches"]]
    assert any(span.startswith("💊") for span in spans)
    assert any(span.endswith("geslikt") for span in spans)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("أريد أن أموت", "suicide"),
        ("хочу померти", "suicide"),
        ("ölmek istiyorum", "suicide"),
        ("je ne suis pas en sécurité chez moi", "acute_danger"),
    ],
)
def test_other_scripts(text: str, category: str) -> None:
    (result,) = _run(text + "\n")
    assert result["category"] == category
    assert result["text"] == text
    for m in result["matches"]:
        assert 0 <= m["start"] < m["end"] <= len(text)


def test_crlf_and_missing_final_newline() -> None:
    results = _run("ik wil dood\r\nik ben moe")
    assert [r["text"] for r in results] == ["ik wil dood", "ik ben moe"]
    assert [r["flagged"] for r in results] == [True, False]


def test_empty_input_writes_nothing() -> None:
    assert _run("") == []


# --- evaluate -------------------------------------------------------------------------------


def test_evaluate_main_passes_on_the_tuning_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate.main(["--no-fresh"]) == 0
    out = capsys.readouterr().out
    for language in ("nl", "en", "fr", "ar", "tr", "uk", "all"):
        assert f"\n{language} " in out
    assert "PASS" in out


def test_evaluate_main_fails_when_recall_is_too_low(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text(
        "language\tlabel\ttier\tcategory\ttext\n"
        "nl\t1\tcrisis\tsuicide\tik wil dood\n"
        "nl\t1\tcheck\tsuicide\tde zon schijnt op het terras\n"
        "nl\t0\t\t\tik zoek werk\n",
        encoding="utf-8",
    )
    # Without the shipped fresh batches: only this file can make it fail.
    assert evaluate.main(["--labelled", str(labelled), "--no-fresh"]) == 1


def test_evaluate_main_fails_when_false_alarms_are_too_many(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text(
        "nl\t1\tcrisis\tsuicide\tik wil dood\nnl\t0\t\t\tik wil dood\n", encoding="utf-8"
    )
    assert evaluate.main(["--labelled", str(labelled), "--no-fresh"]) == 1


@pytest.mark.parametrize(
    "content",
    [
        "nl\t1\tsuicide\tik wil dood\n",  # four columns (no tier)
        "nl\t2\tcrisis\tsuicide\tik wil dood\n",  # bad label
        "nl\t1\tcrisis\tsad\tik wil dood\n",  # bad category
        "nl\t1\tsoon\tsuicide\tik wil dood\n",  # bad tier
        "nl\t0\t\tsuicide\tik zoek werk\n",  # category on a negative
        "# only a comment\n",
    ],
)
def test_evaluate_main_rejects_a_malformed_file(tmp_path: Path, content: str) -> None:
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text(content, encoding="utf-8")
    assert evaluate.main(["--labelled", str(labelled)]) == 2


def _batch(tmp_path: Path, name: str, status: str, lines: str) -> Path:
    path = tmp_path / name
    path.write_text(
        f"# status: {status}\nlanguage\tlabel\ttier\tcategory\ttext\n" + lines, encoding="utf-8"
    )
    return path


def _passing_labelled(tmp_path: Path) -> Path:
    """A small tuning corpus the shipped screener passes (the whole one takes a minute)."""
    path = tmp_path / "labelled.tsv"
    path.write_text(
        "nl\t1\tcrisis\tsuicide\tik wil dood\nnl\t0\t\t\tik zoek werk\n", encoding="utf-8"
    )
    assert evaluate.main(["--labelled", str(path), "--no-fresh"]) == 0
    return path


def test_a_held_out_batch_below_target_fails_the_gate(tmp_path: Path) -> None:
    missed = "nl\t1\tcheck\tsuicide\tde zon schijnt op het terras\nnl\t0\t\t\tik zoek werk\n"
    held = _batch(tmp_path, "b.tsv", "held-out", missed)
    labelled = _passing_labelled(tmp_path)
    assert evaluate.main(["--labelled", str(labelled), "--fresh", str(held)]) == 1


def test_a_batch_used_for_tuning_is_reported_but_does_not_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missed = "nl\t1\tcheck\tsuicide\tde zon schijnt op het terras\nnl\t0\t\t\tik zoek werk\n"
    tuned = _batch(tmp_path, "b.tsv", "tuning", missed)
    labelled = _passing_labelled(tmp_path)
    capsys.readouterr()  # only what the run with the batch prints
    assert evaluate.main(["--labelled", str(labelled), "--fresh", str(tuned)]) == 0
    out = capsys.readouterr().out
    assert "fresh b" in out and "does not gate" in out and "no held-out fresh batch" in out


def test_the_shipped_fresh_batches_are_scored_separately(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Which batches a plain run scores; three of them are scored here (all 78 take minutes).
    shipped = {p.stem: p for p in evaluate.fresh_batches()}
    assert {"batch1", "batch2", "batch3"} <= shipped.keys() and len(shipped) > 70
    evaluate.main(
        [arg for b in ("batch1", "batch2", "batch3") for arg in ("--fresh", str(shipped[b]))]
    )
    out = capsys.readouterr().out
    assert "== tuning corpus" in out and "== fresh batch1" in out and "== fresh batch2" in out
    assert "== fresh batch3" in out and "== validation split" in out
    assert "rules alone:" in out and "classifier alone:" in out
    assert evaluate.batch_status(evaluate.FRESH_DIR / "batch1.tsv") == "tuning"
    # Batches 2 and 3 were scored held-out, then became tuning data (2026-12-06).
    assert evaluate.batch_status(evaluate.FRESH_DIR / "batch2.tsv") == "tuning"
    assert evaluate.batch_status(evaluate.FRESH_DIR / "batch3.tsv") == "tuning"


def test_a_classifier_decision_names_the_model_and_its_score() -> None:
    line = "ik kan niet meer, alles is te veel en ik wil stoppen met alles"
    (result,) = _run(line + "\n")
    # Check or crisis by the score (the fourth round's model scores it above the crisis one).
    assert result["flagged"] and result["tier"] in ("check", "crisis") and result["score"] > 0.5
    (match,) = result["matches"]
    assert match["phrase"] == "(model)" and (match["start"], match["end"]) == (0, len(line))
    (ruled,) = _run("ik wil dood\n")
    assert ruled["score"] is None
