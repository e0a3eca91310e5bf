"""End to end through the fake Bot API: an unclaimed case reaches the team queue and then the
warm fallback, and the young person is told once.

The runtime is built as ``opstap run`` builds it, with a frozen clock, as in
``test_routing_e2e.py``. The partnership has one coordinator and no free coach. The coordinator
gets the card and says "Niet voor mij": the case goes to the team queue (never back to the
same coordinator), the young person hears it once with an honest date; the coordinator gets a
daily digest; five working days later the young person is pointed, once, to the general
service of the region. After ``/wis`` the bot's messages about them in the coach chat are
gone.
"""

from __future__ import annotations

from bot.clock import FrozenClock
from bot.runtime import Runtime
from bot.settings import Settings
from tests.e2e.journeys import Chat, buttons_of, coach_joins, intake_sent
from tests.e2e.test_routing_e2e import running
from tests.fakes.bot_api import FakeBotApi
from tests.routing2.conftest import local

__all__ = ["running"]

YOUNG, BERT = 4242, 5009
FALLBACK_TEXT = "We vonden bij Boest! Your Future nog niemand voor je vraag."


async def test_an_unclaimed_case_reaches_the_team_queue_then_the_warm_fallback(
    fake_bot_api: FakeBotApi, running: tuple[Runtime, FrozenClock, Settings]
) -> None:
    fake = fake_bot_api
    runtime, clock, settings = running
    bert = Chat(fake, BERT, "Bert V.", "bert_private")
    sam = Chat(fake, YOUNG, "Sam", "sam_private")
    await coach_joins(
        bert, settings, clock, "Bert", "--role", "coordinator", "--organisation", "OCMW Leuven"
    )
    await intake_sent(
        sam,
        words="Ik zoek werk",
        topics=[("work", "1", "guide")],
        sent="ten laatste morgen om 10:00",
    )

    # No coach: the coordinator gets the card, without Sam's name or words.
    card = await bert.expect(0, button="case=1:accept")
    assert "niemand nam dit op tijd op" in card.plain_text and "Sam" not in card.plain_text
    # Bert says "Niet voor mij": the team queue, and one honest message for Sam.
    before_sam = sam.seen
    await bert.taps("case=1:decline", contains="gaat naar een collega")
    queued = await sam.expect(before_sam, contains="Nog niemand kon je vraag op tijd opnemen.")
    assert "ten laatste dinsdag 1 december om 17:00" in queued.plain_text
    await fake.wait_idle(0.2)
    [edited] = [m for m in fake.messages(BERT) if m.message_id == card.message_id]
    assert edited.plain_text.endswith("De details zijn weggehaald.")
    # Bert never gets the same card again.
    cards = [
        m
        for m in fake.messages(BERT)
        if any("niemand nam dit op tijd op" in t for t in (m.text, *m.history))
    ]
    assert [m.message_id for m in cards] == [card.message_id]

    # Wednesday 09:00: the daily digest of the team queue, ids and places only.
    clock.set(local(2026, 11, 25, 9))
    before_bert = bert.seen
    assert await runtime.tick.run_once() == 1
    digest = await bert.expect(before_bert, contains="Teamlijst Boest! Your Future")
    assert "Dossier #1 · Kessel-Lo (Leuven)" in digest.plain_text
    assert "Sam" not in digest.plain_text
    assert buttons_of(digest) == ["case=1:claim"]

    # Nobody takes it. Tuesday 1 December 17:00: the warm fallback, told once.
    clock.set(local(2026, 12, 1, 17))
    before_sam = sam.seen
    await runtime.tick.run_once()
    fallback = await sam.expect(before_sam, contains=FALLBACK_TEXT)
    assert "VDAB: 0800 30 700" in fallback.plain_text
    # The next days: digests for the team, nothing more for Sam.
    for day in (2, 3):
        clock.set(local(2026, 12, day, 9, 5))
        await runtime.tick.run_once()
    await fake.wait_idle(0.3)
    messages_after_queue = [t for t in sam.texts() if t.startswith("Nog niemand kon")]
    assert len(messages_after_queue) == 1
    assert len([t for t in sam.texts() if FALLBACK_TEXT in t]) == 1
    # Wednesday; one catch-up for the days the test skipped (not one per missed day); 2 and 3
    # December.
    assert len([m for m in fake.messages(BERT) if "Teamlijst" in m.plain_text]) == 4

    # Sam erases everything: the card in Bert's chat (older than 48 hours) says so.
    await sam.command("/wis", button="privacy=erase:yes")
    await sam.taps("privacy=erase:yes", contains="")
    await fake.wait_idle(0.3)
    [gone] = [m for m in fake.messages(BERT) if m.message_id == card.message_id]
    assert gone.plain_text == "📁 Dossier #1 · verwijderd op vraag van de jongere."

    assert fake.unanswered_callback_queries() == []
    fake.assert_no_violations()
