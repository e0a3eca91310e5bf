"""The dashboard's pages and actions, through HTTP, against the real coach side and storage."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from flows.appointments import AppointmentId
from flows.ids import CoachId, PersonId
from storage.team import CASE_NOTES
from tests.team.conftest import A, Team


async def test_the_queue_puts_safety_first_then_unclaimed_then_the_rest(team: Team) -> None:
    lotte = await team.coach("lotte")
    running = await team.case("web:running")
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(running.id, lotte.id, team.clock.now())
    team.clock.advance(timedelta(minutes=5))
    unclaimed = await team.case("web:unclaimed", offer=False)
    team.clock.advance(timedelta(minutes=5))
    flagged = await team.case("web:flagged", offer=False)
    async with team.runtime.service.storage.transaction() as tx:
        await tx.safety.open_or_get(
            PersonId("web:flagged"), "suicide", team.clock.now(), case_id=flagged.id
        )
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    text = await (await client.get("/team/queue")).text()
    order = [text.index(f'href="/team/cases/{c.id}"') for c in (flagged, unclaimed, running)]
    assert order == sorted(order)
    assert "veiligheid" in text
    # Each coach's load: Lotte has one open case.
    assert "Lotte" in text


async def test_a_coach_sees_no_name_or_own_words_before_accepting(team: Team) -> None:
    lotte = await team.coach("lotte", person="tg:5001")
    await team.coach("noor", person="tg:5002")
    case = await team.case("web:young", name="Zarkonia", own_words="Ik zoek werk, Brouwerstraat")
    async with team.runtime.service.storage.transaction() as tx:
        offers = await tx.cases.offers_of(case.id)
    offered_to = offers[-1].coach
    other = "noor" if offered_to == lotte.id else "lotte"
    await team.user("x@a.example", "coach", coach=offered_to)
    await team.user("y@a.example", "coach", coach=other)  # type: ignore[arg-type]
    for email, may_take in (("x@a.example", True), ("y@a.example", False)):
        client = await team.signed_in(email)
        text = await (await client.get(f"/team/cases/{case.id}")).text()
        assert "Zarkonia" not in text and "Brouwerstraat" not in text
        assert "Werk en school" in text and "Kessel-Lo" in text
        # Only the coach it is offered to takes it; a colleague's offer is not theirs to take.
        assert ("Ik neem dit op" in text) is may_take


async def test_accept_note_propose_attendance_close_and_reopen(team: Team) -> None:
    # Lotte has a Telegram chat too: reopening goes back to her only when she can be reached.
    lotte = await team.coach("lotte", person="tg:5001")
    case = await team.case("web:young", name="Sam")
    await team.user("lotte@a.example", "coach", coach=lotte.id)
    client = await team.signed_in("lotte@a.example")
    page = f"/team/cases/{case.id}"

    accepted = await team.post(client, f"{page}/accept", page=page)
    assert accepted.headers["Location"] == f"{page}?m=accepted"
    fresh = await team.get_case(case.id)
    assert (fresh.status, fresh.coach) == ("open", lotte.id)
    assert any("Lotte" in m and "coach" in m for m in await team.young_messages("web:young"))

    noted = await team.post(client, f"{page}/notes", {"text": "Belt liever na 16u"}, page=page)
    assert noted.headers["Location"].endswith("m=noted")
    text = await (await client.get(page)).text()
    assert "Belt liever na 16u" in text
    young = await team.young_messages("web:young")
    assert not any("16u" in m for m in young), "notes stay internal"
    async with team.deps.store.transaction() as t:
        stored = (await t.team._conn.execute(select(CASE_NOTES.c.text))).scalar_one()
    assert stored.startswith("enc:v1:") and "16u" not in stored

    day = (team.clock.now() + timedelta(days=1)).date().isoformat()
    proposed = await team.post(
        client,
        f"{page}/appointments",
        {
            "day1": day,
            "time1": "10:00",
            "place1": "0",
            "day2": day,
            "time2": "14:30",
            "place2": "t",
        },
        page=page,
    )
    assert proposed.headers["Location"].endswith("m=proposed")
    async with team.runtime.service.storage.transaction() as tx:
        appointment = (await tx.appointments.of_case(case.id))[-1]
    assert len(appointment.options) == 2
    assert any("1." in m or "10:00" in m for m in await team.young_messages("web:young"))

    past = await team.post(
        client,
        f"{page}/appointments",
        {"day1": "2020-01-01", "time1": "10:00", "place1": "t"},
        page=page,
    )
    assert past.headers["Location"].endswith("m=refused")

    cancelled = await team.post(
        client, f"{page}/appointments/{appointment.id}/attendance", {"action": "cancel"}, page=page
    )
    assert cancelled.headers["Location"].endswith("m=attendance")
    async with team.runtime.service.storage.transaction() as tx:
        after = await tx.appointments.get(AppointmentId(appointment.id))
    assert after is not None and after.status == "cancelled"

    closed = await team.post(client, f"{page}/close", {"outcome": "referred"}, page=page)
    assert closed.headers["Location"].endswith("m=closed")
    fresh = await team.get_case(case.id)
    assert (fresh.status, fresh.outcome) == ("closed", "referred")

    reopened = await team.post(client, f"{page}/reopen", page=page)
    assert reopened.headers["Location"].endswith("m=reopened")
    assert (await team.get_case(case.id)).status == "open"

    async with team.deps.store.transaction() as t:
        user = await t.team.user_by_email("co@a.example")
        assert user is None
        rows = await t.team.audit_of_cases((case.id,))
    actions = [r.action for r in rows]
    for action in (
        "case.view",
        "case.accept",
        "case.note",
        "appointment.propose",
        "appointment.attendance",
        "case.close",
        "case.reopen",
    ):
        assert action in actions
    assert all(r.actor == "lotte@a.example" and r.address for r in rows)


async def test_a_coordinator_assigns_a_case_to_a_named_coach(team: Team) -> None:
    lotte = await team.coach("lotte", person="tg:5001")
    noor = await team.coach("noor", person="tg:5002")
    case = await team.case("web:young")
    async with team.runtime.service.storage.transaction() as tx:
        first = (await tx.cases.offers_of(case.id))[-1].coach
    target = noor if first == lotte.id else lotte
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    page = f"/team/cases/{case.id}"
    response = await team.post(client, f"{page}/assign", {"coach": target.id}, page=page)
    assert response.headers["Location"].endswith("m=assigned")
    fresh = await team.get_case(case.id)
    assert (fresh.status, fresh.coach) == ("open", target.id)
    async with team.runtime.service.storage.transaction() as tx:
        offers = await tx.cases.offers_of(case.id)
    assert [(o.coach, o.status) for o in offers] == [(first, "withdrawn")]
    assert any(target.first_name in m for m in await team.young_messages("web:young"))
    unknown = await team.post(client, f"{page}/assign", {"coach": "nobody"}, page=page)
    assert unknown.headers["Location"].endswith("m=bad_input")
    async with team.deps.store.transaction() as t:
        assert "case.assign" in [r.action for r in await t.team.audit_of_cases((case.id,))]


async def test_coaches_page_invite_deactivate_absence(team: Team) -> None:
    lotte = await team.coach("lotte")
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    invite = await team.post(client, f"/team/coaches/{lotte.id}/invite", page="/team/coaches")
    text = await invite.text()
    assert invite.status == 200 and "https://t.me/opstap_test_bot?start=c_" in text
    assert invite.headers["Cache-Control"] == "no-store"
    await team.post(client, f"/team/coaches/{lotte.id}/deactivate", page="/team/coaches")
    async with team.runtime.service.storage.transaction() as tx:
        assert (await tx.coaches.get(lotte.id)).active is False  # type: ignore[union-attr]
    await team.post(client, f"/team/coaches/{lotte.id}/reactivate", page="/team/coaches")
    day = (team.clock.now() + timedelta(days=7)).date().isoformat()
    await team.post(
        client, f"/team/coaches/{lotte.id}/absence", {"until": day}, page="/team/coaches"
    )
    async with team.runtime.service.storage.transaction() as tx:
        coach = await tx.coaches.get(lotte.id)
    assert coach is not None and coach.active
    assert coach.is_absent(team.clock.now() + timedelta(days=7))
    assert not coach.is_absent(team.clock.now() + timedelta(days=9))
    await team.post(
        client, f"/team/coaches/{lotte.id}/absence", {"until": ""}, page="/team/coaches"
    )
    async with team.runtime.service.storage.transaction() as tx:
        assert (await tx.coaches.get(lotte.id)).absent_until is None  # type: ignore[union-attr]


@pytest.mark.parametrize("team_env", [{"OPSTAP_REPORT_MIN_COUNT": "1"}])
async def test_statistics_and_the_anonymous_csv(team: Team) -> None:
    # Every count shown (a minimum of 1): the figures themselves; suppression is tested below.
    lotte = await team.coach("lotte")
    one = await team.case("web:one", name="Zarkonia")
    team.clock.advance(timedelta(hours=2))
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(one.id, lotte.id, team.clock.now())
        await tx.cases.add_message(
            one.id, "to_young", "Hallo!", team.clock.now() + timedelta(hours=1), delivered=True
        )
        await tx.cases.close(one.id, "work", team.clock.now() + timedelta(days=1))
        # Blind spots near this partnership (and one near another, not shown here).
        await tx.cases.count_blind_spot("2026-11", "blind_spot", "11002", A)
        await tx.cases.count_blind_spot("2026-11", "blind_spot", "11002", A)
        await tx.cases.count_blind_spot("2026-11", "blind_spot", "23002", team.b)
        # The anonymous monthly report counts are not what the page reads.
        await tx.privacy.add_count("2026-11", "routing.blind_spot.44021", 9)
    await team.case("web:two")
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    text = await (await client.get("/team/stats")).text()
    assert "2.0 uur" in text and "3.0 uur" in text
    assert "Antwerpen (11002)" in text
    assert "23002" not in text and "44021" not in text
    for chart in ("intakes", "domains", "outcomes", "progress"):
        svg = await client.get(f"/team/stats/{chart}.svg")
        assert svg.status == 200 and svg.content_type == "image/svg+xml"
    response = await client.get("/team/export.csv")
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = await response.text()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["partnership", "metric", "key", "value"]
    table = {(r[1], r[2]): r[3] for r in rows[1:]}
    assert table[("cases", "total")] == "2"
    assert table[("outcome", "work")] == "1"
    assert table[("hours_to_acceptance", "median")] == "2"
    assert table[("blind_spot", "11002")] == "2"
    assert ("blind_spot", "23002") not in table and ("blind_spot", "44021") not in table
    assert "Zarkonia" not in body and "web:" not in body and "Hallo" not in body
    async with team.deps.store.transaction() as t:
        user = await t.team.user_by_email("co@a.example")
        assert user is not None
        assert "export.csv" in [r.action for r in await t.team.audit_rows(user.scope())]
    audit = await (await client.get("/team/audit")).text()
    assert "export.csv" in audit


async def test_notes_and_access_are_in_the_young_persons_export_and_erased(team: Team) -> None:
    lotte = await team.coach("lotte")
    case = await team.case("web:young")
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(case.id, lotte.id, team.clock.now())
    await team.user("lotte@a.example", "coach", coach=lotte.id)
    client = await team.signed_in("lotte@a.example")
    page = f"/team/cases/{case.id}"
    await team.post(client, f"{page}/notes", {"text": "Eerste gesprek goed"}, page=page)
    storage = team.runtime.service.storage
    part = next(p for p in storage.personal_data_parts if p.name == "team")
    async with storage.transaction() as tx:
        exported = await part.export(tx, PersonId("web:young"))
    assert isinstance(exported, dict)
    notes, access = exported["notes"], exported["access"]
    assert isinstance(notes, list) and isinstance(access, list)
    assert [n["text"] for n in notes] == ["Eerste gesprek goed"]  # type: ignore[index, call-overload]
    assert {"case.view", "case.note"} <= {a["action"] for a in access}  # type: ignore[index, call-overload]
    async with storage.transaction() as tx:
        for each in storage.personal_data_parts:
            await each.erase(tx, PersonId("web:young"))
    async with team.deps.store.transaction() as t:
        assert await t.team.notes_of_cases((case.id,)) == []
    assert (await client.get(page)).status == 404


async def test_absence_withdraws_offers_and_keeps_new_ones_away(team: Team) -> None:
    lotte = await team.coach("lotte", person="tg:5001")
    noor = await team.coach("noor", person="tg:5002")
    case = await team.case("web:young")
    async with team.runtime.service.storage.transaction() as tx:
        first = (await tx.cases.offers_of(case.id))[-1]
    away = lotte if first.coach == lotte.id else noor
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    day = (team.clock.now() + timedelta(days=3)).date().isoformat()
    await team.post(
        client, f"/team/coaches/{away.id}/absence", {"until": day}, page="/team/coaches"
    )
    async with team.runtime.service.storage.transaction() as tx:
        offers = await tx.cases.offers_of(case.id)
    assert offers[0].status == "withdrawn"
    assert offers[-1].status == "open" and offers[-1].coach != away.id
    later = await team.case("web:later")
    async with team.runtime.service.storage.transaction() as tx:
        assert all(o.coach != away.id for o in await tx.cases.offers_of(later.id))


async def test_a_case_in_the_team_queue_is_taken_from_the_dashboard(team: Team) -> None:
    lotte = await team.coach("lotte")  # no Telegram chat: nobody can be offered the case
    case = await team.case("web:young")
    assert case.status == "escalated"
    await team.user("lotte@a.example", "coach", coach=lotte.id)
    client = await team.signed_in("lotte@a.example")
    text = await (await client.get("/team/queue")).text()
    assert "teamwachtrij" in text and "geëscaleerd" in text
    page = f"/team/cases/{case.id}"
    taken = await team.post(client, f"{page}/accept", page=page)
    assert taken.headers["Location"].endswith("m=accepted")
    fresh = await team.get_case(case.id)
    assert (fresh.status, fresh.coach) == ("open", lotte.id)


async def test_small_counts_are_suppressed_on_screen_in_the_charts_and_in_the_csv(
    team: Team,
) -> None:
    # The default minimum is 5: one accepted case, two intakes, three blind spots near us.
    lotte = await team.coach("lotte")
    one = await team.case("web:one")
    team.clock.advance(timedelta(hours=2))
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(one.id, lotte.id, team.clock.now())
        await tx.cases.close(one.id, "work", team.clock.now() + timedelta(days=1))
        for _ in range(3):
            await tx.cases.count_blind_spot("2026-11", "blind_spot", "11002", A)
        for _ in range(6):
            await tx.cases.count_blind_spot("2026-11", "blind_spot", "24062", A)
    await team.case("web:two")
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")

    body = await (await client.get("/team/export.csv")).text()
    table = {(r[1], r[2]): r[3] for r in list(csv.reader(io.StringIO(body)))[1:]}
    assert table[("cases", "total")] == "<5"
    assert table[("cases", "accepted")] == "<5"
    assert table[("outcome", "work")] == "<5"
    assert table[("blind_spot", "11002")] == "<5"
    assert table[("blind_spot", "24062")] == "6"  # at or above the minimum: shown
    # A median over one case would tell that case's waiting time: left out.
    assert table[("hours_to_acceptance", "median")] == ""
    # A zero singles out nobody and is shown.
    assert table[("appointments", "missed")] == "0"
    assert {v for (metric, _), v in table.items() if metric == "intakes_per_week"} <= {"0", "<5"}
    assert not any(v in ("1", "2", "3", "4") for v in table.values())

    text = await (await client.get("/team/stats")).text()
    assert "&lt;5" in text and "2.0 uur" not in text and "te weinig" in text
    assert "<td>3</td>" not in text and "<td>6</td>" in text
    # The chart draws no bar whose height would tell a suppressed count.
    svg = (await (await client.get("/team/stats/outcomes.svg")).read()).decode()
    assert 'class="rect' not in svg and "Nog geen gegevens" in svg


async def _erase(team: Team, person: str) -> None:
    """What ``/wis`` does (``bot.privacy.PrivacyDesk.erase``): the coach side keeps an
    anonymous trace of each case, then every personal-data part erases."""
    storage = team.runtime.service.storage
    async with storage.transaction() as tx:
        await team.deps.relay.case_erased(tx, PersonId(person))
        for part in storage.personal_data_parts:
            await part.erase(tx, PersonId(person))


async def test_an_erased_case_says_when_it_was_erased_and_nothing_more(team: Team) -> None:
    lotte = await team.coach("lotte")
    await team.coach("noor")
    await team.coach("ward", team.b, role="coordinator")
    taken = await team.case("web:taken", name="Zarkonia")
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(taken.id, lotte.id, team.clock.now())
    waiting = await team.case("web:waiting", offer=False, name="Quilliam")
    await team.user("co@a.example", "coordinator")
    await team.user("lotte@a.example", "coach", coach=lotte.id)
    await team.user("noor@a.example", "coach", coach=CoachId("noor"))
    await team.user("ward@b.example", "coordinator", team.b)
    co = await team.signed_in("co@a.example")
    await co.get(f"/team/cases/{taken.id}")  # seen before: the audit names the case
    await _erase(team, "web:taken")
    await _erase(team, "web:waiting")

    page = await co.get(f"/team/cases/{taken.id}")
    assert page.status == 200
    text = await page.text()
    assert "Gewist op 24-11-2026" in text
    for personal in ("Zarkonia", "Kessel-Lo", "Lotte", "web:taken"):
        assert personal not in text
    queue = await (await co.get("/team/queue")).text()
    assert f"#{taken.id}</a>: gewist op 24-11-2026" in queue
    assert f"#{waiting.id}</a>: gewist op 24-11-2026" in queue
    assert "Zarkonia" not in queue and "Quilliam" not in queue
    # Nothing else of the case answers: no chart, no action.
    assert (await co.get(f"/team/cases/{taken.id}/profile.svg")).status == 404
    page_path = f"/team/cases/{taken.id}"
    note = await team.post(co, f"{page_path}/notes", {"text": "x"}, page="/team/queue")
    assert note.status == 404

    # Scope: the coach whose case it was, and any coach for a case nobody had taken yet.
    lotte_client = await team.signed_in("lotte@a.example")
    assert (await lotte_client.get(f"/team/cases/{taken.id}")).status == 200
    noor = await team.signed_in("noor@a.example")
    assert (await noor.get(f"/team/cases/{taken.id}")).status == 404
    assert (await noor.get(f"/team/cases/{waiting.id}")).status == 200
    assert f"#{taken.id}</a>" not in await (await noor.get("/team/queue")).text()
    # Another partnership's coordinator: the same 404 as for a case that never existed.
    ward = await team.signed_in("ward@b.example")
    assert (await ward.get(f"/team/cases/{taken.id}")).status == 404
    assert "gewist" not in await (await ward.get("/team/queue")).text()
    async with team.deps.store.transaction() as t:
        user = await t.team.user_by_email("co@a.example")
        assert user is not None
        views = [r for r in await t.team.audit_rows(user.scope()) if r.case == taken.id]
    assert [r.action for r in views].count("case.view") >= 2


async def test_the_queue_comes_in_pages_with_safety_and_unclaimed_first(team: Team) -> None:
    from bot.team.views import QUEUE_PAGE

    lotte = await team.coach("lotte", capacity=500)
    running = []
    for n in range(QUEUE_PAGE + 5):
        case = await team.case(f"web:running{n}", offer=False)
        async with team.runtime.service.storage.transaction() as tx:
            await tx.cases.accept(case.id, lotte.id, team.clock.now())
        running.append(case)
    team.clock.advance(timedelta(minutes=5))
    unclaimed = [await team.case(f"web:unclaimed{n}", offer=False) for n in range(3)]
    flagged = running[-1]  # an open safety event puts a running case first
    async with team.runtime.service.storage.transaction() as tx:
        await tx.safety.open_or_get(flagged.person, "suicide", team.clock.now(), case_id=flagged.id)
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")

    first = await (await client.get("/team/queue")).text()
    listed = [int(n) for n in re.findall(r'<a href="/team/cases/(\d+)">#', first)]
    assert listed[0] == int(flagged.id)
    assert listed[1:4] == [int(c.id) for c in unclaimed]
    assert len(listed) == 1 + QUEUE_PAGE
    assert "Pagina 1 van 2" in first and 'href="/team/queue?p=2"' in first
    assert "Veiligheidsmelding: 1 · Zonder coach of geëscaleerd: 3 · Lopend: 54" in first
    second = await (await client.get("/team/queue?p=2")).text()
    rest = [int(n) for n in re.findall(r'<a href="/team/cases/(\d+)">#', second)]
    # The safety event is on every page; together the pages list every open case once.
    assert rest[0] == int(flagged.id)
    everything = listed + rest[1:]
    assert sorted(everything) == sorted(int(c.id) for c in [*running, *unclaimed])
    for bad in ("0", "3", "x", "-1"):
        assert (await client.get(f"/team/queue?p={bad}")).status == 404
