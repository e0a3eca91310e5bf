"""Retention: the daily job that deletes what may no longer be kept.

Rules:

* What is kept how long is :class:`storage.ports.RetentionPolicy` (settings:
  ``OPSTAP_RETENTION_ABANDONED_DAYS``, ``OPSTAP_RETENTION_CLOSED_MONTHS``); what to delete is
  each :class:`storage.ports.PersonalData` part's own business, so a new feature's table is
  purged without a change here.
* One transaction per part: a failing part is logged and the others still run.
* Logs count what was purged per part, nothing more.
* The dedupe keys of handled updates (``processed_updates``) go as soon as Telegram can no
  longer deliver the update again (:data:`storage.ports.DEDUPE_WINDOW`, 25 hours): an hourly
  job (:func:`prune_handled`), besides the daily purge.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.logs import describe
from bot.settings import Settings
from storage.ports import DEDUPE_WINDOW, RetentionPolicy, Storage

log = logging.getLogger(__name__)
UPDATES = "processed_updates"


def policy_from(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        abandoned=timedelta(days=settings.retention_abandoned_days),
        closed_months=settings.retention_closed_months,
    )


async def purge(storage: Storage, now: datetime, policy: RetentionPolicy) -> dict[str, int]:
    """Run every part's purge; returns rows deleted per part (a failed part is left out)."""
    counts: dict[str, int] = {}
    for part in storage.personal_data_parts:
        try:
            async with storage.transaction() as tx:
                counts[part.name] = await part.purge_expired(tx, now, policy)
        except Exception as error:
            log.error("retention purge failed part=%s error=%s", part.name, describe(error))
    try:
        async with storage.transaction() as tx:
            counts[UPDATES] = await tx.updates.prune(now - policy.processed_updates)
    except Exception as error:
        log.error("retention purge failed part=%s error=%s", UPDATES, describe(error))
    log.info("retention purge %s", " ".join(f"{name}={n}" for name, n in sorted(counts.items())))
    try:
        # Purged rows leave no copy in the files; also catches up on an erasure whose own
        # scrub could not run.
        await storage.scrub()
    except Exception as error:
        log.error("scrub after retention failed error=%s", describe(error))
    return counts


async def prune_handled(storage: Storage, now: datetime) -> int:
    """Forget the keys of updates handled longer ago than Telegram redelivers; returns how
    many went."""
    async with storage.transaction() as tx:
        count = await tx.updates.prune(now - DEDUPE_WINDOW)
    if count:
        log.info("handled updates pruned count=%d", count)
    return count
