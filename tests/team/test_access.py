"""Access: every route declares a permission, and the matrix of who may reach what.

The matrix tries every route of ``/team`` with partnership A's ids (a case, a coach, an
appointment, an account) as: anonymous; partnership B's coordinator; a coach of A (who lacks
the coordinator's and the admin's permissions); an admin (who sees no case). A route they may
not reach answers 404 (signed in) or the login page / 403 (anonymous), and nothing of A leaks
into the pages they may reach.
"""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from aiohttp import web

from bot.plugins import DuplicateRegistration, Registry, UndeclaredPermission
from bot.team.access import ROLE_PERMISSIONS, ROUTES, RouteSpec, allowed
from bot.team.actions import TeamActions
from bot.team.app import TEAM_KEY
from flows.appointments import AppointmentId
from storage.referral import referrals_of
from storage.referral_port import ReferralLink
from storage.routing_port import CaseRecord
from tests.team.conftest import A, Team

PUBLIC = {"/team/login", "/team/static/team.css"}


def test_every_team_route_has_a_declared_permission_and_a_view() -> None:
    from bot.team import views

    # The app adds exactly the declared routes; a route added by hand would not be guarded.
    declared = {(spec.method, spec.path) for spec in ROUTES}
    assert len(declared) == len(ROUTES), "a route is declared twice"
    for spec in ROUTES:
        assert callable(getattr(views, spec.view)), spec.view
        assert spec.permission == "public" or any(
            spec.permission in granted for granted in ROLE_PERMISSIONS.values()
        ), f"{spec.path}: no role has {spec.permission}"
        assert spec.permission != "public" or spec.path in PUBLIC, spec.path


async def test_the_service_serves_no_route_without_a_declared_permission(team: Team) -> None:
    # Every route a feature adds comes through the registry with its permission; the app
    # serves nothing of a feature the registry does not list.
    registry = team.runtime.service.registry
    registered = {(r.method, r.path): r for r in registry.routes}
    assert len(registered) == len(registry.routes), "a route is registered twice"
    for route in registry.routes:
        assert route.permission.strip(), f"{route.method} {route.path}: no permission"
    dashboard = {key for key, r in registered.items() if r.feature == "dashboard"}
    assert dashboard == {(spec.method, spec.path) for spec in ROUTES}
    for spec in ROUTES:
        assert registered[(spec.method, spec.path)].permission == spec.permission
    served = set()
    for served_route in team.runtime.http.router.routes():
        resource = served_route.resource
        info = resource.get_info() if resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if served_route.method == "HEAD" or not isinstance(path, str):
            continue
        if path.startswith("/team"):
            served.add((served_route.method, path))
    missing = served - set(registered)
    assert not missing, f"routes without a declared permission: {sorted(missing)}"
    assert served == dashboard


def test_a_route_without_a_permission_is_refused_at_start_up() -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response()

    registry = Registry()
    with pytest.raises(UndeclaredPermission):
        registry.route("GET", "/team/new", page, permission="")
    registry.route("GET", "/team/new", page, permission="cases.read")
    with pytest.raises(DuplicateRegistration):
        registry.route("GET", "/team/new", page, permission="cases.read")


def _path(spec: RouteSpec, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], spec.path)


async def _world(team: Team) -> tuple[CaseRecord, dict[str, str]]:
    lotte = await team.coach("lotte", person="tg:5001")
    await team.coach("noor")
    await team.coach("ward", team.b, role="coordinator")
    case = await team.case("web:zarkonia", name="Zarkonia")
    # An accepted case with an appointment, so the appointment routes have a real id.
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(case.id, lotte.id, team.clock.now())
    result = await TeamActions(team.deps.handoff, team.deps.relay, team.deps.booking).propose(
        lotte, await team.get_case(case.id), [(date(2026, 11, 26), time(10, 0), "t")]
    )
    assert result == "ok"
    async with team.runtime.service.storage.transaction() as tx:
        appointment = (await tx.appointments.of_case(case.id))[-1]
        assert await tx.appointments.get(AppointmentId(appointment.id)) is not None
    user = await team.user("lotte@a.example", "coach", coach=lotte.id)
    # A referral link of partnership A, so the poster routes have a real code.
    link = ReferralLink("r_partnerA0001", A, "CLB Leuven", team.clock.now())
    async with team.runtime.service.storage.transaction() as tx:
        await referrals_of(tx).add_link(link)
    ids = {
        "code": link.code,
        "case": case.id,
        "coach": lotte.id,
        "appointment": str(appointment.id),
        "user": str(user.id),
        "chart": "intakes",
    }
    return case, ids


