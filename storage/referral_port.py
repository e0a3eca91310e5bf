"""The referral feature's port: links, personal invitations, arrivals and their repository.

Technology-free (no SQL, no memory adapter): records, the ``Protocol`` and its
:class:`storage.assembly.RepositoryKey`. Never imports :mod:`storage.ports`; the tables and the
personal-data part live in ``storage/referral.py``, the adapters in ``storage/referral_sql.py``
and ``storage/referral_memory.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from flows.ids import PersonId
from storage.assembly import RepositoryKey

ArrivalKind = Literal["link", "invite"]
ARRIVAL_KINDS: tuple[ArrivalKind, ...] = ("link", "invite")
# Telegram's deep-link payload: 1-64 of A-Z a-z 0-9 _ - (and so the web chat's too).
CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_SOURCE = 80


def check_code(code: str) -> str:
    if not CODE.fullmatch(code):
        raise ValueError("a referral code is 1-64 of A-Z a-z 0-9 _ -")
    return code


@dataclass(frozen=True)
class ReferralLink:
    code: str
    partnership: str
    source: str
    created_at: datetime
    expires_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class PersonalInvite:
    code_hash: str
    coach: str
    partnership: str
    created_at: datetime
    expires_at: datetime
    opened_by: PersonId | None = None
    opened_at: datetime | None = None
    used_at: datetime | None = None


@dataclass(frozen=True)
class Arrival:
    id: int
    person: PersonId | None
    kind: ArrivalKind
    partnership: str
    source: str
    link_code: str | None
    coach: str | None
    arrived_at: datetime
    submitted_at: datetime | None = None
    case_id: str | None = None
    case_made: bool = False


@dataclass(frozen=True)
class SourceCount:
    """Per kind, source and partnership: how many started, sent an intake, got a case."""

    kind: ArrivalKind
    source: str
    partnership: str
    arrivals: int
    intakes: int
    cases: int


class ReferralRepository(Protocol):
    """The feature's port (see the module rules). Every time is the caller's ``now``."""

    async def add_link(self, link: ReferralLink) -> None:
        """``ValueError`` when the code exists."""
        ...

    async def link(self, code: str) -> ReferralLink | None: ...

    async def links(self, partnership: str | None = None) -> list[ReferralLink]:
        """Oldest first."""
        ...

    async def add_invite(
        self, code_hash: str, coach: str, partnership: str, now: datetime, expires_at: datetime
    ) -> None: ...

    async def open_invite(
        self, code_hash: str, person: PersonId, now: datetime
    ) -> PersonalInvite | None:
        """The invitation for ``person``: not expired, not used, not opened by someone else;
        the first opening binds it to ``person``. ``None`` otherwise."""
        ...

    async def opened_invite(self, person: PersonId, now: datetime) -> PersonalInvite | None:
        """The newest valid, unused invitation ``person`` opened."""
        ...

    async def use_invite(self, code_hash: str, now: datetime) -> bool:
        """Mark it used, once (compare-and-set); ``False`` when it already was."""
        ...

    async def arrive(
        self,
        person: PersonId,
        kind: ArrivalKind,
        partnership: str,
        source: str,
        now: datetime,
        *,
        link_code: str | None = None,
        coach: str | None = None,
    ) -> int: ...

    async def latest_arrival(self, person: PersonId) -> Arrival | None: ...

    async def arrivals_of(self, person: PersonId) -> list[Arrival]:
        """Oldest first."""
        ...

    async def mark_submitted(self, arrival_id: int, now: datetime, case_id: str | None) -> None:
        """An intake was sent (the first time counts) and made ``case_id`` (if any)."""
        ...

    async def source_counts(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        partnership: str | None = None,
    ) -> list[SourceCount]:
        """Arrivals in ``[since, until)`` per kind, source and partnership (of ``partnership``
        only, when given: the team dashboard's scope), sorted."""
        ...

    async def erase(self, person: PersonId) -> int:
        """Arrivals keep their count without the person and case; invitations forget who
        opened them. Returns how many rows changed."""
        ...

    async def purge(self, arrived_before: datetime, expired_before: datetime) -> int:
        """Anonymise arrivals from before ``arrived_before``; delete invitations that expired
        before ``expired_before``. Returns how many rows."""
        ...


REFERRALS_KEY: RepositoryKey[ReferralRepository] = RepositoryKey("referrals")
"""The feature's port in a transaction: ``tx[REFERRALS_KEY]`` (adapters in
:mod:`storage.referral_sql` and :mod:`storage.referral_memory`)."""


def counts_of(arrivals: Iterable[Arrival]) -> list[SourceCount]:
    """Arrivals counted per kind, source and partnership (the memory adapter's query)."""
    found: dict[tuple[ArrivalKind, str, str], list[int]] = {}
    for arrival in arrivals:
        row = found.setdefault((arrival.kind, arrival.source, arrival.partnership), [0, 0, 0])
        row[0] += 1
        row[1] += arrival.submitted_at is not None
        row[2] += arrival.case_made
    return [
        SourceCount(kind, source, partnership, *row)
        for (kind, source, partnership), row in sorted(found.items())
    ]
