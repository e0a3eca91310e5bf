"""``opstap screen``: screen lines of text and print one JSON object per line.

Rules of this module:

* One output line per input line, in order, also for empty lines (so outputs can be pasted
  next to inputs); a trailing ``\\r\\n``/``\\n`` is not part of the text.
* Output object: ``{"text", "flagged", "tier", "category", "score", "matches"}`` with
  ``ensure_ascii=False``; ``tier`` is ``"crisis"`` (help lines at once), ``"check"`` (an
  indirect signal: the bot asks one direct question first) or ``null``, and ``flagged`` is true
  for both tiers.  Each match is ``{"phrase", "category", "language", "start", "end", "tier"}``
  where ``phrase`` is the lexicon phrase as written in the YAML file (or the concept rule's
  name, or ``(model)`` when the classifier decided: its match spans the whole line) and
  ``start``/``end`` are offsets in the
  ORIGINAL line (Python string indices, end exclusive).  They are mapped back from the
  normalised text; a replaced piece (an emoji token, an expanded contraction like "wanna")
  maps to the whole original piece.  ``score`` is the classifier's score (0-1) when it was
  consulted (no rule fired), else ``null``.
* The text is echoed because the operator asked for it on their own terminal; nothing is
  logged, and this tool is for reviewing the lexicon, not for user data.
* Returns 0; the caller (``opstap screen``) turns it into the exit status.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from bot.safety.lexicon import load_screener
from flows.safety.detect import Screener, normalise_with_offsets


def screen_line(screener: Screener, text: str) -> dict[str, Any]:
    """The JSON-ready result for one line."""
    norm = normalise_with_offsets(text)
    result = screener.screen_normalised(norm.text)
    matches: list[dict[str, Any]] = []
    for m in result.matches:
        start, end = norm.original_span(m.start, m.end)
        matches.append(
            {
                "phrase": m.pattern,
                "category": m.category,
                "language": m.language,
                "start": start,
                "end": end,
                "tier": m.tier,
            }
        )
    return {
        "text": text,
        "flagged": result.flagged,
        "tier": result.tier,
        "category": result.category,
        "score": None if result.score is None else round(result.score, 3),
        "matches": matches,
    }


def run_screen(stdin: TextIO, stdout: TextIO) -> int:
    """Read lines from ``stdin``, write one JSON object per line to ``stdout``."""
    screener = load_screener()
    for raw in stdin:
        text = raw.removesuffix("\n").removesuffix("\r")
        stdout.write(json.dumps(screen_line(screener, text), ensure_ascii=False) + "\n")
    stdout.flush()
    return 0
