"""The dashboard is a feature (bot/plugins.py): its routes, job and personal-data part come
through the registry, and nothing else wires it."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from bot.clock import FrozenClock
from bot.runtime import build_runtime
from bot.team.app import TEAM_KEY
from bot.team.auth import session_hash
from storage.team_personal import TeamPart
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
