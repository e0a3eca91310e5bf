"""Teamwork in the dashboard (issue #15): referral links and their QR posters, a coach's
personal invitation, statistics per source, the case discussion, and the statistics' domain
counts that spare decrypting every case."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import Executable, select

from bot.referral.codes import code_hash
from flows.ids import PersonId
from flows.inputs import ButtonPressed, CommandReceived
from flows.intake.domains import DOMAIN_IDS
from storage.referral import referrals_of
from storage.referral_port import SourceCount
from storage.sql import SqlStorage
from storage.team import TEAM_COUNTED_CASES, TEAM_DOMAIN_COUNTS
from tests.referral.test_cli import decode_svg
from tests.routing2.conftest import local
from tests.team.conftest import A, Team

LINK = re.compile(r"https://t\.me/opstap_test_bot\?start=(r_[A-Za-z0-9_-]+)")
INVITE = re.compile(r"https://t\.me/opstap_test_bot\?start=(i_[A-Za-z0-9_-]+)")


async def _audit_actions(team: Team) -> list[str]:
    async with team.deps.store.transaction() as t:
        user = await t.team.user_by_email("co@a.example")
        assert user is not None
        return [r.action for r in await t.team.audit_rows(user.scope())]


# --- referral links ---------------------------------------------------------------------------


async def test_a_coordinator_makes_a_link_for_their_partnership_and_its_poster_scans(
    team: Team, tmp_path: Path
) -> None:
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    made = await team.post(
        client, "/team/referrals", {"source": "  CLB   Leuven "}, page="/team/referrals"
    )
    assert made.status == 303 and made.headers["Location"] == "/team/referrals?m=link_made"
    async with team.runtime.service.storage.transaction() as tx:
        (link,) = await referrals_of(tx).links()
    # The account's partnership, never a form field; the source as typed, spaces tidied.
    assert (link.partnership, link.source, link.expires_at) == (A, "CLB Leuven", None)

    page = await (await client.get("/team/referrals?m=link_made")).text()
    assert "De link en de QR-code zijn klaar." in page
    assert LINK.findall(page) == [link.code]
    assert f'src="/team/referrals/{link.code}.svg"' in page
    deep_link = f"https://t.me/opstap_test_bot?start={link.code}"

    png = await client.get(f"/team/referrals/{link.code}.png?download=1")
    assert png.status == 200 and png.content_type == "image/png"
    assert png.headers["Content-Disposition"] == f'attachment; filename="{link.code}.png"'
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(await png.read())))
    assert [r.text for r in decoded] == [deep_link]

    svg = await client.get(f"/team/referrals/{link.code}.svg?download=1")
    assert svg.status == 200 and svg.content_type == "image/svg+xml"
    assert "<script" not in await svg.text()
    (tmp_path / "poster.svg").write_text(await svg.text(), encoding="utf-8")
    assert decode_svg(tmp_path / "poster.svg") == [deep_link]
    # The poster's caption names the partnership (as `opstap referral create` writes it).
    assert "Boest" in await svg.text()

    actions = await _audit_actions(team)
    assert {"referral.create", "referral.png", "referral.svg"} <= set(actions)
    # Showing the QR code on the page is no export: no audit row per view of the image.
    before = len(actions)
    assert (await client.get(f"/team/referrals/{link.code}.svg")).status == 200
    assert len(await _audit_actions(team)) == before


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"source": "   "}, "bad_source"),
        ({"source": "x" * 81}, "bad_source"),
        ({"source": "JAC", "days": "0"}, "bad_days"),
        ({"source": "JAC", "days": "veel"}, "bad_days"),
    ],
)
async def test_a_link_needs_a_source_and_sensible_days(
    team: Team, form: dict[str, str], code: str
) -> None:
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    answer = await team.post(client, "/team/referrals", form, page="/team/referrals")
    assert answer.headers["Location"] == f"/team/referrals?m={code}"
    async with team.runtime.service.storage.transaction() as tx:
        assert await referrals_of(tx).links() == []


async def test_a_link_with_days_ends_and_the_list_says_so(team: Team) -> None:
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    await team.post(
        client, "/team/referrals", {"source": "JAC", "days": "7"}, page="/team/referrals"
    )
    async with team.runtime.service.storage.transaction() as tx:
        (link,) = await referrals_of(tx).links(A)
    assert link.expires_at is not None
    assert link.expires_at - link.created_at == timedelta(days=7)
    team.clock.advance(timedelta(days=8))
    client = await team.signed_in("co@a.example")
    assert "verlopen" in await (await client.get("/team/referrals")).text()


async def test_another_partnerships_link_is_not_there(team: Team) -> None:
    await team.user("co@a.example", "coordinator")
    await team.user("ward@b.example", "coordinator", partnership=team.b)
    a = await team.signed_in("co@a.example")
    await team.post(a, "/team/referrals", {"source": "OCMW Leuven"}, page="/team/referrals")
    async with team.runtime.service.storage.transaction() as tx:
        (link,) = await referrals_of(tx).links()
    b = await team.signed_in("ward@b.example")
    assert link.code not in await (await b.get("/team/referrals")).text()
    for suffix in ("png", "svg", "png?download=1"):
        assert (await b.get(f"/team/referrals/{link.code}.{suffix}")).status == 404
    assert (await a.get("/team/referrals/r_doesnotexist.png")).status == 404
    assert (await a.get("/team/referrals/bad%20code.png")).status == 404


async def test_making_a_link_or_an_invitation_needs_the_csrf_token(team: Team) -> None:
    lotte = await team.coach("lotte")
    await team.user("co@a.example", "coordinator", coach=lotte.id)
    client = await team.signed_in("co@a.example")
    token = await team.csrf(client, "/team/referrals")
    for path, form in (("/team/referrals", {"source": "JAC"}), ("/team/invite", {})):
        missing = await client.post(path, data=form, allow_redirects=False)
        wrong = await client.post(path, data={**form, "csrf": "0" * 64}, allow_redirects=False)
        foreign = await client.post(
            path,
            data={**form, "csrf": token},
            headers={"Origin": "https://evil.example"},
            allow_redirects=False,
        )
        assert [r.status for r in (missing, wrong, foreign)] == [403, 403, 403], path
    async with team.runtime.service.storage.transaction() as tx:
        assert await referrals_of(tx).links() == []
        assert (
            await referrals_of(tx).open_invite("0" * 64, PersonId("web:x"), team.clock.now())
            is None
        )
    assert "invite.create" not in await _audit_actions(team)


# --- a coach's personal invitation ------------------------------------------------------------


async def test_a_coach_makes_a_personal_invitation_and_sees_it_once(team: Team) -> None:
    lotte = await team.coach("lotte", person="tg:5001")
    await team.user("lotte@a.example", "coach", coach=lotte.id)
    client = await team.signed_in("lotte@a.example")
    form_page = await (await client.get("/team/invite")).text()
    assert "Nieuwe uitnodiging maken" in form_page and INVITE.search(form_page) is None
    answer = await team.post(client, "/team/invite", page="/team/invite")
    assert answer.status == 200
    page = await answer.text()
    (code,) = INVITE.findall(page)
    assert answer.headers["Cache-Control"] == "no-store"
    # Not on the page again: only its hash is stored.
    assert code not in await (await client.get("/team/invite")).text()
    now = team.clock.now()
    async with team.runtime.service.storage.transaction() as tx:
        referrals = referrals_of(tx)
        invite = await referrals.open_invite(code_hash(code), PersonId("web:young"), now)
        assert invite is not None
        assert (invite.coach, invite.partnership) == (lotte.id, A)
        assert invite.expires_at - invite.created_at == timedelta(days=14)
        # Bound to the first young person who opened it: nobody else can use it.
        assert await referrals.open_invite(code_hash(code), PersonId("web:other"), now) is None
        assert await referrals.use_invite(code_hash(code), now)
        assert not await referrals.use_invite(code_hash(code), now)
    # The coordinators read who made one.
    await team.user("co@a.example", "coordinator")
    assert "invite.create" in await _audit_actions(team)


async def test_an_invitation_from_the_dashboard_connects_the_young_person_to_the_coach(
    team: Team,
) -> None:
    lotte = await team.coach("lotte", person="tg:5001")
    await team.user("lotte@a.example", "coach", coach=lotte.id)
    client = await team.signed_in("lotte@a.example")
    page = await (await team.post(client, "/team/invite", page="/team/invite")).text()
    (code,) = INVITE.findall(page)
    young = PersonId("web:invited")
    service = team.runtime.service
    await service.handle(young, CommandReceived("start", code, team.clock.now()))
    assert any("Lotte van JAC" in t for t in await team.young_messages(str(young)))
    await service.handle(young, ButtonPressed("invite=yes", team.clock.now()))
    async with service.storage.transaction() as tx:
        case = await tx.cases.latest_of(young)
        counts = await referrals_of(tx).source_counts(partnership=A)
    assert case is not None and case.partnership == A
    assert case.coach == lotte.id and case.status == "open"
    assert counts == [SourceCount("invite", "JAC", A, 1, 1, 1)]
    # The code worked once: a second young person gets the normal start.
    other = PersonId("web:other")
    await service.handle(other, CommandReceived("start", code, team.clock.now()))
    assert not any("Lotte van JAC" in t for t in await team.young_messages(str(other)))


async def test_an_account_without_an_active_coach_makes_no_invitation(team: Team) -> None:
    await team.user("co@a.example", "coordinator")  # no coach linked
    client = await team.signed_in("co@a.example")
    answer = await team.post(client, "/team/invite", page="/team/invite")
    assert answer.headers["Location"] == "/team/invite?m=no_coach"
    lotte = await team.coach("lotte")
    await team.user("lotte@a.example", "coach", coach=lotte.id)
    async with team.runtime.service.storage.transaction() as tx:
        await tx.coaches.set_active(lotte.id, False)
    client = await team.signed_in("lotte@a.example")
    answer = await team.post(client, "/team/invite", page="/team/invite")
    assert answer.headers["Location"] == "/team/invite?m=no_coach"


# --- statistics per source --------------------------------------------------------------------


async def _arrivals(team: Team, partnership: str, source: str, started: int, sent: int) -> None:
    now = team.clock.now()
    async with team.runtime.service.storage.transaction() as tx:
        referrals = referrals_of(tx)
        for n in range(started):
            person = PersonId(f"web:{source[:3]}{partnership[:3]}{n}")
            arrival = await referrals.arrive(person, "link", partnership, source, now)
            if n < sent:
                case = await tx.cases.create(person, partnership, "24062", "nl", {}, now)  # type: ignore[arg-type]
                await referrals.mark_submitted(arrival, now, case.id)


async def test_statistics_count_intakes_and_cases_per_source_of_the_partnership(
    team: Team,
) -> None:
    await _arrivals(team, A, "CLB Leuven", started=7, sent=5)
    await _arrivals(team, A, "JAC Leuven", started=2, sent=1)
    await _arrivals(team, team.b, "OCMW Elders", started=9, sent=9)
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    page = await (await client.get("/team/stats")).text()
    table = page[page.index('<table class="sources">') :]
    table = table[: table.index("</table>")]
    assert "<td>CLB Leuven</td><td>link</td><td>7</td><td>5</td><td>5</td>" in table
    # Under OPSTAP_REPORT_MIN_COUNT (5) a count is "<5", as every count on the page.
    assert "<td>JAC Leuven</td><td>link</td><td>&lt;5</td><td>&lt;5</td><td>&lt;5</td>" in table
    assert "OCMW Elders" not in page
    body = await (await client.get("/team/export.csv")).text()
    rows = {(r[1], r[2]): r[3] for r in list(csv.reader(io.StringIO(body)))[1:]}
    assert rows[("source_started", "link:CLB Leuven")] == "7"
    assert rows[("source_intakes", "link:CLB Leuven")] == "5"
    assert rows[("source_cases", "link:JAC Leuven")] == "<5"
    assert not any("OCMW Elders" in key for _, key in rows)


# --- the case discussion ----------------------------------------------------------------------


async def test_the_case_discussion_lists_open_cases_with_their_profiles(team: Team) -> None:
    lotte = await team.coach("lotte")
    await team.coach("noor")
    mine = await team.case("web:one", name="Zarkonia Peeters", offer=False)
    waiting = await team.case("web:two", name="Quintessa Janssens", offer=False)
    closed = await team.case("web:three", name="Oberon Maes", offer=False)
    elsewhere = await team.case("web:four", team.b, name="Xerxes Claes", offer=False)
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(mine.id, lotte.id, team.clock.now())
        await tx.cases.accept(closed.id, lotte.id, team.clock.now())
        await tx.cases.close(closed.id, "work", team.clock.now())
    await team.user("co@a.example", "coordinator")
    await team.user("lotte@a.example", "coach", coach=lotte.id)

    coordinator = await team.signed_in("co@a.example")
    page = await (await coordinator.get("/team/meeting")).text()
    assert f'href="/team/cases/{mine.id}"' in page and f'href="/team/cases/{waiting.id}"' in page
    assert f'/team/cases/{closed.id}"' not in page and f'/team/cases/{elsewhere.id}"' not in page
    # First names only, where the case page shows the name.
    assert "Zarkonia" in page and "Peeters" not in page and "Janssens" not in page
    assert "Oberon" not in page and "Xerxes" not in page
    # The profile: intake ratings of work (1) and money (2), as compact charts.
    assert "Werk en school" in page
    assert '<meter min="0" max="5" low="2.5" high="3.5" optimum="5" value="1">' in page
    assert "<script" not in page and "style=" not in page
    assert "meeting.view" in await _audit_actions(team)

    # A coach sees the cases in her scope; a name only of her own accepted case.
    coach = await team.signed_in("lotte@a.example")
    page = await (await coach.get("/team/meeting")).text()
    assert "Zarkonia" in page
    assert f'href="/team/cases/{waiting.id}"' in page and "Quintessa" not in page


# --- the statistics' domain counts ------------------------------------------------------------


async def _domain_counts(team: Team) -> dict[str, int]:
    table = TEAM_DOMAIN_COUNTS
    rows = await _rows(team, select(table.c.domain, table.c.count).where(table.c.partnership == A))
    return {str(domain): int(count) for domain, count in rows}


async def _rows(team: Team, statement: Executable) -> Sequence[Any]:
    """What the database holds, read as a second client would (tables without a port)."""
    storage = team.runtime.service.storage
    assert isinstance(storage, SqlStorage)
    async with storage.engine.connect() as conn:
        return (await conn.execute(statement)).all()


async def _count(team: Team) -> int:
    async with team.deps.store.transaction() as t:
        return await t.team.count_domains(A, frozenset(DOMAIN_IDS))


async def test_domains_are_counted_once_recounted_when_the_intake_changes_and_kept(
    team: Team,
) -> None:
    one = await team.case("web:one", offer=False)  # work, money
    await team.case("web:two", offer=False, domains=["housing"])
    assert await _count(team) == 2
    assert await _domain_counts(team) == {"work": 1, "money": 1, "housing": 1}
    # Nothing new or changed: nothing is decrypted again.
    assert await _count(team) == 0
    # Sent again with other domains (the handoff's set_intake): counted again, not twice.
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.set_intake(one.id, {**one.intake, "domains": ["work", "housing"]})
    assert await _count(team) == 1
    assert await _domain_counts(team) == {"work": 1, "money": 0, "housing": 2}
    # What was counted is sealed: the database shows no domain of a case.
    marks = await _rows(team, TEAM_COUNTED_CASES.select())
    assert marks and all("housing" not in str(m.domains) for m in marks)
    # The anonymous counts survive an erasure; the case's mark goes with it.
    async with team.runtime.service.storage.transaction() as tx:
        await team.deps.relay.case_erased(tx, PersonId("web:one"))
        for part in team.runtime.service.storage.personal_data_parts:
            await part.erase(tx, PersonId("web:one"))
    marks = await _rows(team, TEAM_COUNTED_CASES.select())
    assert [m.case_id for m in marks] != [] and int(one.id) not in [m.case_id for m in marks]
    assert await _count(team) == 0
    assert await _domain_counts(team) == {"work": 1, "money": 0, "housing": 2}


@pytest.mark.parametrize("team_env", [{"OPSTAP_REPORT_MIN_COUNT": "1"}])
async def test_the_statistics_page_shows_the_counted_domains_and_weeks(team: Team) -> None:
    await team.case("web:one", offer=False)  # Tuesday 24 November: week 48
    await team.case("web:two", offer=False, domains=["work"])
    # Around the start of week 48 in Brussels (Monday 00:00 local is Sunday 23:00 UTC).
    async with team.runtime.service.storage.transaction() as tx:
        for person, moment in (
            ("web:sunday", local(2026, 11, 22, 23, 30)),
            ("web:monday", local(2026, 11, 23, 0, 30)),
            ("web:old", local(2026, 8, 1, 12)),  # before the 12 weeks shown
        ):
            await tx.cases.create(PersonId(person), A, "24062", "nl", {}, moment)
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    page = await (await client.get("/team/stats")).text()
    assert "<tr><td>Werk en school</td><td>2</td></tr>" in page
    body = await (await client.get("/team/export.csv")).text()
    rows = {(r[1], r[2]): r[3] for r in list(csv.reader(io.StringIO(body)))[1:]}
    weeks = {key: n for (metric, key), n in rows.items() if metric == "intakes_per_week"}
    assert len(weeks) == 12 and min(weeks) == "2026-W37" and max(weeks) == "2026-W48"
    assert (weeks["2026-W47"], weeks["2026-W48"]) == ("1", "3")
    assert {n for key, n in weeks.items() if key not in ("2026-W47", "2026-W48")} == {"0"}
    assert rows[("cases", "total")] == "5"
