"""The dashboard: the queue page of a partnership with 5,000 cases.

Target (issue #17): under 200 ms p99.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


async def run(workdir: Path, results: dict[str, Any]) -> None:
    if importlib.util.find_spec("bot.team") is None:
        print("the team dashboard is not part of this build: not measured")
        return
    raise NotImplementedError
