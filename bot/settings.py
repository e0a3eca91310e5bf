"""Settings: the only place that reads the environment.

Values come from the process environment, then from an optional ``.env`` file (the environment
wins). A bad value raises :class:`SettingsError` whose message is one line a person can act on;
the CLI prints it and exits with status 2 instead of a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values

from storage.crypto import Keyring

DEFAULT_DB_PATH = Path("var") / "opstap.db"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


class SettingsError(ValueError):
    """A configuration value is wrong; ``str(error)`` is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    # Secrets stay out of repr(): a settings object in a log line or traceback shows no key.
    telegram_token: str | None = field(default=None, repr=False)
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    environment: str = "development"
    secret_key: str | None = field(default=None, repr=False)
    # Parsed from OPSTAP_SECRET_KEY: encryption at rest (None: stored as plaintext).
    keyring: Keyring | None = field(default=None, repr=False)
    retention_abandoned_days: int = 30
    retention_closed_months: int = 12
    reminder_leads: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    quiet_start: int = 22
    quiet_end: int = 8
    timezone: str = "Europe/Brussels"
    tick_seconds: float = 15.0
    log_level: str = "INFO"
    # Working hours a coach has to accept a case before it goes to the next one.
    accept_within_hours: float = 8.0
    # Working days a case may wait in the partnership's team queue before the young person is
    # pointed to the general service of the region (the warm fallback).
    fallback_after_days: int = 5
    # The bot's @username for coach invite links when no TELEGRAM_TOKEN can ask getMe.
    bot_username: str | None = None
    # The Telegram chat that gets safety alerts when no coach or coordinator is known for a
    # young person (a private chat or a group of the team); None: only the coach side's.
    safety_chat_id: int | None = None
    # Working minutes an alert may stay unacknowledged before the coordinator is alerted.
    safety_ack_minutes: int = 15
    # Days after the intake a young person with an open case but no appointment is asked how
    # it goes.
    checkin_days: int = 5
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_token is not None

    @property
    def webhook_enabled(self) -> bool:
        return self.public_url is not None and self.webhook_secret is not None

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def web_url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}/"


def parse_duration(text: str, name: str) -> timedelta:
    match = _DURATION_RE.match(text)
    if match is None:
        raise SettingsError(f"{name}: '{text}' is not a duration like 24h, 2h, 30m or 1d")
    amount, unit = int(match.group(1)), match.group(2)
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit] * amount
    if seconds <= 0:
        raise SettingsError(f"{name}: a duration must be more than zero")
    return timedelta(seconds=seconds)


def _url(value: str, name: str, schemes: tuple[str, ...]) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise SettingsError(f"{name}: '{value}' is not a URL starting with {' or '.join(schemes)}")
    return value.rstrip("/")


