"""The intake: the first conversation with a young person, from welcome to "Verstuur".

Rules of this package: pure like all of :mod:`flows` (the lexicon YAML is opened by
:mod:`bot.intake_data`); every question can be skipped; nothing is stored before the young
person presses "Start"; sensitive domains are asked only after explicit consent; an under-18 or
over-30 answer ends with a referral and :class:`flows.effects.Discard`.
"""

from flows.intake.flow import INTAKE, PlaceCheck, build_intake_flow

__all__ = ["INTAKE", "PlaceCheck", "build_intake_flow"]
