"""Security of the team dashboard: CSRF, headers, cookies, throttling, TOTP, session expiry
under the injected clock, logout, stored secrets."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pyotp
from aiohttp import web
from aiohttp.test_utils import TestClient as _TestClient
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.runtime import build_runtime
from bot.team.auth import (
    ACCOUNT_FAILURES,
    ADDRESS_FAILURES,
    IDLE,
    MAX_AGE,
    THROTTLE_WINDOW,
    hash_password,
)
from storage.team import TEAM_SESSIONS, TEAM_USERS
from storage.team_sql import SqlTeamStore
from tests.team.conftest import PASSWORD, T0, A, Team, team_settings

TestClient = _TestClient[web.Request, web.Application]


async def _coordinator(team: Team) -> TestClient:
    await team.user("co@a.example", "coordinator")
    return await team.signed_in("co@a.example")


def _check_headers(headers: object, *, svg: bool = False) -> None:
    from multidict import CIMultiDictProxy

    assert isinstance(headers, CIMultiDictProxy)
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp or "'unsafe-inline'" not in csp.split("script-src")[1]
    assert "default-src 'none'" in csp
    if not svg:
        assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


async def test_every_page_has_the_security_headers(team: Team) -> None:
    case = await team.case("web:young")
    client = await _coordinator(team)
    for path in (
        "/team/login",
        "/team/queue",
        f"/team/cases/{case.id}",
        "/team/stats",
        "/team/export.csv",
        "/team/audit",
        "/team/coaches",
        "/team/meeting",
        "/team/referrals",
        "/team/invite",
        "/team/cases/999",
    ):
        response = await client.get(path, allow_redirects=False)
        assert response.status in (200, 404), path
        _check_headers(response.headers)
    chart = await client.get(f"/team/cases/{case.id}/profile.svg")
    assert chart.status == 200
    _check_headers(chart.headers, svg=True)
    body = await chart.read()
    assert b"<script" not in body
    anonymous = await team.client()
    redirect = await anonymous.get("/team/queue", allow_redirects=False)
    _check_headers(redirect.headers)


async def test_pages_have_no_inline_script_or_style(team: Team) -> None:
    case = await team.case("web:young")
    client = await _coordinator(team)
    for path in (
        "/team/login",
        "/team/queue",
        f"/team/cases/{case.id}",
        "/team/stats",
        "/team/meeting",
        "/team/referrals",
        "/team/invite",
    ):
        text = await (await client.get(path)).text()
        assert "<script" not in text and "style=" not in text and "<style" not in text, path


async def test_a_post_without_the_csrf_token_changes_nothing(team: Team) -> None:
    lotte = await team.coach("lotte")
    case = await team.case("web:young")
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(case.id, lotte.id, team.clock.now())
    client = await _coordinator(team)
    note = f"/team/cases/{case.id}/notes"
    missing = await client.post(note, data={"text": "geheim"}, allow_redirects=False)
    wrong = await client.post(
        note, data={"text": "geheim", "csrf": "0" * 64}, allow_redirects=False
    )
    token = await team.csrf(client)
    foreign = await client.post(
        note,
        data={"text": "geheim", "csrf": token},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    close = await client.post(
        f"/team/cases/{case.id}/close", data={"outcome": "work"}, allow_redirects=False
    )
    assert [r.status for r in (missing, wrong, foreign, close)] == [403, 403, 403, 403]
    async with team.deps.store.transaction() as t:
        assert await t.team.notes_of_cases((case.id,)) == []
    assert (await team.get_case(case.id)).status == "open"
    ok = await client.post(
        note,
        data={"text": "geheim", "csrf": token},
        headers={"Origin": str(client.make_url("")).rstrip("/")},
        allow_redirects=False,
    )
    assert ok.status == 303


async def test_the_login_form_needs_its_own_token(team: Team) -> None:
    await team.user("co@a.example", "coordinator")
    client = await team.client()
    response = await client.post(
        "/team/login",
        data={
            "email": "co@a.example",
            "password": PASSWORD,
            "code": team.code("co@a.example"),
        },
        allow_redirects=False,
    )
    assert response.status == 403
    assert "opstap_team" not in response.cookies


async def test_login_needs_the_password_and_a_fresh_totp_code(team: Team) -> None:
    await team.user("co@a.example", "coordinator")
    client = await team.client()
    wrong_password = await team.login(client, "co@a.example", password="not the password")
    wrong_code = await team.login(client, "co@a.example", code="000000")
    assert wrong_password.status == wrong_code.status == 401
    code = team.code("co@a.example")
    good = await team.login(client, "co@a.example", code=code)
    assert good.status == 303
    team.clock.advance(timedelta(seconds=-30))  # the same 30-second window as the good login
    replay = await team.login(await team.client(), "co@a.example", code=code)
    assert replay.status == 401, "a TOTP code works only once"


async def test_throttling_per_account(team: Team) -> None:
    await team.user("co@a.example", "coordinator")
    client = await team.client()
    for _ in range(ACCOUNT_FAILURES):
        response = await team.login(client, "co@a.example", password="wrong password!!")
        assert response.status == 401
    # Now even the right password and code are refused, with the same answer.
    refused = await team.login(client, "co@a.example")
    assert refused.status == 401
    assert "opstap_team" not in refused.cookies
    team.clock.advance(THROTTLE_WINDOW)
    assert (await team.login(client, "co@a.example")).status == 303


async def test_throttling_per_address(team: Team) -> None:
    await team.user("co@a.example", "coordinator")
    client = await team.client()
    for number in range(ADDRESS_FAILURES):
        await team.login(
            client, f"guess{number}@a.example", password="wrong password!!", code="123456"
        )
    refused = await team.login(client, "co@a.example")
    assert refused.status == 401
    team.clock.advance(THROTTLE_WINDOW)
    assert (await team.login(client, "co@a.example")).status == 303


async def test_a_session_ends_after_30_idle_minutes(team: Team) -> None:
    client = await _coordinator(team)
    team.clock.advance(IDLE - timedelta(minutes=1))
    assert (await client.get("/team/queue", allow_redirects=False)).status == 200
    team.clock.advance(IDLE - timedelta(minutes=1))  # active 29 minutes ago: still fine
    assert (await client.get("/team/queue", allow_redirects=False)).status == 200
    team.clock.advance(IDLE)
    expired = await client.get("/team/queue", allow_redirects=False)
    assert expired.status == 303 and expired.headers["Location"] == "/team/login"
    async with team.deps.store.transaction() as t:
        rows = (await t.team._conn.execute(select(TEAM_SESSIONS))).all()
    assert rows == [], "an expired session's row is deleted"


async def test_a_session_ends_after_12_hours_however_active(team: Team) -> None:
    client = await _coordinator(team)
    elapsed = timedelta(0)
    while elapsed < MAX_AGE - timedelta(minutes=20):
        team.clock.advance(timedelta(minutes=20))
        elapsed += timedelta(minutes=20)
        assert (await client.get("/team/queue", allow_redirects=False)).status == 200
    team.clock.advance(timedelta(minutes=25))
    assert (await client.get("/team/queue", allow_redirects=False)).status == 303


async def test_logout_ends_the_session_on_the_server(team: Team) -> None:
    client = await _coordinator(team)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["opstap_team"].value
    token = await team.csrf(client)
    response = await client.post("/team/logout", data={"csrf": token}, allow_redirects=False)
    assert response.status == 303
    # The old cookie value, sent again by an attacker who copied it, opens nothing.
    other = await team.client()
    replayed = await other.get(
        "/team/queue", headers={"Cookie": f"opstap_team={cookie}"}, allow_redirects=False
    )
    assert replayed.status == 303 and replayed.headers["Location"] == "/team/login"


async def test_a_disabled_account_loses_its_sessions(team: Team) -> None:
    client = await _coordinator(team)
    async with team.deps.store.transaction() as t:
        user = await t.team.user_by_email("co@a.example")
        assert user is not None
        await t.team.set_user_active(user.id, False)
    assert (await client.get("/team/queue", allow_redirects=False)).status == 303


async def test_passwords_are_argon2id_and_secrets_encrypted_at_rest(team: Team) -> None:
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    async with team.deps.store.transaction() as t:
        row = (await t.team._conn.execute(select(TEAM_USERS))).mappings().one()
        sessions = (await t.team._conn.execute(select(TEAM_SESSIONS))).mappings().all()
    assert row["password_hash"].startswith("$argon2id$")
    assert row["totp_secret"].startswith("enc:v1:")
    assert team.secrets["co@a.example"] not in row["totp_secret"]
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["opstap_team"].value
    assert [s["id_hash"] for s in sessions] != [cookie]
    assert len(sessions[0]["id_hash"]) == 64


async def test_cookies_in_development_and_behind_https(tmp_path: Path, team: Team) -> None:
    # Development (plain http on 127.0.0.1): a documented exception without Secure.
    await team.user("co@a.example", "coordinator")
    client = await team.client()
    response = await team.login(client, "co@a.example")
    header = "; ".join(response.headers.getall("Set-Cookie"))
    assert "opstap_team=" in header and "__Host-" not in header
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Secure" not in header
    # Public over https: __Host- cookies, Secure, path /, no domain.
    settings = team_settings(
        tmp_path / "https",
        OPSTAP_PUBLIC_URL="https://opstap.example.org",
        OPSTAP_WEBHOOK_SECRET="a" * 20,
    )
    (tmp_path / "https").mkdir()
    shutil.copy(tmp_path / "opstap.db", tmp_path / "https" / "opstap.db")
    later = T0 + timedelta(minutes=5)  # a TOTP step after the first login's
    runtime = await build_runtime(settings, clock=FrozenClock(later))
    server = TestServer(runtime.http)
    secure = _TestClient(server)
    await secure.start_server()
    secret = pyotp.random_base32()
    async with SqlTeamStore(runtime.service.storage).transaction() as t:
        await t.team.add_user(
            email="sec@a.example",
            name="Sec",
            role="coordinator",
            partnership=A,
            coach=None,
            password_hash=hash_password(PASSWORD),
            totp_secret=secret,
            now=later,
        )
    try:
        page = await secure.get("/team/login")
        login_cookie = "; ".join(page.headers.getall("Set-Cookie"))
        assert "__Host-opstap_login=" in login_cookie and "Secure" in login_cookie
        assert "Domain" not in login_cookie and "Path=/" in login_cookie
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        text = await page.text()
        token = text.split('name="login_csrf" value="')[1].split('"')[0]
        code = pyotp.TOTP(secret).at(later)
        response = await secure.post(
            "/team/login",
            data={
                "login_csrf": token,
                "email": "sec@a.example",
                "password": PASSWORD,
                "code": code,
            },
            headers={"Cookie": f"__Host-opstap_login={token}"},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        session = "; ".join(response.headers.getall("Set-Cookie"))
        assert "__Host-opstap_team=" in session
        assert "Secure" in session and "HttpOnly" in session and "SameSite=Strict" in session
        assert "Path=/" in session and "Domain" not in session
    finally:
        await secure.close()
        await runtime.service.storage.close()


async def test_one_sees_and_ends_ones_other_sessions_after_giving_the_password(
    team: Team,
) -> None:
    await team.user("co@a.example", "coordinator")
    await team.user("other@a.example", "coordinator")
    laptop = await team.signed_in("co@a.example")
    phone = await team.signed_in("co@a.example")
    tablet = await team.signed_in("co@a.example")
    stranger = await team.signed_in("other@a.example")
    page = await (await laptop.get("/team/sessions")).text()
    handles = re.findall(r'name="session" value="([0-9a-f]{16})"', page)
    assert len(handles) == 2 and "deze sessie" in page  # the other two; this one is marked
    _check_headers((await laptop.get("/team/sessions")).headers)
    # Another account's sessions are not listed and cannot be ended from here.
    theirs = re.findall(
        r'name="session" value="([0-9a-f]{16})"',
        await (await stranger.get("/team/sessions")).text(),
    )
    assert theirs == []
    # A wrong password ends nothing (and counts as a failed attempt).
    refused = await team.post(
        laptop,
        "/team/sessions/end",
        {"session": handles[0], "password": "not the password"},
        page="/team/sessions",
    )
    assert refused.headers["Location"] == "/team/sessions?m=confirm"
    assert (await phone.get("/team/queue", allow_redirects=False)).status == 200
    assert (await tablet.get("/team/queue", allow_redirects=False)).status == 200
    # One other session, with the password.
    ended = await team.post(
        laptop,
        "/team/sessions/end",
        {"session": handles[0], "password": PASSWORD},
        page="/team/sessions",
    )
    assert ended.headers["Location"] == "/team/sessions?m=ended"
    still = [(await c.get("/team/queue", allow_redirects=False)).status for c in (phone, tablet)]
    assert sorted(still) == [200, 303]
    # All others: only this session is left.
    await team.post(
        laptop,
        "/team/sessions/end",
        {"session": "others", "password": PASSWORD},
        page="/team/sessions",
    )
    for client in (phone, tablet):
        assert (await client.get("/team/queue", allow_redirects=False)).status == 303
    assert (await laptop.get("/team/queue", allow_redirects=False)).status == 200
    assert (await stranger.get("/team/queue", allow_redirects=False)).status == 200
    async with team.deps.store.transaction() as t:
        user = await t.team.user_by_email("co@a.example")
        assert user is not None
        actions = [r.action for r in await t.team.audit_rows(user.scope())]
    assert actions.count("session.end") == 2
