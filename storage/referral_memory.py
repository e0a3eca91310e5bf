"""In-memory adapter of :class:`storage.referral.ReferralRepository`, for fast service tests.

Rules of this module (those of :mod:`storage.memory` apply): the same contract as
:mod:`storage.referral_sql`, proved by the same tests (``tests/referral/test_storage.py``).
The state is one part of the memory snapshot (``state.part(ReferralState)``), so a rolled-back
transaction forgets its changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.ids import PersonId
from storage.assembly import MEMORY_ADAPTERS
from storage.codec import to_utc
from storage.referral_port import (
    REFERRALS_KEY,
    Arrival,
    ArrivalKind,
    PersonalInvite,
    ReferralLink,
    SourceCount,
    counts_of,
)


@dataclass
class ReferralState:
    links: dict[str, ReferralLink] = field(default_factory=dict)
    invites: dict[str, PersonalInvite] = field(default_factory=dict)
    arrivals: dict[int, Arrival] = field(default_factory=dict)
    next_id: int = 1

    def copy(self) -> ReferralState:
        return ReferralState(
            links=dict(self.links),
            invites=dict(self.invites),
            arrivals=dict(self.arrivals),
            next_id=self.next_id,
        )


def _usable(invite: PersonalInvite, now: datetime) -> bool:
    return invite.used_at is None and to_utc(now) < invite.expires_at


class MemoryReferrals:
    def __init__(self, state: ReferralState) -> None:
        self._state = state

    async def add_link(self, link: ReferralLink) -> None:
        if link.code in self._state.links:
            raise ValueError("referral code exists")
        self._state.links[link.code] = replace(
            link,
            created_at=to_utc(link.created_at),
            expires_at=to_utc(link.expires_at) if link.expires_at else None,
        )

    async def link(self, code: str) -> ReferralLink | None:
        return self._state.links.get(code)

    async def links(self, partnership: str | None = None) -> list[ReferralLink]:
        found = [
            link
            for link in self._state.links.values()
            if partnership is None or link.partnership == partnership
        ]
        return sorted(found, key=lambda link: (link.created_at, link.code))

    async def add_invite(
        self, code_hash: str, coach: str, partnership: str, now: datetime, expires_at: datetime
    ) -> None:
        if code_hash in self._state.invites:
            raise ValueError("invitation exists")
        self._state.invites[code_hash] = PersonalInvite(
            code_hash, coach, partnership, to_utc(now), to_utc(expires_at)
        )

    async def open_invite(
        self, code_hash: str, person: PersonId, now: datetime
    ) -> PersonalInvite | None:
        invite = self._state.invites.get(code_hash)
        if invite is None or not _usable(invite, now):
            return None
        if invite.opened_by is not None:
            return invite if invite.opened_by == person else None
        opened = replace(invite, opened_by=person, opened_at=to_utc(now))
        self._state.invites[code_hash] = opened
        return opened

    async def opened_invite(self, person: PersonId, now: datetime) -> PersonalInvite | None:
        mine = [
            i
            for i in self._state.invites.values()
            if i.opened_by == person and _usable(i, now) and i.opened_at is not None
        ]
        mine.sort(key=lambda i: (i.opened_at or i.created_at, i.code_hash))
        return mine[-1] if mine else None

    async def use_invite(self, code_hash: str, now: datetime) -> bool:
        invite = self._state.invites.get(code_hash)
        if invite is None or invite.used_at is not None:
            return False
        self._state.invites[code_hash] = replace(invite, used_at=to_utc(now))
        return True

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
    ) -> int:
        arrival_id = self._state.next_id
        self._state.next_id += 1
        self._state.arrivals[arrival_id] = Arrival(
            arrival_id, person, kind, partnership, source, link_code, coach, to_utc(now)
        )
        return arrival_id

    async def latest_arrival(self, person: PersonId) -> Arrival | None:
        mine = await self.arrivals_of(person)
        return mine[-1] if mine else None

    async def arrivals_of(self, person: PersonId) -> list[Arrival]:
        return [a for _, a in sorted(self._state.arrivals.items()) if a.person == person]

    async def mark_submitted(self, arrival_id: int, now: datetime, case_id: str | None) -> None:
        arrival = self._state.arrivals.get(arrival_id)
        if arrival is None:
            return
        self._state.arrivals[arrival_id] = replace(
            arrival,
            submitted_at=arrival.submitted_at or to_utc(now),
            case_id=case_id if case_id is not None else arrival.case_id,
            case_made=arrival.case_made or case_id is not None,
        )

    async def source_counts(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        partnership: str | None = None,
    ) -> list[SourceCount]:
        chosen = [
            a
            for a in self._state.arrivals.values()
            if (since is None or a.arrived_at >= to_utc(since))
            and (until is None or a.arrived_at < to_utc(until))
            and (partnership is None or a.partnership == partnership)
        ]
        return counts_of(chosen)

    async def erase(self, person: PersonId) -> int:
        changed = 0
        for key, arrival in list(self._state.arrivals.items()):
            if arrival.person == person:
                self._state.arrivals[key] = replace(arrival, person=None, case_id=None)
                changed += 1
        for code_hash, invite in list(self._state.invites.items()):
            if invite.opened_by == person:
                self._state.invites[code_hash] = replace(invite, opened_by=None)
                changed += 1
        return changed

    async def purge(self, arrived_before: datetime, expired_before: datetime) -> int:
        changed = 0
        for key, arrival in list(self._state.arrivals.items()):
            if arrival.arrived_at < to_utc(arrived_before) and (
                arrival.person is not None or arrival.case_id is not None
            ):
                self._state.arrivals[key] = replace(arrival, person=None, case_id=None)
                changed += 1
        for code_hash, invite in list(self._state.invites.items()):
            if invite.expires_at < to_utc(expired_before):
                del self._state.invites[code_hash]
                changed += 1
        return changed


MEMORY_ADAPTERS.register(REFERRALS_KEY, lambda c: MemoryReferrals(c.state.part(ReferralState)))
