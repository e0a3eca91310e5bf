"""The referral port (:class:`storage.referral.ReferralRepository`) on memory, SQLite and
PostgreSQL, and its personal-data part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.ids import PersonId
from storage.ports import RetentionPolicy, Storage
from storage.referral import ReferralPart, referrals_of
from storage.referral_port import ReferralLink, SourceCount, check_code

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ANNA = PersonId("tg:1")
BEN = PersonId("web:ben")


async def test_a_link_is_stored_once_and_read_back(storage: Storage) -> None:
    link = ReferralLink("r_abcdefgh", "teamwork-halle-asse", "OCMW Halle", T0, T0 + timedelta(1))
    async with storage.transaction() as tx:
        await referrals_of(tx).add_link(link)
    async with storage.transaction() as tx:
        repo = referrals_of(tx)
        assert await repo.link("r_abcdefgh") == link
        assert await repo.link("r_other") is None
        assert await repo.links("teamwork-halle-asse") == [link]
        assert await repo.links("dash") == []
        with pytest.raises(ValueError):
            await repo.add_link(link)
    assert link.valid_at(T0) and not link.valid_at(T0 + timedelta(days=1))


async def test_an_invitation_belongs_to_whoever_opens_it_first_and_works_once(
    storage: Storage,
) -> None:
    until = T0 + timedelta(days=14)
    async with storage.transaction() as tx:
        await referrals_of(tx).add_invite("h1", "sara-1a2b", "boest-your-future", T0, until)
    async with storage.transaction() as tx:
        repo = referrals_of(tx)
        opened = await repo.open_invite("h1", ANNA, T0 + timedelta(hours=1))
        assert opened is not None and opened.opened_by == ANNA and opened.coach == "sara-1a2b"
        # Someone else cannot take it over; the one who opened it can open it again.
        assert await repo.open_invite("h1", BEN, T0 + timedelta(hours=2)) is None
        assert await repo.open_invite("h1", ANNA, T0 + timedelta(hours=2)) is not None
        assert (await repo.opened_invite(ANNA, T0 + timedelta(hours=2))) == opened
        assert await repo.opened_invite(BEN, T0) is None
        assert await repo.use_invite("h1", T0 + timedelta(hours=3))
        assert not await repo.use_invite("h1", T0 + timedelta(hours=3))
        assert await repo.open_invite("h1", ANNA, T0 + timedelta(hours=4)) is None
        assert await repo.opened_invite(ANNA, T0 + timedelta(hours=4)) is None


async def test_an_invitation_expires(storage: Storage) -> None:
    until = T0 + timedelta(days=14)
    async with storage.transaction() as tx:
        await referrals_of(tx).add_invite("h2", "sara-1a2b", "boest-your-future", T0, until)
    async with storage.transaction() as tx:
        repo = referrals_of(tx)
        assert await repo.open_invite("h2", ANNA, until) is None
        assert await repo.open_invite("h2", ANNA, until - timedelta(seconds=1)) is not None
        assert await repo.opened_invite(ANNA, until) is None
        assert await repo.open_invite("unknown", ANNA, T0) is None


async def test_intakes_and_cases_are_counted_per_source_and_survive_erasure(
    storage: Storage,
) -> None:
    async with storage.transaction() as tx:
        repo = referrals_of(tx)
        first = await repo.arrive(ANNA, "link", "dash", "OCMW Diest", T0, link_code="r_x1234567")
        await repo.arrive(BEN, "link", "dash", "OCMW Diest", T0 + timedelta(minutes=1))
        third = await repo.arrive(BEN, "invite", "dash", "CAW", T0, coach="sara-1a2b")
        await repo.mark_submitted(first, T0 + timedelta(hours=1), "7")
        await repo.mark_submitted(third, T0, None)
    async with storage.transaction() as tx:
        repo = referrals_of(tx)
        latest = await repo.latest_arrival(BEN)
        assert latest is not None and latest.kind == "invite"
        [anna] = await repo.arrivals_of(ANNA)
        assert anna.case_id == "7" and anna.case_made and anna.link_code == "r_x1234567"
        assert anna.submitted_at == T0 + timedelta(hours=1)
        expected = [
            SourceCount("invite", "CAW", "dash", 1, 1, 0),
            SourceCount("link", "OCMW Diest", "dash", 2, 1, 1),
        ]
        assert await repo.source_counts() == expected
        assert await repo.source_counts(since=T0 + timedelta(seconds=30)) == [
            SourceCount("link", "OCMW Diest", "dash", 1, 0, 0)
        ]
        # One partnership's sources only (the team dashboard's scope).
        await repo.arrive(BEN, "link", "leuven", "JAC", T0)
        assert await repo.source_counts(partnership="dash") == expected
        assert await repo.source_counts(partnership="leuven") == [
            SourceCount("link", "JAC", "leuven", 1, 0, 0)
        ]
        # /wis: nothing points to Anna any more, the count stays.
        assert await ReferralPart().export(tx, ANNA) != []
        assert await ReferralPart().erase(tx, ANNA) == 1
        assert await repo.arrivals_of(ANNA) == []
        assert await ReferralPart().export(tx, ANNA) == []
        assert await repo.source_counts(partnership="dash") == expected


async def test_retention_anonymises_old_arrivals_and_drops_dead_invitations(
    storage: Storage,
) -> None:
    async with storage.transaction() as tx:
        repo = referrals_of(tx)
        await repo.arrive(ANNA, "link", "dash", "OCMW Diest", T0)
        await repo.add_invite("h3", "sara-1a2b", "dash", T0, T0 + timedelta(days=14))
        await repo.open_invite("h3", ANNA, T0)
    later = T0 + timedelta(days=400)
    async with storage.transaction() as tx:
        assert await ReferralPart().purge_expired(tx, later, RetentionPolicy()) == 2
        assert await referrals_of(tx).arrivals_of(ANNA) == []
        assert [c.arrivals for c in await referrals_of(tx).source_counts()] == [1]


async def test_a_rolled_back_transaction_keeps_nothing(storage: Storage) -> None:
    with pytest.raises(RuntimeError):
        async with storage.transaction() as tx:
            await referrals_of(tx).arrive(ANNA, "link", "dash", "x", T0)
            raise RuntimeError("roll back")
    async with storage.transaction() as tx:
        assert await referrals_of(tx).arrivals_of(ANNA) == []


def test_codes_are_telegram_payloads() -> None:
    assert check_code("r_AZaz09_-") == "r_AZaz09_-"
    for bad in ("", "a" * 65, "r abc", "r/abc", "ré"):
        with pytest.raises(ValueError):
            check_code(bad)
