"""A small trained classifier beside the crisis rules (pure inference).

Rules of this module:

* Pure: no file I/O, no logging, standard library only.  The model is data
  (``flows/safety/model/model.json``, written by ``python -m bot.safety.train`` from the
  labelled corpus) and is read by ``bot.safety.lexicon`` the way the word forms are, then handed
  in as a plain mapping to :meth:`Classifier.from_mapping`.
* The model is multinomial logistic regression over binary features of the *normalised* text
  (``flows.safety.detect.normalise``): words, word pairs, and character 3-5-grams of each word
  (with ``<`` and ``>`` marking the word's ends), the vector scaled to unit length.  Character
  n-grams carry over to spellings, inflections and typos no rule names; words and pairs carry
  the meaning.  Numbers become ``<num>`` (and ``<bignum>`` for 5 or more).
* The screener adds the lexicon's concepts found in the text as features
  (``ConceptScreener.concept_features``: "death", "meds", "harm_verb" and pairs of them): their
  names are shared by all languages, so what is learnt in one carries over to the others.
* The screener hands in the text with the lexicon's benign idioms blanked
  (``Screener.model_features``): an idiom hides its own words from the classifier as it does
  from the rules ("ik lach me dood", "dead tired"), and a sentence that had one gets the
  feature ``i idiom``; a real phrase beside it still counts.
* A message, or a sentence of it, of fewer than ``MIN_WORDS`` words is not scored: one emoji
  or one word is too little to go on, and the rules already judge those alone.
* Nor is a message that is, as a whole, an *answer* the bot itself offers: one of its own
  short texts typed back (a button's label such as "Maakt niet uit") or a natural reply of
  :mod:`flows.replies` ("ik wil stoppen", "zeg ik liever niet").  The training script stores
  them in the model (``answers``, compared after :func:`flows.replies.normalise`), because a
  model with a low check threshold asked the direct question after "maakt niet uit" in the
  middle of an intake.  The rules still read every answer.
* Classes: ``none`` and the screener's categories.  The *score* of a message is the
  probability that it is not ``none``; its category is the likeliest of the others.  A
  message of several sentences is also scored sentence by sentence and the highest score
  counts, so a crisis sentence beside small talk is not diluted; the whole message's features
  are the union of its sentences' (computed once).
* Two thresholds, chosen by the training script on the calibration batches (fresh batches it
  never trains on; never on a held-out batch) and stored in the model: a score at or above
  ``check`` asks the direct question, at or above ``crisis`` gives the help lines at once.  The
  screener consults the model only when no rule fired: a rule hit decides as before.
* Loading must stay cheap (start-up): the weights are stored as one base64 string of 16-bit
  integers per model, decoded with :mod:`array` and :mod:`base64` (about 10 ms, some 3 % of
  what the rules take to compile; ``bench/micro.py``).  Feature names are a plain list.
* Speed: scoring adds about 0.3 ms to a short message (``bench/micro.py``); the work grows
  with the text's length, like the rules'.
"""

from __future__ import annotations

import base64
import math
import re
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final

from flows.safety.concepts import Tier

NONE_CLASS: Final = "none"
MODEL_FORMAT: Final = 1
_WORD_RE: Final = re.compile(r"\w+")
_SENTENCE_RE: Final = re.compile(r"[.!?\n]+")
_NGRAMS: Final = (3, 4, 5)
# Fewer words than this is too little to go on ("💊", "🔪", "dood"): the rules decide alone.
MIN_WORDS: Final = 3


def features(normalised: str) -> list[str]:
    """The distinct feature names of normalised text (see the module rules)."""
    words = [_word(w) for w in _WORD_RE.findall(normalised)]
    seen: dict[str, None] = {}
    for w in words:
        seen["w " + w] = None
    for a, b in pairwise(words):
        seen["b " + a + " " + b] = None
    done: set[str] = set()
    for w in words:
        if w in done or w.startswith("<"):
            continue
        done.add(w)
        padded = "<" + w + ">"
        n = len(padded)
        for size in _NGRAMS:
            for i in range(n - size + 1):
                seen["c " + padded[i : i + size]] = None
    return list(seen)


def _word(word: str) -> str:
    if word.isdigit():
        return "<bignum>" if len(word) < 6 and int(word) >= 5 else "<num>"
    return word


