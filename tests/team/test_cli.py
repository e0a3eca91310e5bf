"""``opstap user add|list|disable``: the password from standard input, the TOTP URI once."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp

from bot.cli import _parser
from bot.clock import FrozenClock
from bot.team.auth import totp_step, verify_password
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
