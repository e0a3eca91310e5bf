"""The relay's files and the VDAB handovers: one contract for memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows.ids import CoachId, PartnershipId, PersonId
from flows.session import JsonValue
from storage.case_team import CaseTeamPart
from storage.case_team_port import CASE_TEAM_KEY
from storage.handovers import HandoverPart
from storage.handovers_port import HANDOVERS_KEY
from storage.ports import RetentionPolicy, Storage
from storage.relay_files import RelayFilePart
from storage.relay_files_port import RELAY_FILES_KEY, NewRelayFile
from tests.storage.conftest import Backend, backend, postgres_database, postgres_server

__all__ = ["backend", "postgres_database", "postgres_server"]

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
SAM = PersonId("tg:4242")
ANNA = PersonId("tg:4343")
P = PartnershipId("boest-your-future")
PHOTO = b"\xff\xd8\xff\xe0 not really a photo \x00\x01"


async def test_files_are_kept_with_their_case_and_go_with_it(backend: Backend) -> None:
    storage: Storage = await backend.open()
    async with storage.transaction() as tx:
        sams = await tx.cases.create(SAM, P, "24062", "nl", {"name": "Sam"}, T0)
        annas = await tx.cases.create(ANNA, P, "24062", "nl", {"name": "Anna"}, T0)
        first = await tx[RELAY_FILES_KEY].add(
            NewRelayFile(sams.id, SAM, "to_coach", "photo", "image/jpeg", PHOTO, "Mijn brief"), T0
        )
        await tx[RELAY_FILES_KEY].add(
            NewRelayFile(sams.id, SAM, "to_young", "document", "application/pdf", b"%PDF-1.4"),
            T0 + timedelta(minutes=1),
        )
        await tx[RELAY_FILES_KEY].add(
            NewRelayFile(annas.id, ANNA, "to_coach", "voice", "audio/ogg", b"OggS"), T0
        )
    # Another client of the same database sees them, bytes and caption as sent.
    other = await backend.open()
    async with other.transaction() as tx:
        found = await tx[RELAY_FILES_KEY].get(first)
        assert found is not None and found.content == PHOTO and found.caption == "Mijn brief"
        assert found.size == len(PHOTO) and found.kind == "photo" and found.case_id == sams.id
        mine = await tx[RELAY_FILES_KEY].of_person(SAM)
        assert [(f.direction, f.kind, f.caption) for f in mine] == [
            ("to_coach", "photo", "Mijn brief"),
            ("to_young", "document", None),
        ]
        exported = await RelayFilePart().export(tx, SAM)
        assert isinstance(exported, list) and len(exported) == 2
        # /wis: only Sam's files.
        assert await RelayFilePart().erase(tx, SAM) == 2
        assert await tx[RELAY_FILES_KEY].of_person(SAM) == []
        assert len(await tx[RELAY_FILES_KEY].of_person(ANNA)) == 1
    # The case's retention removes the case; its files follow.
    async with other.transaction() as tx:
        await tx.cases.close(annas.id, "work", T0)
        assert await tx.cases.purge_closed(T0 + timedelta(days=1)) == 1
        await RelayFilePart().purge_expired(tx, T0 + timedelta(days=400), RetentionPolicy())
        assert await tx[RELAY_FILES_KEY].of_person(ANNA) == []


async def test_a_handover_is_answered_once_then_delivered(backend: Backend) -> None:
    storage: Storage = await backend.open()
    summary: dict[str, JsonValue] = {
        "achieved": [{"domain": "work", "text": "cv klaar"}],
        "goals": "een job",
    }
    async with storage.transaction() as tx:
        case = await tx.cases.create(SAM, P, "24062", "nl", {"name": "Sam"}, T0)
        first = await tx[HANDOVERS_KEY].add(case.id, SAM, CoachId("lotte"), summary, T0)
        assert await tx[HANDOVERS_KEY].answer(first, "changes", T0)
        # Compare-and-set: the first answer wins.
        assert not await tx[HANDOVERS_KEY].answer(first, "agreed", T0)
        second = await tx[HANDOVERS_KEY].add(case.id, SAM, CoachId("lotte"), summary, T0)
        assert await tx[HANDOVERS_KEY].answer(second, "agreed", T0 + timedelta(minutes=5))
        await tx[HANDOVERS_KEY].delivered(second, b"%PDF-1.7 x", "VDAB Leuven", "dashboard", T0)
    async with (await backend.open()).transaction() as tx:
        latest = await tx[HANDOVERS_KEY].latest_of_case(case.id)
        assert latest is not None and latest.id == second and latest.status == "agreed"
        assert latest.summary == summary and latest.pdf == b"%PDF-1.7 x"
        assert latest.contact == "VDAB Leuven" and latest.delivery == "dashboard"
        assert latest.answered_at == T0 + timedelta(minutes=5)
        exported = await HandoverPart().export(tx, SAM)
        assert isinstance(exported, list)
        assert [h["status"] for h in exported if isinstance(h, dict)] == ["changes", "agreed"]
        assert await HandoverPart().erase(tx, SAM) == 2
        assert await tx[HANDOVERS_KEY].of_person(SAM) == []


async def test_only_a_pdf_sent_by_telegram_can_be_marked_as_not_arrived(backend: Backend) -> None:
    storage: Storage = await backend.open()
    async with storage.transaction() as tx:
        case = await tx.cases.create(SAM, P, "24062", "nl", {"name": "Sam"}, T0)
        by_chat = await tx[HANDOVERS_KEY].add(case.id, SAM, CoachId("lotte"), {}, T0)
        on_page = await tx[HANDOVERS_KEY].add(case.id, SAM, CoachId("lotte"), {}, T0)
        # Not delivered yet: nothing to mark.
        assert not await tx[HANDOVERS_KEY].undelivered(by_chat)
        await tx[HANDOVERS_KEY].delivered(by_chat, b"%PDF-1.7 x", "VDAB Leuven", "telegram", T0)
        await tx[HANDOVERS_KEY].delivered(on_page, b"%PDF-1.7 y", "VDAB Leuven", "dashboard", T0)
    async with (await backend.open()).transaction() as tx:
        assert await tx[HANDOVERS_KEY].undelivered(by_chat)
        assert not await tx[HANDOVERS_KEY].undelivered(by_chat)  # once
        assert not await tx[HANDOVERS_KEY].undelivered(on_page)  # it never went by chat
        assert not await tx[HANDOVERS_KEY].undelivered(999)
    async with (await backend.open()).transaction() as tx:
        marked = await tx[HANDOVERS_KEY].get(by_chat)
        kept = await tx[HANDOVERS_KEY].get(on_page)
    assert marked is not None and marked.delivery == "telegram_failed"
    assert marked.pdf == b"%PDF-1.7 x" and marked.contact == "VDAB Leuven"
    assert kept is not None and kept.delivery == "dashboard"


async def test_a_case_team_member_is_in_only_after_yes(backend: Backend) -> None:
    storage: Storage = await backend.open()
    async with storage.transaction() as tx:
        case = await tx.cases.create(SAM, P, "24062", "nl", {"name": "Sam"}, T0)
        sara = await tx[CASE_TEAM_KEY].ask(case.id, SAM, CoachId("sara"), CoachId("lotte"), T0)
        assert [m.status for m in await tx[CASE_TEAM_KEY].of_case(case.id)] == ["asked"]
        # Removing needs an active member; the yes is a compare-and-set.
        assert not await tx[CASE_TEAM_KEY].answer(sara, "removed", T0, expected="active")
        assert await tx[CASE_TEAM_KEY].answer(sara, "active", T0, expected="asked")
        assert not await tx[CASE_TEAM_KEY].answer(sara, "declined", T0, expected="asked")
    async with (await backend.open()).transaction() as tx:
        found = await tx[CASE_TEAM_KEY].get(sara)
        assert found is not None and found.status == "active" and found.asked_by == "lotte"
        assert await tx[CASE_TEAM_KEY].answer(sara, "removed", T0, expected="active")
        exported = await CaseTeamPart().export(tx, SAM)
        assert isinstance(exported, list) and len(exported) == 1
        assert await CaseTeamPart().erase(tx, SAM) == 1
        assert await tx[CASE_TEAM_KEY].of_case(case.id) == []
