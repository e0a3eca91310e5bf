"""The warm handover to VDAB goes through the outbox (issue #16): the proposal to the young
person, and after their "yes" the PDF for VDAB's chat (a row that names the handover by id:
the PDF itself stays in ``handovers``, encrypted, and is loaded when the row is sent), the
young person's "who will contact you" and the coach's note are written with the change, so a
kill between the commit and the send delays them, never loses them; without a kill each is
sent once. A PDF that VDAB's chat never takes is given up by the outbox: the handover then
says it did not arrive and its coach is told, once. ``/wis`` deletes the unsent PDF row (its
caption names the young person) in the erasure's transaction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal

import pytest

from bot.coach.handover import HANDOVER_VIA
from bot.outbox import CLAIM_LEASE, MAX_ATTEMPTS, body_of, message_of
from bot.privacy import PrivacyDesk
from bot.render import Attachment, Renderer
from bot.service import OutgoingMessage
from flows.ids import PersonId
from flows.session import JsonValue
from flows.text import Verbatim
from storage.handovers_port import HANDOVERS_KEY
from storage.memory import MemoryStorage
from storage.ports import Storage
from tests.bot.fakes import id_translator, killed_at_first_send
from tests.routing2.conftest import YOUNG, Harness, make_harness
from tests.routing2.test_handover import SUMMARY
from tests.routing2.test_relay import accepted, chat

VDAB_CHAT = 7070
VDAB = PersonId(f"tg:{VDAB_CHAT}")
AGREED = "neemt contact met je op"


@dataclass
class Files:
    """Telegram's files and tracked messages over the harness's service (so a kill's hanging
    channel is used for text); ``hang``: sending a file hangs (a kill while sending it)."""

    h: Harness
    hang: bool = False
    # VDAB's chat does not take files: Telegram answers with an error, or the chat blocked us.
    refuse: Literal["error", "blocked"] | None = None
    sending: asyncio.Event = field(default_factory=asyncio.Event)
    files: list[tuple[PersonId, bytes, str]] = field(default_factory=list)
    refused: int = 0

    async def fetch_file(self, file_id: str, limit: int) -> bytes | None:
        return None

    async def deliver_file(
        self, person: PersonId, kind: str, content: bytes, caption: str
    ) -> list[int]:
        if self.hang:
            self.sending.set()
            await asyncio.Event().wait()
        if self.refuse is not None:
            self.refused += 1
            if self.refuse == "error":
                raise RuntimeError("Bad Request: chat not found")
            return []
        self.files.append((person, content, caption))
        return [len(self.files)]

    async def deliver_tracked(self, person: PersonId, message: OutgoingMessage) -> list[int]:
        await self.h.service.deliver(person, [message])
        return [len(self.h.channel.sent)]

    async def delete_message(self, person: PersonId, message_id: int) -> bool:
        return True

    async def replace_text(self, person: PersonId, message_id: int, text: str) -> bool:
        return True


def with_vdab_chat(
    h: Harness, *, hang: bool = False, refuse: Literal["error", "blocked"] | None = None
) -> Files:
    """VDAB's consultant has a Telegram chat in the directory; files go through ``Files``."""
    handoff = h.side.handoff
    directory = handoff.directory
    partnerships = tuple(
        replace(p, vdab=replace(p.vdab, telegram_chat=VDAB_CHAT)) if p.vdab is not None else p
        for p in directory.partnerships
    )
    handoff.directory = replace(directory, partnerships=partnerships)
    files = Files(h, hang=hang, refuse=refuse)
    handoff.chats = files
    return files


async def restart(storage: Storage, *, vdab_chat: bool) -> tuple[Harness, Files | None]:
    again = make_harness(storage)
    files = with_vdab_chat(again) if vdab_chat else None
    await again.service.relay.sweep(everything=True)
    return again, files


async def proposed(storage: Storage) -> tuple[Harness, PersonId]:
    h = make_harness(storage)
    lotte, _ = await accepted(h)
    await h.coach_command(lotte, "overdracht", SUMMARY)
    assert [v for row in h.sent(YOUNG)[-1].buttons for _, v in row] == ["ovd=1:yes", "ovd=1:change"]
    await h.service.relay.flush()
    return h, chat(lotte)


