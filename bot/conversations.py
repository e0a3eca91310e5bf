"""Which flows exist and which one a new person starts in.

Flows are pure data from ``flows/``; the data files they need (the domain lexicon) are read
here, in ``bot/``, and passed in.
"""

from __future__ import annotations

from flows.engine import Flow
from flows.hello import FLOW as HELLO_FLOW
from flows.ids import FlowId

ENTRY = HELLO_FLOW.id


def build_flows() -> dict[FlowId, Flow]:
    return {HELLO_FLOW.id: HELLO_FLOW}
