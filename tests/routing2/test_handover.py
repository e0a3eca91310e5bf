"""The warm handover to VDAB and the relay's file checks, in the coach-side harness."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

from bot.coach.files import sniff, strip_metadata
from storage.handovers_port import HANDOVERS_KEY
from tests.routing2.conftest import YOUNG, Harness
from tests.routing2.test_relay import accepted, chat

SUMMARY = (
    "1\n"
    "Werk: cv klaar\n"
    "School: inschrijving avondschool\n"
    "Bereikt: komt op elke afspraak\n"
    "Doelen: een job\n"
    "Stappen: VDAB\n"
    "Contact: bellen"
)


async def test_only_the_newest_version_can_be_agreed_to(harness: Harness) -> None:
    h = harness
    lotte, _ = await accepted(h)
    await h.coach_command(lotte, "overdracht", SUMMARY)
    proposal = h.sent(YOUNG)[-1]
    assert [v for row in proposal.buttons for _, v in row] == ["ovd=1:yes", "ovd=1:change"]
    # "Werk" and "School" both name the work domain; "Bereikt" is general.
    assert "• Werk en school: cv klaar" in proposal.text
    assert "• Werk en school: inschrijving avondschool" in proposal.text
    assert "• Algemeen: komt op elke afspraak" in proposal.text
    await h.coach_command(lotte, "overdracht", SUMMARY.replace("bellen", "mailen"))
    # The first version's yes is stale now: nothing goes to VDAB.
    await h.young_presses("ovd=1:yes")
    assert h.last_text(YOUNG) == "Deze vraag is al beantwoord."
    async with h.storage.transaction() as tx:
        first = await tx[HANDOVERS_KEY].get(1)
    assert first is not None and first.status == "changes" and first.pdf is None
    await h.young_presses("ovd=2:yes")
    assert "neemt contact met je op" in h.last_text(YOUNG)
    assert "de PDF staat op de dossierpagina" in h.last_text(chat(lotte))
    # A second press changes nothing.
    await h.young_presses("ovd=2:change")
    assert h.last_text(YOUNG) == "Deze vraag is al beantwoord."
    async with h.storage.transaction() as tx:
        second = await tx[HANDOVERS_KEY].get(2)
    assert second is not None and second.status == "agreed" and second.delivery == "dashboard"
    assert second.pdf is not None and second.pdf.startswith(b"%PDF-")
    assert second.summary["contact"] == "mailen"


async def test_another_coach_cannot_prepare_a_handover(harness: Harness) -> None:
    h = harness
    await accepted(h)
    other = await h.add_coach("Noor", chat=5002)
    await h.coach_command(other, "overdracht", SUMMARY)
    assert h.last_text(chat(other)) == "Dossier #1 bestaat niet of is niet van jou."
    assert not any("cv klaar" in t for t in h.texts(YOUNG))


async def test_the_handover_reaches_a_young_person_in_their_language(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work",))
    await h.submit(language="en")
    await h.coach_presses(lotte, "case=1:accept")
    await h.coach_command(lotte, "overdracht", SUMMARY)
    text = h.last_text(YOUNG)
    assert "What you achieved:" in text and "cv klaar" in text
    assert "May Lotte pass this on to VDAB?" in text


def test_photos_lose_their_metadata_and_types_come_from_the_bytes() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretMaker"
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "SecretName")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (1, 2, 3, 128)).save(out, "PNG", pnginfo=info, exif=exif.tobytes())
    png = out.getvalue()
    assert sniff(png) == ("photo", "image/png")
    clean = strip_metadata("image/png", png)
    assert clean is not None and b"SecretName" not in clean and b"SecretMaker" not in clean
    out = io.BytesIO()
    Image.new("CMYK", (8, 8)).save(out, "JPEG", exif=exif.tobytes(), icc_profile=b"FAKEICC" * 9)
    clean = strip_metadata("image/jpeg", out.getvalue())
    assert clean is not None and b"SecretMaker" not in clean and b"FAKEICC" not in clean
    # A file that claims to be a photo but is not one is refused, not passed on.
    assert strip_metadata("image/jpeg", b"\xff\xd8\xff not a jpeg") is None
    assert sniff(b"PK\x03\x04 a word file") is None
    assert sniff(b"%PDF-1.7") == ("document", "application/pdf")
