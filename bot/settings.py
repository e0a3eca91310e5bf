"""Settings: the only place that reads the environment.

Rules of this module:

* Each setting is declared once, as a field of :class:`Settings` (pydantic-settings): its
  environment variable (the alias), its default and its validator. Nothing else in the code
  base repeats a default.
* Values come from the process environment, then from an optional ``.env`` file (the
  environment wins); empty values count as unset. :func:`load_settings` reads them through
  pydantic-settings' sources; constructing :class:`Settings` directly takes only its arguments,
  so a test never picks up the machine's environment.
* A bad value raises :class:`SettingsError` whose message is one line naming the variable; the
  CLI prints it and exits with status 2 instead of a traceback. Secrets are never echoed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from storage.crypto import Keyring

DEFAULT_DB_PATH = Path("var") / "opstap.db"
DEFAULT_CACHE_DIR = Path("var") / "cache"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_ENVIRONMENTS = ("development", "production", "test")


class SettingsError(ValueError):
    """A configuration value is wrong; ``str(error)`` is one line for the operator."""


def _env(name: str, **extra: Any) -> Any:
    """A field read from the environment variable ``name``."""
    return Field(validation_alias=name, **extra)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        case_sensitive=True,
        populate_by_name=True,
        arbitrary_types_allowed=True,
        # Validation errors would quote the input; a malformed token or key is still a secret.
        hide_input_in_errors=True,
    )

    # Secrets stay out of repr(): a settings object in a log line or traceback shows no key.
    telegram_token: str | None = _env("TELEGRAM_TOKEN", default=None, repr=False)
    telegram_api_url: str = _env("TELEGRAM_API_URL", default="https://api.telegram.org")
    database_url: str = _env(
        "OPSTAP_DATABASE_URL", default=f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}"
    )
    http_host: str = _env("OPSTAP_HTTP_HOST", default="127.0.0.1")
    http_port: int = _env("OPSTAP_HTTP_PORT", default=8080)
    public_url: str | None = _env("OPSTAP_PUBLIC_URL", default=None)
    webhook_secret: str | None = _env("OPSTAP_WEBHOOK_SECRET", default=None, repr=False)
    environment: str = _env("OPSTAP_ENV", default="development")
    secret_key: str | None = _env("OPSTAP_SECRET_KEY", default=None, repr=False)
    # Parsed from OPSTAP_SECRET_KEY: encryption at rest (None: stored as plaintext).
    keyring: Keyring | None = Field(default=None, repr=False, exclude=True)
    retention_abandoned_days: int = _env("OPSTAP_RETENTION_ABANDONED_DAYS", default=30)
    retention_closed_months: int = _env("OPSTAP_RETENTION_CLOSED_MONTHS", default=12)
    reminder_leads: Annotated[tuple[timedelta, ...], NoDecode] = _env(
        "OPSTAP_REMINDER_LEADS", default=(timedelta(hours=24), timedelta(hours=2))
    )
    quiet_start: int = _env("OPSTAP_QUIET_START", default=22)
    quiet_end: int = _env("OPSTAP_QUIET_END", default=8)
    timezone: str = _env("OPSTAP_TIMEZONE", default="Europe/Brussels")
    tick_seconds: float = _env("OPSTAP_TICK_SECONDS", default=15.0)
    log_level: str = _env("OPSTAP_LOG_LEVEL", default="INFO")
    # Working hours a coach has to accept a case before it goes to the next one.
    accept_within_hours: float = _env("OPSTAP_ACCEPT_WITHIN_HOURS", default=8.0)
    # Working days a case may wait in the partnership's team queue before the young person is
    # pointed to the general service of the region (the warm fallback).
    fallback_after_days: int = _env("OPSTAP_FALLBACK_AFTER_DAYS", default=5)
    # The bot's @username for coach invite links when no TELEGRAM_TOKEN can ask getMe.
    bot_username: str | None = _env("OPSTAP_BOT_USERNAME", default=None)
    # The Telegram chat that gets safety alerts when no coach or coordinator is known for a
    # young person (a private chat or a group of the team); None: only the coach side's.
    safety_chat_id: int | None = _env("OPSTAP_SAFETY_CHAT_ID", default=None)
    # Working minutes an alert may stay unacknowledged before the coordinator is alerted.
    safety_ack_minutes: int = _env("OPSTAP_SAFETY_ACK_MINUTES", default=15)
    # Days after the intake a young person with an open case but no appointment is asked how
    # it goes.
    checkin_days: int = _env("OPSTAP_CHECKIN_DAYS", default=5)
    # Where start-up keeps what it can compute once (the compiled crisis screener,
    # bot.safety.compiled); None ("off"): build it at every start.
    cache_dir: Path | None = _env("OPSTAP_CACHE_DIR", default=DEFAULT_CACHE_DIR)
    # Telegram's overall limit for this bot: 30 messages a second, up to 1000 for a bot with
    # Paid Broadcasts enabled (bot.telegram.limits).
    telegram_sends_per_second: int = _env("OPSTAP_TELEGRAM_SENDS_PER_SECOND", default=30)
    # The smallest count the dashboard's statistics and anonymous CSV show; a count from 1 up
    # to this minus one is shown as "<N" so that nobody can be singled out.
    report_min_count: int = _env("OPSTAP_REPORT_MIN_COUNT", default=5)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() chooses the sources; Settings(...) takes its arguments only.
        return (init_settings,)

    # --- one validator per value; the messages name no variable, _one_line() adds it ----

    @field_validator("telegram_token", mode="before")
    @classmethod
    def _token(cls, value: object) -> object:
        if isinstance(value, str) and not _TOKEN_RE.match(value):
            # Never echo the token itself: it is a secret even when it is malformed.
            raise ValueError("does not look like a BotFather token (123456:ABC...)")
        return value

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _cache_dir(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().lower() in ("", "off"):
                return None
            if "\x00" in value:
                raise ValueError("is not a folder path")
        return value

    @field_validator("telegram_api_url", mode="before")
    @classmethod
    def _api_url(cls, value: object) -> object:
        return _url(value, ("http", "https"))

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: object) -> object:
        return _url(value, ("https", "http"))

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> object:
        if isinstance(value, str) and not value.startswith(
            ("sqlite+aiosqlite://", "postgresql+asyncpg://")
        ):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://...")
        return value

    @field_validator("http_port", mode="before")
    @classmethod
    def _port(cls, value: object) -> object:
        if isinstance(value, str) and (not value.isdigit() or not 1 <= int(value) <= 65535):
            raise ValueError(f"'{value}' is not a port number (1-65535)")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
            raise ValueError("use 16-256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("environment", mode="before")
    @classmethod
    def _environment(cls, value: object) -> object:
        if isinstance(value, str) and value not in _ENVIRONMENTS:
            raise ValueError(f"'{value}' is not development, production or test")
        return value

    @field_validator("secret_key", mode="before")
    @classmethod
    def _secret_key(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                Keyring.parse(value)
            except ValueError as error:
                # The parser's message never quotes the key.
                raise ValueError(str(error)) from None
        return value

    @field_validator(
        "retention_abandoned_days",
        "retention_closed_months",
        "safety_ack_minutes",
        "checkin_days",
        "fallback_after_days",
        "telegram_sends_per_second",
        "report_min_count",
        mode="before",
    )
    @classmethod
    def _whole(cls, value: object, info: ValidationInfo) -> object:
        low, high = _WHOLE_RANGES[str(info.field_name)]
        if isinstance(value, str) and (not value.isdigit() or not low <= int(value) <= high):
            raise ValueError(f"'{value}' is not a whole number from {low} to {high}")
        return value

    @field_validator("quiet_start", "quiet_end", mode="before")
    @classmethod
    def _hour(cls, value: object) -> object:
        if isinstance(value, str) and (not value.isdigit() or not 0 <= int(value) <= 23):
            raise ValueError(f"'{value}' is not an hour from 0 to 23")
        return value

    @field_validator("reminder_leads", mode="before")
    @classmethod
    def _leads(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(parse_duration(part) for part in value.split(","))
        return value

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"'{value}' is not a time zone name like Europe/Brussels"
                ) from None
        return value

    @field_validator("tick_seconds", mode="before")
    @classmethod
    def _tick(cls, value: object) -> object:
        seconds = _number(value, "a number")
        if not 0.05 <= seconds <= 3600:
            raise ValueError("use a number from 0.05 to 3600")
        return seconds

    @field_validator("accept_within_hours", mode="before")
    @classmethod
    def _accept_within(cls, value: object) -> object:
        hours = _number(value, "a number of hours")
        if not 0.25 <= hours <= 200:
            raise ValueError("use a number of hours from 0.25 to 200")
        return hours

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.upper()
            if value not in _LOG_LEVELS:
                raise ValueError(f"'{value}' is not DEBUG, INFO, WARNING or ERROR")
        return value

    @field_validator("bot_username", mode="before")
    @classmethod
    def _bot_username(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.removeprefix("@")
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{4,31}", value):
                raise ValueError(
                    f"'{value}' is not a Telegram username (5-32 of A-Z, a-z, 0-9 and _,"
                    " starting with a letter)"
                )
        return value

    @field_validator("safety_chat_id", mode="before")
    @classmethod
    def _safety_chat(cls, value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(r"-?\d{1,20}", value):
            raise ValueError(
                f"'{value}' is not a Telegram chat id (a whole number; groups start with -)"
            )
        return value

    @model_validator(mode="after")
    def _together(self) -> Settings:
        if (self.public_url is None) != (self.webhook_secret is None):
            raise ValueError(
                "OPSTAP_PUBLIC_URL and OPSTAP_WEBHOOK_SECRET go together: set both for webhook"
                " mode, or neither for long polling"
            )
        if self.production and self.secret_key is None:
            raise ValueError("OPSTAP_SECRET_KEY: required in production (encryption at rest)")
        if self.keyring is None and self.secret_key is not None:
            # Frozen: the parsed keyring is set once, here, from the validated key.
            object.__setattr__(self, "keyring", Keyring.parse(self.secret_key))
        return self

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


_WHOLE_RANGES = {
    "retention_abandoned_days": (1, 3650),
    "retention_closed_months": (1, 120),
    "safety_ack_minutes": (1, 480),
    "checkin_days": (1, 60),
    "fallback_after_days": (1, 30),
    "telegram_sends_per_second": (1, 1000),
    "report_min_count": (1, 100),
}


def parse_duration(text: str, name: str | None = None) -> timedelta:
    """``24h``, ``2h``, ``30m``, ``1d`` or ``45s``; ``name`` prefixes the error if given."""
    match = _DURATION_RE.match(text)
    prefix = f"{name}: " if name else ""
    if match is None:
        raise SettingsError(f"{prefix}'{text}' is not a duration like 24h, 2h, 30m or 1d")
    amount, unit = int(match.group(1)), match.group(2)
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit] * amount
    if seconds <= 0:
        raise SettingsError(f"{prefix}a duration must be more than zero")
    return timedelta(seconds=seconds)


def _url(value: object, schemes: tuple[str, ...]) -> object:
    if not isinstance(value, str):
        return value
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ValueError(f"'{value}' is not a URL starting with {' or '.join(schemes)}")
    return value.rstrip("/")


def _number(value: object, what: str) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        raise ValueError(f"'{value}' is not {what}") from None


class _Given(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (the merged environment)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = dict(environ)
        super().__init__(settings_cls, case_sensitive=True, env_ignore_empty=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._given

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool
    ) -> Any:
        # Every variable is plain text, parsed by the field's validator (no JSON decoding).
        return value


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings; ``environ`` and ``env_file`` are parameters so tests need no patching."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    # Surrounding blanks are typing slips; a blank value means "unset".
    cleaned = {name: value.strip() for name, value in values.items() if value.strip()}
    given = _Given(Settings, cleaned)()
    try:
        return Settings(**given)
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from None


def _variable(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    return alias if isinstance(alias, str) else field_name


def _one_line(error: ValidationError) -> str:
    """Every problem of one ``ValidationError`` on one line, each naming its variable."""
    parts: list[str] = []
    for problem in error.errors(include_url=False, include_input=False):
        text = str(problem["msg"]).removeprefix("Value error, ")
        location = problem["loc"]
        if location and isinstance(location[0], str):
            name = location[0]
            variable = _variable(name) if name in Settings.model_fields else name
            text = f"{variable}: {text}"
        parts.append(" ".join(text.split()))
    return "; ".join(parts)
