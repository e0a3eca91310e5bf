"""Evaluate the crisis screener: recall and false alarms per language and tier, per data set.

Run: ``python -m bot.safety.evaluate [--labelled PATH] [--fresh PATH ...] [--show-errors]``
(``make eval-safety``).

Rules of this module:

* Data sets are scored separately, never pooled: the tuning corpus
  (``tests/safety/labelled.tsv``, the rules were written while looking at it) and every fresh
  batch in ``tests/safety/fresh/*.tsv`` (written by someone else, scored before any tuning).
  A fresh batch says in a ``# status: held-out``, ``# status: calibration`` or
  ``# status: tuning`` comment line what it is now: a batch that was used to tune once more is
  tuning data and no longer proves anything, so it is reported but does not gate.  A
  *calibration* batch is one nobody tuned on and the classifier never trained on: the training
  script chooses the classifier's thresholds on it (writers the model never saw, rules never
  fitted to it), so it is reported and does not gate either.
* A line is ``language<TAB>label<TAB>tier<TAB>category<TAB>text``; label 1 must flag (tier
  ``crisis`` or ``check``, category one of the detector's), 0 must not flag (tier and category
  empty).  ``#`` starts a comment line; the header line is allowed.
* Recall counts a positive as caught when it is flagged at either tier: both open help (the
  check tier asks one direct question first).  Recall is reported per expected tier and for
  both together; false alarms are flagged negatives over all negatives.  Whether the tier and
  the most severe category match the label is reported and does not gate.
* The screener as shipped is the rules plus the classifier (``flows.safety.classifier``,
  trained by ``bot.safety.train``); every data set is also scored by the rules alone, so
  what the classifier adds (recall) and costs (false alarms) is visible.  The classifier
  trained on the tuning corpus and the tuning batches except their *validation split* (one
  line in five by a hash of language and text, :func:`is_validation`): that split is scored
  as a data set of its own.  It shares its writers with the training lines, so it says less
  about new writers than the calibration batches do; it does not gate.
* Exit status 0 only when every held-out fresh batch and the tuning corpus reach recall >= 0.95
  (clear and indirect together) and false alarms <= 0.05 overall (the targets of issue #13);
  1 otherwise; 2 when a file is malformed.  With no held-out batch the run says so.
* The texts are test data written for this purpose (no user messages), so ``--show-errors``
  may print them; nothing is logged.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.safety.lexicon import load_screener
from flows.languages import CODES
from flows.safety.concepts import TIERS
from flows.safety.detect import CATEGORIES, Screener, normalise

VALIDATION_EVERY = 5
MIN_RECALL = 0.95
MAX_FALSE_ALARMS = 0.05
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LABELLED = ROOT / "tests" / "safety" / "labelled.tsv"
FRESH_DIR = ROOT / "tests" / "safety" / "fresh"
OVERALL = "all"
SUPPORTED_CODES = frozenset(CODES)
HEADER = ["language", "label", "tier", "category", "text"]


@dataclass(frozen=True)
class Example:
    language: str
    label: bool
    tier: str | None
    category: str | None
    text: str
    line: int


@dataclass(frozen=True)
class Outcome:
    example: Example
    flagged: bool
    tier: str | None
    category: str | None


@dataclass(frozen=True)
class Scores:
    """Counts and rates for one language (or ``OVERALL``)."""

    language: str
    positives: int
    negatives: int
    true_pos: int
    false_pos: int
    by_tier: tuple[tuple[str, int, int], ...]  # (tier, positives, caught)
    tier_hits: int
    category_hits: int

    @property
    def false_neg(self) -> int:
        return self.positives - self.true_pos

    @property
    def recall(self) -> float:
        return self.true_pos / self.positives if self.positives else 1.0

    @property
    def false_alarms(self) -> float:
        return self.false_pos / self.negatives if self.negatives else 0.0

    def tier_recall(self, tier: str) -> tuple[int, float | None]:
        for name, pos, caught in self.by_tier:
            if name == tier:
                return pos, (caught / pos if pos else None)
        return 0, None

    @property
    def tier_accuracy(self) -> float:
        return self.tier_hits / self.true_pos if self.true_pos else 1.0

    @property
    def category_accuracy(self) -> float:
        return self.category_hits / self.true_pos if self.true_pos else 1.0


@dataclass(frozen=True)
class DataSet:
    name: str
    path: Path
    status: str  # "tuning", "calibration", "held-out" or "validation"
    examples: tuple[Example, ...]


def load_labelled(path: Path) -> list[Example]:
    """Parse a labelled TSV.  Raises ValueError naming the line on malformed input."""
    examples: list[Example] = []
    with path.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if fields == HEADER:
                continue
            if len(fields) != 5:
                raise ValueError(f"{path.name}:{number}: expected 5 tab-separated columns")
            language, label, tier, category, text = fields
            if label not in ("0", "1"):
                raise ValueError(f"{path.name}:{number}: label must be 0 or 1, got {label!r}")
            if label == "1" and category not in CATEGORIES:
                raise ValueError(f"{path.name}:{number}: unknown category {category!r}")
            if label == "1" and tier not in TIERS:
                raise ValueError(f"{path.name}:{number}: tier must be crisis or check")
            if label == "0" and (category or tier):
                raise ValueError(f"{path.name}:{number}: a negative line has no tier or category")
            if not text.strip():
                raise ValueError(f"{path.name}:{number}: empty text")
            examples.append(
                Example(language, label == "1", tier or None, category or None, text, number)
            )
    if not examples:
        raise ValueError(f"{path.name}: no examples")
    return examples


def is_validation(language: str, text: str) -> bool:
    """The classifier's validation split: one line in ``VALIDATION_EVERY``, by a stable hash
    of language and text (the same on every machine and run)."""
    return zlib.crc32(f"{language}\t{text}".encode()) % VALIDATION_EVERY == 0


def model_corpus(labelled: Path = DEFAULT_LABELLED, fresh: Path = FRESH_DIR) -> list[Example]:
    """What the classifier is trained around (``bot.safety.train``): the corpus and the fresh
    batches marked ``tuning``, in the supported languages only (batch 3 also has Polish lines,
    scored but never trained on: Polish has no lexicon and is not offered).  A held-out batch
    is never part of it, nor a line that is also in a calibration batch (a short answer such
    as "nee" comes back in many batches): the thresholds are chosen on those lines, and a model
    that trained on them would score them too well."""
    examples = [*load_labelled(labelled), *_batch_lines(fresh, "tuning")]
    calibrating = {(ex.language, ex.text) for ex in calibration_set(fresh)}
    return [
        ex
        for ex in examples
        if ex.language in SUPPORTED_CODES and (ex.language, ex.text) not in calibrating
    ]


def calibration_set(fresh: Path = FRESH_DIR) -> list[Example]:
    """What the classifier's thresholds are chosen on (``bot.safety.train``): the fresh
    batches marked ``calibration``, in the supported languages.  Never trained on, and the
    rules were never tuned on them, so they stand for new writers."""
    return [ex for ex in _batch_lines(fresh, "calibration") if ex.language in SUPPORTED_CODES]


def _batch_lines(fresh: Path, status: str) -> list[Example]:
    """Every line of the fresh batches in ``fresh`` whose status is ``status``."""
    return [
        ex
        for path in fresh_batches(fresh)
        if batch_status(path) == status
        for ex in load_labelled(path)
    ]


def validation_split(examples: Iterable[Example]) -> list[Example]:
    return [ex for ex in examples if is_validation(ex.language, ex.text)]


def batch_status(path: Path) -> str:
    """``held-out`` unless the file says ``# status: tuning`` or ``# status: calibration``
    in a comment line (anything else there is held out too: when in doubt, nothing is read)."""
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            if not raw.startswith("#"):
                continue
            text = raw.lstrip("#").strip().lower()
            if text.startswith("status:"):
                value = text.removeprefix("status:").strip()
                for status in ("tuning", "calibration"):
                    if value.startswith(status):
                        return status
                return "held-out"
    return "held-out"


def run(screener: Screener, examples: Iterable[Example]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for ex in examples:
        result = screener.screen(ex.text)
        outcomes.append(Outcome(ex, result.flagged, result.tier, result.category))
    return outcomes


def run_model(screener: Screener, examples: Iterable[Example]) -> list[Outcome]:
    """The classifier alone (as if no rule had fired): what it adds where the rules miss."""
    model = screener.model
    if model is None:
        raise ValueError("the screener has no classifier")
    outcomes: list[Outcome] = []
    for ex in examples:
        result = model.score(screener.model_features(normalise(ex.text)))
        category = result.category if result.tier is not None else None
        outcomes.append(Outcome(ex, result.tier is not None, result.tier, category))
    return outcomes


def score(outcomes: Sequence[Outcome]) -> dict[str, Scores]:
    """Scores per language, plus ``OVERALL``; languages in order of first appearance."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.example.language, []).append(o)
    groups[OVERALL] = list(outcomes)
    result: dict[str, Scores] = {}
    for language, items in groups.items():
        by_tier = tuple(
            (
                tier,
                sum(1 for o in items if o.example.label and o.example.tier == tier),
                sum(1 for o in items if o.example.label and o.example.tier == tier and o.flagged),
            )
            for tier in TIERS
        )
        result[language] = Scores(
            language=language,
            positives=sum(1 for o in items if o.example.label),
            negatives=sum(1 for o in items if not o.example.label),
            true_pos=sum(1 for o in items if o.example.label and o.flagged),
            false_pos=sum(1 for o in items if not o.example.label and o.flagged),
            by_tier=by_tier,
            tier_hits=sum(
                1 for o in items if o.example.label and o.flagged and o.tier == o.example.tier
            ),
            category_hits=sum(
                1 for o in items if o.example.label and o.category == o.example.category
            ),
        )
    return result


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_table(scores: dict[str, Scores], out: TextIO) -> None:
    header = (
        f"{'language':<9}{'crisis':>7}{'recall':>8}{'check':>7}{'recall':>8}"
        f"{'all':>6}{'recall':>8}{'neg':>6}{'FP':>5}{'f.alarm':>9}{'tier':>7}{'categ.':>8}"
    )
    out.write(header + "\n" + "-" * len(header) + "\n")
    for s in scores.values():
        if s.language == OVERALL:
            out.write("-" * len(header) + "\n")
        crisis_n, crisis_r = s.tier_recall("crisis")
        check_n, check_r = s.tier_recall("check")
        out.write(
            f"{s.language:<9}{crisis_n:>7}{_rate(crisis_r):>8}{check_n:>7}{_rate(check_r):>8}"
            f"{s.positives:>6}{_rate(s.recall):>8}{s.negatives:>6}{s.false_pos:>5}"
            f"{s.false_alarms:>9.3f}{s.tier_accuracy:>7.3f}{s.category_accuracy:>8.3f}\n"
        )


