"""Typed identifiers shared by every layer.

They are plain strings at run time; ``NewType`` keeps a coach id from being passed where a
person id is expected.
"""

from typing import NewType

PersonId = NewType("PersonId", str)
"""A young person (or a coach) as the channel knows them: ``tg:<chat id>`` or ``web:<token>``."""

FlowId = NewType("FlowId", str)
StepId = NewType("StepId", str)
MessageId = NewType("MessageId", str)
"""A key in the gettext catalogs (``locales/<lang>/LC_MESSAGES/opstap.po``)."""

ReminderKey = NewType("ReminderKey", str)
"""Names a reminder within one person's session, e.g. ``intake.nudge.1``."""

CaseId = NewType("CaseId", str)
CoachId = NewType("CoachId", str)
PartnershipId = NewType("PartnershipId", str)

# The largest row id an INTEGER column holds (PostgreSQL's int4; SQLite's is larger).
MAX_ROW = 2**31 - 1


def row_number(text: str) -> int | None:
    """The row a number in a button or a command names (``"12"`` -> 12), or ``None``.

    Only ASCII digits: ``str.isdigit`` also takes "²" (which ``int`` refuses) and "١٢". At most
    :data:`MAX_ROW`: a forged 23-digit number would overflow the database driver instead of
    simply naming no row."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ROW)):
        return None
    number = int(text)
    return number if number <= MAX_ROW else None
