"""Crisis-phrase detection: text normalisation and lexicon matching (pure).

Rules of this module:

* Pure: no file I/O, no network, no logging, no imports outside the standard library.
  The lexicon data (YAML) is read by ``bot.safety.lexicon`` and handed in as plain mappings.
* Never log or keep the screened text: :class:`Screening` carries only offsets, the matched
  lexicon phrase (from our own data) and categories.
* Detection is one door among several (the help button and command always work); it is tuned
  for recall first, precision second.  A benign idiom only ever suppresses its *own* span,
  and not even that where its sentence says it is meant (``idioms_unless``: "gaat me
  vermoorden als" is an idiom, not in "... als ik het aan iemand vertel").
* Screening runs on every incoming message, so all lexicon phrases are compiled once, into one
  regular expression per (language, category), when the :class:`Screener` is built.
* Every language is screened on every message: young people mix languages in one sentence.
* Where no rule fires, an optional trained classifier (:mod:`flows.safety.classifier`, data
  handed in like the lexicons) decides by its score: its match names ``(model)``, spans the
  whole message and carries the tier its thresholds give.  A rule hit is never overruled.
* The most severe category found wins, with one exception: a self-harm match that starts
  inside a match of someone else's violence begun before it is the same words read twice
  ("mon ex me frappe encore"), and is dropped unless it alone makes the message crisis: the
  category changes, never the tier.

Normalisation (:func:`normalise`) in order:

1. Per character: Unicode NFKC (fancy "bold" letters, ligatures, full-width forms, Arabic
   presentation forms become plain letters), case folding, Latin diacritics stripped
   (``é`` -> ``e``, ``ı``/``İ`` -> ``i``, ``ø`` -> ``o``) while Arabic and Cyrillic letters
   are kept;
   Arabic tashkeel and tatweel are dropped, alef variants become ``ا``, ``ى`` -> ``ي``,
   ``ة`` -> ``ه``; ``ё`` -> ``е``, ``ї`` -> ``і``, ``ґ`` -> ``г`` (people type them either way);
   zero-width characters and skin-tone modifiers are dropped; apostrophe look-alikes become
   ``'``; a few crisis emoji become word tokens (see ``EMOJI_TOKENS``); any other emoji or symbol
   becomes a space.
2. E-mail and web addresses become a space (they carry no signal, and the intake asks for an
   e-mail address); ``@``/``$`` between letters become ``a``/``s``; a word mixing Latin and
   Cyrillic look-alike letters is written in its majority script.
3. Digits inside a Latin word that also has letters are read as letters (``d00d`` -> ``dood``,
   ``1k`` -> ``ik``); numbers such as ``1813`` or ``112`` are left alone.
4. A letter repeated three times or more is cut to two (``dooooood`` -> ``dood``,
   ``slaaaat`` -> ``slaat``); runs of the same punctuation mark are cut to one.
5. Contractions and elisions: English (``i'm``, ``don't``, ``wanna``), Dutch/Flemish (``'k``,
   ``'t``, ``m'n``), French (``j'``, ``m'``, ``qu'``); other apostrophes inside a word vanish.
6. Chat shorthand, mostly Flemish (``k``/``kwil`` -> ``ik``/``ik wil``, ``ni``/``nie`` -> ``niet``,
   ``gwn`` -> ``gewoon``) and French (``jveux`` -> ``je veux``, ``jpp`` -> ``je en peux plus``).
7. Whitespace runs become one space; leading and trailing space is removed.

Lexicon phrases are normalised by the same function when they are compiled, so a phrase is
written in natural spelling (``ik zie 't niet meer zitten``, ``j'ai avalé``, ``💊 💊``) and matches
every spelling that normalises the same way.  On top of that every literal word of three letters
or more tolerates a doubled or an undoubled letter (``die`` matches ``diee``, ``dood`` matches
``dod``), so the normaliser only has to cut long runs.

Emoji: ``💊`` -> ``pills``, ``🔪``/``🗡`` -> ``knife``, ``🪢`` -> ``rope``,
``⚰``/``🪦`` -> ``coffin``, ``🩸`` -> ``blood``, ``🔫`` -> ``gun``; the laughing faces
``😂 🤣 😅 😆 😹`` -> ``haha`` (the word young people type for them: idioms, the ``unless``
and ``resolved`` lists and the classifier see the laughter; a phrase ending in ``$`` still
matches with laughter after its last word, and laughter alone vetoes no wish to die).
One emoji alone never flags: a single pill may be a medication reminder, a knife a cooking
photo.  The lexicon decides what combinations mean
(``common.yaml``: three pills, knife + blood, knife next to "myself"; the language files: pills
next to "swallowed", a coffin after "I want").  ``💀``/``☠`` are *not* mapped: in chat they mostly
mean "I'm dying of laughter".

Phrase syntax (one phrase per YAML list item)::

    word            a literal word; ``*`` at its start or end allows any letters there
                    (``zelfmoord*`` also matches ``zelfmoordgedachten``)
    (a|b c)         one of the alternatives
    [a|b c]         optional: one of the alternatives, or nothing
    ...             a gap of up to three words, none of which may be a negation of the
                    phrase's own language (``ik wil ... dood`` matches ``ik wil echt dood``,
                    not ``ik wil niet dood``; French "ne" does not stop a Turkish gap)
    {name}          the text of macro ``name`` from the same file's ``macros``
    $               the end of the message (after the last word and any punctuation, and
                    any laughter: ``😂`` becomes ``haha``, see ``LAUGH_WORD``)
    ^               the start of the message (only as the first item)

Words are matched whole (word boundaries on both sides) and separated by any short run of
spaces or punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from flows import replies
from flows.safety.classifier import NONE_CLASS, Classifier, features, sentence_spans
from flows.safety.concepts import ConceptHit, ConceptScreener, Tier

Category = Literal["suicide", "overdose", "self_harm", "abuse_violence", "acute_danger"]

CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)

# Most severe first.  Screening.category is the first of these that matched.  An overdose
# already taken comes first: its help (112, the Antigifcentrum) cannot wait.
SEVERITY: Final[tuple[Category, ...]] = (
    "overdose",
    "suicide",
    "acute_danger",
    "self_harm",
    "abuse_violence",
)

_SEVERITY_RANK: Final[dict[str, int]] = {c: i for i, c in enumerate(SEVERITY)}

# The "phrase" of a match made by the classifier rather than a lexicon phrase.
MODEL_PATTERN: Final = "(model)"
# The classifier's feature for a sentence in which a benign idiom was blanked
# (:meth:`Screener.model_features`).
IDIOM_FEATURE: Final = "i idiom"


@dataclass(frozen=True)
class Match:
    """One lexicon phrase found in a message.

    ``start``/``end`` are offsets in the *normalised* text (see :func:`normalise`);
    :meth:`NormalisedText.original_span` maps them back to the original message.
    ``pattern`` is the phrase as written in the lexicon file (never user text).
    """

    category: Category
    pattern: str
    language: str
    start: int
    end: int
    tier: Tier = "crisis"


@dataclass(frozen=True)
class Screening:
    """The outcome of screening one message.

    ``tier`` is ``"crisis"`` when any clear signal matched (help lines at once), ``"check"``
    when only indirect signals matched (one direct question first), ``None`` otherwise;
    ``flagged`` is true for both tiers.  ``category`` is the most severe category of the
    matches of that tier (see ``SEVERITY``), or the classifier's category when it decided.
    ``matches`` is sorted by position.
    """

    flagged: bool
    category: Category | None
    matches: tuple[Match, ...]
    tier: Tier | None = None
    score: float | None = field(default=None, compare=False)
    """The classifier's score when it was consulted (no rule fired), else ``None``; a
    diagnostic, left out of equality."""


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

# The word a laughing emoji becomes (``EMOJI_TOKENS``).  A ``$`` in a phrase allows it after
# the last word: "i want to disappear 😂" is still "i want to disappear" at the end.
LAUGH_WORD: Final = "haha"

# Emoji that carry crisis meaning become plain words that lexicon phrases can use.
# Keys are base code points; the variation selector (U+FE0F) that often follows is dropped.
EMOJI_TOKENS: Final[Mapping[str, str]] = {
    "\U0001f48a": "pills",  # 💊
    "\U0001f52a": "knife",  # 🔪
    "\U0001f5e1": "knife",  # 🗡
    "\U0001faa2": "rope",  # 🪢
    "\u26b0": "coffin",  # ⚰
    "\U0001faa6": "coffin",  # 🪦 headstone
    "\U0001fa78": "blood",  # 🩸
    "\U0001f52b": "gun",  # 🔫
    # Laughing faces become the word young people type for them, so idioms, ``unless`` and
    # ``resolved`` lists and the classifier can see the laughter ("ma mère va me tuer 😂").
    # Laughter alone never vetoes a wish to die: a phrase ending in ``$`` still matches with
    # laughter after it (see ``LAUGH_WORD``), and no rule lists it as a veto on its own.
    "\U0001f602": LAUGH_WORD,  # 😂
    "\U0001f923": LAUGH_WORD,  # 🤣
    "\U0001f605": LAUGH_WORD,  # 😅
    "\U0001f606": LAUGH_WORD,  # 😆
    "\U0001f639": LAUGH_WORD,  # 😹
}

# Characters that carry no letters: zero-width joiners/spaces, BOM, soft hyphen (used to slip
# past filters), variation selectors, emoji skin-tone modifiers, Arabic tatweel (kashida).
_DROP: Final[frozenset[str]] = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\ufe0e\ufe0f\u0640"
    + "".join(chr(c) for c in range(0x1F3FB, 0x1F400))
)

_APOSTROPHES: Final[frozenset[str]] = frozenset("'’‘ʼ`´′＇ʹ")

# Letter folds that NFD does not do.  Arabic: hamza/madda alef variants -> bare alef, alef
# maqsura -> ya, ta marbuta -> ha, hamza on waw/ya -> the bare letter (the usual light
# normalisation: people type either form, and chat writers mostly skip the hamza).
# Cyrillic: ё -> е (Russian writers skip the dots), ї -> і and ґ -> г (Ukrainian keyboards and
# hurried typing).  These are applied to lexicon phrases too, so nothing is lost.
_LETTER_FOLDS: Final[Mapping[str, str]] = {
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ı": "i",
    "ħ": "h",
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ى": "ي",
    "ی": "ي",
    "ک": "ك",
    "ة": "ه",
    "ؤ": "و",
    "ئ": "ي",
    "ё": "е",
    "ї": "і",
    "ґ": "г",
}

_LATIN_TO_CYRILLIC: Final[Mapping[str, str]] = {
    "a": "а",
    "c": "с",
    "e": "е",
    "i": "і",
    "o": "о",
    "p": "р",
    "x": "х",
    "y": "у",
    "k": "к",
}
_CYRILLIC_TO_LATIN: Final[Mapping[str, str]] = {v: k for k, v in _LATIN_TO_CYRILLIC.items()}

_LEET: Final[Mapping[str, str]] = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"}

# Contractions whose apostrophe-less spelling must meet the full form.  Applied as whole words.
_CONTRACTIONS: Final[Mapping[str, str]] = {
    # English
    "i'm": "i am",
    "im": "i am",
    "i'mma": "i am going to",
    "imma": "i am going to",
    "ima": "i am going to",
    "i've": "i have",
    "ive": "i have",
    "i'll": "i will",
    "i'd": "i would",
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "won't": "will not",
    "ain't": "is not",
    "dont": "do not",
    "didnt": "did not",
    "doesnt": "does not",
    "isnt": "is not",
    "wasnt": "was not",
    "wanna": "want to",
    "iwanna": "i want to",
    "iwant": "i want",
    "iwanttodie": "i want to die",
    "iwannadie": "i want to die",
    "gonna": "going to",
    "gotta": "got to",
    "tryna": "trying to",
    # Dutch / Flemish
    "'k": "ik",
    "'t": "het",
    "m'n": "mijn",
    "z'n": "zijn",
    "d'r": "haar",
    # French
    "t'es": "tu es",
    "t'as": "tu as",
}
_CONTRACTION_RE: Final = re.compile(
    r"(?<![\w'])(?:"
    + "|".join(re.escape(k) for k in sorted(_CONTRACTIONS, key=len, reverse=True))
    + r")(?![\w'])"
)

# Flemish: "kwil", "kben", "k'zie" (after apostrophe removal) mean "ik wil", "ik ben", ...
_K_VERBS: Final[tuple[str, ...]] = (
    "wil", "wou", "ben", "bn", "heb", "ga", "zie", "zien", "weet", "zou", "moet", "kan", "doe",
    "voel", "durf", "snij", "snijd", "kras", "denk", "hoop", "word", "wordt", "sta", "zit", "lig",
    "haat", "mag", "had", "was", "zal", "krijg", "hoor", "vind", "probeer",
)  # fmt: skip

_SHORTHAND: Final[dict[str, str]] = {
    # Flemish / Dutch chat
    "k": "ik",
    "kb": "ik ben",
    "ni": "niet",
    "nie": "niet",
    "nt": "niet",
    "nimeer": "niet meer",
    "niemeer": "niet meer",
    "gwn": "gewoon",
    "gene": "geen",
    "genen": "geen",
    "t": "het",
    "wrm": "waarom",
    "wrom": "waarom",
    "gewn": "gewoon",
    "mss": "misschien",
    "wss": "waarschijnlijk",
    "mn": "mijn",
    "zn": "zijn",
    "bn": "ben",
    "mzelf": "mezelf",
    "mezelve": "mezelf",
    "da": "dat",
    "wa": "wat",
    # French chat
    "jveux": "je veux",
    "jvx": "je veux",
    "jsuis": "je suis",
    "jsui": "je suis",
    "chui": "je suis",
    "chuis": "je suis",
    "jpeux": "je peux",
    "jme": "je me",
    "jvais": "je vais",
    "jai": "je ai",
    "jen": "je en",
    "jpp": "je en peux plus",
    "jpense": "je pense",
    "jsais": "je sais",
    "stp": "s il te plait",
    # English chat
    "myslf": "myself",
    "myslef": "myself",
}
for _verb in _K_VERBS:
    _SHORTHAND.setdefault("k" + _verb, "ik " + _SHORTHAND.get(_verb, _verb))
    _SHORTHAND.setdefault("ik" + _verb, "ik " + _SHORTHAND.get(_verb, _verb))
_SHORTHAND_RE: Final = re.compile(
    r"(?<!\w)(?:"
    + "|".join(re.escape(k) for k in sorted(_SHORTHAND, key=len, reverse=True))
    + r")(?!\w)"
)

_ELISION_RE: Final = re.compile(r"(?<!\w)(jusqu|lorsqu|puisqu|qu|j|m|t|n|s|l|d|c)'(?=\w)")
_NT_RE: Final = re.compile(r"(?<=[a-z])n't(?!\w)")
_EN_SUFFIX_RE: Final = re.compile(r"(?<=[a-z])'(re|ve|ll|m)(?!\w)")
_EN_SUFFIX: Final[Mapping[str, str]] = {"re": " are", "ve": " have", "ll": " will", "m": " am"}
_NL_T_RE: Final = re.compile(r"(?<=[^\W\d_])'t(?!\w)")
_INNER_APOSTROPHE_RE: Final = re.compile(r"(?<=\w)'(?=\w)")
_APOSTROPHE_RE: Final = re.compile(r"'")
# An e-mail or web address carries no signal, and its pieces read as words ("sam peeters
# voorbeeld be" scored as a sentence): the intake asks for an e-mail address.
_ADDRESS_RE: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b(?:https?://|www\.)\S+")
# Every address has one of these: most messages skip the scan (screening is on every message).
_ADDRESS_MARKS: Final = ("@", "://", "www.")
_AT_DOLLAR_RE: Final = re.compile(r"(?<=[^\W\d_])[@$]+(?=[^\W\d_])")
_LATIN_TOKEN_RE: Final = re.compile(r"(?<!\w)[a-z0-9]+(?!\w)")
_MIXED_TOKEN_RE: Final = re.compile(r"\w+")
_REPEAT_RE: Final = re.compile(r"([^\W\d_])\1{2,}")
_PUNCT_REPEAT_RE: Final = re.compile(r"([^\w\s])\1+")
_SPACE_RE: Final = re.compile(r"\s+")


@dataclass(frozen=True)
class NormalisedText:
    """Normalised text plus, per character, the span of the original text it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` span of :attr:`text` to the original text.

        A replaced piece (an emoji token, an expanded contraction) maps to the whole original
        piece, so the span may be a little wider than the exact characters.
        """
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span {start}:{end} outside normalised text of {len(self.text)}")
        return self.starts[start], self.ends[end - 1]


@dataclass
class _Buffer:
    """Mutable working state of the normaliser (local to one call)."""

    text: str
    starts: list[int]
    ends: list[int]

    def sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> None:
        """Like ``re.sub`` but keeps the offset map: replacement characters inherit the span of
        the whole matched piece; unchanged pieces keep their own offsets."""
        pieces: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        changed = False
        for m in pattern.finditer(self.text):
            a, b = m.span()
            new = repl(m)
            if new == m.group(0) or a == b:
                continue
            changed = True
            pieces.append(self.text[pos:a])
            starts.extend(self.starts[pos:a])
            ends.extend(self.ends[pos:a])
            pieces.append(new)
            starts.extend([self.starts[a]] * len(new))
            ends.extend([self.ends[b - 1]] * len(new))
            pos = b
        if not changed:
            return
        pieces.append(self.text[pos:])
        starts.extend(self.starts[pos:])
        ends.extend(self.ends[pos:])
        self.text = "".join(pieces)
        self.starts = starts
        self.ends = ends


def _is_latin(ch: str) -> bool:
    o = ord(ch)
    return ch.isascii() or 0xC0 <= o <= 0x24F or 0x1E00 <= o <= 0x1EFF


def _is_cyrillic(ch: str) -> bool:
    return 0x400 <= ord(ch) <= 0x52F


def _fold_cluster(cluster: str) -> str:
    """Fold one base character plus its combining marks (see the module docstring, step 1)."""
    base = cluster[0]
    token = EMOJI_TOKENS.get(base)
    if token is not None:
        return f" {token} "
    if base in _APOSTROPHES:
        return "'"
    out: list[str] = []
    for ch in unicodedata.normalize("NFKC", cluster).casefold():
        if ch in _DROP:
            continue
        folded = _LETTER_FOLDS.get(ch)
        if folded is not None:
            out.append(folded)
            continue
        if ch in _APOSTROPHES:
            out.append("'")
            continue
        cat = unicodedata.category(ch)
        if cat == "Mn" or cat == "Me":
            # Left-over marks: Latin accents, Arabic tashkeel, stress marks.  Cyrillic й/ї
            # were composed by NFKC above and are letters, not marks, so they survive.
            continue
        if _is_latin(ch) and not ch.isascii():
            out.extend(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            continue
        if cat in ("So", "Sk", "Co", "Cs", "Cn") and not ch.isascii():
            # Other emoji and symbols separate words but mean nothing to the lexicon.
            out.append(" ")
            continue
        out.append(ch)
    return "".join(out)


def _fold(text: str) -> _Buffer:
    if text.isascii():
        # Fast path for the common case: nothing to compose, strip or map but case and ` ´.
        folded = text.lower().replace("`", "'")
        n = len(text)
        return _Buffer(folded, list(range(n)), list(range(1, n + 1)))
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        # A cluster is a base character with the combining marks and variation selectors
        # that follow it, so offsets never split a letter from its accent.
        while j < n and unicodedata.category(text[j]) in ("Mn", "Me"):
            j += 1
        folded = _fold_cluster(text[i:j])
        pieces.append(folded)
        starts.extend([i] * len(folded))
        ends.extend([j] * len(folded))
        i = j
    return _Buffer("".join(pieces), starts, ends)


