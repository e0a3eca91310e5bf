"""Crisis screening (pure).

Rules: nothing in this package reads files, talks to the network or logs; the lexicon data
lives in ``lexicon/*.yaml`` beside this code but is opened only by ``bot.safety.lexicon``.
Screened text is never logged or stored by this package.
"""

from flows.safety.concepts import TIERS, Tier
from flows.safety.detect import (
    CATEGORIES,
    SEVERITY,
    Category,
    Match,
    NormalisedText,
    Screener,
    Screening,
    normalise,
    normalise_with_offsets,
)

__all__ = [
    "CATEGORIES",
    "SEVERITY",
    "TIERS",
    "Category",
    "Match",
    "NormalisedText",
    "Screener",
    "Screening",
    "Tier",
    "normalise",
    "normalise_with_offsets",
]
