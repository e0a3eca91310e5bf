"""Evaluate the crisis screener on the labelled set and print recall/precision per language.

Run: ``python -m bot.safety.evaluate [--labelled PATH] [--show-errors]``

Rules of this module:

* Exit status 0 only when overall recall >= 0.95 and overall precision >= 0.85 (the gate the
  tests and CI hold the lexicon to); 1 otherwise; 2 when the labelled file is malformed.
* Recall and precision are about *flagging* (label 1 vs 0).  Whether the most severe category
  matches the label is reported as a separate column and does not gate: any flag opens the
  same help route.
* The labelled texts are test data written for this purpose (no user messages), so
  ``--show-errors`` may print them; nothing is logged.
* The labelled set lives at ``tests/safety/labelled.tsv`` (columns ``language<TAB>label<TAB>
  category<TAB>text``; ``#`` starts a comment line; a header line is allowed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.safety.lexicon import load_screener
from flows.safety.detect import CATEGORIES, Screener

MIN_RECALL = 0.95
MIN_PRECISION = 0.85
DEFAULT_LABELLED = Path(__file__).resolve().parents[2] / "tests" / "safety" / "labelled.tsv"
OVERALL = "all"


@dataclass(frozen=True)
class Example:
    language: str
    label: bool
    category: str | None
    text: str
    line: int


@dataclass(frozen=True)
class Outcome:
    example: Example
    flagged: bool
    category: str | None


@dataclass(frozen=True)
class Scores:
    """Counts and rates for one language (or ``OVERALL``)."""

    language: str
    positives: int
    negatives: int
    true_pos: int
    false_pos: int
    category_hits: int

    @property
    def false_neg(self) -> int:
        return self.positives - self.true_pos

    @property
    def recall(self) -> float:
        return self.true_pos / self.positives if self.positives else 1.0

    @property
    def precision(self) -> float:
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else 1.0

    @property
    def category_accuracy(self) -> float:
        return self.category_hits / self.true_pos if self.true_pos else 1.0


def load_labelled(path: Path) -> list[Example]:
    """Parse the labelled TSV.  Raises ValueError naming the line on malformed input."""
    examples: list[Example] = []
    with path.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if fields[:3] == ["language", "label", "category"]:
                continue
            if len(fields) != 4:
                raise ValueError(f"{path.name}:{number}: expected 4 tab-separated columns")
            language, label, category, text = fields
            if label not in ("0", "1"):
                raise ValueError(f"{path.name}:{number}: label must be 0 or 1, got {label!r}")
            if label == "1" and category not in CATEGORIES:
                raise ValueError(f"{path.name}:{number}: unknown category {category!r}")
            if label == "0" and category:
                raise ValueError(f"{path.name}:{number}: a negative line has no category")
            if not text.strip():
                raise ValueError(f"{path.name}:{number}: empty text")
            examples.append(Example(language, label == "1", category or None, text, number))
    if not examples:
        raise ValueError(f"{path.name}: no examples")
    return examples


def run(screener: Screener, examples: Iterable[Example]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for ex in examples:
        result = screener.screen(ex.text)
        outcomes.append(Outcome(ex, result.flagged, result.category))
    return outcomes


def score(outcomes: Sequence[Outcome]) -> dict[str, Scores]:
    """Scores per language, plus ``OVERALL``; languages in order of first appearance."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.example.language, []).append(o)
    groups[OVERALL] = list(outcomes)
    result: dict[str, Scores] = {}
    for language, items in groups.items():
        result[language] = Scores(
            language=language,
            positives=sum(1 for o in items if o.example.label),
            negatives=sum(1 for o in items if not o.example.label),
            true_pos=sum(1 for o in items if o.example.label and o.flagged),
            false_pos=sum(1 for o in items if not o.example.label and o.flagged),
            category_hits=sum(
                1 for o in items if o.example.label and o.category == o.example.category
            ),
        )
    return result


def print_table(scores: dict[str, Scores], out: TextIO) -> None:
    header = (
        f"{'language':<9}{'pos':>5}{'neg':>5}{'TP':>5}{'FN':>5}{'FP':>5}"
        f"{'recall':>9}{'precision':>11}{'category':>10}"
    )
    out.write(header + "\n" + "-" * len(header) + "\n")
    for s in scores.values():
        if s.language == OVERALL:
            out.write("-" * len(header) + "\n")
        out.write(
            f"{s.language:<9}{s.positives:>5}{s.negatives:>5}{s.true_pos:>5}{s.false_neg:>5}"
            f"{s.false_pos:>5}{s.recall:>9.3f}{s.precision:>11.3f}{s.category_accuracy:>10.3f}\n"
        )


def passes(overall: Scores) -> bool:
    return overall.recall >= MIN_RECALL and overall.precision >= MIN_PRECISION


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--labelled", type=Path, default=DEFAULT_LABELLED)
    parser.add_argument(
        "--show-errors", action="store_true", help="list missed and wrongly flagged lines"
    )
    args = parser.parse_args(argv)
    try:
        examples = load_labelled(args.labelled)
    except (OSError, ValueError) as exc:
        print(f"cannot read labelled set: {exc}", file=sys.stderr)
        return 2
    outcomes = run(load_screener(), examples)
    scores = score(outcomes)
    print_table(scores, sys.stdout)
    if args.show_errors:
        for o in outcomes:
            ex = o.example
            if ex.label != o.flagged:
                kind = "missed" if ex.label else "false alarm"
                print(f"{kind:>11}  line {ex.line} [{ex.language}] {ex.text}")
            elif ex.label and o.category != ex.category:
                print(
                    f"{'category':>11}  line {ex.line} [{ex.language}] {ex.category} -> "
                    f"{o.category}  {ex.text}"
                )
    overall = scores[OVERALL]
    ok = passes(overall)
    print(
        f"\noverall recall {overall.recall:.3f} (min {MIN_RECALL}), "
        f"precision {overall.precision:.3f} (min {MIN_PRECISION}): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