def _fix_mixed_script(m: re.Match[str]) -> str:
    word = m.group(0)
    latin = sum(1 for c in word if "a" <= c <= "z")
    cyrillic = sum(1 for c in word if _is_cyrillic(c))
    if not latin or not cyrillic:
        return word
    table = _LATIN_TO_CYRILLIC if cyrillic >= latin else _CYRILLIC_TO_LATIN
    return "".join(table.get(c, c) for c in word)


def _unleet(m: re.Match[str]) -> str:
    word = m.group(0)
    if word.isdigit() or word.isalpha() or not any(c in _LEET for c in word):
        return word
    return "".join(_LEET.get(c, c) for c in word)


def normalise_with_offsets(text: str) -> NormalisedText:
    """Normalise ``text`` (see the module docstring) and keep the offset map."""
    buf = _fold(text)
    if any(mark in buf.text for mark in _ADDRESS_MARKS):
        buf.sub(_ADDRESS_RE, lambda m: " ")
    buf.sub(_AT_DOLLAR_RE, lambda m: "".join("a" if c == "@" else "s" for c in m.group(0)))
    if any(_is_cyrillic(c) for c in buf.text):
        buf.sub(_MIXED_TOKEN_RE, _fix_mixed_script)
    buf.sub(_LATIN_TOKEN_RE, _unleet)
    buf.sub(_REPEAT_RE, lambda m: m.group(1) * 2)
    buf.sub(_PUNCT_REPEAT_RE, lambda m: m.group(1))
    if "'" in buf.text:
        buf.sub(_CONTRACTION_RE, lambda m: _CONTRACTIONS[m.group(0)])
        buf.sub(_NT_RE, lambda m: " not")
        buf.sub(_EN_SUFFIX_RE, lambda m: _EN_SUFFIX[m.group(1)])
        buf.sub(_NL_T_RE, lambda m: " het")
        buf.sub(_ELISION_RE, lambda m: m.group(1) + "e ")
        buf.sub(_INNER_APOSTROPHE_RE, lambda m: "")
        buf.sub(_APOSTROPHE_RE, lambda m: " ")
    else:
        buf.sub(_CONTRACTION_RE, lambda m: _CONTRACTIONS[m.group(0)])
    buf.sub(_SHORTHAND_RE, lambda m: _SHORTHAND[m.group(0)])
    buf.sub(_SPACE_RE, lambda m: " ")
    # Strip: drop the offsets of a leading/trailing space too.
    lead = 1 if buf.text.startswith(" ") else 0
    trail = 1 if buf.text.endswith(" ") and len(buf.text) > lead else 0
    end = len(buf.text) - trail
    return NormalisedText(
        buf.text[lead:end], tuple(buf.starts[lead:end]), tuple(buf.ends[lead:end])
    )