async def killed_while_sending_the_pdf(storage: Storage) -> PersonId:
    """The young person says yes and the process dies while the PDF is on its way to VDAB;
    returns the coach's chat."""
    h, coach = await proposed(storage)
    files = with_vdab_chat(h, hang=True)
    task = asyncio.ensure_future(h.young_presses("ovd=1:yes"))
    await asyncio.wait_for(files.sending.wait(), timeout=10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return coach


async def test_a_kill_after_the_coach_prepares_a_handover_still_asks_the_young_person() -> None:
    storage = MemoryStorage()
    h = make_harness(storage)
    lotte, _ = await accepted(h)
    await h.service.relay.flush()
    await killed_at_first_send(h.service.channels, h.coach_command(lotte, "overdracht", SUMMARY))
    async with storage.transaction() as tx:
        assert (await tx[HANDOVERS_KEY].get(1)) is not None  # committed before the kill

    again, _ = await restart(storage, vdab_chat=False)
    [proposal] = again.sent(YOUNG)
    assert [v for row in proposal.buttons for _, v in row] == ["ovd=1:yes", "ovd=1:change"]
    assert any("De overdracht staat klaar bij" in t for t in again.texts(chat(lotte)))


async def test_a_kill_while_sending_the_pdf_to_vdab_still_delivers_it_and_tells_both() -> None:
    storage = MemoryStorage()
    coach = await killed_while_sending_the_pdf(storage)
    async with storage.transaction() as tx:
        handover = await tx[HANDOVERS_KEY].get(1)
    # Committed before the kill: agreed, with its PDF.
    assert handover is not None and handover.status == "agreed" and handover.pdf is not None
    assert handover.delivery == "telegram"

    again, sent = await restart(storage, vdab_chat=True)
    assert sent is not None
    [(to, pdf, caption)] = sent.files
    assert to == VDAB and pdf == handover.pdf and pdf.startswith(b"%PDF-")
    assert "Warme overdracht van" in caption
    young = again.texts(YOUNG)
    assert len(young) == 1 and AGREED in young[0]
    notes = [t for t in again.texts(coach) if "ging akkoord" in t]
    assert len(notes) == 1 and "via Telegram" in notes[0]


async def test_a_kill_after_the_yes_still_tells_both_when_the_pdf_waits_on_the_dashboard() -> None:
    storage = MemoryStorage()
    h, coach = await proposed(storage)
    await killed_at_first_send(h.service.channels, h.young_presses("ovd=1:yes"))
    async with storage.transaction() as tx:
        handover = await tx[HANDOVERS_KEY].get(1)
    assert handover is not None and handover.delivery == "dashboard"  # committed before the kill

    again, _ = await restart(storage, vdab_chat=False)
    young = again.texts(YOUNG)
    assert len(young) == 1 and AGREED in young[0]
    notes = again.texts(coach)
    assert len(notes) == 1 and "de PDF staat op de dossierpagina" in notes[0]


async def test_a_yes_without_a_kill_sends_each_once_and_leaves_no_row() -> None:
    storage = MemoryStorage()
    h, coach = await proposed(storage)
    files = with_vdab_chat(h)
    before_young, before_coach = len(h.texts(YOUNG)), len(h.texts(coach))
    await h.young_presses("ovd=1:yes")
    await h.service.relay.flush()
    assert [to for to, _, _ in files.files] == [VDAB]
    young = h.texts(YOUNG)[before_young:]
    assert len(young) == 1 and AGREED in young[0]
    assert len(h.texts(coach)) == before_coach + 1
    after, sent = await restart(storage, vdab_chat=True)
    assert sent is not None and sent.files == []
    assert after.sent(YOUNG) == [] and after.sent(coach) == []


async def test_an_erased_handover_leaves_nothing_for_vdab() -> None:
    """The row names the handover; when the handover is gone (``/wis``) the row sends
    nothing: no PDF and no caption alone."""
    storage = MemoryStorage()
    await killed_while_sending_the_pdf(storage)
    async with storage.transaction() as tx:
        assert await tx[HANDOVERS_KEY].erase(YOUNG) == 1

    again, sent = await restart(storage, vdab_chat=True)
    assert sent is not None and sent.files == []
    assert again.sent(VDAB) == []
    async with storage.transaction() as tx:
        assert await tx.outbox.of(VDAB) == []


def test_a_document_row_holds_the_document_by_kind_and_id_only() -> None:
    document = Renderer(id_translator()).team(
        [Verbatim("Warme overdracht")], attachment=Attachment("handover", 3)
    )
    body = body_of(document, via=HANDOVER_VIA)
    assert body["attachment"] == ["handover", 3] and body["via"] == HANDOVER_VIA
    assert message_of(body) == document
    # Anything else is no reference: the message carries none.
    wrongs: list[JsonValue] = [["relay_file", 3], ["handover", "3"], ["handover", True], "x"]
    for wrong in wrongs:
        assert message_of({**body, "attachment": wrong}).attachment is None


async def test_without_its_sender_a_document_row_waits_and_its_caption_never_goes_alone() -> None:
    h = make_harness()
    h.service.relay.senders.pop(HANDOVER_VIA)
    document = h.service.renderer.team(
        [Verbatim("Warme overdracht")], attachment=Attachment("handover", 3)
    )
    async with h.storage.transaction() as tx:
        staged = await h.service.relay.stage_for(
            tx, [(VDAB, document)], via=HANDOVER_VIA, about=None
        )
    await h.service.relay.send_staged(staged)
    await h.service.relay.flush()
    assert h.sent(VDAB) == []
    async with h.storage.transaction() as tx:
        assert [r.id for r in await tx.outbox.of(VDAB)] == [staged.rows[0][2]]


async def sweeps(h: Harness, count: int) -> None:
    """``count`` sweeps of the leftovers, each after the previous one's claim ran out."""
    for _ in range(count):
        h.clock.advance(CLAIM_LEASE + timedelta(seconds=1))
        await h.service.relay.sweep(everything=True)


@pytest.mark.parametrize("refuse", ["error", "blocked"])
async def test_a_pdf_vdab_never_takes_is_marked_on_the_handover_and_its_coach_is_told(
    refuse: Literal["error", "blocked"],
) -> None:
    storage = MemoryStorage()
    h, coach = await proposed(storage)
    files = with_vdab_chat(h, refuse=refuse)
    await h.young_presses("ovd=1:yes")
    await h.service.relay.flush()
    before = len(h.texts(coach))
    # The first try went right after the commit; the sweeps count their tries until the
    # outbox gives up.
    await sweeps(h, MAX_ATTEMPTS - 1)
    async with storage.transaction() as tx:
        assert await tx.outbox.of(VDAB) != []  # not given up yet: one more try
        handover = await tx[HANDOVERS_KEY].get(1)
    assert handover is not None and handover.delivery == "telegram"
    await sweeps(h, 1)
    assert files.files == [] and files.refused == 1 + MAX_ATTEMPTS

    async with storage.transaction() as tx:
        handover = await tx[HANDOVERS_KEY].get(1)
        assert await tx.outbox.of(VDAB) == []
    # The record says the PDF did not arrive; it stays there for the case page.
    assert handover is not None and handover.delivery == "telegram_failed"
    assert handover.pdf is not None and handover.pdf.startswith(b"%PDF-")
    told = h.texts(coach)[before:]
    assert len(told) == 1
    assert "niet aangekomen" in told[0] and "dossierpagina" in told[0]
    assert "Dossier #1" in told[0]
    # Nothing more goes, also not after a restart.
    await h.service.relay.flush()
    again, sent = await restart(storage, vdab_chat=True)
    assert sent is not None and sent.files == []
    assert again.sent(coach) == [] and again.sent(VDAB) == []


async def test_a_give_up_the_feature_cannot_record_still_drops_the_row() -> None:
    """A failing give-up hook rolls back its writes; the row goes all the same (no loop)."""
    storage = MemoryStorage()
    h, coach = await proposed(storage)
    with_vdab_chat(h, refuse="error")

    async def broken(*_: object) -> None:
        raise RuntimeError("the feature's tables are gone")

    h.service.registry.undelivered_hooks[HANDOVER_VIA] = broken
    await h.young_presses("ovd=1:yes")
    await h.service.relay.flush()
    before = len(h.texts(coach))
    await sweeps(h, MAX_ATTEMPTS + 2)
    async with storage.transaction() as tx:
        assert await tx.outbox.of(VDAB) == []
        handover = await tx[HANDOVERS_KEY].get(1)
    assert handover is not None and handover.delivery == "telegram"  # rolled back
    assert h.texts(coach)[before:] == []


async def test_erasure_deletes_the_unsent_pdf_for_vdab_in_its_transaction() -> None:
    """The PDF's row for VDAB's chat carries the young person's first name in its caption:
    ``/wis`` deletes it with everything else, and only the neutral confirmation goes."""
    storage = MemoryStorage()
    await killed_while_sending_the_pdf(storage)
    async with storage.transaction() as tx:
        [row] = await tx.outbox.of(VDAB)
    assert "Warme overdracht van" in str(row.body.get("text"))

    again = make_harness(storage)
    PrivacyDesk(again.service, notifier=again.side.relay).install()
    await again.young_presses("privacy=erase:yes")
    async with storage.transaction() as tx:
        assert await tx.outbox.of(VDAB) == []
        assert await tx.outbox.unsent() == []
    assert len(again.sent(YOUNG)) == 1  # the confirmation, and nothing about the handover
    assert again.sent(VDAB) == []
