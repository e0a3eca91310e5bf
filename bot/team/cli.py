"""``opstap user add|list|disable|reset``: team dashboard accounts from the command line.

Rules (those of :mod:`bot.coach.cli` apply): the password is read from standard input (first
line), never from an argument (the shell history and ``ps`` would show it); ``add`` prints the
``otpauth://`` URI of the TOTP factor once, on ``stdout``, for the person's authenticator app
(hand it over personally); nothing secret is logged. Every change writes an audit row (actor
``cli``). Bad input is one line on ``stderr`` and exit 2.

Recovery (ASVS 6.4) is ``reset``, by an admin with shell access, who checks who asks the way
they did when creating the account: a new password from standard input; the TOTP factor stays
unless ``--new-totp`` (a lost phone), which prints a new URI once. Every session of the
account ends. There is no self-service reset: Opstap has no e-mail channel, and the bot's
Telegram chat is the young people's and the coaches' channel, not a second factor of a
dashboard account (a stolen phone would then open both).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.service import Clock

ROLES = ("coach", "coordinator", "admin")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="create an account (password from standard input)")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--partnership", help="partnership id (coach and coordinator)")
    add.add_argument("--coach", help="the coach record this account acts as (see: coach list)")
    sub.add_parser("list", help="list the accounts")
    disable = sub.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("email")
    reset = sub.add_parser(
        "reset", help="a new password (standard input) after checking who asks; ends sessions"
    )
    reset.add_argument("email")
    reset.add_argument(
        "--new-totp", action="store_true", help="also a new TOTP factor (a lost authenticator)"
    )


async def run_user(
    args: argparse.Namespace,
    settings: Settings,
    clock: Clock,
    stdin: TextIO,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    try:
        if args.action == "add":
            return await _add(args, settings, clock, stdin, stdout)
        if args.action == "list":
            return await _list(settings, stdout)
        if args.action == "disable":
            return await _disable(args.email, settings, clock, stdout)
        if args.action == "reset":
            return await _reset(args, settings, clock, stdin, stdout)
    except ValueError as error:
        stderr.write(f"opstap: {error}\n")
        return 2
    raise AssertionError(args.action)


def _email(text: str) -> str:
    email = text.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or len(email) > 254 or " " in email:
        raise ValueError(f"--email: {text!r} is not an e-mail address")
    return email


async def _add(
    args: argparse.Namespace, settings: Settings, clock: Clock, stdin: TextIO, stdout: TextIO
) -> int:
    from bot.routing.gazetteer import load_directory
    from bot.team.auth import hash_password, new_totp_secret, totp_uri
    from flows.ids import CoachId, PartnershipId
    from storage.sql import open_storage
    from storage.team_sql import SqlTeam, SqlTeamStore

    email = _email(args.email)
    name = args.name.strip()
    if not 1 <= len(name) <= 80:
        raise ValueError("--name: 1 to 80 characters")
    role = args.role
    partnership = args.partnership
    if role == "admin":
        if partnership or args.coach:
            raise ValueError("an admin has no --partnership or --coach (admins see no cases)")
    else:
        if not partnership:
            raise ValueError(f"a {role} needs --partnership")
        if load_directory().partnership(partnership) is None:
            raise ValueError(f"unknown partnership {partnership!r} (see directory.yaml)")
        if role == "coach" and not args.coach:
            raise ValueError("a coach needs --coach COACH_ID (see: opstap coach list)")
    password = stdin.readline().rstrip("\r\n")
    password_hash = hash_password(password, (email, name))  # ValueError: short or guessable
    secret = new_totp_secret()
    storage = await open_storage(settings.database_url, settings.keyring, now=clock.now)
    try:
        async with SqlTeamStore(storage).transaction() as t:
            if await t.team.user_by_email(email) is not None:
                raise ValueError(f"an account for {email} exists already")
            coach = None
            if args.coach:
                coach = await t.core.coaches.get(CoachId(args.coach))
                if coach is None or coach.partnership != partnership:
                    raise ValueError(f"no coach {args.coach!r} in partnership {partnership!r}")
            now = clock.now()
            team: SqlTeam = t.team
            user = await team.add_user(
                email=email,
                name=name,
                role=role,
                partnership=PartnershipId(partnership) if partnership else None,
                coach=coach.id if coach is not None else None,
                password_hash=password_hash,
                totp_secret=secret,
                now=now,
            )
            await team.audit(
                at=now,
                user=None,
                action="user.add",
                address="cli",
                target=str(user.id),
                partnership=partnership,
            )
    finally:
        await storage.close()
    stdout.write(
        f"account {email} ({role}) created. Add this to the authenticator app now;"
        " it is not shown again:\n"
    )
    stdout.write(totp_uri(secret, email) + "\n")
    return 0


async def _list(settings: Settings, stdout: TextIO) -> int:
    from storage.sql import open_storage
    from storage.team_sql import SqlTeamStore

    storage = await open_storage(settings.database_url, settings.keyring)
    try:
        async with SqlTeamStore(storage).transaction() as t:
            users = await t.team.users()
    finally:
        await storage.close()
    if not users:
        stdout.write("no accounts yet: opstap user add --email E --name N --role ROLE\n")
        return 0
    for u in users:
        last = u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "never"
        stdout.write(
            f"{u.email}\t{u.name}\t{u.role}\t{u.partnership or '-'}\t"
            f"coach={u.coach or '-'}\tlast_login={last}\t"
            f"{'active' if u.active else 'disabled'}\n"
        )
    return 0


async def _disable(email_text: str, settings: Settings, clock: Clock, stdout: TextIO) -> int:
    from storage.sql import open_storage
    from storage.team_sql import SqlTeamStore

    email = _email(email_text)
    storage = await open_storage(settings.database_url, settings.keyring, now=clock.now)
    try:
        async with SqlTeamStore(storage).transaction() as t:
            user = await t.team.user_by_email(email)
            if user is None:
                raise ValueError(f"no account {email}")
            await t.team.set_user_active(user.id, False)
            await t.team.audit(
                at=clock.now(),
                user=None,
                action="user.disable",
                address="cli",
                target=str(user.id),
                partnership=user.partnership,
            )
    finally:
        await storage.close()
    stdout.write(f"account {email}: disabled, its sessions ended\n")
    return 0


async def _reset(
    args: argparse.Namespace, settings: Settings, clock: Clock, stdin: TextIO, stdout: TextIO
) -> int:
    from bot.team.auth import hash_password, new_totp_secret, totp_uri
    from storage.sql import open_storage
    from storage.team_sql import SqlTeamStore

    email = _email(args.email)
    password = stdin.readline().rstrip("\r\n")
    storage = await open_storage(settings.database_url, settings.keyring, now=clock.now)
    secret = new_totp_secret() if args.new_totp else None
    try:
        async with SqlTeamStore(storage).transaction() as t:
            user = await t.team.user_by_email(email)
            if user is None:
                raise ValueError(f"no account {email}")
            password_hash = hash_password(password, (email, user.name))
            await t.team.set_password_hash(user.id, password_hash)
            if secret is not None:
                await t.team.set_totp_secret(user.id, secret)
            await t.team.end_sessions_of(user.id)
            await t.team.audit(
                at=clock.now(),
                user=None,
                action="user.reset_totp" if secret is not None else "user.reset",
                address="cli",
                target=str(user.id),
                partnership=user.partnership,
            )
    finally:
        await storage.close()
    state = "" if user.active else " (the account stays disabled)"
    stdout.write(f"account {email}: new password set, its sessions ended{state}\n")
    if secret is not None:
        stdout.write("Add this to the authenticator app now; it is not shown again:\n")
        stdout.write(totp_uri(secret, email) + "\n")
    return 0