def normalise(text: str) -> str:
    """Normalise a message for matching (see the module docstring for the steps)."""
    return normalise_with_offsets(text).text


# --------------------------------------------------------------------------------------------
# Phrase compilation
# --------------------------------------------------------------------------------------------

# Between two words: a short run of spaces/punctuation.  Short on purpose: a blanked idiom
# leaves a long run of spaces, and a phrase must not be glued together across it.
_SEP: Final = r"[\W_]{1,5}"
_GAP_WORDS: Final = 3
# Where a sentence ends, for the reach of ``idioms_unless`` (the classifier cuts at the same marks).
_SENTENCE_END_RE: Final = re.compile(r"[.!?\n]")
_MACRO_RE: Final = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_LANGUAGE_RE: Final = re.compile(r"[a-z][a-z_]{1,15}")
_SPECIAL: Final = frozenset("()[]|")
_ALLOWED_KEYS: Final = frozenset(
    {
        "language",
        "description",
        "negations",
        "macros",
        "idioms",
        "idioms_unless",
        "patterns",
        "check",
        "concepts",
        "rules",
        "resolved",
    }
)


class _PhraseError(Exception):
    """A phrase that cannot be compiled; turned into ValueError with its location."""


@dataclass(frozen=True)
class _Node:
    """Parsed phrase element.  kind: 'word' | 'alt' | 'opt' | 'gap'."""

    kind: str
    regex: str = ""
    children: tuple[tuple[_Node, ...], ...] = ()
    first: frozenset[str] | None = None  # a word's possible first characters; None = any


