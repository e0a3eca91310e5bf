"""Files in the relay: photos, PDFs and voice notes between a young person and their coach.

Rules of this module:

* Only once a coach accepted the case (status ``open`` with a coach). Before that the young
  person hears, kindly, that the file can be sent once a coach is connected: the file is not
  kept, so nothing is lost without them knowing. After closing they get the way back, like text.
* Allowed: JPEG and PNG photos, PDF documents, Ogg/Opus voice notes, at most
  :data:`MAX_FILE_BYTES`. The type is read from the bytes themselves, not from what the
  sender's app claims; anything else gets a kind message saying what can be sent.
* Photos are decoded and written again by Pillow without their EXIF, XMP, ICC or text chunks
  (where and when a photo was taken, the phone), after turning them upright. PDFs and voice
  notes are passed on as they are (no library here rewrites them safely).
* A file is stored with its case (``relay_files``, encrypted) before it is sent on, and it is
  exported by ``/mijngegevens`` and erased by ``/wis`` and the case's retention like the
  relay's messages. The bot's copies in a coach chat are remembered like relay messages, so
  ``/wis`` deletes them there too.
* Files travel through the channel (Telegram's getFile and sendPhoto / sendDocument /
  sendVoice): :class:`FileChats`. The web chat cannot show files yet: the coach is told so.
* Logs hold case and coach ids, a kind and a size at most: never a file's content, caption or
  name.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.coach.case_team import active_members, member_label
from bot.coach.handoff import Handoff, Outbox
from bot.service import OutgoingMessage
from flows.ids import CaseId, PersonId
from flows.inputs import MediaReceived
from flows.session import Session
from flows.text import Param, Verbatim, msg
from storage.relay_files_port import RELAY_FILES_KEY, NewRelayFile, RelayFileKind
from storage.routing_port import CaseRecord, CoachRecord

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_MB = MAX_FILE_BYTES // (1024 * 1024)
# Telegram's captions end at 1024 characters; the header takes the rest.
MAX_CAPTION_TEXT = 800
# Kinds of media a person can send that may be a file we pass on.
_FILE_MEDIA = ("photo", "document", "voice")
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# What the coach reads (concise Dutch, coach.*) for what a young person would read (relay.*).
_FOR_COACH = {
    "relay.file.kind": "coach.file.kind",
    "relay.file.too_big": "coach.file.too_big",
    "relay.file.unavailable": "coach.file.unavailable",
    "relay.file.failed": "coach.file.failed",
}
_FROM_YOUNG = {
    "photo": "coach.file.from_young.photo",
    "document": "coach.file.from_young.document",
    "voice": "coach.file.from_young.voice",
}


@runtime_checkable
class FileChats(Protocol):
    """A channel that can fetch what a person sent and send files (Telegram)."""

    async def fetch_file(self, file_id: str, limit: int) -> bytes | None: ...

    async def deliver_file(
        self, person: PersonId, kind: str, content: bytes, caption: str
    ) -> list[int]: ...


def sniff(data: bytes) -> tuple[RelayFileKind, str] | None:
    """The kind and type of a file from its first bytes; ``None`` when we do not pass it on."""
    if data.startswith(b"\xff\xd8\xff"):
        return "photo", "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "photo", "image/png"
    if data.startswith(b"%PDF-"):
        return "document", "application/pdf"
    if data.startswith(b"OggS") and b"OpusHead" in data[:128]:
        return "voice", "audio/ogg"
    return None


def strip_metadata(mime: str, data: bytes) -> bytes | None:
    """A photo without its metadata (see the module rules); other files as they are.
    ``None`` when a photo cannot be read."""
    target = _PIL_FORMATS.get(mime)
    if target is None:
        return data
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            if target == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            out = io.BytesIO()
            # Without exif=, icc_profile= or pnginfo= Pillow writes none of them.
            upright.save(out, target, quality=90) if target == "JPEG" else upright.save(out, target)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        log.info("photo not readable error=%s", type(error).__name__)
        return None


def _caption(text: str | None) -> str | None:
    cleaned = (text or "").strip()
    return cleaned[:MAX_CAPTION_TEXT] or None


@dataclass
class RelayFiles:
    """The relay's file handling; :class:`bot.coach.relay.Relay` and the coach desk call it."""

    handoff: Handoff

    @property
    def chats(self) -> FileChats | None:
        chats = self.handoff.chats
        return chats if isinstance(chats, FileChats) else None

    def _say(self, language: str, message_id: str, **params: Param) -> OutgoingMessage:
        return self.handoff.say(language, msg(message_id, **params))

    async def _fetch(self, event: MediaReceived) -> tuple[str, bytes] | str:
        """The checked file as (mime, bytes), or the id of the message saying why not."""
        chats = self.chats
        if event.kind not in _FILE_MEDIA or event.file is None:
            return "relay.file.kind"
        if chats is None:
            return "relay.file.unavailable"
        if event.file.size is not None and event.file.size > MAX_FILE_BYTES:
            return "relay.file.too_big"
        try:
            data = await chats.fetch_file(event.file.id, MAX_FILE_BYTES)
        except Exception as error:
            log.info("file not fetched error=%s", type(error).__name__)
            return "relay.file.failed"
        if data is None:
            return "relay.file.too_big"
        found = sniff(data)
        if found is None:
            return "relay.file.kind"
        _, mime = found
        clean = strip_metadata(mime, data)
        if clean is None:
            return "relay.file.kind"
        return mime, clean

    # --- young person -> coach ------------------------------------------------------------

    async def from_young(
        self, case: CaseRecord, session: Session, event: MediaReceived
    ) -> list[OutgoingMessage]:
        language = session.language
        now = self.handoff.service.clock.now()
        async with self.handoff.service.storage.transaction() as tx:
            coach = await tx.coaches.get(case.coach) if case.coach is not None else None
        if case.status != "open" or coach is None or coach.person is None:
            # Not kept: they hear when it can be sent (see the module rules).
            return [self._say(language, "relay.file.wait")]
        checked = await self._fetch(event)
        if isinstance(checked, str):
            return [self._say(language, checked, limit=MAX_MB)]
        mime, content = checked
        kind = _kind_of(mime)
        caption = _caption(event.caption)
        async with self.handoff.service.storage.transaction() as tx:
            current = await tx.cases.get(case.id)
            if current is None or current.status != "open" or current.coach != coach.id:
                return [self._say(language, "relay.file.wait")]
            await tx[RELAY_FILES_KEY].add(
                NewRelayFile(case.id, case.person, "to_coach", kind, mime, content, caption),
                now,
            )
            # The case team reads along (bot.coach.case_team), with the young person's yes.
            team = [m for m in await active_members(tx, case.id) if m.person is not None]
        log.info("relay file to coach case=%s coach=%s kind=%s", case.id, coach.id, kind)
        writer = self.handoff.writer
        header = writer.text(
            _FROM_YOUNG[kind],
            case=case.id,
            name=Verbatim(writer.young_name(case.intake)),
        )
        for reader in (coach, *team):
            assert reader.person is not None
            await self._send(reader.person, case.id, reader, kind, content, header, caption)
        return [
            self.handoff.say(language, msg("routing.relayed", coach=Verbatim(coach.first_name)))
        ]

    # --- coach -> young person ------------------------------------------------------------

    async def from_coach(self, coach: CoachRecord, case_id: CaseId, event: MediaReceived) -> Outbox:
        me = coach.person
        if me is None:
            return []
        writer = self.handoff.writer
        async with self.handoff.service.storage.transaction() as tx:
            case = await tx.cases.get(case_id)
            member = (
                case is not None
                and case.coach != coach.id
                and any(m.id == coach.id for m in await active_members(tx, case.id))
            )
        if case is None or (case.coach != coach.id and not member):
            return [(me, writer.say("coach.case.unknown", case=case_id))]
        if case.status != "open":
            return [(me, writer.say("coach.case.closed", case=case_id))]
        name = Verbatim(writer.young_name(case.intake))
        if not case.person.startswith("tg:"):
            text = writer.text("coach.file.web_young", case=case.id, name=name)
            return [(me, writer.team(text))]
        checked = await self._fetch(event)
        if isinstance(checked, str):
            text = writer.text(_FOR_COACH[checked], case=case.id, limit=MAX_MB)
            return [(me, writer.team(text))]
        mime, content = checked
        kind = _kind_of(mime)
        caption = _caption(event.caption)
        now = self.handoff.service.clock.now()
        async with self.handoff.service.storage.transaction() as tx:
            await tx[RELAY_FILES_KEY].add(
                NewRelayFile(case.id, case.person, "to_young", kind, mime, content, caption),
                now,
            )
            if coach.current_case != case.id:
                await tx.coaches.set_current_case(coach.id, case.id)
        log.info("relay file to young person case=%s coach=%s kind=%s", case.id, coach.id, kind)
        who = member_label(coach) if member else coach.first_name
        header = self.handoff.service.translator.render(
            msg(f"relay.file.from_coach.{kind}", coach=Verbatim(who)), case.language
        )
        await self._send(case.person, None, None, kind, content, header, caption)
        return [(me, writer.say("coach.sent", case=case.id, name=name))]

    async def _send(
        self,
        person: PersonId,
        case_id: CaseId | None,
        coach: CoachRecord | None,
        kind: RelayFileKind,
        content: bytes,
        header: str,
        caption: str | None,
    ) -> None:
        """Send after the commit; a coach's copy is remembered (``/wis`` removes it)."""
        chats = self.chats
        if chats is None:
            return
        text = header if caption is None else f"{header}\n{caption}"
        try:
            ids = await chats.deliver_file(person, kind, content, text)
        except Exception as error:
            log.error("relay file not delivered error=%s", type(error).__name__)
            return
        if case_id is None or coach is None or not ids:
            return
        now = self.handoff.service.clock.now()
        try:
            async with self.handoff.service.storage.transaction() as tx:
                for message_id in ids:
                    await tx.cases.add_coach_message(
                        case_id, coach.id, person, message_id, "relay", now
                    )
        except Exception as error:
            log.error("relay file not remembered case=%s error=%s", case_id, type(error).__name__)


def _kind_of(mime: str) -> RelayFileKind:
    if mime.startswith("image/"):
        return "photo"
    if mime == "application/pdf":
        return "document"
    return "voice"