async def test_anonymous_reaches_nothing_but_the_login(team: Team) -> None:
    _, ids = await _world(team)
    client = await team.client()
    for spec in ROUTES:
        path = _path(spec, ids)
        if spec.method == "GET":
            response = await client.get(path, allow_redirects=False)
        else:
            response = await client.post(path, data={"csrf": "x"}, allow_redirects=False)
        if spec.permission == "public":
            assert response.status in (200, 403), path  # the login POST wants its token
            continue
        if spec.method == "GET":
            assert response.status == 303, path
            assert response.headers["Location"] == "/team/login", path
        else:
            assert response.status == 403, path


@pytest.mark.parametrize("who", ["other_coordinator", "coach_without_role", "admin"])
async def test_the_access_matrix(team: Team, who: str) -> None:
    case, ids = await _world(team)
    if who == "other_coordinator":
        ward = await team.user("ward@b.example", "coordinator", partnership=team.b)
        role = ward.role
        client = await team.signed_in("ward@b.example")
    elif who == "coach_without_role":
        client = await team.signed_in("lotte@a.example")
        role = "coach"
    else:
        await team.user("root@example.org", "admin", partnership=None)
        client = await team.signed_in("root@example.org")
        role = "admin"
    home = "/team/admin" if role == "admin" else "/team/queue"
    csrf = await team.csrf(client, home)
    before = await _state(team, case)
    for spec in ROUTES:
        if spec.permission == "public" or spec.path == "/team/logout":
            continue
        path = _path(spec, ids)
        if spec.method == "GET":
            response = await client.get(path, allow_redirects=False)
        else:
            response = await client.post(
                path,
                data={
                    "csrf": csrf,
                    "outcome": "work",
                    "text": "x",
                    "coach": ids["coach"],
                    "action": "came",
                    "until": "",
                },
                allow_redirects=False,
            )
        body = await response.text() if response.content_type.startswith("text") else ""
        granted = allowed(role, spec.permission)
        names_of_a = any(
            key in spec.path for key in ("{case}", "{appointment}", "{coach}", "{code}")
        )
        if not granted or (who == "other_coordinator" and names_of_a):
            assert response.status == 404, f"{who} {spec.method} {path}: {response.status}"
        elif who == "coach_without_role":
            # Her own partnership's case: she may; the point here is the roles she lacks.
            assert response.status in (200, 303), f"{spec.method} {path}"
        else:
            assert response.status in (200, 303), f"{who} {spec.method} {path}"
            assert "Zarkonia" not in body and f"#{case.id}<" not in body, path
            assert ids["code"] not in body, path
    if who != "coach_without_role":
        assert await _state(team, case) == before, f"{who} changed partnership A's case"


async def _state(team: Team, case: CaseRecord) -> tuple[object, ...]:
    async with team.deps.store.transaction() as t:
        fresh = await t.core.cases.get(case.id)
        coaches = await t.core.coaches.of_partnership(A)
        appointments = await t.core.appointments.of_case(case.id)
        notes = await t.team.notes_of_cases((case.id,))
    assert fresh is not None
    return (
        fresh.status,
        fresh.coach,
        fresh.outcome,
        tuple(coaches),
        tuple(appointments),
        len(notes),
    )


async def test_scope_is_in_the_data_layer(team: Team) -> None:
    """The queries themselves return nothing out of scope, whatever the caller does next."""
    lotte = await team.coach("lotte")
    noor = await team.coach("noor")
    mine = await team.case("web:one")
    other = await team.case("web:two")
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(mine.id, lotte.id, team.clock.now())
        await tx.cases.accept(other.id, noor.id, team.clock.now())
    unclaimed = await team.case("web:three", offer=False)
    in_b = await team.case("web:four", team.b, offer=False)
    coach = await team.user("lotte@a.example", "coach", coach=lotte.id)
    coordinator = await team.user("co@a.example", "coordinator")
    admin = await team.user("root@example.org", "admin", partnership=None)
    async with team.runtime.http[TEAM_KEY].store.transaction() as t:
        seen = {c.id for c in await t.team.cases(coach.scope())}
        assert seen == {mine.id, unclaimed.id}
        assert await t.team.case(coach.scope(), other.id) is None
        seen = {c.id for c in await t.team.cases(coordinator.scope())}
        assert seen == {mine.id, other.id, unclaimed.id}
        assert await t.team.case(coordinator.scope(), in_b.id) is None
        assert await t.team.cases(admin.scope()) == []
        assert await t.team.coach(admin.scope(), lotte.id) is None
        assert {c.id for c in await t.team.coaches(coordinator.scope())} == {lotte.id, noor.id}