def _tokenise(phrase: str) -> list[str]:
    tokens: list[str] = []
    word: list[str] = []
    i = 0
    while i < len(phrase):
        ch = phrase[i]
        if phrase.startswith("...", i) or phrase.startswith("…", i):
            if word:
                tokens.append("".join(word))
                word = []
            tokens.append("...")
            i += 3 if ch == "." else 1
            continue
        if ch.isspace() or ch in _SPECIAL:
            if word:
                tokens.append("".join(word))
                word = []
            if ch in _SPECIAL:
                tokens.append(ch)
            i += 1
            continue
        word.append(ch)
        i += 1
    if word:
        tokens.append("".join(word))
    return tokens


def _letter_regex(word: str) -> str:
    """Regex for one normalised word; words of 3+ characters tolerate doubled/undoubled
    letters (``dood`` ~ ``dod``, ``die`` ~ ``diee``) because the normaliser keeps doubles."""
    if len(word) < 3:
        return re.escape(word)
    out: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        j = i
        while j < len(word) and word[j] == ch:
            j += 1
        if ch.isalpha():
            out.append(re.escape(ch) + "{1,2}")
        else:
            out.append(re.escape(word[i:j]))
        i = j
    return "".join(out)


def _word_node(token: str) -> _Node:
    prefix = token.startswith("*")
    suffix = token.endswith("*") and len(token) > 1
    core = token[1 if prefix else 0 : len(token) - 1 if suffix else len(token)]
    if not token.strip("*") or "*" in core:  # a lone "*" or one in the middle of a word
        raise _PhraseError(
            f"'*' must be attached to the start or end of a word (not a group): {token!r}"
        )
    if core[-1:] in _APOSTROPHES:
        # An elided word written alone ("j'", "n'"): normalise it as it appears in a message,
        # glued to the next word ("j'ai" -> "je ai"), and keep only its own part.
        words = re.split(r"[\W_]+", normalise(core + "x"))
        if words and words[-1] == "x":
            words.pop()
    else:
        words = re.split(r"[\W_]+", normalise(core))
    words = [w for w in words if w]
    if not words:
        raise _PhraseError(f"word {token!r} has no letters or digits after normalisation")
    parts = [_letter_regex(w) for w in words]
    if prefix:
        parts[0] = r"\w*" + parts[0]
    if suffix:
        parts[-1] = parts[-1] + r"\w*"
    first = None if prefix else frozenset(words[0][0])
    return _Node("word", "".join(p + _SEP for p in parts), first=first)


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> tuple[_Node, ...]:
        seq = self.sequence()
        if self.peek() is not None:
            raise _PhraseError(f"unexpected {self.peek()!r} (unbalanced brackets?)")
        return seq

    def alternatives(self, closer: str) -> tuple[tuple[_Node, ...], ...]:
        alts = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            alts.append(self.sequence())
        if self.peek() != closer:
            raise _PhraseError(f"missing {closer!r}")
        self.pos += 1
        if any(not a for a in alts):
            raise _PhraseError("empty alternative: use [a|b] for an optional word, not (a|)")
        return tuple(alts)

    def sequence(self) -> tuple[_Node, ...]:
        items: list[_Node] = []
        while (tok := self.peek()) is not None and tok not in ("|", ")", "]"):
            self.pos += 1
            if tok == "(":
                items.append(_Node("alt", children=self.alternatives(")")))
            elif tok == "[":
                items.append(_Node("opt", children=self.alternatives("]")))
            elif tok == "$":
                items.append(_Node("end", regex=rf"(?:{LAUGH_WORD}{_SEP})*$"))
            elif tok == "^":
                items.append(_Node("end", regex=r"(?<=^ )"))
            elif tok == "...":
                if items and items[-1].kind == "gap":
                    raise _PhraseError("two gaps in a row")
                items.append(_Node("gap"))
            else:
                items.append(_word_node(tok))
        return tuple(items)


