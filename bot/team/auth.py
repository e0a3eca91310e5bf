"""Accounts and sessions of the team dashboard: passwords, TOTP, throttling, sessions, CSRF.

Rules of this module:

* A new password has 12 to 256 characters, no composition rules, and must not be easy to
  guess: zxcvbn (its 30,000 passwords from breach corpora, also inside a longer password, l33t
  and reversed; English words and names; repeats, sequences, keyboard patterns, dates; the
  account's own name and e-mail) must rate it at least :data:`MIN_STRENGTH` (3 of 4: not
  found within about 10^8 guesses). The first 72 characters are rated (zxcvbn's limit).
* Passwords are argon2id hashes (argon2-cffi's defaults: RFC 9106 low-memory profile); an
  unknown e-mail address still costs one verification (a fixed dummy hash), so the answer time
  does not tell which accounts exist. Hashing runs in a worker thread, outside any transaction.
* The second factor is TOTP (RFC 6238, pyotp: 6 digits, 30 s, one step of clock drift either
  way). A code is accepted once: the account remembers the last step used (compare-and-set).
* Throttling: more than :data:`ACCOUNT_FAILURES` failed logins of one account, or
  :data:`ADDRESS_FAILURES` from one address, within :data:`THROTTLE_WINDOW` refuse every further
  attempt (also a correct one) until the window has passed. The answer is the same for a wrong
  password, a wrong code, an unknown or disabled account and a throttled one.
* A session id is 256 random bits in the cookie; the database has only its sha256. A session
  ends after :data:`IDLE` without a request, :data:`MAX_AGE` after login, at logout (the row is
  deleted) or when the account is disabled. Time comes from the injected clock.
* The CSRF token is an HMAC of the session id: it needs no storage, changes with every session
  and cannot be derived without the cookie.
* Nothing secret is logged: no password, code, cookie or e-mail address (the account id is).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from bot.service import Clock
from storage.team_sql import SqlTeamStore, TeamSession, TeamUser

log = logging.getLogger(__name__)

IDLE = timedelta(minutes=30)
MAX_AGE = timedelta(hours=12)
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
PASSWORD_MIN = 12
PASSWORD_MAX = 256
MIN_STRENGTH = 3
_RATED = 72  # zxcvbn rates at most this many characters
TOTP_ISSUER = "Opstap"
_HASHER = PasswordHasher()
# Verified against when the account does not exist, so the time taken is the same.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))

LoginFailure = Literal["invalid", "throttled"]


def hash_password(password: str, context: Sequence[str] = ()) -> str:
    check_password(password, context)
    return _HASHER.hash(password)


def check_password(password: str, context: Sequence[str] = ()) -> None:
    """ASVS 6.2: at least 12 characters, at most 256, anything printable allowed, and not easy
    to guess (see the module rules); ``context`` are the account's name and e-mail."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValueError(f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    words = ["opstap", "team"]
    for text in context:
        # The whole, the e-mail's local part ("jan.peeters"), and each word of it.
        words += [text, text.partition("@")[0], *(w for w in re.split(r"[^\w]+", text) if w)]
    rating = zxcvbn(password[:_RATED], user_inputs=words)
    if int(rating["score"]) < MIN_STRENGTH:
        raise ValueError(
            "this password is easy to guess (a common or breached password, a word, a pattern"
            " or the account's name): choose a longer passphrase of unrelated words"
        )


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to (now, or one step before or after), else ``None``."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def csrf_token(raw_session: str) -> str:
    return hmac.new(raw_session.encode(), b"opstap-team-csrf", hashlib.sha256).hexdigest()


def csrf_ok(raw_session: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(csrf_token(raw_session), sent)


def account_key(email: str) -> str:
    return "account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def address_key(address: str) -> str:
    return "address:" + address


@dataclass(frozen=True)
class LoggedIn:
    user: TeamUser
    raw_session: str


@dataclass(frozen=True)
class Authenticator:
    store: SqlTeamStore
    clock: Clock

    async def login(
        self, email: str, password: str, code: str, address: str
    ) -> LoggedIn | LoginFailure:
        now = self.clock.now()
        email = email.strip().lower()[:254]
        account, place = account_key(email), address_key(address)
        async with self.store.transaction() as t:
            since = now - THROTTLE_WINDOW
            throttled = (
                await t.team.failures_since(account, since) >= ACCOUNT_FAILURES
                or await t.team.failures_since(place, since) >= ADDRESS_FAILURES
            )
            user = None if throttled else await t.team.user_by_email(email)
        if throttled:
            await self._failed(account, place, now)
            log.warning("team login throttled")
            return "throttled"
        known = user is not None and user.active
        password_hash = user.password_hash if user is not None and known else _DUMMY_HASH
        good = await asyncio.to_thread(verify_password, password_hash, password)
        step = totp_step(user.totp_secret, code, now) if user is not None and known else None
        if not good or not known or step is None or user is None:
            await self._failed(account, place, now)
            log.info("team login refused")
            return "invalid"
        raw = new_session_id()
        async with self.store.transaction() as t:
            if not await t.team.use_totp_step(user.id, step):
                # The code was used already (a replayed or shoulder-surfed code).
                fresh = False
            else:
                fresh = True
                await t.team.record_attempt(account, now, success=True)
                await t.team.start_session(session_hash(raw), user.id, now, address)
                await t.team.logged_in(user.id, now)
                await t.team.audit(at=now, user=user, action="login", address=address)
        if not fresh:
            await self._failed(account, place, now)
            return "invalid"
        log.info("team login user=%s", user.id)
        return LoggedIn(user, raw)

    async def _failed(self, account: str, place: str, now: datetime) -> None:
        async with self.store.transaction() as t:
            await t.team.record_attempt(account, now, success=False)
            await t.team.record_attempt(place, now, success=False)

    async def resume(self, raw: str | None) -> tuple[TeamUser, TeamSession] | None:
        """The signed-in account of a session cookie, refreshing its idle time; ``None`` when
        there is none, or it expired (then its row is deleted)."""
        if raw is None or not 20 <= len(raw) <= 100:
            return None
        now = self.clock.now()
        id_hash = session_hash(raw)
        async with self.store.transaction() as t:
            session = await t.team.session(id_hash)
            if session is None:
                return None
            user = await t.team.user(session.user_id)
            expired = (
                now - session.last_seen_at >= IDLE
                or now - session.created_at >= MAX_AGE
                or user is None
                or not user.active
            )
            if expired or user is None:
                await t.team.end_session(id_hash)
                return None
            await t.team.touch_session(id_hash, now)
        return user, session

    async def confirm(self, user: TeamUser, password: str, address: str) -> bool:
        """Authenticate again with the password before ending sessions (ASVS 7.5.2); failures
        count towards the same throttling as logins."""
        now = self.clock.now()
        account, place = account_key(user.email), address_key(address)
        async with self.store.transaction() as t:
            since = now - THROTTLE_WINDOW
            throttled = (
                await t.team.failures_since(account, since) >= ACCOUNT_FAILURES
                or await t.team.failures_since(place, since) >= ADDRESS_FAILURES
            )
        good = not throttled and await asyncio.to_thread(
            verify_password, user.password_hash, password
        )
        if not good:
            await self._failed(account, place, now)
            log.info("team confirmation refused user=%s", user.id)
        return good

    async def logout(self, raw: str, user: TeamUser, address: str) -> None:
        now = self.clock.now()
        async with self.store.transaction() as t:
            await t.team.end_session(session_hash(raw))
            await t.team.audit(at=now, user=user, action="logout", address=address)