def passes(overall: Scores) -> bool:
    return overall.recall >= MIN_RECALL and overall.false_alarms <= MAX_FALSE_ALARMS


def fresh_batches(folder: Path = FRESH_DIR) -> list[Path]:
    return sorted(folder.glob("*.tsv")) if folder.is_dir() else []


def _show_errors(outcomes: Sequence[Outcome], out: TextIO) -> None:
    for o in outcomes:
        ex = o.example
        if ex.label != o.flagged:
            kind = "missed" if ex.label else "false alarm"
            out.write(f"{kind:>11}  line {ex.line} [{ex.language}/{ex.tier or '-'}] {ex.text}\n")
        elif ex.label and (o.category != ex.category or o.tier != ex.tier):
            out.write(
                f"{'label':>11}  line {ex.line} [{ex.language}] {ex.tier}/{ex.category} -> "
                f"{o.tier}/{o.category}  {ex.text}\n"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--labelled", type=Path, default=DEFAULT_LABELLED)
    parser.add_argument(
        "--fresh", type=Path, action="append", help="a fresh batch (default: tests/safety/fresh)"
    )
    parser.add_argument("--no-fresh", action="store_true", help="score the tuning corpus only")
    parser.add_argument(
        "--show-errors", action="store_true", help="list missed and wrongly flagged lines"
    )
    args = parser.parse_args(argv)
    paths = [] if args.no_fresh else args.fresh if args.fresh is not None else fresh_batches()
    try:
        sets = [
            DataSet("tuning corpus", args.labelled, "tuning", tuple(load_labelled(args.labelled)))
        ]
        fresh = [
            DataSet(f"fresh {p.stem}", p, batch_status(p), tuple(load_labelled(p))) for p in paths
        ]
        if args.labelled == DEFAULT_LABELLED:
            # The lines the shipped classifier never trained on (whatever --fresh says).
            validation = tuple(validation_split(model_corpus()))
            sets.append(DataSet("validation split", args.labelled, "validation", validation))
        sets.extend(fresh)
    except (OSError, ValueError) as exc:
        print(f"cannot read labelled set: {exc}", file=sys.stderr)
        return 2
    screener = load_screener()
    rules_only = screener.with_model(None)
    model = screener.model
    if model is None:
        print("no classifier (flows/safety/model/model.json): the rules screen alone")
    else:
        check, crisis = model.thresholds
        print(
            f"rules + classifier (thresholds: check {check:.3f}, crisis {crisis:.3f}; "
            f"trained on {model.info.get('trained_on')})"
        )
    ok = True
    held_out = 0
    summary: list[str] = []
    for data in sets:
        outcomes = run(screener, data.examples)
        scores = score(outcomes)
        if not data.examples:
            continue
        print(f"\n== {data.name} ({data.path.name}, {data.status}, {len(data.examples)} lines)")
        print_table(scores, sys.stdout)
        parts = [("rules alone", run(rules_only, data.examples))]
        if model is not None:
            parts.append(("classifier alone", run_model(screener, data.examples)))
        for name, part in parts:
            alone = score(part)[OVERALL]
            print(
                f"{name + ':':<18}recall {alone.recall:.3f} (crisis "
                f"{_rate(alone.tier_recall('crisis')[1])}, check "
                f"{_rate(alone.tier_recall('check')[1])}), false alarms {alone.false_alarms:.3f}"
            )
        if args.show_errors:
            _show_errors(outcomes, sys.stdout)
        overall = scores[OVERALL]
        good = passes(overall)
        gates = data.status == "held-out" or data is sets[0]
        held_out += data.status == "held-out"
        if gates:
            ok = ok and good
        summary.append(
            f"{data.name}: recall {overall.recall:.3f} (min {MIN_RECALL}), false alarms "
            f"{overall.false_alarms:.3f} (max {MAX_FALSE_ALARMS}): "
            + ("PASS" if good else "FAIL")
            + (
                ""
                if gates
                else " (the classifier's thresholds were chosen on it, does not gate)"
                if data.status == "calibration"
                else " (the classifier never trained on it, does not gate)"
                if data.status == "validation"
                else " (tuning data, does not gate)"
            )
        )
    print()
    for line in summary:
        print(line)
    if not held_out:
        print("no held-out fresh batch: the figures above say little about new phrasings")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
