"""The ``opstap`` command.

Rules: a bad setting prints one line (``opstap: ...``) and exits 2, never a traceback.
Sub-commands import what they need lazily so ``opstap screen`` does not pay for Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.settings import SettingsError, load_settings


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

    settings = load_settings()
    from bot.logs import configure_logging

    configure_logging(settings.log_level, (settings.telegram_token or "",))
    from storage.migrate import upgrade

    if command == "migrate":
        asyncio.run(upgrade(settings.database_url))
        print("opstap: database is up to date", file=sys.stderr)
        return 0
    if command == "run":
        from bot.runtime import serve

        async def _run() -> None:
            await upgrade(settings.database_url)
            await serve(settings)

        asyncio.run(_run())
        return 0
    raise AssertionError(command)


if __name__ == "__main__":
    raise SystemExit(main())
