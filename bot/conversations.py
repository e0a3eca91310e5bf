"""Which flows exist and which one a new person starts in.

Flows are pure data from ``flows/``; the data files they need (the domain lexicon, the
gazetteer and directory behind the place check) are read here, in ``bot/``, and passed in.
"""

from __future__ import annotations

from bot.i18n import Translator
from bot.intake_data import load_domain_lexicon
from bot.routing.gazetteer import load_resolver
from bot.routing.place_check import load_coverage, load_targets, make_place_check
from flows.engine import Flow
from flows.hello import FLOW as HELLO_FLOW
from flows.ids import FlowId
from flows.intake.flow import INTAKE, build_intake_flow

ENTRY = INTAKE
# Bump when the privacy notice text changes: consents are stored with this version.
NOTICE_VERSION = "2026-11"


def build_flows(translator: Translator | None = None) -> dict[FlowId, Flow]:
    """The flows; with ``translator`` a typed button label counts as pressing the button."""
    intake = build_intake_flow(
        load_domain_lexicon(),
        notice_version=NOTICE_VERSION,
        place_check=make_place_check(load_resolver()),
        coverage=load_coverage(),
        targets=load_targets(),
        say=translator.render if translator is not None else None,
    )
    return {intake.id: intake, HELLO_FLOW.id: HELLO_FLOW}