def _can_be_empty(seq: Sequence[_Node]) -> bool:
    for node in seq:
        if node.kind == "word":
            return False
        if node.kind == "alt" and not any(_can_be_empty(s) for s in node.children):
            return False
    return True


def _first_chars(seq: Sequence[_Node]) -> tuple[frozenset[str] | None, bool]:
    """The characters a match of ``seq`` can start with (None = any word character), and
    whether ``seq`` can match nothing (then what follows it can come first)."""
    acc: set[str] = set()
    for node in seq:
        if node.kind == "word":
            chars, empty = node.first, False
        elif node.kind == "end":
            chars, empty = frozenset(), True
        elif node.kind == "gap":
            chars, empty = None, True
        else:
            chars, empty = frozenset(), node.kind == "opt"
            for child in node.children:
                c, e = _first_chars(child)
                chars = None if c is None or chars is None else chars | c
                empty = empty or e
        if chars is None:
            return None, False
        acc |= chars
        if not empty:
            return frozenset(acc), False
    return frozenset(acc), True


def _seq_regex(seq: Sequence[_Node], gap: str) -> str:
    parts: list[str] = []
    for node in seq:
        if node.kind in ("word", "end"):
            parts.append(node.regex)
        elif node.kind == "gap":
            parts.append(gap)
        else:
            inner = "|".join(_seq_regex(s, gap) for s in node.children)
            parts.append(f"(?:{inner})" + ("?" if node.kind == "opt" else ""))
    return "".join(parts)


def _compile_phrase(phrase: str, gap: str) -> tuple[str, frozenset[str] | None]:
    """Compile one phrase to a regex body (without group or leading boundary), plus the
    characters a match can start with (None = any).

    Every word's regex ends with a separator, so the text to match is padded with a space at
    both ends and a match's trailing separator is trimmed off when it is reported.
    """
    tokens = _tokenise(phrase)
    if not tokens:
        raise _PhraseError("empty phrase")
    seq = _Parser(tokens).parse()
    if _can_be_empty(seq):
        raise _PhraseError("phrase can match nothing at all: it needs a required word")
    if seq[0].kind == "gap" or seq[-1].kind == "gap":
        raise _PhraseError("'...' must stand between two words")
    return _seq_regex(seq, gap), _first_chars(seq)[0]


