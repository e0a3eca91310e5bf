"""``opstap coach invite|list|deactivate``: onboarding coaches from the command line.

Rules: the parser is built without heavy imports (``opstap screen`` must not pay for the
database or the directory). Each function writes to the streams it is given and returns the
exit code; bad input is one line on ``stderr`` and exit 2. ``invite`` prints the one-time link
on ``stdout``: it is a secret for that coach (hand it over personally, never in a group), and
nothing of it is logged or stored except its hash. The bot's username comes from getMe when
``TELEGRAM_TOKEN`` is set, else from ``OPSTAP_BOT_USERNAME``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from bot.settings import Settings
from flows.ids import CoachId, PartnershipId
from flows.intake.domains import DOMAIN_IDS
from flows.languages import CODES
from storage.routing_port import COACH_ROLES, CoachRole

if TYPE_CHECKING:
    from bot.service import Clock

LANGUAGES = CODES  # one list for all: flows/languages.py
DEFAULT_CAPACITY = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    invite = sub.add_parser("invite", help="create a coach and print a one-time Telegram link")
    invite.add_argument("--partnership", help="partnership id from the directory")
    invite.add_argument("--name", help="first name shown to young people")
    invite.add_argument("--organisation", help="organisation shown to young people")
    invite.add_argument("--domains", default="", help=f"comma list of {','.join(DOMAIN_IDS)}")
    invite.add_argument("--languages", default="nl", help=f"comma list of {','.join(LANGUAGES)}")
    invite.add_argument(
        "--capacity", type=int, default=DEFAULT_CAPACITY, help="most open cases at once"
    )
    invite.add_argument("--role", choices=COACH_ROLES, default="coach")
    invite.add_argument("--hours", help='own working hours, e.g. "mon-thu 09:00-17:00"')
    invite.add_argument("--coach", help="a new link for this existing coach id")
    sub.add_parser("list", help="list the coaches")
    deactivate = sub.add_parser("deactivate", help="stop giving cases to a coach")
    deactivate.add_argument("coach")


def _items(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(i.strip().lower() for i in text.split(",") if i.strip()))
    unknown = [i for i in items if i not in allowed]
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown)} (use {', '.join(allowed)})")
    return items


async def _bot_username(settings: Settings) -> str:
    if settings.telegram_token is not None:
        from bot.telegram.whoami import fetch_bot_username

        return await fetch_bot_username(settings.telegram_token, settings.telegram_api_url)
    if settings.bot_username is not None:
        return settings.bot_username
    raise ValueError("set TELEGRAM_TOKEN (the link asks getMe) or OPSTAP_BOT_USERNAME")


async def run_coach(
    args: argparse.Namespace, settings: Settings, clock: Clock, stdout: TextIO, stderr: TextIO
) -> int:
    try:
        if args.action == "invite":
            return await _invite(args, settings, clock, stdout)
        if args.action == "list":
            return await _list(settings, stdout)
        if args.action == "deactivate":
            return await _deactivate(args.coach, settings, clock, stdout)
    except ValueError as error:
        stderr.write(f"opstap: {error}\n")
        return 2
    raise AssertionError(args.action)


async def _invite(
    args: argparse.Namespace, settings: Settings, clock: Clock, stdout: TextIO
) -> int:
    from bot.coach.invites import INVITE_VALID, invite_again, invite_link, invite_new_coach
    from bot.coach.team import parse_hours
    from bot.routing.gazetteer import load_directory
    from storage.sql import open_storage

    now = clock.now()
    if not args.coach:
        # Check everything before anything is stored or asked of Telegram.
        if not args.partnership or not args.name:
            raise ValueError("--partnership and --name are required (or --coach ID)")
        partnership = load_directory().partnership(args.partnership)
        if partnership is None:
            raise ValueError(f"unknown partnership {args.partnership!r} (see directory.yaml)")
        name = args.name.strip()
        if not 1 <= len(name) <= 40:
            raise ValueError("--name: a first name of 1 to 40 characters")
        if args.capacity < 0:
            raise ValueError("--capacity: zero or more")
        if args.hours:
            parse_hours(args.hours)
        domains = _items(args.domains, DOMAIN_IDS, "domain")
        languages = _items(args.languages, LANGUAGES, "language") or ("nl",)
    username = await _bot_username(settings)
    storage = await open_storage(settings.database_url, settings.keyring, now=clock.now)
    try:
        if args.coach:
            token = await invite_again(storage, CoachId(args.coach), now)
            if token is None:
                raise ValueError(f"no coach with id {args.coach!r} (see: opstap coach list)")
            who = args.coach
        else:
            assert partnership is not None  # checked above
            role: CoachRole = "coordinator" if args.role == "coordinator" else "coach"
            coach, token = await invite_new_coach(
                storage,
                partnership=PartnershipId(partnership.id),
                first_name=name,
                organisation=(args.organisation or partnership.name).strip(),
                domains=domains,
                languages=languages,
                capacity=args.capacity,
                role=role,
                hours=args.hours,
                now=now,
            )
            who = coach.id
    finally:
        await storage.close()
    days = INVITE_VALID.days
    stdout.write(f"coach {who}: open this link in Telegram within {days} days (it works once):\n")
    stdout.write(invite_link(username, token) + "\n")
    return 0


async def _list(settings: Settings, stdout: TextIO) -> int:
    from storage.sql import open_storage

    storage = await open_storage(settings.database_url, settings.keyring)
    try:
        async with storage.transaction() as tx:
            coaches = await tx.coaches.all()
            loads = await tx.cases.loads(tuple(c.id for c in coaches))
    finally:
        await storage.close()
    if not coaches:
        stdout.write("no coaches yet: opstap coach invite --partnership ID --name NAME\n")
        return 0
    for c in coaches:
        stdout.write(
            f"{c.id}\t{c.partnership}\t{c.role}\t{c.first_name}\t{c.organisation}\t"
            f"domains={','.join(c.domains) or '-'}\tlanguages={','.join(c.languages)}\t"
            f"load={loads[c.id]}/{c.capacity}\t"
            f"{'bound' if c.person else 'invited'}\t{'active' if c.active else 'inactive'}\n"
        )
    return 0


async def _deactivate(coach_id: str, settings: Settings, clock: Clock, stdout: TextIO) -> int:
    from bot.coach.handoff import withdraw_offers
    from storage.sql import open_storage

    storage = await open_storage(settings.database_url, settings.keyring, now=clock.now)
    try:
        async with storage.transaction() as tx:
            if await tx.coaches.get(CoachId(coach_id)) is None:
                raise ValueError(f"no coach with id {coach_id!r}")
            await tx.coaches.set_active(CoachId(coach_id), False)
            # Offers they can no longer answer go to the next one at the service's next tick.
            moved = await withdraw_offers(tx, CoachId(coach_id), clock.now())
    finally:
        await storage.close()
    stdout.write(
        f"coach {coach_id}: gets no new cases (open cases stay with them); "
        f"{len(moved)} open offer(s) go to a colleague\n"
    )
    return 0
