"""The case page shows the warm handover to VDAB and offers its PDF to the coordinator."""

from __future__ import annotations

from flows.ids import CoachId
from storage.case_team_port import CASE_TEAM_KEY
from storage.handovers_port import HANDOVERS_KEY
from tests.team.conftest import Team


async def test_the_coordinator_downloads_an_agreed_handover_for_vdab(team: Team) -> None:
    lotte = await team.coach("lotte", person="tg:5001")
    case = await team.case("tg:4242")
    pdf = b"%PDF-1.7 overdracht"
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(case.id, lotte.id, team.clock.now())
        handover = await tx[HANDOVERS_KEY].add(
            case.id, case.person, lotte.id, {"goals": "een job"}, team.clock.now()
        )
        await tx[HANDOVERS_KEY].answer(handover, "agreed", team.clock.now())
        await tx[HANDOVERS_KEY].delivered(
            handover, pdf, "VDAB-jongerenconsulent (placeholder)", "dashboard", team.clock.now()
        )
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    page = await (await client.get(f"/team/cases/{case.id}")).text()
    assert "Overdracht naar VDAB" in page and "akkoord van de jongere" in page
    assert "de coördinator stuurt de PDF naar VDAB-jongerenconsulent (placeholder)" in page
    response = await client.get(f"/team/cases/{case.id}/overdracht.pdf")
    assert response.status == 200 and response.content_type == "application/pdf"
    assert await response.read() == pdf
    async with team.deps.store.transaction() as t:
        actions = [r.action for r in await t.team.audit_of_cases((case.id,))]
    assert "handover.download" in actions

    # Another coach of the partnership, not this case's: no PDF (404, like any unseen case).
    await team.coach("noor", person="tg:5002")
    await team.user("noor@a.example", "coach", coach=CoachId("noor"))
    other = await team.signed_in("noor@a.example")
    assert (await other.get(f"/team/cases/{case.id}/overdracht.pdf")).status == 404


async def test_a_case_team_member_sees_the_case_only_after_the_young_persons_yes(
    team: Team,
) -> None:
    lotte = await team.coach("lotte", person="tg:5001")
    sara = await team.coach("sara", person="tg:5003")
    case = await team.case("tg:4242", name="Zarkonia")
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(case.id, lotte.id, team.clock.now())
        member = await tx[CASE_TEAM_KEY].ask(
            case.id, case.person, sara.id, lotte.id, team.clock.now()
        )
    await team.user("sara@a.example", "coach", coach=CoachId("sara"))
    client = await team.signed_in("sara@a.example")
    # Asked, not yet answered: not hers to see.
    assert (await client.get(f"/team/cases/{case.id}")).status == 404
    async with team.runtime.service.storage.transaction() as tx:
        assert await tx[CASE_TEAM_KEY].answer(member, "active", team.clock.now(), expected="asked")
    page = await client.get(f"/team/cases/{case.id}")
    assert page.status == 200 and "Zarkonia" in await page.text()
    # She looks along; acting on the case stays with its coach and the coordinator.
    assert f'action="/team/cases/{case.id}/close"' not in await page.text()
    # She leaves a note for the team, and the case's coach reads it.
    noted = await team.post(
        client,
        f"/team/cases/{case.id}/notes",
        {"text": "Huurachterstand besproken met CAW"},
        page=f"/team/cases/{case.id}",
    )
    assert noted.status == 303 and "refused" not in noted.headers["Location"]
    await team.user("lotte@a.example", "coach", coach=CoachId("lotte"))
    coach = await team.signed_in("lotte@a.example")
    assert (
        "Huurachterstand besproken met CAW"
        in await (await coach.get(f"/team/cases/{case.id}")).text()
    )
    async with team.runtime.service.storage.transaction() as tx:
        assert await tx[CASE_TEAM_KEY].answer(
            member, "removed", team.clock.now(), expected="active"
        )
    assert (await client.get(f"/team/cases/{case.id}")).status == 404


async def test_a_pdf_that_did_not_reach_vdabs_chat_is_shown_as_not_arrived(team: Team) -> None:
    """Sent by Telegram, but VDAB's chat never took it (the outbox gave it up): the case page
    says so and offers the PDF to pass on another way, never "sent"."""
    lotte = await team.coach("lotte", person="tg:5001")
    case = await team.case("tg:4242")
    pdf = b"%PDF-1.7 overdracht"
    contact = "VDAB-jongerenconsulent (placeholder)"
    async with team.runtime.service.storage.transaction() as tx:
        await tx.cases.accept(case.id, lotte.id, team.clock.now())
        handover = await tx[HANDOVERS_KEY].add(
            case.id, case.person, lotte.id, {"goals": "een job"}, team.clock.now()
        )
        await tx[HANDOVERS_KEY].answer(handover, "agreed", team.clock.now())
        await tx[HANDOVERS_KEY].delivered(handover, pdf, contact, "telegram", team.clock.now())
    await team.user("co@a.example", "coordinator")
    client = await team.signed_in("co@a.example")
    page = await (await client.get(f"/team/cases/{case.id}")).text()
    assert f"Via Telegram naar {contact} gestuurd" in page

    async with team.runtime.service.storage.transaction() as tx:
        assert await tx[HANDOVERS_KEY].undelivered(handover)
        # Once: a second give-up of the same handover changes nothing.
        assert not await tx[HANDOVERS_KEY].undelivered(handover)
        found = await tx[HANDOVERS_KEY].get(handover)
    assert found is not None and found.delivery == "telegram_failed" and found.pdf == pdf
    page = await (await client.get(f"/team/cases/{case.id}")).text()
    assert "Via Telegram naar" not in page
    assert f"De PDF is niet aangekomen bij {contact}" in page
    assert "Stuur de PDF op een andere manier door" in page
    response = await client.get(f"/team/cases/{case.id}/overdracht.pdf")
    assert response.status == 200 and await response.read() == pdf
