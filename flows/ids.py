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
