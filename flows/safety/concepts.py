"""Concept rules: crisis signals as combinations of concepts, not fixed phrases (pure).

Rules of this module:

* Pure: no file I/O, no logging, standard library only.  The concept data (the ``concepts``
  and ``rules`` keys of ``flows/safety/lexicon/<lang>.yaml``) and the word-form table
  (``flows/safety/lexicon/forms/<lang>.json``, made from simplemma's dictionaries by
  ``make safety-forms``) are read by ``bot.safety.lexicon`` and handed in as plain mappings.
* A message is cut into tokens (normalised words) and clauses (split at . , ; ! ? new lines
  and blanked idioms).  Every token is looked up as it is, as its lemma (the form table: "genomen"
  -> "nemen", "paracetamols" -> "paracetamol"), and with a plural ending taken off; a concept
  term matches when its words match consecutive tokens.  A term word ending in ``*`` matches
  any word starting with it (Turkish endings, compounds like ``zelfmoordgedachten``); one
  starting with ``*`` any word ending with it (Arabic prefixes); ``=word`` only that exact
  form (tense matters: "genomen", not "nemen"); ``#n`` a number of 5 or more.  Arabic clitics
  (و ف ب ل ال س) are also taken off a token before lookup.  A term word starting with ``~`` is
  also an everyday word of another language (Turkish "kan" blood is Dutch "kan", "hap*" pill
  starts "happy"): it matches only in a clause without a word that belongs to another
  language's lexicon and not to its own ("her yer kan" yes, "ik kan niet meer" no).
* A rule fires when one term of each of its ``all`` concepts is found in one clause, within
  ``within`` tokens, and no negation word of the rule's language stands inside that window or
  right before it (per language: Flemish "ne" is "een", French "ne" is a negation; a negation
  that is part of a matched term, like "niet meer leven", counts as the term), and none of the
  rule's ``none`` concepts stands there or, for a circumstance ("accident", "benign"), up to
  four words after.  A person (the concept ``other``) vetoes only inside the window: named
  after a phrase it starts the next thought ("ik wil nie meer leve mijn vader drinkt") and
  must never hide the phrase.  ``unless`` concepts veto
  from anywhere in the same sentence ("morgen ben ik er niet meer, ik heb een examen");
  ``across: true`` lets the concepts stand in different clauses; ``ordered: true`` needs them
  in the order ``all`` names them ("ik ga me vermoorden" is a plan, "hij gaat me vermoorden als
  ik het vertel" a threat by someone else).
* A token glued from several words ("ikwildood", "iwannadie") is split when it starts with a
  self word and every piece is a known word: young people skip spaces.  Per language: the
  self word and the pieces come from one language's lexicon (a French "je" glued to Dutch
  words is no French phrase).
* Every rule names a category and a tier: ``crisis`` (help lines at once) or ``check`` (an
  indirect signal: the bot asks one direct question first).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

Tier = Literal["crisis", "check"]
TIERS: Final[tuple[Tier, ...]] = ("crisis", "check")

DEFAULT_WITHIN: Final = 8
# Arabic writes its own comma, semicolon and question mark (، ؛ ؟): they end a clause too, so
# "١ غرام، ... بعد ٦ ساعات؟" does not read the hours as a number of pills.
_TOKEN_RE: Final = re.compile(r"\w+|[.,;!?\n\u060c\u061b\u061f]|\s{3,}")
_BREAK: Final = "|"
_PLURAL_ENDINGS: Final = ("'s", "s", "en", "es", "x", "ов", "и", "ы", "ів")
# Arabic clitics written onto the word: and, so, with, for, the, will ("وبالسكين", "سأموت").
_AR_PREFIXES: Final = ("وال", "بال", "فال", "لل", "ال", "و", "ف", "ب", "ل", "س", "ح", "ه")
_AR_PREFIX_START: Final = frozenset(p[0] for p in _AR_PREFIXES)
_NAME_RE: Final = re.compile(r"[a-z_][a-z0-9_]*")
# A circumstance after a phrase still explains it ("ik heb mezelf gesneden aan een blikje").
_VETO_AFTER: Final = 4
# A person vetoes only inside the phrase ("ik wil dat hij dood gaat"): named after it, a person
# starts the next thought ("ik wil nie meer leve mijn vader drinkt elke dag"), and must never
# hide the phrase before it.
_INSIDE_ONLY_VETOES: Final = frozenset({"other"})
# The concept of the self as subject ("ik", "i", "je"): it starts a new thought after a phrase.
_SELF: Final = "i"


@dataclass(frozen=True)
class ConceptRule:
    """One rule as data: the category and tier it flags, the concepts it needs."""

    name: str
    language: str
    category: str
    tier: Tier
    all: tuple[str, ...]
    none: tuple[str, ...]
    within: int
    unless: tuple[str, ...] = ()
    """Concepts that veto the rule anywhere in the message ("morgen ben ik er niet meer,
    ik heb een examen": a reason that explains the absence)."""
    across: bool = False
    """The concepts may stand in different clauses ("hij wou seks, ik niet, maar ...")."""
    ordered: bool = False
    """The concepts must stand in the order of ``all`` (word order tells who does what)."""


@dataclass(frozen=True)
class ConceptHit:
    """A rule that fired: token span ``[start, end)`` in characters of the screened text."""

    rule: ConceptRule
    start: int
    end: int


@dataclass(frozen=True)
class _Term:
    words: tuple[str, ...]  # normalised; a trailing "*" marks a prefix word
    concept: str
    scoped: bool = False
    """A word was written ``~word``: it is also another language's everyday word."""


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    clause: int
    sentence: int = 0


class _Language:
    """The concepts, rules and word forms of one language, indexed for lookup."""

    def __init__(
        self,
        language: str,
        terms: Sequence[_Term],
        rules: Sequence[ConceptRule],
        forms: Mapping[str, str],
        negations: frozenset[str] = frozenset(),
        subjects: frozenset[str] = frozenset(),
    ) -> None:
        self.language = language
        self.negations = negations
        # "I" as the subject, written as it is ("ik", "i", "je"): it starts a new thought.
        self.subjects = subjects
        self.rules = tuple(rules)
        self.forms = dict(forms)
        # "~kan": the word is also another language's (matched only in a clause of its own).
        terms = [
            _Term(tuple(w.removeprefix("~") for w in t.words), t.concept, True)
            if any(w.startswith("~") for w in t.words)
            else t
            for t in terms
        ]
        # Terms are matched as lemmas: "genomen" in a term means every form of "nemen".  A
        # word written "=genomen" is matched exactly as written (tense matters there).
        written = frozenset(
            w for t in terms for w in t.words if "*" not in w and not w.startswith("=")
        )
        terms = [
            _Term(tuple(self._term_lemma(w) for w in t.words), t.concept, t.scoped) for t in terms
        ]
        self.exact: dict[str, list[_Term]] = {}
        self.prefix: dict[str, list[tuple[str, _Term]]] = {}
        self.suffix: list[tuple[str, _Term]] = []
        for term in terms:
            first = term.words[0]
            if first.startswith("*"):
                self.suffix.append((first[1:], term))
            elif first.endswith("*"):
                stem = first[:-1]
                self.prefix.setdefault(stem[:3], []).append((stem, term))
            else:
                self.exact.setdefault(first, []).append(term)
        self.vocabulary = frozenset(
            w
            for w in (*written, *(w for t in terms for w in t.words))
            if "*" not in w and not w.startswith("=") and w != "#n" and len(w) > 1
        )
        # The pieces a glued token of this language may be cut into, and its self words.
        self.pieces = self.vocabulary | negations
        self.self_words: tuple[str, ...] = ()
        # Every word this language's lexicon knows (for "~" terms of the others), and the
        # words of the other languages that are not this one's (set by ConceptScreener).
        self.own_words = (
            self.vocabulary
            | negations
            | subjects
            | {w for pair in self.forms.items() for w in pair}
        )
        self.foreign: frozenset[str] = frozenset()

    def _term_lemma(self, word: str) -> str:
        if word.endswith("*") or word.startswith(("=", "*")) or word == "#n":
            return word
        return self.forms.get(word, word)

    def candidates(self, token: str) -> tuple[str, ...]:
        """The token, its lemma, and the token without a plural ending (in that order)."""
        out = [token]
        # One letter is no word to look up ("j" is not "hij"; "k" was expanded already).
        lemma = self.forms.get(token) if len(token) > 1 else None
        if lemma is not None and lemma != token:
            out.append(lemma)
        if token[:1] in _AR_PREFIX_START and len(token) > 3:
            for prefix in _AR_PREFIXES:
                if token.startswith(prefix) and len(token) - len(prefix) >= 2:
                    out.append(token[len(prefix) :])
        if len(token) > 4:
            for ending in _PLURAL_ENDINGS:
                if token.endswith(ending):
                    stem = token[: -len(ending)]
                    out.append(stem)
                    stem_lemma = self.forms.get(stem)
                    if stem_lemma is not None:
                        out.append(stem_lemma)
        return tuple(out)

    def word_matches(self, word: str, token: str) -> bool:
        if word.startswith("="):
            return token == word[1:]
        if word.startswith("*"):
            return any(c.endswith(word[1:]) for c in self.candidates(token))
        if word == "#n":
            return _is_amount(token)
        if word.endswith("*"):
            stem = word[:-1]
            return any(c.startswith(stem) for c in self.candidates(token))
        return word in self.candidates(token)

    def concepts_at(self, tokens: Sequence[_Token], i: int) -> list[tuple[str, int]]:
        """(concept, number of tokens) for every term that starts at token ``i``."""
        found: list[tuple[str, int]] = []
        cands = self.candidates(tokens[i].text)
        seen_terms: set[int] = set()
        pool: list[_Term] = []
        keys = list(cands)
        keys.append("=" + tokens[i].text)
        if _is_amount(tokens[i].text):
            keys.append("#n")
        for c in keys:
            for term in self.exact.get(c, ()):
                if id(term) not in seen_terms:
                    seen_terms.add(id(term))
                    pool.append(term)
            for stem, term in self.prefix.get(c[:3], ()):
                if c.startswith(stem) and id(term) not in seen_terms:
                    seen_terms.add(id(term))
                    pool.append(term)
            for stem, term in self.suffix:
                if c.endswith(stem) and id(term) not in seen_terms:
                    seen_terms.add(id(term))
                    pool.append(term)
        for term in pool:
            n = len(term.words)
            if i + n > len(tokens):
                continue
            if any(tokens[i + k].clause != tokens[i].clause for k in range(n)):
                continue
            if all(self.word_matches(term.words[k], tokens[i + k].text) for k in range(1, n)):
                if term.scoped and self.foreign_clause(tokens, i):
                    continue
                found.append((term.concept, n))
        return found

    def foreign_clause(self, tokens: Sequence[_Token], i: int) -> bool:
        """Whether the clause of token ``i`` holds a word of another language's lexicon that
        is not this language's ("ik kan niet meer": "ik" and "niet" are Dutch, not Turkish)."""
        clause = tokens[i].clause
        j = i
        while j > 0 and tokens[j - 1].clause == clause:
            j -= 1
        while j < len(tokens) and tokens[j].clause == clause:
            if tokens[j].text in self.foreign:
                return True
            j += 1
        return False


class ConceptScreener:
    """All languages' concept rules; immutable once built."""

    __slots__ = ("_languages",)

    def __init__(self, languages: Sequence[_Language]) -> None:
        self._languages = tuple(languages)
        for lang in languages:
            others: set[str] = set()
            for other in languages:
                if other is not lang:
                    others |= other.own_words
            lang.foreign = frozenset(w for w in others - lang.own_words if len(w) > 1)

    @property
    def rules(self) -> tuple[ConceptRule, ...]:
        return tuple(r for lang in self._languages for r in lang.rules)

    @classmethod
    def build(
        cls,
        lexicons: Mapping[str, Mapping[str, Any]],
        forms: Mapping[str, Mapping[str, str]],
        negations: Mapping[str, Sequence[str]],
        normalise: Any,
    ) -> ConceptScreener:
        """Validate and index the ``concepts`` and ``rules`` of each language.

        ``normalise`` is the message normaliser (terms are written in natural spelling and
        normalised like messages).  Raises ValueError naming the language and the item.
        """
        languages: list[_Language] = []
        seen: dict[str, tuple[str, ...]] = {}  # a written word -> its normalised words
        for language, doc in lexicons.items():
            concepts_raw = doc.get("concepts") or {}
            rules_raw = doc.get("rules") or []
            where = f"lexicon {language!r}"
            if not isinstance(concepts_raw, Mapping):
                raise ValueError(f"{where}: concepts must be a mapping of name -> list of terms")
            if not isinstance(rules_raw, list):
                raise ValueError(f"{where}: rules must be a list")
            terms: list[_Term] = []
            self_words: set[str] = set()
            for name, items in concepts_raw.items():
                if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
                    raise ValueError(f"{where}: concept name {name!r} must be lower_snake_case")
                if not isinstance(items, list) or not items:
                    raise ValueError(f"{where}: concept {name!r} needs a list of terms")
                for item in items:
                    if not isinstance(item, str) or not item.strip():
                        raise ValueError(f"{where}: concept {name!r}: bad term {item!r}")
                    terms.append(_Term(term_words(item, normalise, where), name))
                    if name in ("i", "self"):
                        self_words.update(term_words(item, normalise, where))
            objects = {
                w
                for name in ("me", "myself")
                for item in (concepts_raw.get(name) or [])
                if isinstance(item, str)
                for w in term_words(item, normalise, where)
            }
            subjects = frozenset(
                words[0]
                for item in (concepts_raw.get(_SELF) or [])
                if isinstance(item, str)
                for words in [term_words(item, normalise, where)]
                if len(words) == 1 and words[0] not in objects
            )
            names = set(concepts_raw)
            rules: list[ConceptRule] = []
            for i, raw in enumerate(rules_raw):
                rules.append(_rule(raw, i, language, names, where))
            if terms or rules:
                lang = _Language(
                    language,
                    terms,
                    rules,
                    _norm_forms(forms.get(language, {})),
                    frozenset(
                        t
                        for w in negations.get(language, ())
                        for t in re.split(r"[\W_]+", normalise(w))
                        if t
                    ),
                    subjects,
                )
                # Every word the language's file uses (phrases, idioms, terms) is its own: a
                # "~" term of another language is not refused for it.
                lang.own_words |= {
                    w
                    for text in _strings(doc)
                    for piece in _PIECE_RE.split(text)
                    if piece
                    for w in _latin_words(piece, seen, normalise)
                    if len(w) > 1 and not w.isdigit()
                }
                # Longest first: "ikke" before "ik".
                lang.self_words = tuple(
                    sorted((w.removeprefix("~") for w in self_words), key=len, reverse=True)
                )
                languages.append(lang)
        return cls(languages)

    def screen(self, padded: str) -> list[ConceptHit]:
        """Every rule that fires in ``padded`` (normalised text; idioms already blanked)."""
        raw = self._tokens(padded)
        if not raw:
            return []
        hits: list[ConceptHit] = []
        for lang in self._languages:
            if not lang.rules:
                continue
            tokens = _split_glued(raw, lang)
            positions: dict[str, list[tuple[int, int]]] = {}
            for i in range(len(tokens)):
                for concept, n in lang.concepts_at(tokens, i):
                    positions.setdefault(concept, []).append((i, i + n))
            if not positions:
                continue
            for rule in lang.rules:
                span = self._fire(rule, positions, tokens, lang.negations, lang.subjects)
                if span is not None:
                    hits.append(ConceptHit(rule, tokens[span[0]].start, tokens[span[1] - 1].end))
        return hits

    def concept_features(
        self, padded: str, spans: Sequence[tuple[int, int]] | None = None
    ) -> list[list[str]]:
        """The concepts found in ``padded`` as classifier features (``flows.safety.classifier``),
        one list per character span of ``spans`` (default: the whole text), in one pass.

        Concept names are shared across languages ("death", "meds", "harm_verb"), so what the
        classifier learns from them in one language carries over to the others.  Features:
        ``k <concept>`` for each concept found; ``kk <a>+<b>`` for two concepts in one clause
        within ``DEFAULT_WITHIN`` tokens (names sorted); ``kn <concept>`` when a negation of
        the term's language stands up to two tokens before it.  A concept whose name starts
        with ``_`` is context for rules only ("_home", "_tonight") and never a feature: such
        everyday words taught the model that "at home" or "tonight" is a sign of crisis.
        """
        spans = spans or [(0, len(padded))]
        out: list[dict[str, None]] = [{} for _ in spans]
        raw = self._tokens(padded)
        if not raw:
            return [[] for _ in spans]

        starts = [a for a, _ in spans]

        def part_of(at: int) -> int | None:
            n = bisect_right(starts, at) - 1
            return n if n >= 0 and at < spans[n][1] else None

        for lang in self._languages:
            tokens = _split_glued(raw, lang)
            spots: list[tuple[str, int, int]] = []
            for i in range(len(tokens)):
                found = lang.concepts_at(tokens, i)
                if not found:
                    continue
                part = part_of(tokens[i].start)
                if part is None:
                    continue
                negated = any(
                    tokens[j].text in lang.negations and tokens[j].clause == tokens[i].clause
                    for j in range(max(i - 2, 0), i)
                )
                for concept, _ in found:
                    if concept.startswith("_"):
                        continue  # context only ("_home", "_tonight"): no signal by itself
                    spots.append((concept, i, part))
                    out[part]["k " + concept] = None
                    if negated:
                        out[part]["kn " + concept] = None
            for n, (a, i, part) in enumerate(spots):
                for b, j, _ in spots[n + 1 :]:
                    if j - i > DEFAULT_WITHIN:
                        break
                    if a != b and tokens[i].clause == tokens[j].clause:
                        out[part]["kk " + "+".join(sorted((a, b)))] = None
        return [list(names) for names in out]

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _tokens(padded: str) -> list[_Token]:
        tokens: list[_Token] = []
        clause = sentence = 0
        for m in _TOKEN_RE.finditer(padded):
            text = m.group(0)
            if not (text[0].isalnum() or text[0] == "_"):
                clause += 1
                sentence += text in ".!?\n\u061f"
                continue
            tokens.append(_Token(text, m.start(), m.end(), clause, sentence))
        return tokens

    def _fire(
        self,
        rule: ConceptRule,
        positions: Mapping[str, list[tuple[int, int]]],
        tokens: Sequence[_Token],
        negations: frozenset[str],
        subjects: frozenset[str] = frozenset(),
    ) -> tuple[int, int] | None:
        lists = [positions.get(c) for c in rule.all]
        if any(not x for x in lists):
            return None
        # Small numbers: try every combination, shortest window first.
        best: tuple[int, int] | None = None
        for combo in _combinations([x for x in lists if x is not None], limit=400):
            if rule.ordered and any(combo[k][0] > combo[k + 1][0] for k in range(len(combo) - 1)):
                continue
            spans = sorted(combo)
            if any(spans[k][1] > spans[k + 1][0] for k in range(len(spans) - 1)):
                continue  # overlapping terms: one word cannot be two concepts
            start, end = spans[0][0], spans[-1][1]
            if end - start > rule.within:
                continue
            if not rule.across and tokens[start].clause != tokens[end - 1].clause:
                continue
            covered = {i for a, b in spans for i in range(a, b)}
            window = range(max(start - 1, 0), end)
            if any(
                i not in covered
                and tokens[i].clause == tokens[start].clause
                and tokens[i].text in negations
                for i in window
            ):
                continue
            # A circumstance after the phrase explains it only until "I" starts a new
            # thought ("ik snij in mijn polsen ik zoek werk": the work is not the knife's),
            # and the word right before it only when the phrase does not start with "I".
            stop = next((i for i in range(end, len(tokens)) if tokens[i].text in subjects), None)
            stop = len(tokens) if stop is None else stop
            first = start if tokens[start].text in subjects else start - 1
            if rule.none and any(
                a >= first
                and b <= end + (0 if c in _INSIDE_ONLY_VETOES else _VETO_AFTER)
                and (a < end or a < stop)
                and tokens[a].clause == tokens[start].clause
                for c in rule.none
                for a, b in positions.get(c, ())
                if not any(a >= x and b <= y for x, y in spans)
            ):
                continue
            sentence = tokens[start].sentence
            if any(
                tokens[a].sentence == sentence for c in rule.unless for a, _ in positions.get(c, ())
            ):
                continue
            if best is None or end - start < best[1] - best[0]:
                best = (start, end)
        return best


# A tablet's strength in milligrams is no count ("ik nam 1 dafalgan 500", "400 d'ibuprofène"):
# nobody writes that they took 400 pills, and the strength beside a count ("20 dafalgan 500")
# leaves the count to match.
_STRENGTHS: Final = frozenset({200, 250, 400, 500, 600, 750, 800})


def _is_amount(token: str) -> bool:
    """A number of pills or doses: 5 or more (written in digits), not a tablet's strength."""
    return token.isdigit() and 5 <= int(token) < 1000 and int(token) not in _STRENGTHS


def _combinations(
    lists: Sequence[Sequence[tuple[int, int]]], limit: int
) -> Iterable[tuple[tuple[int, int], ...]]:
    out: list[tuple[tuple[int, int], ...]] = [()]
    for options in lists:
        out = [(*prev, o) for prev in out for o in options][:limit]
    return out


# Where a lexicon string is cut into words for :func:`_latin_words`.
_PIECE_RE: Final = re.compile(r"[\s()\[\]|*=^$#{}.,;:!?…]+")


def _latin_words(piece: str, seen: dict[str, tuple[str, ...]], normalise: Any) -> tuple[str, ...]:
    """A written word of a lexicon folded like the normaliser folds Latin letters ("gün" ->
    "gun"): the words a "~" term is checked against are Latin.  A light fold, not the whole
    normaliser (that made start-up seconds slower), except for short words, which the
    normaliser may expand as chat shorthand (Turkish "da" reads as "dat").  Other scripts
    give nothing."""
    words = seen.get(piece)
    if words is None:
        folded = unicodedata.normalize("NFKD", piece.casefold().replace("ı", "i"))
        plain = "".join(c for c in folded if not unicodedata.combining(c))
        words = tuple(w for w in re.split(r"[\W_]+", plain) if w) if plain.isascii() else ()
        if words and len(piece) <= 4:
            words += tuple(w for w in re.split(r"[\W_]+", normalise(piece)) if w)
        seen[piece] = words
    return words


def _strings(value: Any) -> Iterable[str]:
    """Every string in a parsed YAML document (keys of mappings left out)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _split_glued(tokens: list[_Token], lang: _Language) -> list[_Token]:
    """``tokens`` with every glued token ("ikwildood") cut into ``lang``'s words: it starts with
    one of the language's self words and every piece is a word of its lexicon.  The same list
    when nothing is glued (the usual case)."""
    out: list[_Token] | None = None
    for n, token in enumerate(tokens):
        pieces = _glued_pieces(token.text, lang)
        if pieces is None:
            if out is not None:
                out.append(token)
            continue
        if out is None:
            out = list(tokens[:n])
        out.extend(_Token(p, token.start, token.end, token.clause, token.sentence) for p in pieces)
    return tokens if out is None else out


def _glued_pieces(text: str, lang: _Language) -> list[str] | None:
    if len(text) < 6 or not lang.self_words or text in lang.pieces or not text.isascii():
        return None
    for first in lang.self_words:
        if text.startswith(first) and len(first) < len(text):
            rest = _segment(text[len(first) :], lang.pieces)
            if rest is not None:
                return [first, *rest]
    return None


def _segment(text: str, vocabulary: frozenset[str]) -> list[str] | None:
    """Cut ``text`` into vocabulary words (longest first); None when it cannot be done."""
    if not text:
        return []
    for size in range(min(len(text), 16), 1, -1):
        head = text[:size]
        if head in vocabulary:
            rest = _segment(text[size:], vocabulary)
            if rest is not None:
                return [head, *rest]
    return None


def term_words(item: str, normalise: Any, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in item.split():
        if raw == "#n":
            out.append(raw)
            continue
        scoped = raw.startswith("~")
        raw = raw.removeprefix("~")
        exact = raw.startswith("=")
        star = raw.endswith("*")
        core = raw.strip("*=")
        words = [w for w in re.split(r"[\W_]+", normalise(core)) if w]
        if not words:
            raise ValueError(f"{where}: term {item!r}: word {raw!r} has no letters")
        if star:
            words[-1] += "*"
        if exact:
            words = ["=" + w for w in words]
        if scoped:
            words = ["~" + w for w in words]
        out.extend(words)
    return tuple(out)


def _rule(raw: Any, i: int, language: str, names: set[str], where: str) -> ConceptRule:
    at = f"{where}: rules[{i}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{at}: expected a mapping with category, tier, all")
    keys = {"name", "category", "tier", "all", "none", "within", "unless", "across", "ordered"}
    unknown = set(raw) - keys
    if unknown:
        raise ValueError(f"{at}: unknown key(s) {sorted(map(str, unknown))}")
    category = raw.get("category")
    tier = raw.get("tier", "crisis")
    if tier not in TIERS:
        raise ValueError(f"{at}: tier must be crisis or check, got {tier!r}")
    need = raw.get("all")
    if not isinstance(need, list) or len(need) < 2:
        raise ValueError(f"{at}: 'all' needs two or more concepts")
    veto = raw.get("none") or []
    unless = raw.get("unless") or []
    across = raw.get("across", False)
    if not isinstance(across, bool):
        raise ValueError(f"{at}: across must be true or false")
    ordered = raw.get("ordered", False)
    if not isinstance(ordered, bool):
        raise ValueError(f"{at}: ordered must be true or false")
    for c in [*need, *veto, *unless]:
        if c not in names:
            raise ValueError(f"{at}: unknown concept {c!r}")
    within = raw.get("within", DEFAULT_WITHIN)
    if not isinstance(within, int) or not 1 < within <= 20:
        raise ValueError(f"{at}: within must be a number of tokens from 2 to 20")
    name = raw.get("name") or f"{language}:{category}:{'+'.join(need)}"
    return ConceptRule(
        name=str(name),
        language=language,
        category=str(category),
        tier=tier,
        all=tuple(need),
        none=tuple(veto),
        within=within,
        unless=tuple(unless),
        across=across,
        ordered=ordered,
    )


def _norm_forms(forms: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(forms, Mapping):
        raise ValueError("a word-form table must map form -> lemma")
    return {str(k): str(v) for k, v in forms.items()}
