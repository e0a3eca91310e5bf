"""In-memory adapters of :class:`storage.relay_files.RelayFileRepository` and
:class:`storage.handovers.HandoverRepository`, for fast service tests.

Rules of this module (those of :mod:`storage.memory` apply): the same contract as
:mod:`storage.relay_files_sql` and :mod:`storage.handovers_sql`. With a keyring the content is
kept sealed, as a database would hold it. A file or handover whose case is gone is not found
(the database's ``ON DELETE CASCADE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.ids import CaseId, CoachId, PersonId
from flows.session import JsonValue
from storage.assembly import MEMORY_ADAPTERS
from storage.case_team_port import CaseMember
from storage.codec import to_utc
from storage.crypto import Keyring, seal, seal_bytes, unseal, unseal_bytes
from storage.handovers import PDF_AAD, SUMMARY_AAD
from storage.handovers_port import HANDOVERS_KEY, HandoverDelivery, HandoverRecord, HandoverStatus
from storage.handovers_sql import decode_summary, encode_summary
from storage.relay_files import CAPTION_AAD, CONTENT_AAD
from storage.relay_files_port import RELAY_FILES_KEY, NewRelayFile, RelayFile
from storage.routing_memory import RoutingState


@dataclass(frozen=True)
class _File:
    file: RelayFile  # content and caption empty here; sealed beside it
    content: str
    caption: str | None


@dataclass(frozen=True)
class _Handover:
    record: HandoverRecord  # summary and pdf empty here; sealed beside it
    summary: str
    pdf: str | None


@dataclass
class RelayFilesState:
    files: dict[int, _File] = field(default_factory=dict)
    handovers: dict[int, _Handover] = field(default_factory=dict)
    next_file: int = 1
    next_handover: int = 1
    # The case teams (storage.case_team_memory).
    members: dict[int, CaseMember] = field(default_factory=dict)
    next_member: int = 1

    def copy(self) -> RelayFilesState:
        return RelayFilesState(
            dict(self.files),
            dict(self.handovers),
            self.next_file,
            self.next_handover,
            dict(self.members),
            self.next_member,
        )


def _case_exists(routing: RoutingState, case_id: CaseId) -> bool:
    return case_id.isdigit() and int(case_id) in routing.cases


class MemoryRelayFiles:
    def __init__(
        self, state: RelayFilesState, routing: RoutingState, keyring: Keyring | None = None
    ) -> None:
        self._state = state
        self._routing = routing
        self._keyring = keyring

    def _out(self, stored: _File) -> RelayFile:
        caption = (
            None if stored.caption is None else unseal(self._keyring, stored.caption, CAPTION_AAD)
        )
        return replace(
            stored.file,
            content=unseal_bytes(self._keyring, stored.content, CONTENT_AAD),
            caption=caption,
        )

    def _live(self) -> list[_File]:
        return [
            s
            for _, s in sorted(self._state.files.items())
            if _case_exists(self._routing, s.file.case_id)
        ]

    async def add(self, new: NewRelayFile, now: datetime) -> int:
        if not _case_exists(self._routing, new.case_id):
            raise ValueError("no such case")
        file_id = self._state.next_file
        self._state.next_file += 1
        record = RelayFile(
            id=file_id,
            case_id=new.case_id,
            person=new.person,
            direction=new.direction,
            kind=new.kind,
            mime=new.mime,
            size=len(new.content),
            content=b"",
            caption=None,
            at=to_utc(now),
        )
        self._state.files[file_id] = _File(
            record,
            seal_bytes(self._keyring, new.content, CONTENT_AAD),
            None if new.caption is None else seal(self._keyring, new.caption, CAPTION_AAD),
        )
        return file_id

    async def get(self, file_id: int) -> RelayFile | None:
        found = next((s for s in self._live() if s.file.id == file_id), None)
        return None if found is None else self._out(found)

    async def of_person(self, person: PersonId) -> list[RelayFile]:
        return [self._out(s) for s in self._live() if s.file.person == person]

    async def erase(self, person: PersonId) -> int:
        gone = [i for i, s in self._state.files.items() if s.file.person == person]
        for file_id in gone:
            del self._state.files[file_id]
        return len(gone)

    async def purge_orphans(self) -> int:
        gone = [
            i
            for i, s in self._state.files.items()
            if not _case_exists(self._routing, s.file.case_id)
        ]
        for file_id in gone:
            del self._state.files[file_id]
        return len(gone)


class MemoryHandovers:
    def __init__(
        self, state: RelayFilesState, routing: RoutingState, keyring: Keyring | None = None
    ) -> None:
        self._state = state
        self._routing = routing
        self._keyring = keyring

    def _out(self, stored: _Handover) -> HandoverRecord:
        pdf = None if stored.pdf is None else unseal_bytes(self._keyring, stored.pdf, PDF_AAD)
        return replace(
            stored.record,
            summary=decode_summary(unseal(self._keyring, stored.summary, SUMMARY_AAD)),
            pdf=pdf,
        )

    def _live(self) -> list[_Handover]:
        return [
            s
            for _, s in sorted(self._state.handovers.items())
            if _case_exists(self._routing, s.record.case_id)
        ]

    async def add(
        self,
        case_id: CaseId,
        person: PersonId,
        coach: CoachId,
        summary: dict[str, JsonValue],
        now: datetime,
    ) -> int:
        if not _case_exists(self._routing, case_id):
            raise ValueError("no such case")
        handover_id = self._state.next_handover
        self._state.next_handover += 1
        record = HandoverRecord(
            id=handover_id,
            case_id=case_id,
            person=person,
            coach=coach,
            status="proposed",
            summary={},
            created_at=to_utc(now),
        )
        sealed = seal(self._keyring, encode_summary(summary), SUMMARY_AAD)
        self._state.handovers[handover_id] = _Handover(record, sealed, None)
        return handover_id

    async def get(self, handover_id: int) -> HandoverRecord | None:
        found = next((s for s in self._live() if s.record.id == handover_id), None)
        return None if found is None else self._out(found)

    async def latest_of_case(self, case_id: CaseId) -> HandoverRecord | None:
        found = [s for s in self._live() if s.record.case_id == case_id]
        return self._out(found[-1]) if found else None

    async def answer(self, handover_id: int, status: HandoverStatus, now: datetime) -> bool:
        stored = self._state.handovers.get(handover_id)
        if stored is None or stored.record.status != "proposed":
            return False
        record = replace(stored.record, status=status, answered_at=to_utc(now))
        self._state.handovers[handover_id] = replace(stored, record=record)
        return True

    async def delivered(
        self,
        handover_id: int,
        pdf: bytes,
        contact: str,
        delivery: HandoverDelivery,
        now: datetime,
    ) -> None:
        stored = self._state.handovers.get(handover_id)
        if stored is None:
            return
        record = replace(
            stored.record, contact=contact, delivery=delivery, delivered_at=to_utc(now)
        )
        self._state.handovers[handover_id] = replace(
            stored, record=record, pdf=seal_bytes(self._keyring, pdf, PDF_AAD)
        )

    async def undelivered(self, handover_id: int) -> bool:
        stored = self._state.handovers.get(handover_id)
        if stored is None or stored.record.delivery != "telegram":
            return False
        record = replace(stored.record, delivery="telegram_failed")
        self._state.handovers[handover_id] = replace(stored, record=record)
        return True

    async def of_person(self, person: PersonId) -> list[HandoverRecord]:
        return [self._out(s) for s in self._live() if s.record.person == person]

    async def erase(self, person: PersonId) -> int:
        gone = [i for i, s in self._state.handovers.items() if s.record.person == person]
        for handover_id in gone:
            del self._state.handovers[handover_id]
        return len(gone)

    async def purge_orphans(self) -> int:
        gone = [
            i
            for i, s in self._state.handovers.items()
            if not _case_exists(self._routing, s.record.case_id)
        ]
        for handover_id in gone:
            del self._state.handovers[handover_id]
        return len(gone)


MEMORY_ADAPTERS.register(
    RELAY_FILES_KEY,
    lambda c: MemoryRelayFiles(
        c.state.part(RelayFilesState), c.state.part(RoutingState), c.keyring
    ),
)
MEMORY_ADAPTERS.register(
    HANDOVERS_KEY,
    lambda c: MemoryHandovers(c.state.part(RelayFilesState), c.state.part(RoutingState), c.keyring),
)
