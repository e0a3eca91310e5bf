"""End to end through the fake Bot API: files in the relay and the warm handover to VDAB.

The runtime is built as ``opstap run`` builds it (the routing end-to-end test's fixture, with
encryption at rest on); a coach is invited and bound by their deep link; a young person goes
through the real intake in Telegram.

* Files: before a coach accepts, a photo gets a kind "send it once a coach is connected" and is
  not kept. After acceptance a photo (EXIF stripped), a PDF and a voice note go to the coach and
  a PDF and a photo come back, through getFile and sendPhoto / sendDocument / sendVoice; a file
  that is too big or of another type gets a kind message. They are stored encrypted with the
  case, exported by ``/mijngegevens``, and after ``/wis`` gone from the database and from the
  coach's chat.
* Handover: the coach prepares it with ``/overdracht``; the young person asks for a change,
  then agrees; the PDF is produced (its text read back with pypdf), recorded with the case and,
  as the directory has no Telegram chat for VDAB here, waits on the dashboard: the coach is told
  so and the young person hears who will contact them. With a chat in the directory it goes to
  VDAB by Telegram.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.coach.relay import Relay
from bot.runtime import Runtime
from bot.settings import Settings
from storage.crypto import Keyring
from storage.handovers import HANDOVERS
from storage.handovers_port import HANDOVERS_KEY
from storage.relay_files import RELAY_FILES
from storage.sql import open_storage
from tests.e2e import test_routing_e2e as routing_e2e
from tests.e2e.journeys import LOTTE, YOUNG, Chat, buttons_of, case_offered, coach_joins
from tests.fakes.bot_api import FakeBotApi

VDAB_CHAT = 7007
# The routing end-to-end test's runtime (as `opstap run` builds it), as a fixture here too.
running = routing_e2e.running


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x0110] = "SecretPhoneModel"  # Model
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    data = out.getvalue()
    assert b"SecretPhoneMaker" in data
    return data


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
COACH_PDF = b"%PDF-1.4\n% afsprakenblad\n%%EOF\n"
VOICE = b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead\x01\x01" + b"\x00" * 40


def relay_of(runtime: Runtime) -> Relay:
    for hook in runtime.service.registry.after_flow:
        owner = getattr(hook, "__self__", None)
        if isinstance(owner, Relay):
            return owner
    raise AssertionError("no relay")


async def rows(settings: Settings, table: Any) -> list[dict[str, Any]]:
    assert settings.secret_key is not None
    storage = await open_storage(settings.database_url, Keyring.parse(settings.secret_key))
    try:
        async with storage.engine.connect() as conn:
            result = await conn.execute(select(table))
            return [dict(row) for row in result.mappings()]
    finally:
        await storage.close()


async def test_files_travel_both_ways_and_are_gone_after_wis(
    fake_bot_api: FakeBotApi, running: tuple[Runtime, FrozenClock, Settings]
) -> None:
    fake = fake_bot_api
    _, clock, settings = running
    lotte, sam, _ = await case_offered(fake, settings, clock)

    # Before a coach accepted: a kind message, nothing kept.
    before = sam.seen
    fake.user_sends_photo(YOUNG, data=jpeg_with_exif(), first_name="Sam")
    await sam.expect(before, contains="zodra een coach je vraag heeft aangenomen")
    assert await rows(settings, RELAY_FILES) == []

    await lotte.taps("case=1:accept", contains="Dossier #1 is van jou")

    # Young person -> coach: a photo with a caption, EXIF gone.
    before = sam.seen
    fake.user_sends_photo(YOUNG, "Mijn brief van het OCMW", data=jpeg_with_exif(), first_name="Sam")
    await sam.expect(before, contains="Doorgegeven aan Lotte")
    photo = await lotte.expect(0, contains="Sam stuurt een foto.")
    assert photo.kind == "photo" and photo.method == "sendPhoto"
    assert photo.plain_text == "📁 Dossier #1 · Sam stuurt een foto.\nMijn brief van het OCMW"
    assert photo.document is not None
    received = photo.document.data
    assert received.startswith(b"\xff\xd8\xff") and b"SecretPhone" not in received
    with Image.open(io.BytesIO(received)) as shown:
        assert shown.size == (64, 48) and not dict(shown.getexif())

    # Young person -> coach: a PDF, passed on as it is.
    before = sam.seen
    fake.user_sends_document(YOUNG, PDF, file_name="schulden-brief.pdf", first_name="Sam")
    await sam.expect(before, contains="Doorgegeven aan Lotte")
    pdf = await lotte.expect(0, contains="Sam stuurt een PDF.")
    assert pdf.document is not None and pdf.document.data == PDF
    # The young person's file name never reaches the coach.
    assert pdf.document.filename == "document.pdf"

    # And a voice note.
    before = sam.seen
    fake.user_sends_voice(YOUNG, data=VOICE, first_name="Sam")
    await sam.expect(before, contains="Doorgegeven aan Lotte")
    voice = await lotte.expect(0, contains="Sam stuurt een spraakbericht.")
    assert voice.kind == "voice" and voice.document is not None and voice.document.data == VOICE

    # Too big, and a type we do not pass on: a kind message, nothing kept.
    before = sam.seen
    fake.user_sends_document(YOUNG, PDF + b"0" * (10 * 1024 * 1024), first_name="Sam")
    await sam.expect(before, contains="Dit bestand is te groot")
    before = sam.seen
    fake.user_sends_document(
        YOUNG,
        b"PK\x03\x04 word document",
        file_name="cv.docx",
        mime_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        first_name="Sam",
    )
    await sam.expect(before, contains="Dit soort bestand kan ik niet doorgeven")
    # Telegram refuses the download: said honestly, not called "too big".
    fake.fail_next(
        "getFile",
        400,
        description="Bad Request: wrong file_id or the file is temporarily unavailable",
    )
    before = sam.seen
    fake.user_sends_document(YOUNG, PDF, first_name="Sam")
    await sam.expect(before, contains="Je bestand kwam niet goed door")

    # Coach -> young person: a PDF (to the current case) and a photo as a reply to the card.
    before, before_lotte = sam.seen, lotte.seen
    fake.user_sends_document(LOTTE, COACH_PDF, first_name="Lotte T.")
    back = await sam.expect(before, contains="Lotte stuurt je een PDF.")
    assert back.document is not None and back.document.data == COACH_PDF
    await lotte.expect(before_lotte, contains="doorgestuurd naar Sam")
    card = next(m for m in fake.messages(LOTTE) if "alle gegevens" in m.plain_text)
    before = sam.seen
    fake.user_sends_photo(LOTTE, data=jpeg_with_exif(), first_name="Lotte T.", reply_to=card)
    back_photo = await sam.expect(before, contains="Lotte stuurt je een foto.")
    assert back_photo.document is not None and b"SecretPhone" not in back_photo.document.data

    # Stored with the case, encrypted at rest.
    stored = await rows(settings, RELAY_FILES)
    assert [(r["direction"], r["kind"]) for r in stored] == [
        ("to_coach", "photo"),
        ("to_coach", "document"),
        ("to_coach", "voice"),
        ("to_young", "document"),
        ("to_young", "photo"),
    ]
    assert all(r["content"].startswith("enc:v1:") for r in stored)
    assert stored[0]["caption"].startswith("enc:v1:")

    # /mijngegevens exports them (the file itself, base64).
    sent_before = len(fake.calls("sendDocument"))
    fake.user_sends_command(YOUNG, "/mijngegevens", first_name="Sam")
    # The PDF comes first and takes a while on a busy machine: wait for the JSON itself.
    await fake.wait_for_call(
        "sendDocument",
        lambda call: any((f.filename or "").endswith(".json") for f in call.files.values()),
        after=sent_before,
    )
    [export] = [d for d in fake.documents(YOUNG) if d.filename and d.filename.endswith(".json")]
    exported = json.loads(export.data)["data"]["relay_files"]
    assert [e["kind"] for e in exported] == ["photo", "document", "voice", "document", "photo"]
    assert exported[3]["content_base64"] and exported[0]["caption"] == "Mijn brief van het OCMW"

    # /wis: gone from the database and from the coach's chat.
    file_messages = {
        m.message_id for m in fake.messages(LOTTE) if m.kind in ("photo", "document", "voice")
    }
    assert len(file_messages) == 3
    await sam.command("/wis", button="privacy=erase:yes")
    await sam.taps("privacy=erase:yes")
    await fake.wait_idle(0.5)
    assert await rows(settings, RELAY_FILES) == []
    left = [m for m in fake.messages(LOTTE) if m.message_id in file_messages]
    assert left and all(m.deleted for m in left)

    assert fake.unanswered_callback_queries() == []
    fake.assert_no_violations()


async def test_the_handover_is_agreed_then_rendered_and_delivered(
    fake_bot_api: FakeBotApi, running: tuple[Runtime, FrozenClock, Settings]
) -> None:
    fake = fake_bot_api
    _, clock, settings = running
    lotte, sam, _ = await case_offered(fake, settings, clock)
    await lotte.taps("case=1:accept", contains="Dossier #1 is van jou")

    # Without text: an example. A line that fits no part is quoted back, not guessed.
    await lotte.command("/overdracht", contains="Zo maak je een overdracht naar VDAB")
    await lotte.command("/overdracht", "1\nWerk: cv gemaakt\nHobby: voetbal", contains="Hobby")
    await lotte.command("/overdracht", "1\nWerk: cv gemaakt", contains="Er ontbreekt nog iets")
    assert not any("cv gemaakt" in t for t in sam.texts())

    summary = (
        "1\n"
        "Werk: sollicitatietraining gevolgd, cv klaar\n"
        "Geld: budgetbegeleiding bij het OCMW loopt\n"
        "Doelen: een job in de logistiek\n"
        "Stappen: inschrijven bij VDAB, eerste gesprek in januari\n"
        "Contact: liefst via WhatsApp, na 16 uur"
    )
    before = sam.seen
    await lotte.command("/overdracht", summary, contains="De overdracht staat klaar bij Sam")
    proposal = await sam.expect(before, button="ovd=1:yes")
    assert "Lotte schreef op wat jullie samen deden" in proposal.plain_text
    assert "• Werk en school: sollicitatietraining gevolgd, cv klaar" in proposal.plain_text
    assert "• Geld: budgetbegeleiding bij het OCMW loopt" in proposal.plain_text
    assert "Jouw doelen:\neen job in de logistiek" in proposal.plain_text
    assert buttons_of(proposal) == ["ovd=1:yes", "ovd=1:change"]

    # Sam asks for a change; what Sam types next reaches Lotte through the relay.
    await sam.taps("ovd=1:change", contains="Typ hier wat er anders moet")
    await lotte.expect(0, contains="Sam wil iets veranderen aan de overdracht")
    await sam.says("Liever bellen dan WhatsApp", contains="Doorgegeven aan Lotte")
    await lotte.expect(0, contains="Liever bellen dan WhatsApp")
    assert [r["status"] for r in await rows(settings, HANDOVERS)] == ["changes"]

    # Lotte sends it again; Sam agrees.
    before = sam.seen
    await lotte.command(
        "/overdracht",
        summary.replace("liefst via WhatsApp", "liefst bellen"),
        contains="De overdracht staat klaar",
    )
    await sam.expect(before, button="ovd=2:yes")
    agreed = await sam.taps(
        "ovd=2:yes", contains="VDAB-jongerenconsulent Boest! Your Future (placeholder) neemt"
    )
    assert "Dank je!" in agreed.plain_text
    # No Telegram chat for VDAB in the directory: honestly on the dashboard.
    note = await lotte.expect(0, contains="Sam ging akkoord")
    assert "de PDF staat op de dossierpagina van het dashboard" in note.plain_text
    await fake.wait_idle(0.2)

    stored = await rows(settings, HANDOVERS)
    assert [(r["status"], r["delivery"]) for r in stored] == [
        ("changes", None),
        ("agreed", "dashboard"),
    ]
    assert stored[1]["summary"].startswith("enc:v1:") and stored[1]["pdf"].startswith("enc:v1:")
    assert stored[1]["contact"] == "VDAB-jongerenconsulent Boest! Your Future (placeholder)"

    # The PDF, read back.
    assert settings.secret_key is not None
    storage = await open_storage(settings.database_url, Keyring.parse(settings.secret_key))
    try:
        async with storage.transaction() as tx:
            handover = await tx[HANDOVERS_KEY].get(2)
    finally:
        await storage.close()
    assert handover is not None and handover.pdf is not None
    text = " ".join(
        (page.extract_text() or "") for page in PdfReader(io.BytesIO(handover.pdf)).pages
    )
    for expected in (
        "Warme overdracht naar VDAB",
        "Jongere: Sam",
        "Lotte (JAC Leuven), Boest! Your Future",
        "sollicitatietraining gevolgd",
        "een job in de logistiek",
        "liefst bellen",
    ):
        assert expected in " ".join(text.split()), (expected, text)
    assert "WhatsApp" not in text

    assert fake.unanswered_callback_queries() == []
    fake.assert_no_violations()


async def test_with_a_chat_in_the_directory_the_handover_goes_to_vdab_by_telegram(
    fake_bot_api: FakeBotApi, running: tuple[Runtime, FrozenClock, Settings]
) -> None:
    fake = fake_bot_api
    runtime, clock, settings = running
    handoff = relay_of(runtime).handoff
    directory = handoff.directory
    partnerships = tuple(
        replace(p, vdab=replace(p.vdab, telegram_chat=VDAB_CHAT))
        if p.id == "boest-your-future" and p.vdab is not None
        else p
        for p in directory.partnerships
    )
    handoff.directory = replace(directory, partnerships=partnerships)
    lotte, sam, _ = await case_offered(fake, settings, clock)
    await lotte.taps("case=1:accept", contains="Dossier #1 is van jou")
    before = sam.seen
    await lotte.command(
        "/overdracht",
        "1\nBereikt: stage afgerond\nDoelen: werken\nStappen: VDAB\nContact: chat",
        contains="staat klaar",
    )
    await sam.expect(before, button="ovd=1:yes")
    await sam.taps("ovd=1:yes", contains="neemt contact met je op")
    note = await lotte.expect(0, contains="Sam ging akkoord")
    assert "via Telegram naar VDAB-jongerenconsulent Boest! Your Future" in note.plain_text
    await fake.wait_idle(0.2)
    [sent] = fake.documents(VDAB_CHAT)
    assert sent.data.startswith(b"%PDF-") and sent.caption is not None
    assert "Warme overdracht van Boest! Your Future: Sam" in sent.caption
    reader = PdfReader(io.BytesIO(sent.data))
    assert "stage afgerond" in " ".join((reader.pages[0].extract_text() or "").split())
    fake.assert_no_violations()


SARA = 5003


async def test_a_colleague_joins_only_after_the_young_person_agrees_and_can_be_removed(
    fake_bot_api: FakeBotApi, running: tuple[Runtime, FrozenClock, Settings]
) -> None:
    fake = fake_bot_api
    _, clock, settings = running
    lotte, sam, _ = await case_offered(fake, settings, clock)
    await lotte.taps("case=1:accept", contains="Dossier #1 is van jou")
    sara = Chat(fake, SARA, "Sara V.", "sara_private")
    await coach_joins(
        sara, settings, clock, "Sara", "--domains", "housing", "--organisation", "CAW Oost-Brabant"
    )

    # Lotte asks; Sam is asked first, in plain words. Sara cannot write before a yes.
    before = sam.seen
    await lotte.command("/meekijken", "1 Sara", contains="Ik vraag Sam of Sara")
    question = await sam.expect(before, button="ctm=1:yes")
    assert question.plain_text.startswith("Mag Sara van CAW Oost-Brabant ook meekijken?")
    await sara.command("/case", "1 Dag Sam", contains="bestaat niet of is niet van jou")
    # Sam says no: still nothing for Sara.
    await sam.taps("ctm=1:no", contains="Sara kijkt niet mee")
    await lotte.expect(0, contains="Sam wil liever niet dat Sara (CAW Oost-Brabant) meekijkt")
    await sara.command("/case", "1 Dag Sam", contains="bestaat niet of is niet van jou")
    assert not any("Dag Sam" in t for t in sam.texts())

    # Asked again, Sam agrees: Sara gets the case and writes under her name and organisation.
    before = sam.seen
    await lotte.command("/meekijken", "1 Sara", contains="Ik vraag Sam")
    await sam.expect(before, button="ctm=2:yes")
    await sam.taps("ctm=2:yes", contains="Sara van CAW Oost-Brabant kijkt nu mee")
    await lotte.expect(0, contains="Sam vindt het goed: Sara (CAW Oost-Brabant) kijkt mee")
    await sara.expect(0, contains="Lotte vroeg je om mee te kijken en Sam gaf toestemming")
    await sara.expect(0, contains="alle gegevens")
    before = sam.seen
    await sara.command("/case", "1 Dag Sam, ik help je met je huur.", contains="doorgestuurd")
    relayed = await sam.expect(before, contains="ik help je met je huur")
    assert relayed.plain_text.startswith("💬 Sara (CAW Oost-Brabant) schrijft:")
    # What Sam writes reaches the coach and the colleague.
    await sam.says("Dank je, Sara!", contains="Doorgegeven aan Lotte")
    await lotte.expect(0, contains="Sam schrijft:\nDank je, Sara!")
    await sara.expect(0, contains="Sam schrijft:\nDank je, Sara!")
    # And so does a photo; Sara can send one back, under her name and organisation.
    before = sam.seen
    fake.user_sends_photo(YOUNG, "Mijn huurcontract", data=jpeg_with_exif(), first_name="Sam")
    await sam.expect(before, contains="Doorgegeven aan Lotte")
    await lotte.expect(0, contains="Sam stuurt een foto.\nMijn huurcontract")
    await sara.expect(0, contains="Sam stuurt een foto.\nMijn huurcontract")
    before = sam.seen
    reply_to = next(m for m in fake.messages(SARA) if "Dossier #1" in m.plain_text)
    fake.user_sends_document(SARA, COACH_PDF, first_name="Sara V.", reply_to=reply_to)
    await sam.expect(before, contains="Sara (CAW Oost-Brabant) stuurt je een PDF.")

    # Sam removes her later; she can no longer write.
    await sam.command("/meekijken", button="ctm=2:remove")
    await sam.taps("ctm=2:remove", contains="Sara kijkt niet meer mee")
    await sara.expect(0, contains="De jongere wil niet meer dat je meekijkt")
    await lotte.expect(0, contains="Sam wil niet meer dat Sara (CAW Oost-Brabant) meekijkt")
    await sara.command("/case", "1 Nog iets", contains="bestaat niet of is niet van jou")
    assert not any("Nog iets" in t for t in sam.texts())
    await sam.command("/meekijken", contains="Er kijkt niemand mee")

    assert fake.unanswered_callback_queries() == []
    fake.assert_no_violations()
