"""The routing settings and ``opstap coach list|deactivate|invite`` without Telegram."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.cli import _parser
from bot.clock import FrozenClock
from bot.coach.cli import run_coach
from bot.settings import Settings, SettingsError, load_settings
from storage.migrate import upgrade
from tests.routing2.conftest import T0


def test_routing_settings() -> None:
    default = load_settings({}, env_file=None)
    assert default.accept_within_hours == 8 and default.bot_username is None
    assert default.fallback_after_days == 5
    assert (
        load_settings({"OPSTAP_FALLBACK_AFTER_DAYS": "10"}, env_file=None).fallback_after_days == 10
    )
    chosen = load_settings(
        {"OPSTAP_ACCEPT_WITHIN_HOURS": "4.5", "OPSTAP_BOT_USERNAME": "@Opstap_bot"}, env_file=None
    )
    assert chosen.accept_within_hours == 4.5 and chosen.bot_username == "Opstap_bot"
    for bad in (
        {"OPSTAP_ACCEPT_WITHIN_HOURS": "acht"},
        {"OPSTAP_ACCEPT_WITHIN_HOURS": "0"},
        {"OPSTAP_BOT_USERNAME": "no spaces"},
        {"OPSTAP_BOT_USERNAME": "ab"},
        {"OPSTAP_FALLBACK_AFTER_DAYS": "0"},
        {"OPSTAP_FALLBACK_AFTER_DAYS": "vijf"},
    ):
        with pytest.raises(SettingsError) as raised:
            load_settings(bad, env_file=None)
        assert "\n" not in str(raised.value)


async def coach_cli(settings: Settings, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_coach(
        _parser().parse_args(["coach", *argv]), settings, FrozenClock(T0), out, err
    )
    return code, out.getvalue(), err.getvalue()


async def test_invite_list_and_deactivate(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    settings = load_settings(
        {"OPSTAP_DATABASE_URL": url, "OPSTAP_BOT_USERNAME": "opstap_bot"}, env_file=None
    )
    code, out, _ = await coach_cli(settings, "list")
    assert code == 0 and out.startswith("no coaches yet")
    code, out, _ = await coach_cli(
        settings,
        "invite",
        "--partnership",
        "dash",
        "--name",
        "Noor",
        "--domains",
        "work,housing",
        "--languages",
        "nl,tr",
        "--role",
        "coordinator",
        "--hours",
        "mon-fri 09:00-16:00",
    )
    assert code == 0
    link = re.search(r"https://t\.me/opstap_bot\?start=(c_[A-Za-z0-9_-]{20,62})$", out.strip())
    assert link is not None and "within 7 days" in out
    code, out, _ = await coach_cli(settings, "list")
    [line] = out.splitlines()
    coach_id = line.split("\t")[0]
    assert coach_id.startswith("noor-")
    assert "\tdash\tcoordinator\tNoor\tDASH\t" in line and "domains=work,housing" in line
    assert "languages=nl,tr" in line and "invited" in line and "active" in line
    code, out, _ = await coach_cli(settings, "invite", "--coach", coach_id)
    assert code == 0 and "start=c_" in out
    code, out, _ = await coach_cli(settings, "deactivate", coach_id)
    assert code == 0
    _, out, _ = await coach_cli(settings, "list")
    assert "inactive" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invite", "--name", "X"], "--partnership and --name are required"),
        (["invite", "--partnership", "nope", "--name", "X"], "unknown partnership 'nope'"),
        (
            ["invite", "--partnership", "dash", "--name", "X", "--domains", "cooking"],
            "unknown domain: cooking",
        ),
        (
            ["invite", "--partnership", "dash", "--name", "X", "--hours", "maandag 9-5"],
            "use days like mon",
        ),
        (["invite", "--coach", "nobody"], "no coach with id 'nobody'"),
        (["deactivate", "nobody"], "no coach with id 'nobody'"),
    ],
)
async def test_bad_input_is_one_line(tmp_path: Path, argv: list[str], message: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    settings = load_settings(
        {"OPSTAP_DATABASE_URL": url, "OPSTAP_BOT_USERNAME": "opstap_bot"}, env_file=None
    )
    code, out, err = await coach_cli(settings, *argv)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


async def test_without_a_bot_name_there_is_no_link(tmp_path: Path) -> None:
    settings = load_settings(
        {"OPSTAP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}, env_file=None
    )
    code, _, err = await coach_cli(settings, "invite", "--partnership", "dash", "--name", "X")
    assert code == 2 and "OPSTAP_BOT_USERNAME" in err