def _expand(phrase: str, macros: Mapping[str, str], where: str) -> str:
    """Replace ``{name}`` by the macro's text; an unknown macro is a ValueError."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in macros:
            raise ValueError(f"{where}: phrase {phrase!r}: unknown macro {{{name}}}")
        return macros[name]

    return _MACRO_RE.sub(repl, phrase)


# --------------------------------------------------------------------------------------------
# Lexicon validation
# --------------------------------------------------------------------------------------------


def _string_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of strings, got {type(value).__name__}")
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            # YAML 1.1 reads unquoted no/yes/on/off as booleans: say so, it is the usual cause.
            hint = (
                " (quote it: YAML reads no/yes/on/off as booleans)"
                if isinstance(item, bool)
                else ""
            )
            raise ValueError(f"{where}[{i}]: expected a non-empty string, got {item!r}{hint}")
        out.append(item.strip())
    return out


@dataclass(frozen=True)
class _Lexicon:
    language: str
    negations: tuple[str, ...]
    macros: Mapping[str, str]
    idioms: tuple[str, ...]
    patterns: Mapping[Category, tuple[str, ...]]
    check: Mapping[Category, tuple[str, ...]]
    past: tuple[str, ...] = ()
    now_ok: tuple[str, ...] = ()
    idioms_unless: tuple[str, ...] = ()


def _patterns(raw: Any, where: str, key: str) -> dict[Category, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: {key} must be a mapping of category -> list of phrases")
    patterns: dict[Category, tuple[str, ...]] = {}
    for cat, phrases in raw.items():
        if cat not in CATEGORIES:
            raise ValueError(f"{where}: unknown category {cat!r}; allowed: {', '.join(CATEGORIES)}")
        items = _string_list(phrases, f"{where}: {key}.{cat}")
        seen: set[str] = set()
        for p in items:
            if p in seen:
                raise ValueError(f"{where}: {key}.{cat}: duplicate phrase {p!r}")
            seen.add(p)
        patterns[cat] = tuple(items)
    return patterns


def _validate(language: str, doc: Any) -> _Lexicon:
    where = f"lexicon {language!r}"
    if not isinstance(language, str) or not _LANGUAGE_RE.fullmatch(language):
        raise ValueError(f"{where}: language code must be lower-case letters, like 'nl'")
    if not isinstance(doc, Mapping):
        raise ValueError(f"{where}: expected a mapping at the top level")
    unknown = set(doc) - _ALLOWED_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {sorted(map(str, unknown))}; allowed: {sorted(_ALLOWED_KEYS)}"
        )
    declared = doc.get("language", language)
    if declared != language:
        raise ValueError(f"{where}: file says language {declared!r}")
    macros_raw = doc.get("macros") or {}
    if not isinstance(macros_raw, Mapping):
        raise ValueError(f"{where}: macros must be a mapping of name -> phrase text")
    macros: dict[str, str] = {}
    for name, text in macros_raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"{where}: macro name {name!r} must be lower_snake_case")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: macro {name!r} must be a non-empty string")
        if _MACRO_RE.search(text):
            raise ValueError(f"{where}: macro {name!r} uses another macro; macros do not nest")
        macros[name] = text
    patterns = _patterns(doc.get("patterns") or {}, where, "patterns")
    check = _patterns(doc.get("check") or {}, where, "check")
    resolved = doc.get("resolved") or {}
    if not isinstance(resolved, Mapping) or set(resolved) - {"past", "now"}:
        raise ValueError(f"{where}: resolved must be a mapping with the lists past and now")
    past = tuple(_string_list(resolved.get("past"), f"{where}: resolved.past"))
    now_ok = tuple(_string_list(resolved.get("now"), f"{where}: resolved.now"))
    if bool(past) != bool(now_ok):
        raise ValueError(f"{where}: resolved needs both past and now phrases")
    return _Lexicon(
        language=language,
        negations=tuple(_string_list(doc.get("negations"), f"{where}: negations")),
        macros=macros,
        idioms=tuple(_string_list(doc.get("idioms"), f"{where}: idioms")),
        patterns=patterns,
        check=check,
        past=past,
        now_ok=now_ok,
        idioms_unless=tuple(_string_list(doc.get("idioms_unless"), f"{where}: idioms_unless")),
    )


# --------------------------------------------------------------------------------------------
# Screener
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    language: str
    category: Category
    regex: re.Pattern[str]
    phrases: Mapping[str, str]  # group name -> phrase as written in the lexicon
    tier: Tier = "crisis"


def _gap_regex(negations: Iterable[str]) -> str:
    """The regex of a gap ``...``: up to ``_GAP_WORDS`` words, none of them one of
    ``negations`` (normalised words of the phrase's own language)."""
    words = sorted(set(negations), key=len, reverse=True)
    if not words:
        return rf"(?:\w+{_SEP}){{0,{_GAP_WORDS}}}"
    neg_alt = "|".join(_letter_regex(w) for w in words)
    return rf"(?:(?!(?:{neg_alt})(?!\w))\w+{_SEP}){{0,{_GAP_WORDS}}}"


def _build_regex(
    entries: Iterable[tuple[str, str, str, str]],
) -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation over many phrases; each phrase is a named group so a match can say
    which phrase it was.  ``entries``: (phrase after macro expansion, phrase as written,
    where it comes from, for error messages, the regex of its gap ``...``: the negations of
    the phrase's own language, see :func:`_gap_regex`)."""
    by_first: dict[frozenset[str] | None, list[str]] = {}
    names: dict[str, str] = {}
    bodies_written: list[tuple[str, str, str]] = []
    for i, (expanded, written, where, gap) in enumerate(entries):
        body, first = _compile_phrase_at(expanded, written, where, gap)
        name = f"p{i}"
        names[name] = written
        bodies_written.append((body, written, where))
        by_first.setdefault(first, []).append(f"(?P<{name}>{body})")
    return _alternation(by_first, bodies_written), names


def _compile_phrase_at(
    expanded: str, written: str, where: str, gap: str
) -> tuple[str, frozenset[str] | None]:
    try:
        return _compile_phrase(expanded, gap)
    except _PhraseError as exc:
        raise ValueError(f"{where}: phrase {written!r}: {exc}") from None


def _alternation(
    by_first: Mapping[frozenset[str] | None, list[str]],
    bodies_written: Sequence[tuple[str, str, str]],
) -> re.Pattern[str]:
    # Speed: phrases are grouped by the characters they can start with, behind a one-character
    # lookahead, so at a word start only the few phrases that can begin there are tried; and
    # (?=\w) first, because most positions in a message are not word starts at all.
    branches: list[str] = []
    for first, bodies in by_first.items():
        alternation = "|".join(bodies)
        if first is None:
            branches.append(f"(?:{alternation})")
        else:
            chars = "".join(sorted(re.escape(c) for c in first))
            branches.append(f"(?=[{chars}])(?:{alternation})")
    try:
        # Start-up speed: one compile for all phrases; each phrase alone only to name the
        # culprit when the whole does not compile.
        return re.compile(r"(?=\w)(?<!\w)(?:" + "|".join(branches) + ")")
    except re.error:
        for body, written, where in bodies_written:
            try:
                re.compile(body)
            except re.error as exc:
                raise ValueError(f"{where}: phrase {written!r}: {exc}") from None
        raise


def _every_language(
    parsed: Sequence[_Lexicon],
    gaps: Mapping[str, str],
    key: str,
    phrases: Callable[[_Lexicon], tuple[str, ...]],
) -> re.Pattern[str] | None:
    """One alternation over the phrases under ``key`` of all languages (idioms, the "now" of a
    crisis told as over, ...): messages mix languages.  ``None`` when no language has any."""
    entries = [
        (_expand(p, lex.macros, at), p, at, gaps[lex.language])
        for lex in parsed
        for at in [f"lexicon {lex.language!r}: {key}"]
        for p in phrases(lex)
    ]
    return _build_regex(entries)[0] if entries else None


# What someone else does to me: a self-harm reading of the same words ("mon ex me frappe
# encore" is also "me frappe encore") is not the young person's own act.
_DONE_TO_ME: Final = frozenset({"abuse_violence", "acute_danger"})


def _read_once(found: list[Match]) -> list[Match]:
    """Drop a self-harm match that starts inside a match of violence by someone else which
    began before it: the person named first makes it their act ("mon ex me frappe encore"),
    and the help is for violence (1712), not self-harm.  A self-harm phrase of its own, before
    or after ("ik snij mezelf omdat hij me slaat"), stays, and so does one that would raise
    the tier (a crisis read inside a check): this changes the category, never the tier."""
    others = [m for m in found if m.category in _DONE_TO_ME]
    if not others:
        return found
    return [
        m
        for m in found
        if m.category != "self_harm"
        or not any(
            o.start < m.start < o.end and (o.tier == "crisis" or m.tier == "check") for o in others
        )
    ]


def _concept_match(hit: ConceptHit) -> Match:
    """A concept rule's hit as a match (offsets in the normalised text, not the padded one)."""
    return Match(
        hit.rule.category,  # type: ignore[arg-type]  # checked when the rules were built
        hit.rule.name,
        hit.rule.language,
        hit.start - 1,
        hit.end - 1,
        hit.rule.tier,
    )


def _trim_end(padded: str, start: int, end: int) -> int:
    while end > start and not (padded[end - 1].isalnum()):
        end -= 1
    return end


class Screener:
    """Screens messages against all loaded languages at once.  Immutable once built.

    Build it with :meth:`from_mappings` (the parsed YAML lexicons); ``bot.safety.lexicon``
    does that with the shipped files and caches the result.
    """

    __slots__ = (
        "_concepts",
        "_idioms",
        "_idioms_unless",
        "_languages",
        "_model",
        "_resolved",
        "_rules",
    )

    def __init__(
        self,
        rules: tuple[_Rule, ...],
        idioms: re.Pattern[str] | None,
        languages: tuple[str, ...],
        concepts: ConceptScreener | None = None,
        model: Classifier | None = None,
        resolved: tuple[re.Pattern[str], re.Pattern[str]] | None = None,
        idioms_unless: re.Pattern[str] | None = None,
    ) -> None:
        self._rules = rules
        self._idioms = idioms
        self._idioms_unless = idioms_unless
        self._languages = languages
        self._concepts = concepts
        self._model = model
        self._resolved = resolved

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    @property
    def model(self) -> Classifier | None:
        """The classifier consulted when no rule fires (``None``: rules only)."""
        return self._model

    def with_model(self, model: Classifier | None) -> Screener:
        """The same compiled rules with another classifier (or none): nothing is recompiled."""
        if model is not None:
            unknown = set(model.categories) - set(CATEGORIES)
            if unknown:
                raise ValueError(f"model: unknown categories {sorted(unknown)}")
        return Screener(
            self._rules,
            self._idioms,
            self._languages,
            self._concepts,
            model,
            self._resolved,
            self._idioms_unless,
        )

    @classmethod
    def from_mappings(
        cls,
        lexicons: Mapping[str, Mapping[str, Any]],
        forms: Mapping[str, Mapping[str, str]] | None = None,
        model: Mapping[str, Any] | None = None,
    ) -> Screener:
        """Validate and compile lexicons (language code -> parsed YAML).

        ``forms`` maps a language to its word-form table (normalised form -> lemma, see
        :mod:`flows.safety.concepts`); without it concept terms match as written and with a
        plural ending taken off.  ``model`` is the parsed classifier data
        (``flows/safety/model/model.json``, see :mod:`flows.safety.classifier`); without it
        only the rules screen.

        Raises ValueError, naming the language and phrase, on any malformed data: unknown keys
        or categories, non-string phrases, unbalanced brackets, unknown macros, phrases that
        could match empty text, or no phrases at all.
        """
        if not isinstance(lexicons, Mapping) or not lexicons:
            raise ValueError("no lexicons given")
        parsed = [_validate(lang, doc) for lang, doc in lexicons.items()]
        if not any(phrases for lex in parsed for phrases in lex.patterns.values()):
            raise ValueError("the lexicons contain no crisis phrases at all")
        # The gap '...' may not step over a negation of the phrase's own language: French
        # "ne" is a negation, Turkish "ne" asks "what" ("intihar hattının numarası ne").
        gaps = {
            lex.language: _gap_regex(
                w for neg in lex.negations for w in re.split(r"[\W_]+", normalise(neg)) if w
            )
            for lex in parsed
        }

        rules: list[_Rule] = []
        for lex in parsed:
            where = f"lexicon {lex.language!r}"
            gap = gaps[lex.language]
            tiers: tuple[tuple[Tier, Mapping[Category, tuple[str, ...]]], ...] = (
                ("crisis", lex.patterns),
                ("check", lex.check),
            )
            for tier, table in tiers:
                key = "patterns" if tier == "crisis" else "check"
                for cat in CATEGORIES:
                    phrases = table.get(cat, ())
                    if not phrases:
                        continue
                    at = f"{where}: {key}.{cat}"
                    regex, names = _build_regex(
                        [(_expand(p, lex.macros, at), p, at, gap) for p in phrases]
                    )
                    rules.append(_Rule(lex.language, cat, regex, names, tier))
        idioms = _every_language(parsed, gaps, "idioms", lambda lex: lex.idioms)
        idioms_unless = _every_language(
            parsed, gaps, "idioms_unless", lambda lex: lex.idioms_unless
        )
        concepts = ConceptScreener.build(
            {lang: doc for lang, doc in lexicons.items() if isinstance(doc, Mapping)},
            forms or {},
            {lex.language: lex.negations for lex in parsed},
            normalise,
        )
        for rule in concepts.rules:
            if rule.category not in CATEGORIES:
                raise ValueError(
                    f"lexicon {rule.language!r}: rule {rule.name!r}: unknown category "
                    f"{rule.category!r}; allowed: {', '.join(CATEGORIES)}"
                )
        resolved = None
        past = _every_language(parsed, gaps, "resolved.past", lambda lex: lex.past)
        now_ok = _every_language(parsed, gaps, "resolved.now", lambda lex: lex.now_ok)
        if past is not None and now_ok is not None:
            resolved = (past, now_ok)
        screener = cls(
            tuple(rules),
            idioms,
            tuple(lex.language for lex in parsed),
            concepts,
            None,
            resolved,
            idioms_unless,
        )
        return screener if model is None else screener.with_model(Classifier.from_mapping(model))

    def _blank_idioms(self, padded: str) -> str:
        """Blank benign idioms with spaces of equal length: offsets stay valid and only the
        idiom's own span is hidden from the crisis phrases.  An idiom stays when one of the
        ``idioms_unless`` phrases starts where it starts or later in its sentence: "mijn vader
        gaat me vermoorden als ik het aan iemand vertel" is a threat, not a figure of speech."""
        if self._idioms is None:
            return padded
        unless = self._idioms_unless
        starts: list[int] | None = None  # looked for once, and only when an idiom is found

        def blank(m: re.Match[str]) -> str:
            nonlocal starts
            if unless is not None:
                if starts is None:
                    starts = [u.start() for u in unless.finditer(padded)]
                stop = _SENTENCE_END_RE.search(padded, m.end())
                end = stop.start() if stop is not None else len(padded)
                if any(m.start() <= at < end for at in starts):
                    return m.group(0)
            return " " * len(m.group(0))

        return self._idioms.sub(blank, padded)

    def model_features(self, normalised: str) -> list[list[str]]:
        """The classifier's features of a message: first the whole message's, then, when it
        has several sentences, each sentence's (none at all for a message too short to score,
        see ``flows.safety.classifier.MIN_WORDS``).  A sentence's features are its words and
        character n-grams (:func:`flows.safety.classifier.features`) and the lexicon's
        concepts found in it, all read once the benign idioms are blanked: an idiom hides its
        own words from the classifier as it does from the rules ("ik lach me dood", "dead
        tired"), so a message that is safe because of one does not score on its crisis words,
        while a real phrase beside it still counts.  A sentence that had an idiom blanked also
        gets the feature ``IDIOM_FEATURE``.  The whole message's features are the union of
        its sentences'.  The training script uses this too, so a model sees at run time what
        it saw when it learnt."""
        padded = self._blank_idioms(f" {normalised} ")
        blanked = padded[1:-1]
        spans = sentence_spans(blanked)
        if not spans:
            return []
        cache: dict[str, list[str]] = {}
        parts = []
        for a, b in spans:
            text = blanked[a:b]
            if text not in cache:
                cache[text] = features(text)
                if text != normalised[a:b]:
                    cache[text].append(IDIOM_FEATURE)
            parts.append(list(cache[text]))
        if self._concepts is not None:
            found = self._concepts.concept_features(padded, [(a + 1, b + 1) for a, b in spans])
            for names, extra in zip(parts, found, strict=True):
                names.extend(extra)
        if len(parts) == 1:
            return parts
        whole = list(dict.fromkeys(f for names in parts for f in names))
        return [whole, *parts]

    def screen(self, text: str) -> Screening:
        """Screen one message.  Offsets in the result refer to ``normalise(text)``."""
        return self.screen_normalised(normalise(text))

    def screen_normalised(self, normalised: str) -> Screening:
        """Screen text that already went through :func:`normalise`."""
        # Pad so that every phrase's trailing separator has something to match at the end.
        padded = self._blank_idioms(f" {normalised} ")
        found: list[Match] = []
        for rule in self._rules:
            for m in rule.regex.finditer(padded):
                start = m.start()
                end = _trim_end(padded, start, m.end())
                phrase = rule.phrases[m.lastgroup or ""]
                found.append(
                    Match(rule.category, phrase, rule.language, start - 1, end - 1, rule.tier)
                )
        if self._concepts is not None:
            found.extend(_concept_match(hit) for hit in self._concepts.screen(padded))
        if self._resolved is not None:
            # Told as over: the rule hits before the "now" fall away, and the classifier
            # judges only what comes after it.  (Looked for in the text before the idioms
            # are blanked: an idiom may hold the "now".)
            found, tail = self._drop_resolved(f" {normalised} ", found)
            if tail and self._concepts is not None:
                # A concept rule reports one hit, its shortest: when that was the past one,
                # the same rule may fire again after the "now" ("vorig jaar sloeg hij me, nu
                # gaat het goed, maar gisteren sloeg hij me weer").  So it is asked again
                # about what follows the "now" alone (offsets kept: the rest is blanked).
                after = " " * (tail + 1) + padded[tail + 1 :]
                again = [_concept_match(hit) for hit in self._concepts.screen(after)]
                found += [m for m in again if m not in found]
            if not found:
                return self._ask_model(normalised, tail)
        if not found:
            return self._ask_model(normalised)
        found = _read_once(found)
        found.sort(key=lambda x: (x.start, _SEVERITY_RANK[x.category], x.end))
        tier: Tier = "crisis" if any(m.tier == "crisis" for m in found) else "check"
        worst = min(
            (m for m in found if m.tier == tier), key=lambda x: _SEVERITY_RANK[x.category]
        ).category
        return Screening(True, worst, tuple(found), tier)

    def _drop_resolved(self, padded: str, found: list[Match]) -> tuple[list[Match], int]:
        """Drop the matches told as a crisis that is over: a time in the past stands before a
        "now it is fine" (``resolved`` in the lexicons), and the match ends before that "now".
        What comes after the "now" is never dropped ("vorig jaar wou ik dood, nu gaat het
        beter, maar vandaag wil ik weer dood" still flags).  Also returns where the last
        "now" ends (in the normalised text; 0 when nothing was dropped)."""
        if self._resolved is None:
            return found, 0
        past_re, now_re = self._resolved
        past = past_re.search(padded)
        if past is None:
            return found, 0
        # Offsets in the padded text are one more than in the normalised text of the matches.
        nows = [(m.start() - 1, m.end() - 1) for m in now_re.finditer(padded)]
        nows = [n for n in nows if n[0] > past.start() - 1]
        if not nows:
            return found, 0
        last_start, last_end = max(nows)
        return [m for m in found if m.end > last_start], min(last_end, len(padded) - 2)

    def _ask_model(self, normalised: str, start: int = 0) -> Screening:
        """No rule fired: the classifier decides (``check`` or ``crisis`` by its thresholds)
        on the text from ``start`` on.  Its match spans that text and names the model, never
        the text."""
        text = normalised[start:]
        if self._model is None or replies.normalise(text) in self._model.answers:
            return Screening(False, None, ())  # no model, or one of the bot's own answers
        parts = self.model_features(text)
        if not parts:
            return Screening(False, None, ())  # too short to score
        result = self._model.score(parts)
        if result.tier is None or result.category == NONE_CLASS:
            return Screening(False, None, (), score=result.score)
        category: Category = result.category  # type: ignore[assignment]  # checked when built
        match = Match(category, MODEL_PATTERN, "model", start, len(normalised), result.tier)
        return Screening(True, category, (match,), result.tier, result.score)
