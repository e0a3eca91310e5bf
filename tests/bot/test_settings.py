"""Settings: defaults, .env, and one clear line for every bad value."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abc"


def test_defaults_without_anything() -> None:
    settings = load_settings({}, env_file=None)
    assert settings == Settings()
    assert not settings.telegram_enabled
    assert settings.web_url == "http://127.0.0.1:8080/"
    assert settings.reminder_leads == (timedelta(hours=24), timedelta(hours=2))


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("OPSTAP_HTTP_PORT=9000\nOPSTAP_HTTP_HOST=0.0.0.0\n")
    settings = load_settings({"OPSTAP_HTTP_PORT": "9100"}, env_file=env)
    assert settings.http_port == 9100
    assert settings.http_host == "0.0.0.0"


def test_webhook_mode_needs_url_and_secret() -> None:
    settings = load_settings(
        {
            "TELEGRAM_TOKEN": TOKEN,
            "OPSTAP_PUBLIC_URL": "https://opstap.example.org/",
            "OPSTAP_WEBHOOK_SECRET": "s" * 32,
        },
        env_file=None,
    )
    assert settings.webhook_enabled
    assert settings.public_url == "https://opstap.example.org"


def test_reminder_leads_parse() -> None:
    settings = load_settings({"OPSTAP_REMINDER_LEADS": "1m, 2h,1d"}, env_file=None)
    assert settings.reminder_leads == (timedelta(minutes=1), timedelta(hours=2), timedelta(days=1))


@pytest.mark.parametrize(
    ("environ", "needle"),
    [
        ({"TELEGRAM_TOKEN": "nope"}, "TELEGRAM_TOKEN"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"OPSTAP_DATABASE_URL": "mysql://x"}, "OPSTAP_DATABASE_URL"),
        ({"OPSTAP_HTTP_PORT": "80a"}, "OPSTAP_HTTP_PORT"),
        ({"OPSTAP_HTTP_PORT": "70000"}, "OPSTAP_HTTP_PORT"),
        ({"OPSTAP_PUBLIC_URL": "https://x.org"}, "go together"),
        (
            {"OPSTAP_PUBLIC_URL": "https://x.org", "OPSTAP_WEBHOOK_SECRET": "short"},
            "OPSTAP_WEBHOOK_SECRET",
        ),
        ({"OPSTAP_ENV": "production"}, "OPSTAP_SECRET_KEY"),
        ({"OPSTAP_REMINDER_LEADS": "soon"}, "OPSTAP_REMINDER_LEADS"),
        ({"OPSTAP_QUIET_START": "25"}, "OPSTAP_QUIET_START"),
        ({"OPSTAP_LOG_LEVEL": "LOUD"}, "OPSTAP_LOG_LEVEL"),
    ],
)
def test_bad_values_raise_one_clear_line(environ: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, env_file=None)
    message = str(caught.value)
    assert needle in message
    assert "\n" not in message


def test_a_malformed_token_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"TELEGRAM_TOKEN": "123:secretsecret"}, env_file=None)
    assert "secretsecret" not in str(caught.value)


def test_the_cli_prints_one_line_and_exits_2_on_a_bad_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        cwd=tmp_path,
        env={
            "OPSTAP_HTTP_PORT": "eighty",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "opstap: OPSTAP_HTTP_PORT: 'eighty' is not a port number (1-65535)"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("environ", "needle"),
    [
        ({"OPSTAP_TIMEZONE": "Europe/Brusels"}, "OPSTAP_TIMEZONE: 'Europe/Brusels'"),
        ({"OPSTAP_TICK_SECONDS": "often"}, "OPSTAP_TICK_SECONDS"),
        ({"OPSTAP_TICK_SECONDS": "nan"}, "OPSTAP_TICK_SECONDS"),
        ({"OPSTAP_ACCEPT_WITHIN_HOURS": "0"}, "OPSTAP_ACCEPT_WITHIN_HOURS"),
        ({"OPSTAP_RETENTION_ABANDONED_DAYS": "0"}, "OPSTAP_RETENTION_ABANDONED_DAYS"),
        ({"OPSTAP_RETENTION_CLOSED_MONTHS": "-1"}, "OPSTAP_RETENTION_CLOSED_MONTHS"),
        ({"OPSTAP_CHECKIN_DAYS": "61"}, "OPSTAP_CHECKIN_DAYS"),
        ({"OPSTAP_SAFETY_ACK_MINUTES": "x"}, "OPSTAP_SAFETY_ACK_MINUTES"),
        ({"OPSTAP_SAFETY_CHAT_ID": "team"}, "OPSTAP_SAFETY_CHAT_ID"),
        ({"OPSTAP_BOT_USERNAME": "@x"}, "OPSTAP_BOT_USERNAME"),
        ({"OPSTAP_QUIET_END": "8am"}, "OPSTAP_QUIET_END"),
        ({"OPSTAP_ENV": "staging"}, "OPSTAP_ENV"),
        ({"OPSTAP_SECRET_KEY": "k1:short"}, "OPSTAP_SECRET_KEY"),
        ({"OPSTAP_REMINDER_LEADS": "24h,0m"}, "OPSTAP_REMINDER_LEADS"),
    ],
)
def test_every_variable_is_validated(environ: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, env_file=None)
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_two_bad_values_are_named_on_one_line() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"OPSTAP_HTTP_PORT": "x", "OPSTAP_QUIET_START": "99"}, env_file=None)
    message = str(caught.value)
    assert "OPSTAP_HTTP_PORT" in message and "OPSTAP_QUIET_START" in message
    assert "\n" not in message


def test_a_malformed_secret_key_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"OPSTAP_SECRET_KEY": "k1:c2VjcmV0c2VjcmV0"}, env_file=None)
    assert "c2VjcmV0c2VjcmV0" not in str(caught.value)


def test_blank_values_mean_the_default_and_blanks_around_are_ignored() -> None:
    settings = load_settings(
        {
            "OPSTAP_HTTP_HOST": "  ",
            "OPSTAP_HTTP_PORT": " 9000 ",
            "OPSTAP_LOG_LEVEL": "debug",
            "OPSTAP_BOT_USERNAME": "@opstap_bot",
            "OPSTAP_SAFETY_CHAT_ID": "-1001",
        },
        env_file=None,
    )
    assert settings.http_host == Settings().http_host
    assert settings.http_port == 9000
    assert settings.log_level == "DEBUG"
    assert settings.bot_username == "opstap_bot"
    assert settings.safety_chat_id == -1001


def test_the_key_becomes_a_keyring_and_stays_out_of_repr() -> None:
    from storage.crypto import Keyring

    key = Keyring.generate("k1")
    settings = load_settings({"OPSTAP_SECRET_KEY": key}, env_file=None)
    assert settings.keyring is not None and settings.keyring.active == "k1"
    assert key.partition(":")[2] not in repr(settings)
    assert TOKEN not in repr(load_settings({"TELEGRAM_TOKEN": TOKEN}, env_file=None))


def test_the_readme_table_lists_exactly_the_variables() -> None:
    """One declaration per setting: the fields of Settings are the variables documented."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = {
        name
        for line in readme.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`((?:OPSTAP|TELEGRAM)_[A-Z_]+)`", line.split("|")[1])
    }
    fields = {
        str(info.validation_alias)
        for info in Settings.model_fields.values()
        if info.validation_alias is not None
    }
    assert table == fields


def test_the_cli_names_a_bad_time_zone_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        cwd=tmp_path,
        env={
            "OPSTAP_TIMEZONE": "Europe/Brusels",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "opstap: OPSTAP_TIMEZONE: 'Europe/Brusels' is not a time zone name like Europe/Brussels"
    ]
