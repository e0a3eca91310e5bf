"""Escalation with an end: coaches, each coordinator once, the team queue with its daily
digest, the warm fallback told once; offers of coaches who cannot answer move on at once;
cards are tidied in coach chats and deleted after /wis."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.coach.handoff import withdraw_offers
from bot.service import OutgoingMessage
from flows.ids import CaseId, CoachId, PartnershipId, PersonId, ReminderKey
from flows.routing.outcomes import OUTCOMES, REPORTING
from storage.routing_port import CASE_OUTCOMES, CoachRecord
from tests.bot.fakes import RecordingChannel
from tests.routing2.conftest import YOUNG, Harness, local, make_harness

TEAM = PersonId("tg:team.boest-your-future")
CaseIdOne = CaseId("1")


@dataclass
class TrackingChannel(RecordingChannel):
    """A channel that numbers what it sends and can edit and delete it, like Telegram."""

    ids: dict[int, tuple[PersonId, OutgoingMessage]] = field(default_factory=dict)
    deleted: list[int] = field(default_factory=list)
    edited: dict[int, str] = field(default_factory=dict)
    refuse_delete: bool = False

    async def deliver_tracked(self, person: PersonId, message: OutgoingMessage) -> list[int]:
        await self.deliver(person, message)
        number = len(self.sent)
        self.ids[number] = (person, message)
        return [number]

    async def delete_message(self, person: PersonId, message_id: int) -> bool:
        if self.refuse_delete or self.ids.get(message_id, (None,))[0] != person:
            return False
        self.deleted.append(message_id)
        return True

    async def replace_text(self, person: PersonId, message_id: int, text: str) -> bool:
        self.edited[message_id] = text
        return True

    def number_of(self, person: PersonId, contains: str) -> int:
        return next(n for n, (p, m) in self.ids.items() if p == person and contains in m.text)


def tracked() -> tuple[Harness, TrackingChannel]:
    h = make_harness()
    channel = TrackingChannel()
    h.service.channels = {"tg": channel, "web": channel}
    h.channel = channel
    h.side.handoff.chats = channel
    return h, channel


def person(coach: CoachRecord) -> PersonId:
    assert coach.person is not None
    return coach.person


async def pending(h: Harness, who: PersonId = YOUNG) -> list[str]:
    async with h.storage.transaction() as tx:
        return [r.key for r in await tx.reminders.pending(who)]


async def test_a_coordinators_niet_voor_mij_goes_on_never_back_to_them(harness: Harness) -> None:
    h = harness
    anna = await h.add_coach("Anna", chat=5008, role="coordinator")
    bert = await h.add_coach("Bert", chat=5009, role="coordinator")
    await h.submit()  # no coaches: the first coordinator
    assert h.case_of_card(anna) == "1"
    await h.coach_presses(anna, "case=1:decline")
    assert h.case_of_card(bert) == "1"
    await h.coach_presses(bert, "case=1:decline")
    case = await h.case()
    assert case is not None and case.status == "escalated"
    # Anna got exactly one card; nobody is asked twice.
    assert len([m for m in h.sent(person(anna)) if m.buttons]) == 1
    assert len([m for m in h.sent(person(bert)) if m.buttons]) == 1


async def test_the_young_person_hears_only_when_the_promised_time_moves(
    harness: Harness,
) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work",))
    yusuf = await h.add_coach("Yusuf", chat=5002)
    await h.submit()
    told = len(h.texts(YOUNG))
    # Lotte declines at once: Yusuf's deadline is the time Sam already has. No apology.
    await h.coach_presses(lotte, "case=1:decline")
    assert h.case_of_card(yusuf) == "1"
    assert len(h.texts(YOUNG)) == told
    # Yusuf declines an hour later: the time moves, so Sam hears it once.
    h.clock.advance(timedelta(hours=1))
    await h.coach_presses(yusuf, "case=1:decline")
    assert len(h.texts(YOUNG)) == told + 1
    assert h.texts(YOUNG)[-1].startswith("Nog niemand kon je vraag op tijd opnemen.")


async def test_the_team_queue_digest_and_claiming_a_case(harness: Harness) -> None:
    h = harness
    boss = await h.add_coach("Bert", chat=5009, role="coordinator")
    await h.add_coach("Lotte", chat=5001, capacity=0)  # full: no offer, but not a reader
    await h.submit()
    await h.coach_presses(boss, "case=1:decline")
    await h.submit(PersonId("tg:4343"))  # Bert already said no to nothing here: he gets it
    await h.coach_presses(boss, "case=2:decline")
    assert await pending(h, TEAM) == ["handoff.digest.boest-your-future"]
    # The digest: the next working day at opening time, ids and places only, a claim button.
    h.clock.set(local(2026, 11, 25, 9))
    before = len(h.sent(person(boss)))
    assert await h.tick() == 1
    [digest] = h.sent(person(boss))[before:]
    assert digest.text.startswith("📋 Teamlijst Boest! Your Future: 2 nog niet opgenomen")
    assert "Dossier #1 · Kessel-Lo (Leuven) · Werk en school, Geld" in digest.text
    assert "Sam" not in digest.text and "Ik zoek" not in digest.text
    values = [value for row in digest.buttons for _, value in row]
    assert values == ["case=1:claim", "case=2:claim"]
    assert h.texts(PersonId("tg:5001")) == []  # coaches read it only without a coordinator
    # Again tomorrow while cases wait.
    assert await pending(h, TEAM) == ["handoff.digest.boest-your-future"]
    # Bert takes case 1 from the queue after all.
    await h.coach_presses(boss, "case=1:claim")
    case = await h.case()
    assert case is not None and case.status == "open" and case.coach == "bert"
    assert h.texts(YOUNG)[-1].startswith("Goed nieuws! Bert")
    assert "handoff.1.fallback" not in await pending(h)
    # Claiming it twice says so; a colleague of another partnership cannot claim.
    await h.coach_presses(boss, "case=1:claim")
    assert "al van jou" in h.last_text(person(boss))
    other = await h.add_coach(
        "Noor", chat=5020, role="coordinator", partnership=PartnershipId("dash")
    )
    await h.coach_presses(other, "case=2:claim")
    assert "niet meer open voor jou" in h.last_text(person(other))


async def test_no_digest_when_the_queue_is_empty(harness: Harness) -> None:
    h = harness
    boss = await h.add_coach("Bert", chat=5009, role="coordinator")
    await h.submit()
    await h.coach_presses(boss, "case=1:decline")
    await h.coach_presses(boss, "case=1:claim")
    h.clock.set(local(2026, 11, 25, 9))
    before = len(h.sent(person(boss)))
    assert await h.tick() == 1
    assert h.sent(person(boss))[before:] == []
    assert await pending(h, TEAM) == []


async def test_the_warm_fallback_is_told_once(harness: Harness) -> None:
    h = harness
    await h.submit()  # nobody in the team: straight to the queue
    case = await h.case()
    assert case is not None and case.status == "escalated"
    told = len(h.texts(YOUNG))
    # Tuesday 1 December 17:00: five working days later.
    h.clock.set(local(2026, 12, 1, 16, 59))
    await h.tick()
    assert len(h.texts(YOUNG)) == told
    h.clock.set(local(2026, 12, 1, 17))
    await h.tick()
    assert len(h.texts(YOUNG)) == told + 1
    text = h.texts(YOUNG)[-1]
    assert text.startswith("We vonden bij Boest! Your Future nog niemand voor je vraag.")
    assert "VDAB: 0800 30 700" in text and "CAW / JAC: 0800 13 500" in text
    case = await h.case()
    assert case is not None and case.fallback_at == local(2026, 12, 1, 17)
    assert case.status == "escalated"  # still in the team queue: someone can take it
    # A second fallback row (another process, a restart) tells nothing more.
    async with h.storage.transaction() as tx:
        await tx.reminders.schedule(YOUNG, ReminderKey("handoff.1.fallback"), h.clock.now(), 0)
    await h.tick()
    assert len(h.texts(YOUNG)) == told + 1
    counts = await h.counts()
    assert counts[("2026-12", "cases.fallback")] == 1
    assert counts[("2026-11", "cases.escalated")] == 1


async def test_the_fallback_days_are_a_setting() -> None:
    h = make_harness(fallback_days="1")
    await h.submit()
    case = await h.case()
    assert case is not None and case.promised_at == local(2026, 11, 25, 17)


async def test_a_coach_who_blocks_the_bot_loses_open_offers_at_once(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work", "money"))
    yusuf = await h.add_coach("Yusuf", chat=5002)
    await h.submit()
    assert h.case_of_card(lotte) == "1"
    await h.side.handoff.blocked_chat(5001)
    assert h.case_of_card(yusuf) == "1"
    async with h.storage.transaction() as tx:
        offers = await tx.cases.offers_of(CaseIdOne)
    assert [(o.coach, o.status) for o in offers] == [("lotte", "withdrawn"), ("yusuf", "open")]
    # Lotte gets no new offers while her chat blocks the bot.
    await h.submit(PersonId("tg:4343"))
    assert h.case_of_card(yusuf) == "2"
    # A young person's chat is not a coach: nothing happens.
    await h.side.handoff.blocked_chat(4242)


async def test_a_deactivated_coach_loses_offers_at_the_next_tick(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work", "money"))
    yusuf = await h.add_coach("Yusuf", chat=5002)
    await h.submit()
    # What `opstap coach deactivate` does, in its own process without Telegram.
    async with h.storage.transaction() as tx:
        await tx.coaches.set_active(lotte.id, False)
        assert await withdraw_offers(tx, lotte.id, h.clock.now()) == [CaseIdOne]
    assert await pending(h) == ["handoff.1.retry"]
    assert await h.tick() == 1
    assert h.case_of_card(yusuf) == "1"


async def test_cards_are_tidied_and_deleted_after_wis() -> None:
    h, channel = tracked()
    lotte = await h.add_coach("Lotte", chat=5001, domains=("work",))
    yusuf = await h.add_coach("Yusuf", chat=5002)
    await h.submit()
    lotte_card = channel.number_of(person(lotte), "nieuwe vraag")
    await h.coach_presses(lotte, "case=1:decline")
    # Lotte's card keeps its number only.
    assert channel.edited[lotte_card] == (
        "📁 Dossier #1 · niet meer voor jou. De details zijn weggehaald."
    )
    await h.coach_presses(yusuf, "case=1:accept")
    await h.young_says("Hallo Yusuf")
    yusuf_card = channel.number_of(person(yusuf), "nieuwe vraag")
    details = channel.number_of(person(yusuf), "alle gegevens")
    relayed = channel.number_of(person(yusuf), "Hallo Yusuf")
    assert yusuf_card not in channel.edited  # his own card stays while the case is his
    async with h.storage.transaction() as tx:
        refs = await tx.cases.coach_messages_of(CaseIdOne)
    assert {r.kind for r in refs} == {"card", "relay"}
    # Sam erases everything two days later: older than 48 hours, so edited to "verwijderd".
    h.clock.advance(timedelta(hours=49))
    async with h.storage.transaction() as tx:
        tell = await h.side.relay.case_erased(tx, YOUNG)
        for part in h.storage.personal_data_parts:
            await part.erase(tx, YOUNG)
    assert tell is not None
    await tell()
    for number in (yusuf_card, details, relayed):
        assert channel.edited[number] == ("📁 Dossier #1 · verwijderd op vraag van de jongere.")
    assert channel.deleted == []
    async with h.storage.transaction() as tx:
        erased = await tx.cases.erased_of(PartnershipId("boest-your-future"))
        assert await tx.cases.coach_messages_of(CaseIdOne) == []
    assert [(e.case, e.coach) for e in erased] == [("1", CoachId("yusuf"))]


async def test_within_48_hours_the_messages_are_deleted() -> None:
    h, channel = tracked()
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.submit()
    await h.coach_presses(lotte, "case=1:accept")
    card = channel.number_of(person(lotte), "nieuwe vraag")
    async with h.storage.transaction() as tx:
        tell = await h.side.relay.case_erased(tx, YOUNG)
        for part in h.storage.personal_data_parts:
            await part.erase(tx, YOUNG)
    assert tell is not None
    await tell()
    assert card in channel.deleted and card not in channel.edited
    # Telegram refusing a delete (already gone) falls back to the edit.
    h2, channel2 = tracked()
    noor = await h2.add_coach("Noor", chat=5001)
    await h2.submit()
    channel2.refuse_delete = True
    card2 = channel2.number_of(person(noor), "nieuwe vraag")
    async with h2.storage.transaction() as tx:
        tell2 = await h2.side.relay.case_erased(tx, YOUNG)
    assert tell2 is not None
    await tell2()
    assert "verwijderd" in channel2.edited[card2]


async def test_blind_spots_are_counted_per_municipality_and_partnership(
    harness: Harness,
) -> None:
    h = harness
    await h.submit(place="44021:", place_label="Gent", place_text="Gent")
    await h.submit(PersonId("tg:4343"), place="44021:", place_label="Gent", place_text="Gent")
    await h.submit(
        PersonId("tg:4344"), place=None, place_label=None, place_status=None, place_text="_skipped"
    )
    async with h.storage.transaction() as tx:
        counts = await tx.cases.blind_spots()
    found = {(c.month, c.kind, c.municipality_nis, c.partnership): c.count for c in counts}
    assert found[("2026-11", "blind_spot", "44021", "")] == 2
    assert found[("2026-11", "no_place", "", "")] == 1


def test_the_outcomes_match_storage_and_reporting() -> None:
    assert OUTCOMES == CASE_OUTCOMES
    assert {"not_reached", "referred", "ongoing"} <= set(OUTCOMES)
    assert REPORTING["not_reached"] == "niet bereikt" and REPORTING["ongoing"] == "lopend"
    assert REPORTING["referred"] == "doorverwezen"


async def test_the_close_buttons_offer_every_outcome(harness: Harness) -> None:
    h = harness
    lotte = await h.add_coach("Lotte", chat=5001)
    await h.submit()
    await h.coach_presses(lotte, "case=1:accept")
    await h.coach_command(lotte, "sluit", "1")
    message = h.sent(person(lotte))[-1]
    values = [value for row in message.buttons for _, value in row]
    assert values == [f"case=1:close:{o}" for o in OUTCOMES]
    await h.coach_presses(lotte, "case=1:close:not_reached")
    case = await h.case()
    assert case is not None and case.outcome == "not_reached"
    assert "Niet bereikt" in h.last_text(person(lotte)) or any(
        "Niet bereikt" in t for t in h.texts(person(lotte))
    )
