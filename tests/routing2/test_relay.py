"""The relay: accept, messages both ways, closing and reopening with the same coach."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.coach.relay import REOPEN
from bot.inbound import Inbound
from flows.ids import CaseId, PersonId
from flows.inputs import CommandReceived, MediaReceived, TextReceived
from storage.crypto import Keyring
from storage.migrate import upgrade
from storage.routing import CASES, RELAY_MESSAGES
from storage.routing_port import CoachRecord
from storage.sql import open_storage
from tests.routing2.conftest import YOUNG, Harness, make_harness


def chat(coach: CoachRecord) -> PersonId:
    assert coach.person is not None
    return coach.person


async def accepted(
    h: Harness, organisation: str = "CAW Oost-Brabant"
) -> tuple[CoachRecord, CaseId]:
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work",), organisation=organisation)
    await h.submit()
    case = h.case_of_card(lotte)
    await h.coach_presses(lotte, f"case={case}:accept")
    return lotte, case


async def test_the_young_person_learns_who_their_coach_is(harness: Harness) -> None:
    h = harness
    await accepted(h, organisation="JAC Leuven")
    assert h.texts(YOUNG)[-1] == (
        "Goed nieuws! Lotte van JAC Leuven is nu je coach.\n\n"
        "Lotte stuurt je hier snel een bericht. Je kan ook nu al iets typen. Ik geef het door."
    )
    case = await h.case()
    assert case is not None and case.status == "open" and case.coach == "lotte"


async def test_the_next_step_follows_the_contact_preference() -> None:
    h = make_harness()
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.submit(contact="phone", contact_phone="+32470123456", language="en")
    await h.coach_presses(lotte, "case=1:accept")
    assert h.texts(YOUNG)[-1].endswith(
        "Lotte will call you soon. You can also type a message for Lotte here."
    )


async def test_messages_go_both_ways_and_are_kept(harness: Harness) -> None:
    h = harness
    lotte, case = await accepted(h)
    me = chat(lotte)
    # Coach -> young person, by replying to the card.
    card = h.card_of(lotte).text
    assert await h.coach_says(lotte, "Dag Sam, ik ben Lotte. Past dinsdag?", reply_to=card)
    assert h.texts(YOUNG)[-1] == "💬 Lotte schrijft:\nDag Sam, ik ben Lotte. Past dinsdag?"
    assert h.last_text(me) == "📁 Dossier #1 · ✓ doorgestuurd naar Sam."
    # Young person -> coach.
    await h.young_says("Ja, dinsdag past!")
    assert h.last_text(me) == "📁 Dossier #1 · Sam schrijft:\nJa, dinsdag past!"
    assert h.texts(YOUNG)[-1] == "✓ Doorgegeven aan Lotte."
    # Coach -> young person with /case N and text.
    await h.coach_command(lotte, "case", f"{case} Tot dinsdag om 14 uur.")
    assert h.texts(YOUNG)[-1] == "💬 Lotte schrijft:\nTot dinsdag om 14 uur."
    # And plain text goes to the current case (set by accepting it).
    await h.coach_says(lotte, "Neem je identiteitskaart mee.")
    assert h.texts(YOUNG)[-1].endswith("Neem je identiteitskaart mee.")
    async with h.storage.transaction() as tx:
        kept = await tx.cases.messages_of(case)
    assert [(m.direction, m.text) for m in kept] == [
        ("to_young", "Dag Sam, ik ben Lotte. Past dinsdag?"),
        ("to_coach", "Ja, dinsdag past!"),
        ("to_young", "Tot dinsdag om 14 uur."),
        ("to_young", "Neem je identiteitskaart mee."),
    ]


async def test_the_coachs_telegram_identity_never_reaches_the_young_person(
    harness: Harness,
) -> None:
    h = harness
    lotte, _ = await accepted(h)
    await h.coach_says(lotte, "Hallo!")
    for message in h.sent(YOUNG):
        assert "5001" not in message.text and "tg:" not in message.text


async def test_messages_before_acceptance_are_kept_and_handed_over(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.submit()
    await h.young_says("Ik kan enkel na 16 uur.")
    assert h.texts(YOUNG)[-1].startswith("Bewaard! Zodra een coach je vraag opneemt")
    assert not any("na 16 uur" in t for t in h.texts(chat(lotte)))
    await h.coach_presses(lotte, "case=1:accept")
    assert h.texts(chat(lotte))[-1] == ("📁 Dossier #1 · Sam schrijft:\nIk kan enkel na 16 uur.")


async def test_a_coach_cannot_write_into_someone_elses_case(harness: Harness) -> None:
    h = harness
    _, case = await accepted(h)
    other = await h.add_coach("Yusuf", chat=5002)
    await h.coach_command(other, "case", f"{case} Hallo Sam")
    assert h.last_text(chat(other)) == "Dossier #1 bestaat niet of is niet van jou."
    assert not any("Hallo Sam" in t for t in h.texts(YOUNG))
    # Without a reply or a current case, the desk asks instead of guessing.
    await h.coach_says(other, "Hallo?")
    assert h.last_text(chat(other)).startswith("Voor welk dossier is dit?")


async def test_media_without_a_file_gets_a_kind_answer(harness: Harness) -> None:
    # A sticker, or a photo whose file the channel cannot fetch: said kindly, never dropped.
    # (Files that travel: tests/e2e/test_relay_files_e2e.py.)
    h = harness
    lotte, _ = await accepted(h)
    await h.service.handle(YOUNG, MediaReceived("sticker", h.clock.now()))
    assert h.texts(YOUNG)[-1] == (
        "Dit soort bestand kan ik niet doorgeven. Stuur een foto (JPG of PNG), een PDF of een"
        " spraakbericht, tot 10 MB."
    )
    await h.coach_input(lotte, MediaReceived("sticker", h.clock.now()))
    assert h.last_text(chat(lotte)).startswith("📁 Dossier #1 · Dit bestand geef ik niet door.")


async def test_close_then_reopen_lands_with_the_same_coach(harness: Harness) -> None:
    h = harness
    lotte, case = await accepted(h)
    await h.coach_command(lotte, "sluit", case)
    ask = h.sent(chat(lotte))[-1]
    assert ask.text == "📁 Dossier #1: hoe sluit je af?"
    await h.coach_presses(lotte, "case=1:close:training")
    closing = h.sent(YOUNG)[-1]
    assert closing.text.startswith("Lotte heeft je dossier afgesloten.")
    assert closing.buttons == ((("🔁 Ik heb opnieuw hulp nodig", REOPEN),),)
    stored = await h.case()
    assert stored is not None and stored.status == "closed" and stored.outcome == "training"
    # Some other text after closing offers the way back.
    await h.young_says("Hallo?")
    assert h.sent(YOUNG)[-1].buttons == closing.buttons
    # The button reopens the case with Lotte.
    await h.young_presses(REOPEN)
    assert h.texts(YOUNG)[-1] == (
        "Oké! Lotte weet dat je opnieuw hulp nodig hebt. Typ hier je bericht."
    )
    assert "heeft opnieuw hulp nodig" in h.last_text(chat(lotte))
    reopened = await h.case()
    assert reopened is not None and reopened.status == "open" and reopened.coach == "lotte"
    assert reopened.reopened == 1 and reopened.outcome is None
    await h.young_says("Het werk is gestopt.")
    assert h.last_text(chat(lotte)).endswith("Het werk is gestopt.")


async def test_typing_the_words_reopens_too_in_any_language() -> None:
    h = make_harness()
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.submit(language="uk")
    await h.coach_presses(lotte, "case=1:accept")
    await h.coach_presses(lotte, "case=1:close:work")
    await h.young_says("Мені знову потрібна допомога!")
    assert h.texts(YOUNG)[-1].startswith("Добре! Lotte знає")
    await h.coach_presses(lotte, "case=1:close:work")
    await h.young_says("ik heb opnieuw hulp nodig")
    case = await h.case()
    assert case is not None and case.status == "open" and case.reopened == 2


async def test_reopening_when_the_coach_left_goes_round_the_partnership() -> None:
    h = make_harness()
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.submit()
    await h.coach_presses(lotte, "case=1:accept")
    await h.coach_presses(lotte, "case=1:close:other")
    async with h.storage.transaction() as tx:
        await tx.coaches.set_active(lotte.id, False)
    yusuf = await h.add_coach("Yusuf", chat=5002)
    await h.young_presses(REOPEN)
    assert h.case_of_card(yusuf) == "1"
    case = await h.case()
    assert case is not None and case.status == "offered"


async def test_relay_texts_are_encrypted_at_rest(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'opstap.db'}"
    await upgrade(url)
    keyring = Keyring.parse(Keyring.generate("t1"))
    storage = await open_storage(url, keyring)
    try:
        h = make_harness(storage)
        lotte, case = await accepted(h)
        await h.young_says("Mijn geheime vraag")
        await h.coach_says(lotte, "Mijn geheim antwoord")
        async with storage.engine.connect() as conn:
            texts = (await conn.execute(select(RELAY_MESSAGES.c.text))).scalars().all()
            intakes = (await conn.execute(select(CASES.c.intake))).scalars().all()
        assert texts and all(t.startswith("enc:v1:t1:") for t in texts)
        assert intakes and all(i.startswith("enc:v1:t1:") for i in intakes)
        assert not any("geheim" in t for t in texts) and not any("Sam" in i for i in intakes)
        async with storage.transaction() as tx:
            assert [m.text for m in await tx.cases.messages_of(case)] == [
                "Mijn geheime vraag",
                "Mijn geheim antwoord",
            ]
    finally:
        await storage.close()


async def test_an_erasure_tells_the_coach_and_keeps_nothing(harness: Harness) -> None:
    h = harness
    lotte, _ = await accepted(h)
    await h.young_says("Iets persoonlijks")
    async with h.storage.transaction() as tx:
        tell = await h.side.relay.case_erased(tx, YOUNG)
        for part in h.storage.personal_data_parts:
            await part.erase(tx, YOUNG)
    assert tell is not None
    await tell()
    assert h.last_text(chat(lotte)) == (
        "📁 Dossier #1 is gewist op vraag van de jongere. Berichten kunnen er niet meer heen."
    )
    assert await h.case() is None
    refreshed = await h.coach(lotte.id)
    assert refreshed.current_case is None
    await h.coach_says(refreshed, "Hallo?")
    assert h.last_text(chat(lotte)).startswith("Voor welk dossier")
    async with h.storage.transaction() as tx:
        assert await h.side.relay.case_erased(tx, PersonId("tg:1")) is None


async def test_withdrawing_consent_drops_sensitive_answers_from_the_case() -> None:
    h = make_harness()
    await h.add_coach("Lotte", chat=5001)
    await h.submit(
        consent_sensitive="yes", rating_mental="1", help_mental="talk", domains=["work", "mental"]
    )
    case = await h.case()
    assert case is not None and case.intake["rating_mental"] == "1"
    part = next(p for p in h.storage.personal_data_parts if p.name == "cases")
    async with h.storage.transaction() as tx:
        assert await part.withdraw(tx, YOUNG, "sensitive_domains") > 0
        exported = await part.export(tx, YOUNG)
    case = await h.case()
    assert case is not None
    assert "rating_mental" not in case.intake and "help_mental" not in case.intake
    assert case.intake["domains"] == ["work"] and case.intake["consent_sensitive"] == "no"
    assert isinstance(exported, list) and isinstance(exported[0], dict)
    assert exported[0]["case"] == "1"


async def test_other_features_buttons_in_a_coach_chat_pass_through(harness: Harness) -> None:
    h = harness
    lotte, _ = await accepted(h)
    assert not await h.coach_presses(lotte, "safety=7:close")
    assert await h.coach_presses(lotte, "case=1:nonsense")
    assert h.last_text(chat(lotte)) == "Deze knop werkt niet meer."


async def test_the_help_keyboard_in_a_coach_chat_is_never_relayed(harness: Harness) -> None:
    h = harness
    lotte, _ = await accepted(h)
    before = h.texts(YOUNG)
    await h.coach_says(lotte, "🆘 Ik heb nu hulp nodig")
    assert h.texts(YOUNG) == before
    assert h.last_text(chat(lotte)).startswith("Die knop is voor jongeren")


async def test_a_coachs_message_that_could_not_be_relayed_is_named_and_nothing_half_stays(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The relay fails inside the input's transaction (after the message was written): all of
    it rolls back, the young person gets nothing, and the coach reads that this message did
    not go and to send it again, not the generic error text. Sent again, it goes once."""
    h = harness
    lotte, case = await accepted(h)
    me = chat(lotte)
    young_before = h.texts(YOUNG)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("outbox down")

    monkeypatch.setattr(h.service.relay, "stage_for", broken)
    secret = "Mijn nummer is 0470 12 34 56"
    typed = Inbound(me, TextReceived(secret, h.clock.now()), "nl", key="telegram:4242")
    addressed = CommandReceived("case", f"{case} {secret}", h.clock.now())
    with caplog.at_level(logging.DEBUG):
        await h.service.pipeline.handle(typed)
        told = h.last_text(me)
        await h.service.pipeline.handle(Inbound(me, addressed, "nl", key="telegram:4243"))
        assert h.last_text(me) == told
        # Without the pipeline's claim (the desk on its own), the same answer.
        await h.coach_says(lotte, secret)
        assert h.last_text(me) == told
    assert told == (
        f"📁 Dossier #{case} · Je bericht is niet doorgestuurd: er ging bij ons iets mis. "
        "De jongere kreeg niets. Stuur je bericht over een paar minuten opnieuw."
    )
    assert h.texts(YOUNG) == young_before
    await h.service.relay.flush()  # what was sent before leaves the outbox
    async with h.storage.transaction() as tx:
        kept = await tx.cases.messages_of(case)
        assert await tx.outbox.of(YOUNG) == []
    assert secret not in [m.text for m in kept]
    assert "relay to young person failed" in caplog.text
    assert "0470" not in caplog.text

    monkeypatch.undo()
    again = Inbound(me, TextReceived(secret, h.clock.now()), "nl", key="telegram:4244")
    await h.service.pipeline.handle(again)
    assert h.texts(YOUNG)[len(young_before) :] == [h.last_text(YOUNG)]
    assert h.last_text(YOUNG).endswith(secret)
