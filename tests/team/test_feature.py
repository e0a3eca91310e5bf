"""The dashboard is a feature (bot/plugins.py): its routes, job and personal-data part come
through the registry, and nothing else wires it."""

from __future__ import annotations

import copy
import shutil
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.clock import FrozenClock
from bot.plugins import Registry
from bot.runtime import build_runtime
from bot.team.access import ROUTES
from bot.team.app import TEAM_KEY
from bot.team.auth import session_hash
from bot.team.feature import TeamDashboard
from storage.assembly import RepositoryKey
from storage.memory import MemoryStorage
from storage.ports import Storage, Transaction
from storage.team_personal import TeamPart
from storage.team_sql import TEAM_DATA_KEY
from tests.team.conftest import T0, Team, team_settings


async def test_the_dashboard_registers_routes_job_and_data_part(team: Team) -> None:
    registry = team.runtime.service.registry
    assert "dashboard" in registry.features
    assert {r.feature for r in registry.routes} == {"dashboard"}
    parts = [p for p in team.runtime.service.storage.personal_data_parts if p.name == "team"]
    assert parts == [TeamPart()]
    job = next(j for j in registry.jobs if j.name == "team.sessions")
    assert (job.trigger, job.options) == ("interval", {"minutes": 15})

    # The job ends sessions idle for longer than allowed without waiting for the daily purge.
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    assert (await client.get("/team/queue")).status == 200
    raw = next(c.value for c in client.session.cookie_jar if c.key == "opstap_team")
    await job.run()
    async with team.deps.store.transaction() as t:
        assert await t.team.session(session_hash(raw)) is not None  # still in use
    team.clock.advance(timedelta(minutes=31))
    await job.run()
    async with team.deps.store.transaction() as t:
        assert await t.team.session(session_hash(raw)) is None


async def test_production_without_https_serves_no_dashboard(tmp_path: Path, team: Team) -> None:
    folder = tmp_path / "prod"
    folder.mkdir()
    shutil.copy(tmp_path / "opstap.db", folder / "opstap.db")
    settings = team_settings(folder, OPSTAP_ENV="production")
    runtime = await build_runtime(settings, clock=FrozenClock(T0))
    try:
        assert runtime.service.registry.routes == []
        assert TEAM_KEY not in runtime.http
        paths = [r.resource.canonical for r in runtime.http.router.routes() if r.resource]
        assert not [p for p in paths if p.startswith("/team")]
        # The tables hold data either way: /mijngegevens and /wis still reach them.
        assert "team" in [p.name for p in runtime.service.storage.personal_data_parts]
    finally:
        await runtime.service.storage.close()


class Proxy:
    """A storage that is no ``SqlStorage`` but hands everything to one (as a counting or
    failing wrapper in a test, or another backend that registers the team's repository)."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.personal_data_parts = inner.personal_data_parts

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        return self.inner.transaction()

    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        return self.inner.reading()

    def provides(self, key: RepositoryKey[Any]) -> bool:
        return self.inner.provides(key)

    async def close(self) -> None:
        await self.inner.close()

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def scrub(self) -> None:
        await self.inner.scrub()


def dashboard_on(team: Team, storage: Storage) -> Registry:
    """A second dashboard registered on ``storage``: what it plugged in."""
    service = copy.copy(team.runtime.service)
    service.storage = storage
    feature = TeamDashboard(
        service, team.settings, handoff=team.deps.handoff, relay=team.deps.relay, booking=None
    )
    registry = Registry(parts=[])
    registry.add(feature)
    return registry


async def test_the_dashboard_asks_the_storage_for_the_team_repository(team: Team) -> None:
    """By capability, not by class: any storage whose transactions have the team's repository
    (``TEAM_DATA_KEY``) gets the dashboard; the memory storage has none, so none there."""
    sql = team.runtime.service.storage
    assert sql.provides(TEAM_DATA_KEY)
    registry = dashboard_on(team, Proxy(sql))
    assert {(r.method, r.path) for r in registry.routes} == {
        (spec.method, spec.path) for spec in ROUTES
    }
    assert [p.name for p in registry.parts] == ["team"]
    assert [j.name for j in registry.jobs] == ["team.sessions"]

    memory = MemoryStorage()
    assert not memory.provides(TEAM_DATA_KEY)
    for storage in (memory, Proxy(memory)):
        off = dashboard_on(team, storage)
        assert (off.routes, off.parts, off.jobs, off.http_setups) == ([], [], [], [])