def sentence_spans(normalised: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of normalised text (split at . ! ? and new lines, the
    sentence marks of the concept rules) that has at least ``MIN_WORDS`` words; the whole text
    as one span when none has, but the text has."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_RE.finditer(normalised):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(normalised)))
    kept = [(a, b) for a, b in spans if len(_WORD_RE.findall(normalised[a:b])) >= MIN_WORDS]
    if not kept and len(_WORD_RE.findall(normalised)) >= MIN_WORDS:
        return [(0, len(normalised))]
    return kept


@dataclass(frozen=True)
class ModelScore:
    """The classifier's view of one message: the probability of any crisis category, the
    likeliest category, and the tier the thresholds give (``None`` below ``check``)."""

    score: float
    category: str
    tier: Tier | None


class Classifier:
    """Multinomial logistic regression over named features (no hashing: a feature's name is
    its key, so a decision can be traced to the n-grams and concepts behind it).  Immutable."""

    __slots__ = (
        "_bias",
        "_classes",
        "_index",
        "_scale",
        "_thresholds",
        "_weights",
        "answers",
        "info",
    )

    def __init__(
        self,
        classes: Sequence[str],
        features: Sequence[str],
        weights: Sequence[float],
        bias: Sequence[float],
        thresholds: Mapping[str, float],
        info: Mapping[str, Any] | None = None,
        *,
        scale: float = 1.0,
        answers: Iterable[str] = (),
    ) -> None:
        """``weights``: one per (feature, class), feature-major; each is multiplied by
        ``scale`` (the stored weights are small integers)."""
        k = len(classes)
        if k < 2 or classes[0] != NONE_CLASS:
            raise ValueError(f"model: the first class must be {NONE_CLASS!r}, then categories")
        if len(bias) != k or len(weights) != k * len(features):
            raise ValueError("model: the weights do not fit the classes and features")
        check, crisis = thresholds.get("check"), thresholds.get("crisis")
        if check is None or crisis is None or not 0.0 < check <= crisis <= 1.0:
            raise ValueError("model: thresholds need 0 < check <= crisis <= 1")
        self._classes = tuple(classes)
        self._index = {f: i * k for i, f in enumerate(features)}
        self._weights = weights
        self._scale = scale
        self._bias = tuple(bias)
        self._thresholds = (float(check), float(crisis))
        self.info: Mapping[str, Any] = dict(info or {})
        self.answers: frozenset[str] = frozenset(answers)

    @property
    def categories(self) -> tuple[str, ...]:
        return self._classes[1:]

    @property
    def thresholds(self) -> tuple[float, float]:
        """``(check, crisis)``."""
        return self._thresholds

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Classifier:
        """Build from the parsed model JSON.  Raises ValueError on malformed data."""
        if not isinstance(data, Mapping) or data.get("format") != MODEL_FORMAT:
            raise ValueError(f"model: expected a mapping with format {MODEL_FORMAT}")
        try:
            classes = [str(c) for c in data["classes"]]
            names = data["features"]
            scale = float(data["scale"])
            raw = array("h")
            raw.frombytes(base64.b64decode(data["weights"], validate=True))
            if sys.byteorder != "little":  # stored little-endian
                raw.byteswap()
            bias = [float(b) for b in data["bias"]]
            thresholds = {k: float(v) for k, v in data["thresholds"].items()}
            answers = data.get("answers", [])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"model: malformed data: {exc}") from None
        if not isinstance(names, list) or not all(isinstance(f, str) for f in names):
            raise ValueError("model: features must be a list of strings")
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise ValueError("model: answers must be a list of strings")
        return cls(
            classes, names, raw, bias, thresholds, data.get("info"), scale=scale, answers=answers
        )

    def probabilities(self, names: Iterable[str]) -> list[float]:
        """Class probabilities (classes in model order) of one text's distinct features."""
        k = len(self._classes)
        sums = [0.0] * k
        index, weights = self._index, self._weights
        count = 0
        for f in names:
            count += 1
            at = index.get(f)
            if at is not None:
                for c in range(k):
                    sums[c] += weights[at + c]
        factor = self._scale / math.sqrt(count) if count else 0.0
        logits = [b + s * factor for b, s in zip(self._bias, sums, strict=True)]
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def score(self, parts: Iterable[Iterable[str]]) -> ModelScore:
        """Score a message given the features of each of its parts (the whole message and
        its sentences, see :func:`sentences`): the highest-scoring part counts."""
        best: list[float] | None = None
        for names in parts:
            probs = self.probabilities(names)
            if best is None or probs[0] < best[0]:
                best = probs
        if best is None:  # nothing to score (too short)
            return ModelScore(0.0, self._classes[1], None)
        flag = 1.0 - best[0]
        probs = best
        k = max(range(1, len(probs)), key=lambda i: probs[i])
        check, crisis = self._thresholds
        tier: Tier | None = "crisis" if flag >= crisis else "check" if flag >= check else None
        return ModelScore(flag, self._classes[k], tier)
