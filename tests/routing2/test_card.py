"""The handover card: what it shows, what it never shows without consent, its length."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.coach.card import CardWriter, case_in, split_card
from bot.render import Renderer
from bot.splitting import MAX_TEXT
from flows.engine import SKIPPED
from flows.ids import CaseId, CoachId, PartnershipId, PersonId
from flows.routing.card import card_answers, rated_domains, urgency
from storage.routing_port import CaseRecord, OfferRecord
from tests.routing2.conftest import T0, intake_answers, translator

SENSITIVE_ANSWERS = intake_answers(
    domains=["work", "addiction"],
    rating_addiction="1",
    help_addiction="talk",
    rating_mental="2",
    rating_justice="rather_not",
)


def case_with(intake: Mapping[str, object], language: str = "nl") -> CaseRecord:
    return CaseRecord(
        id=CaseId("12"),
        person=PersonId("tg:4242"),
        partnership=PartnershipId("boest-your-future"),
        municipality_nis="24062",
        language=language,
        status="offered",
        coach=None,
        outcome=None,
        intake=card_answers(intake),  # type: ignore[arg-type]
        created_at=T0,
        updated_at=T0,
        accepted_at=None,
        closed_at=None,
        promised_at=None,
        reopened=0,
    )


OFFER = OfferRecord(
    id=3,
    case=CaseId("12"),
    coach=CoachId("lotte"),
    status="open",
    reasons={
        "decided_by": "fairness",
        "expertise": ["work", "money"],
        "language": "ar",
        "load": 2,
        "capacity": 8,
        "role": "coach",
    },
    sent_at=T0,
    deadline_at=T0,
    answered_at=None,
)


def render(intake: Mapping[str, object], language: str = "nl") -> list[str]:
    """The card of an offer, then the details the coach gets after accepting."""
    writer = CardWriter(translator())
    case = case_with(intake, language)
    return [m.text for m in [*writer.card(case, OFFER, "morgen om 10:00"), *writer.details(case)]]


def test_before_acceptance_the_card_shows_only_what_a_coach_needs_to_decide() -> None:
    writer = CardWriter(translator())
    case = case_with(
        intake_answers(contact="phone", contact_phone="+32470123456", moment="evening"), "ar"
    )
    [card] = writer.card(case, OFFER, "morgen om 10:00")
    text = card.text
    assert text.startswith("📁 Dossier #12")
    for expected in (
        "Kessel-Lo (Leuven)",  # where
        "Vraag over: Werk en school, Geld",  # the domains of their question
        # The compact ratings line, neediest first, each with its ZRM 2017 domain.
        "Werk en school (ZRM: Werk & Opleiding) 1😟 · Geld (ZRM: Financiën) 2🙁"
        " · Wonen (ZRM: Huisvesting) 4🙂",
        "Urgentie: hoog",
        "taal: Arabisch",
        "contact liefst: 📞 Met de telefoon",  # language and way of contact
        "geen toestemming",  # what they consented to share
        "zie je zodra je het dossier opneemt",
        "Waarom jij: langst geen nieuw dossier · kent Werk en school, Geld · spreekt Arabisch"
        " · 2 van 8 dossiers",
        "morgen om 10:00",
    ):
        assert expected in text, expected
    # No name, no age, no phone number, no own words, no help wishes, no moment.
    for hidden in ("Sam", "23 jaar", "0470", "+32", "Ik zoek werk", "Iemand die meegaat", "Avond"):
        assert hidden not in text, hidden


def test_after_acceptance_the_coach_sees_the_rest() -> None:
    writer = CardWriter(translator())
    case = case_with(
        intake_answers(contact="phone", contact_phone="+32470123456", moment="evening"), "ar"
    )
    [details] = writer.details(case)
    for expected in (
        "Sam",
        "23 jaar",
        "Kessel-Lo (Leuven)",
        "Ik zoek werk en ik heb schulden",
        "Iemand die meegaat",
        "0470 12 34 56",
        "Avond",
        "Arabisch",
        "geen toestemming",
    ):
        assert expected in details.text, expected
    assert details.buttons == () and case_in(details.text) == "12"


def test_own_words_naming_a_sensitive_domain_need_consent() -> None:
    words = "Ik drink te veel en zoek werk"
    without = card_answers(
        intake_answers(own_words=words, domains=["work", "addiction"], consent_sensitive="no")
    )
    assert "own_words" not in without and without["domains"] == ["work"]
    text = "\n".join(
        render(
            intake_answers(own_words=words, domains=["work", "addiction"], consent_sensitive="no")
        )
    )
    assert "drink" not in text
    shared = card_answers(
        intake_answers(own_words=words, domains=["work", "addiction"], consent_sensitive="yes")
    )
    assert shared["own_words"] == words
    # Own words about a domain that is not sensitive are kept.
    assert card_answers(intake_answers())["own_words"] == "Ik zoek werk en ik heb schulden"


def test_a_card_whose_offer_is_over_keeps_only_its_number() -> None:
    writer = CardWriter(translator())
    assert writer.redacted("12") == (
        "📁 Dossier #12 · niet meer voor jou. De details zijn weggehaald."
    )
    assert case_in(writer.erased("12")) == "12" and "verwijderd" in writer.erased("12")


def test_sensitive_domains_only_with_consent() -> None:
    without = card_answers(SENSITIVE_ANSWERS)
    assert without["domains"] == ["work"]
    assert not any(k.endswith(("addiction", "mental", "justice")) for k in without)
    text = "\n".join(render(SENSITIVE_ANSWERS))
    for hidden in ("Alcohol", "Hoe je je voelt", "justitie: zegt", "Een gesprek"):
        assert hidden not in text
    with_consent = card_answers({**SENSITIVE_ANSWERS, "consent_sensitive": "yes"})
    assert with_consent["domains"] == ["work", "addiction"]
    assert with_consent["rating_addiction"] == "1" and with_consent["help_addiction"] == "talk"
    shown = "\n".join(render({**SENSITIVE_ANSWERS, "consent_sensitive": "yes"}))
    assert "Alcohol, drugs en gokken (ZRM: Middelengebruik) 1😟" in shown
    assert "gedeeld met toestemming" in shown
    assert "Politie en justitie (ZRM: Justitie) zegt liever niets" in shown


def test_consent_per_category_shows_only_what_was_shared() -> None:
    answers = {**SENSITIVE_ANSWERS, "consent_addiction": "yes", "consent_justice": "no"}
    answers.pop("consent_sensitive", None)
    kept = card_answers(answers)
    assert kept["rating_addiction"] == "1" and "rating_justice" not in kept
    shown = "\n".join(render(answers))
    assert "Alcohol, drugs en gokken: gedeeld met toestemming." in shown
    assert "Politie en justitie: geen toestemming, dus niet getoond." in shown
    assert "(ZRM: Justitie)" not in shown


def test_only_card_keys_reach_the_coach() -> None:
    kept = card_answers(
        {**intake_answers(), "place_candidates": [["x", "y"]], "secret_note": "x", "name": SKIPPED}
    )
    assert "place_candidates" not in kept and "secret_note" not in kept and "name" not in kept
    assert "(geen naam)" in render({**intake_answers(), "name": SKIPPED})[1]


def test_urgency_from_the_self_ratings() -> None:
    assert urgency({"rating_work": "1"}) == "high"
    assert urgency({"rating_work": "2", "rating_money": "2", "rating_home": "2"}) == "high"
    assert urgency({"rating_work": "2", "rating_money": "4"}) == "medium"
    assert urgency({"rating_work": "3", "rating_money": "dont_know"}) == "low"
    assert urgency({}) == "low"
    order = [
        r.domain
        for r in rated_domains(
            {
                "rating_work": "rather_not",
                "rating_money": "3",
                "rating_home": "dont_know",
                "rating_housing": "1",
            }
        )
    ]
    assert order == ["housing", "money", "home", "work"]


def test_a_long_card_is_split_cleanly_with_the_buttons_last() -> None:
    long_words = ("Ik heb veel te vertellen. " * 38).strip()  # just under the 1000 the flow allows
    long_help = {
        f"help_{d}": "Iemand die echt luistert en meegaat. " * 25
        for d in ("work", "money", "housing", "home", "leisure", "network")
    }
    ratings = {
        f"rating_{d}": "1" for d in ("work", "money", "housing", "home", "leisure", "network")
    }
    writer = CardWriter(translator())
    messages = writer.details(
        case_with(intake_answers(own_words=long_words, **ratings, **long_help))
    )
    assert len(messages) > 1
    assert all(len(m.text) <= MAX_TEXT for m in messages)
    # Every part names the case, so a reply to any part reaches the same young person.
    assert all(case_in(m.text) == "12" for m in messages)
    split = split_card(
        "📁 Dossier #12\n\n" + "\n\n".join([long_words] * 8),
        "12",
        ((("ok", "case=12:accept"),),),
        Renderer(translator()),
    )
    assert all(m.team for m in split)
    assert [bool(m.buttons) for m in split] == [False] * (len(split) - 1) + [True]
    assert messages[0].text.endswith(f"(1/{len(messages)})")
    # Nothing is lost in the split.
    joined = " ".join(m.text for m in messages)
    assert joined.count("Iemand die echt luistert") == 6 * 25


def test_split_without_separators_still_respects_the_limit() -> None:
    messages = split_card(
        "📁 Dossier #7 · " + "x" * 9000, "7", ((("ok", "case=7:accept"),),), Renderer(translator())
    )
    assert all(len(m.text) <= MAX_TEXT for m in messages)
    assert all(case_in(m.text) == "7" for m in messages)


def test_which_case_a_message_is_about() -> None:
    assert case_in("📁 Dossier #12 · Sam schrijft:\nhoi") == "12"
    assert case_in("Dossier #12 en nog eens Dossier #12") == "12"
    assert case_in("Je open dossiers:\n📁 Dossier #1 · Sam\n📁 Dossier #2 · Noor") is None
    assert case_in("hallo") is None and case_in(None) is None


def test_buttons_fit_telegram() -> None:
    writer = CardWriter(translator())
    big = replace(case_with(intake_answers()), id=CaseId("123456789"))
    [message] = writer.card(big, OFFER, "x")
    values = [value for row in message.buttons for _, value in row]
    assert values == ["case=123456789:accept", "case=123456789:decline"]
    assert all(len(v.encode()) <= 64 for v in values)
