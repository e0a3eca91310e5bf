"""``opstap user add|list|disable|reset``: the password from standard input (refused when easy
to guess), the TOTP URI once, recovery by an admin."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from bot.cli import _parser
from bot.clock import FrozenClock
from bot.team.auth import check_password, totp_step, verify_password
from bot.team.cli import run_user
from storage.sql import open_storage
from storage.team_sql import SqlTeamStore
from tests.team.conftest import PASSWORD, T0, A, Team


async def _run(team: Team, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    args = _parser().parse_args(["user", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = await run_user(args, team.settings, FrozenClock(T0), io.StringIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()


async def test_user_add_list_disable(team: Team, tmp_path: Path) -> None:
    lotte = await team.coach("lotte")
    code, out, err = await _run(
        team,
        "add",
        "--email",
        "Lotte@JAC.example",
        "--name",
        "Lotte",
        "--role",
        "coach",
        "--partnership",
        A,
        "--coach",
        lotte.id,
        stdin=PASSWORD + "\n",
    )
    assert code == 0, err
    uri = next(line for line in out.splitlines() if line.startswith("otpauth://totp/"))
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    assert PASSWORD not in out
    storage = await open_storage(team.settings.database_url, team.settings.keyring)
    try:
        async with SqlTeamStore(storage).transaction() as t:
            user = await t.team.user_by_email("lotte@jac.example")
    finally:
        await storage.close()
    assert user is not None and user.role == "coach" and user.coach == lotte.id
    assert verify_password(user.password_hash, PASSWORD)
    assert totp_step(user.totp_secret, pyotp.TOTP(secret).at(T0), T0) is not None

    code, out, _ = await _run(team, "list")
    assert code == 0 and "lotte@jac.example" in out and "active" in out and secret not in out
    code, out, _ = await _run(team, "disable", "lotte@jac.example")
    assert code == 0
    code, out, _ = await _run(team, "list")
    assert "disabled" in out


async def test_user_add_refuses_bad_input_with_one_line(team: Team) -> None:
    cases = [
        (["--role", "coach", "--partnership", A], PASSWORD, "needs --coach"),
        (["--role", "coordinator", "--partnership", "nowhere"], PASSWORD, "unknown partnership"),
        (["--role", "admin", "--partnership", A], PASSWORD, "admin has no"),
        (["--role", "coordinator", "--partnership", A], "short", "12 to 256"),
    ]
    for extra, password, expected in cases:
        code, out, err = await _run(
            team, "add", "--email", "an@example.org", "--name", "An", *extra, stdin=password + "\n"
        )
        assert code == 2 and expected in err and len(err.splitlines()) == 1, (extra, err)
        assert out == ""


async def test_a_guessable_or_breached_password_is_refused(team: Team) -> None:
    # A password from breach corpora, a repeat, the account's own name: refused, one line.
    for password in ("1qaz2wsx3edc", "passwordpassword", "an.peeters1985"):
        code, out, err = await _run(
            team,
            "add",
            "--email",
            "an.peeters@example.org",
            "--name",
            "An Peeters",
            "--role",
            "coordinator",
            "--partnership",
            A,
            stdin=password + "\n",
        )
        assert code == 2 and "easy to guess" in err and len(err.splitlines()) == 1, password
        assert out == ""
    # No composition rules: a long passphrase of plain words is fine.
    check_password("kastanje fietsbel regenjas", ("an.peeters@example.org", "An Peeters"))
    with pytest.raises(ValueError, match="easy to guess"):
        check_password("qwertyuiopasdf")


async def test_user_reset_sets_a_new_password_ends_sessions_and_can_renew_totp(
    team: Team,
) -> None:
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    old_secret = team.secrets["co@a.example"]
    new_password = "nieuwe kastanje op de fietsbel"
    code, out, err = await _run(team, "reset", "co@a.example", stdin=new_password + "\n")
    assert code == 0, err
    assert "otpauth://" not in out and new_password not in out
    # Every session of the account ended; the old password no longer opens it.
    assert (await client.get("/team/queue", allow_redirects=False)).status == 303
    other = await team.client()
    assert (await team.login(other, "co@a.example")).status == 401
    response = await team.login(other, "co@a.example", password=new_password)
    assert response.status == 303  # the TOTP factor stayed

    # A lost authenticator: a new factor, printed once; the old one's codes stop working.
    code, out, err = await _run(
        team, "reset", "co@a.example", "--new-totp", stdin=new_password + " twee\n"
    )
    assert code == 0, err
    uri = next(line for line in out.splitlines() if line.startswith("otpauth://totp/"))
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    assert secret != old_secret
    third = await team.client()
    password = new_password + " twee"
    assert (await team.login(third, "co@a.example", password=password)).status == 401
    code_now = pyotp.TOTP(secret).at(team.clock.now())
    response = await team.login(third, "co@a.example", password=password, code=code_now)
    assert response.status == 303
    async with team.deps.store.transaction() as t:
        user = await t.team.user_by_email("co@a.example")
        assert user is not None
        actions = [r.action for r in await t.team.audit_rows(user.scope())]
    assert {"user.reset", "user.reset_totp"} <= set(actions)
    # Unknown account and a weak password: one line, nothing changed.
    code, _, err = await _run(team, "reset", "nobody@a.example", stdin=new_password + "\n")
    assert code == 2 and "no account" in err
    code, _, err = await _run(team, "reset", "co@a.example", stdin="passwordpassword\n")
    assert code == 2 and "easy to guess" in err
