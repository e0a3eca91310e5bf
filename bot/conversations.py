"""Which flows exist and which one a new person starts in.

Flows are pure data from ``flows/``; the data files they need (the domain lexicon, the
directory behind the place check) are read here, in ``bot/``, and passed in.
"""

from __future__ import annotations

from bot.intake_data import load_domain_lexicon
from flows.engine import Flow
from flows.hello import FLOW as HELLO_FLOW
from flows.ids import FlowId
from flows.intake.flow import INTAKE, build_intake_flow

ENTRY = INTAKE
# Bump when the privacy notice text changes: consents are stored with this version.
NOTICE_VERSION = "2026-11"


def build_flows(*, response_days: int = 5) -> dict[FlowId, Flow]:
    intake = build_intake_flow(
        load_domain_lexicon(),
        notice_version=NOTICE_VERSION,
        response_days=response_days,
    )
    return {intake.id: intake, HELLO_FLOW.id: HELLO_FLOW}
