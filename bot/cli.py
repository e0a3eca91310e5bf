"""The ``opstap`` command.

Rules: a bad setting prints one line (``opstap: ...``) and exits 2, never a traceback.
Sub-commands import what they need lazily so ``opstap screen`` does not pay for Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opstap", description="Opstap: chat front door")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="migrate and start the service (web chat, Telegram, scheduler)")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("screen", help="screen lines from standard input for crisis phrases (JSON)")
    route = sub.add_parser("route", help="resolve where someone lives to a partnership (JSON)")
    route.add_argument("text", nargs="+")
    directory = sub.add_parser("directory", help="the partnership directory")
    directory.add_argument("action", choices=["check"])
    keys = sub.add_parser(
        "keys",
        help="encryption keys: 'new KID' prints a key entry for OPSTAP_SECRET_KEY; 'rotate'"
        " re-encrypts stored data under the first (active) key",
    )
    keys.add_argument("action", choices=["new", "rotate"])
    keys.add_argument("kid", nargs="?", default="k1")
    from bot.coach.cli import add_arguments as coach_arguments

    coach = sub.add_parser("coach", help="coaches: invite (a one-time link), list, deactivate")
    coach_arguments(coach)
    from bot.team.cli import add_arguments as user_arguments

    user = sub.add_parser("user", help="team dashboard accounts: add, list, disable")
    user_arguments(user)
    from bot.referral.cli import add_arguments as referral_arguments

    referral = sub.add_parser(
        "referral", help="partners' links and QR posters: create, list; stats per source"
    )
    referral_arguments(referral)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except SettingsError as error:
        print(f"opstap: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command == "screen":
        from bot.safety.screen_cli import run_screen

        return run_screen(sys.stdin, sys.stdout)
    if command == "route":
        from bot.routing.cli import run_route

        return run_route(" ".join(args.text), sys.stdout)
    if command == "directory":
        from bot.routing.cli import run_directory_check

        return run_directory_check(sys.stdout)

    if command == "keys" and args.action == "new":
        from storage.crypto import Keyring

        # The one place a key is printed: on purpose, for the operator to put in the secrets.
        print(Keyring.generate(args.kid))
        return 0

    settings = load_settings()
    if command == "run" and settings.keyring is None:
        settings = _first_start_key()
    from bot.logs import configure_logging

    # Redaction is the second line of defence; our own logs never hold a token or a key.
    keys = tuple(part.partition(":")[2].strip() for part in (settings.secret_key or "").split(","))
    from sqlalchemy.engine import make_url

    password = make_url(settings.database_url).password
    configure_logging(
        settings.log_level,
        (settings.telegram_token or "", *keys, str(password) if password else ""),
    )
    from storage.migrate import upgrade

    if command == "migrate":
        asyncio.run(upgrade(settings.database_url))
        print("opstap: database is up to date", file=sys.stderr)
        return 0
    if command == "keys":
        return _rotate(settings)
    if command == "coach":
        from bot.clock import SystemClock
        from bot.coach.cli import run_coach

        async def _coach() -> int:
            await upgrade(settings.database_url)
            return await run_coach(args, settings, SystemClock(), sys.stdout, sys.stderr)

        return asyncio.run(_coach())
    if command == "user":
        from bot.clock import SystemClock
        from bot.team.cli import run_user

        async def _user() -> int:
            await upgrade(settings.database_url)
            return await run_user(args, settings, SystemClock(), sys.stdin, sys.stdout, sys.stderr)

        return asyncio.run(_user())
    if command == "referral":
        from bot.clock import SystemClock
        from bot.referral.cli import run_referral

        async def _referral() -> int:
            await upgrade(settings.database_url)
            return await run_referral(args, settings, SystemClock(), sys.stdout, sys.stderr)

        return asyncio.run(_referral())
    if command == "run":
        import logging

        from bot.runtime import serve

        async def _run() -> None:
            await upgrade(settings.database_url)
            await serve(settings)

        try:
            asyncio.run(_run())
        except Exception:
            # Through the logging filter: a traceback printed by Python itself could quote
            # the token or a key.
            logging.getLogger("opstap").critical("opstap stopped on an error", exc_info=True)
            return 1
        return 0
    raise AssertionError(command)


def _first_start_key() -> Settings:
    """No ``OPSTAP_SECRET_KEY``: free text is never stored in plaintext, so the first start
    writes a key to ``.env`` (owner-only) and says where, once."""
    from pathlib import Path

    from bot.devkey import ensure_dev_key

    path = Path(".env").resolve()
    ensure_dev_key(
        path,
        kid="k1",
        note="Encryption key for data at rest (written by opstap run). BACK IT UP: without it"
        " the stored data cannot be read.",
    )
    settings = load_settings()
    if settings.keyring is None:
        raise SettingsError(f"OPSTAP_SECRET_KEY: could not be stored in {path}")
    print(
        f"opstap: no OPSTAP_SECRET_KEY was set: an encryption key is stored in {path}."
        " Back it up now: without it the stored data cannot be read.",
        file=sys.stderr,
        flush=True,
    )
    return settings


def _rotate(settings: Settings) -> int:
    from storage.migrate import upgrade
    from storage.rotation import rotate

    if settings.keyring is None:
        raise SettingsError("OPSTAP_SECRET_KEY: needed to rotate keys (kid:key[,old_kid:key...])")
    keyring = settings.keyring

    async def _run() -> int:
        await upgrade(settings.database_url)
        report = await rotate(settings.database_url, keyring)
        per_column = ", ".join(f"{name}={n}" for name, n in sorted(report.rewritten.items()))
        print(
            f"opstap: checked {report.checked} encrypted values, re-encrypted"
            f" {report.total_rewritten} under key '{keyring.active}'"
            + (f" ({per_column})" if per_column else ""),
            file=sys.stderr,
        )
        return 0

    return asyncio.run(_run())


if __name__ == "__main__":
    raise SystemExit(main())
