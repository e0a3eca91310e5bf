"""The dashboard's pages and actions, through HTTP, against the real coach side and storage."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from flows.appointments import AppointmentId
from flows.ids import PersonId
from storage.team import CASE_NOTES
from tests.team.conftest import Team


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


async def test_statistics_and_the_anonymous_csv(team: Team) -> None:
    lotte = await team.coach("lotte")
    one = await team.case("web:one", name="Zarkonia")
    team.clock.advance(timedelta(hours=2))
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(one.id, lotte.id, team.clock.now())
        await tx.cases.add_message(
            one.id, "to_young", "Hallo!", team.clock.now() + timedelta(hours=1), delivered=True
        )
        await tx.cases.close(one.id, "work", team.clock.now() + timedelta(days=1))
        await tx.privacy.add_count("2026-11", "routing.blind_spot.11002")
        await tx.privacy.add_count("2026-11", "routing.blind_spot.11002")
    await team.case("web:two")
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    text = await (await client.get("/team/stats")).text()
    assert "2.0 uur" in text and "3.0 uur" in text
    assert "Antwerpen (11002)" in text
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