def _hour(value: str, name: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 23:
        raise SettingsError(f"{name}: '{value}' is not an hour from 0 to 23")
    return int(value)


def _whole(value: str, name: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise SettingsError(f"{name}: '{value}' is not a whole number from {low} to {high}")
    return int(value)


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings; ``environ`` and ``env_file`` are parameters so tests need no patching."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        raw = values.get(name)
        return raw.strip() if raw is not None and raw.strip() else None

    token = get("TELEGRAM_TOKEN")
    if token is not None and not _TOKEN_RE.match(token):
        # Never echo the token itself: it is a secret even when it is malformed.
        raise SettingsError("TELEGRAM_TOKEN: does not look like a BotFather token (123456:ABC...)")

    api_url = _url(get("TELEGRAM_API_URL") or Settings.telegram_api_url, "TELEGRAM_API_URL",
                   ("http", "https"))

    db_url = get("OPSTAP_DATABASE_URL") or Settings.database_url
    if not db_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingsError(
            "OPSTAP_DATABASE_URL: use sqlite+aiosqlite:///path or postgresql+asyncpg://..."
        )

    port_text = get("OPSTAP_HTTP_PORT") or "8080"
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SettingsError(f"OPSTAP_HTTP_PORT: '{port_text}' is not a port number (1-65535)")

    public_url = get("OPSTAP_PUBLIC_URL")
    if public_url is not None:
        public_url = _url(public_url, "OPSTAP_PUBLIC_URL", ("https", "http"))
    secret = get("OPSTAP_WEBHOOK_SECRET")
    if (public_url is None) != (secret is None):
        raise SettingsError(
            "OPSTAP_PUBLIC_URL and OPSTAP_WEBHOOK_SECRET go together: set both for webhook mode,"
            " or neither for long polling"
        )
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
        raise SettingsError(
            "OPSTAP_WEBHOOK_SECRET: use 16-256 characters from A-Z, a-z, 0-9, _ and -"
        )

    environment = get("OPSTAP_ENV") or "development"
    if environment not in ("development", "production", "test"):
        raise SettingsError(f"OPSTAP_ENV: '{environment}' is not development, production or test")
    secret_key = get("OPSTAP_SECRET_KEY")
    if environment == "production" and secret_key is None:
        raise SettingsError("OPSTAP_SECRET_KEY: required in production (encryption at rest)")
    keyring = None
    if secret_key is not None:
        try:
            keyring = Keyring.parse(secret_key)
        except ValueError as error:
            # The parser's message never quotes the key.
            raise SettingsError(f"OPSTAP_SECRET_KEY: {error}") from None

    abandoned_days = _whole(
        get("OPSTAP_RETENTION_ABANDONED_DAYS") or "30", "OPSTAP_RETENTION_ABANDONED_DAYS", 1, 3650
    )
    closed_months = _whole(
        get("OPSTAP_RETENTION_CLOSED_MONTHS") or "12", "OPSTAP_RETENTION_CLOSED_MONTHS", 1, 120
    )

    leads_text = get("OPSTAP_REMINDER_LEADS")
    leads = Settings.reminder_leads
    if leads_text is not None:
        leads = tuple(
            parse_duration(part, "OPSTAP_REMINDER_LEADS") for part in leads_text.split(",")
        )

    tick_text = get("OPSTAP_TICK_SECONDS") or "15"
    try:
        tick = float(tick_text)
    except ValueError:
        raise SettingsError(f"OPSTAP_TICK_SECONDS: '{tick_text}' is not a number") from None
    if not 0.05 <= tick <= 3600:
        raise SettingsError("OPSTAP_TICK_SECONDS: use a number from 0.05 to 3600")

    accept_text = get("OPSTAP_ACCEPT_WITHIN_HOURS") or "8"
    try:
        accept_within = float(accept_text)
    except ValueError:
        raise SettingsError(
            f"OPSTAP_ACCEPT_WITHIN_HOURS: '{accept_text}' is not a number of hours"
        ) from None
    if not 0.25 <= accept_within <= 200:
        raise SettingsError("OPSTAP_ACCEPT_WITHIN_HOURS: use a number of hours from 0.25 to 200")

    bot_username = get("OPSTAP_BOT_USERNAME")
    if bot_username is not None:
        bot_username = bot_username.removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{4,31}", bot_username):
            raise SettingsError(
                f"OPSTAP_BOT_USERNAME: '{bot_username}' is not a Telegram username (5-32 of "
                "A-Z, a-z, 0-9 and _, starting with a letter)"
            )

    safety_chat_text = get("OPSTAP_SAFETY_CHAT_ID")
    if safety_chat_text is not None and not re.fullmatch(r"-?\d{1,20}", safety_chat_text):
        raise SettingsError(
            f"OPSTAP_SAFETY_CHAT_ID: '{safety_chat_text}' is not a Telegram chat id"
            " (a whole number; groups start with -)"
        )
    ack_minutes = _whole(
        get("OPSTAP_SAFETY_ACK_MINUTES") or "15", "OPSTAP_SAFETY_ACK_MINUTES", 1, 480
    )

    checkin_days = _whole(get("OPSTAP_CHECKIN_DAYS") or "5", "OPSTAP_CHECKIN_DAYS", 1, 60)
    fallback_days = _whole(
        get("OPSTAP_FALLBACK_AFTER_DAYS") or "5", "OPSTAP_FALLBACK_AFTER_DAYS", 1, 30
    )

    level = (get("OPSTAP_LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"OPSTAP_LOG_LEVEL: '{level}' is not DEBUG, INFO, WARNING or ERROR")

    return Settings(
        telegram_token=token,
        telegram_api_url=api_url,
        database_url=db_url,
        http_host=get("OPSTAP_HTTP_HOST") or "127.0.0.1",
        http_port=int(port_text),
        public_url=public_url,
        webhook_secret=secret,
        environment=environment,
        secret_key=secret_key,
        keyring=keyring,
        retention_abandoned_days=abandoned_days,
        retention_closed_months=closed_months,
        reminder_leads=leads,
        quiet_start=_hour(get("OPSTAP_QUIET_START") or "22", "OPSTAP_QUIET_START"),
        quiet_end=_hour(get("OPSTAP_QUIET_END") or "8", "OPSTAP_QUIET_END"),
        timezone=get("OPSTAP_TIMEZONE") or "Europe/Brussels",
        tick_seconds=tick,
        log_level=level,
        safety_chat_id=None if safety_chat_text is None else int(safety_chat_text),
        safety_ack_minutes=ack_minutes,
        checkin_days=checkin_days,
        accept_within_hours=accept_within,
        fallback_after_days=fallback_days,
        bot_username=bot_username,
        extra={k: v for k, v in values.items() if k.startswith("OPSTAP_")},
    )
