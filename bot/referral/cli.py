"""``opstap referral create|list|stats``: partners' links and QR posters from the command line.

Rules: the parser is built without heavy imports. Each function writes to the streams it is
given and returns the exit code; bad input is one line on ``stderr`` and exit 2. ``create``
stores the link, writes ``<out>/<code>.png`` and ``<out>/<code>.svg`` (the QR code with a
one-line caption for a poster or flyer) and prints the Telegram deep link on its **last line**
(the web chat's ``/?ref=<code>`` on the line before, when ``OPSTAP_PUBLIC_URL`` is set). The
bot's username comes from ``OPSTAP_BOT_USERNAME`` when set, else from getMe.
``stats`` prints the intakes and cases per source (:meth:`storage.referral.ReferralRepository.
source_counts`).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.service import Clock


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser(
        "create", help="a partner's link and QR poster (PNG, SVG) for one partnership"
    )
    create.add_argument("--partnership", required=True, help="partnership id from the directory")
    create.add_argument(
        "--source", required=True, help="the partner or place of the poster (never a person)"
    )
    create.add_argument("--out", required=True, help="directory for <code>.png and <code>.svg")
    create.add_argument("--days", type=int, help="valid this many days (default: no end)")
    create.add_argument("--caption", help="the line under the QR code (default: Dutch text)")
    listing = sub.add_parser("list", help="list the links")
    listing.add_argument("--partnership", help="only this partnership")
    sub.add_parser("stats", help="arrivals, intakes and cases per source")


async def bot_username(settings: Settings) -> str:
    """The bot's @username for links: the setting, else getMe."""
    if settings.bot_username is not None:
        return settings.bot_username
    if settings.telegram_token is not None:
        from bot.telegram.whoami import fetch_bot_username

        return await fetch_bot_username(settings.telegram_token, settings.telegram_api_url)
    raise ValueError("set OPSTAP_BOT_USERNAME or TELEGRAM_TOKEN (the link asks getMe)")


async def run_referral(
    args: argparse.Namespace, settings: Settings, clock: Clock, stdout: TextIO, stderr: TextIO
) -> int:
    try:
        if args.action == "create":
            return await _create(args, settings, clock, stdout)
        if args.action == "list":
            return await _list(args, settings, stdout)
        if args.action == "stats":
            return await _stats(settings, stdout)
    except ValueError as error:
        stderr.write(f"opstap: {error}\n")
        return 2
    raise AssertionError(args.action)


def _source(text: str) -> str:
    from storage.referral_port import MAX_SOURCE

    source = " ".join(text.split())
    if not 1 <= len(source) <= MAX_SOURCE:
        raise ValueError(f"--source: a name of 1 to {MAX_SOURCE} characters")
    return source


def _out_dir(text: str) -> Path:
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out: {out} is not a directory")
    return out


async def _create(
    args: argparse.Namespace, settings: Settings, clock: Clock, stdout: TextIO
) -> int:
    from bot.i18n import Translator
    from bot.referral.codes import new_link_code, telegram_link, web_link
    from bot.referral.poster import write_poster
    from bot.routing.gazetteer import load_directory
    from flows.text import Verbatim, msg
    from storage.referral import referrals_of
    from storage.referral_port import ReferralLink
    from storage.sql import open_storage

    now = clock.now()
    # Check everything before anything is stored or asked of Telegram.
    partnership = load_directory().partnership(args.partnership)
    if partnership is None or partnership.role == "fallback":
        raise ValueError(f"unknown partnership {args.partnership!r} (see directory.yaml)")
    source = _source(args.source)
    if args.days is not None and args.days < 1:
        raise ValueError("--days: one or more")
    out = _out_dir(args.out)
    caption = args.caption
    if caption is None:
        translator = Translator.from_dir(settings=settings)
        caption = translator.render(
            msg("referral.poster.caption", partnership=Verbatim(partnership.name)), "nl"
        )
    username = await bot_username(settings)
    code = new_link_code()
    link = ReferralLink(
        code=code,
        partnership=partnership.id,
        source=source,
        created_at=now,
        expires_at=now + timedelta(days=args.days) if args.days is not None else None,
    )
    storage = await open_storage(settings.database_url, settings.keyring, now=clock.now)
    try:
        async with storage.transaction() as tx:
            await referrals_of(tx).add_link(link)
    finally:
        await storage.close()
    deep_link = telegram_link(username, code)
    poster = write_poster(out, code, deep_link, caption)
    stdout.write(f"partnership: {partnership.name} ({partnership.id})\n")
    stdout.write(f"source: {source}\n")
    if link.expires_at is not None:
        stdout.write(f"valid until: {link.expires_at.date().isoformat()}\n")
    stdout.write(f"poster: {poster.png} {poster.svg}\n")
    if settings.public_url is not None:
        stdout.write(f"web chat: {web_link(settings.public_url, code)}\n")
    stdout.write(f"{deep_link}\n")
    return 0


async def _list(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    from storage.referral import referrals_of
    from storage.sql import open_storage

    storage = await open_storage(settings.database_url, settings.keyring)
    try:
        async with storage.reading() as tx:
            links = await referrals_of(tx).links(args.partnership)
    finally:
        await storage.close()
    for link in links:
        until = link.expires_at.date().isoformat() if link.expires_at else "-"
        stdout.write(f"{link.code}\t{link.partnership}\t{link.source}\t{until}\n")
    return 0


async def _stats(settings: Settings, stdout: TextIO) -> int:
    from storage.referral import referrals_of
    from storage.sql import open_storage

    storage = await open_storage(settings.database_url, settings.keyring)
    try:
        async with storage.reading() as tx:
            counts = await referrals_of(tx).source_counts()
    finally:
        await storage.close()
    stdout.write("kind\tsource\tpartnership\tstarted\tintakes\tcases\n")
    for c in counts:
        stdout.write(
            f"{c.kind}\t{c.source}\t{c.partnership}\t{c.arrivals}\t{c.intakes}\t{c.cases}\n"
        )
    return 0
