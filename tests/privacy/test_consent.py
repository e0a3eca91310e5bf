"""Consent records, and withdrawing as easily as giving: /privacy, then one button."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from bot.conversations import build_flows
from flows.consent import SENSITIVE_DOMAINS
from flows.ids import FlowId, PersonId, ReminderKey, StepId
from flows.inputs import ButtonPressed, CommandReceived
from flows.session import Session
from storage.memory import MemoryStorage
from storage.ports import Transaction
from tests.privacy.conftest import ANNA, CONSENT_TEXT, NOTICE, T0, Harness, make_harness


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class DependentPart:
    """A feature's part that keeps something only with consent (like a case's snapshot)."""

    name: str = "cases"
    withdrawn: list[tuple[PersonId, str]] = field(default_factory=list)

    async def export(self, tx: Transaction, person: PersonId) -> None:
        return None

    async def erase(self, tx: Transaction, person: PersonId) -> int:
        return 0

    async def purge_expired(self, tx: Transaction, now: object, policy: object) -> int:
        return 0

    async def withdraw(self, tx: Transaction, person: PersonId, category: str) -> int:
        self.withdrawn.append((person, category))
        return 1


async def session_of(harness: Harness, person: PersonId = ANNA) -> Session:
    async with harness.storage.transaction() as tx:
        session = await tx.sessions.get(person)
    assert session is not None
    return session


async def consents(harness: Harness) -> list[tuple[bool, str, str]]:
    async with harness.storage.transaction() as tx:
        return [(c.given, c.notice_version, c.text_hash) for c in await tx.consents.history(ANNA)]


async def pending(harness: Harness) -> list[str]:
    async with harness.storage.transaction() as tx:
        return [r.key for r in await tx.reminders.pending(ANNA)]


async def to_consent(harness: Harness) -> None:
    await harness.service.handle(ANNA, CommandReceived("start", "", T0))
    await harness.service.handle(ANNA, ButtonPressed("mood=bad", T0))


async def test_a_yes_is_recorded_with_the_notice_version_and_the_text_shown() -> None:
    harness = make_harness(MemoryStorage())
    await to_consent(harness)
    await harness.service.handle(ANNA, ButtonPressed("consent=yes", T0))
    assert await consents(harness) == [(True, NOTICE, sha(CONSENT_TEXT))]
    async with harness.storage.transaction() as tx:
        record = (await tx.consents.current(ANNA))["sensitive_domains"]
    assert record.at == T0 and record.person == ANNA


async def test_the_hash_is_of_the_text_in_the_persons_language() -> None:
    harness = make_harness(MemoryStorage())
    harness.service.translator = _translator_with(
        {
            ("nl", "intake.consent.ask"): "Mag ik dat vragen?",
            ("en", "intake.consent.ask"): "May I ask?",
        }
    )
    await harness.service.handle(ANNA, CommandReceived("start", "", T0), language_hint="en")
    await harness.service.handle(ANNA, ButtonPressed("mood=bad", T0))
    await harness.service.handle(ANNA, ButtonPressed("consent=yes", T0))
    assert await consents(harness) == [(True, NOTICE, sha("May I ask?\n\nintake.consent.why"))]


def _translator_with(entries: dict[tuple[str, str], str]):  # type: ignore[no-untyped-def]
    from bot.i18n import Catalog, Translator

    catalogs = {}
    for lang in ("nl", "en", "ar"):
        texts = {k: v for (code, k), v in entries.items() if code == lang}
        catalogs[lang] = Catalog(lang, texts, frozenset())
    return Translator(catalogs)


async def test_a_no_is_recorded_and_cancels_dependent_reminders() -> None:
    harness = make_harness(MemoryStorage())
    await to_consent(harness)
    async with harness.storage.transaction() as tx:
        await tx.reminders.schedule(ANNA, ReminderKey("sensitive_domains.check"), T0, 1)
        await tx.reminders.schedule(ANNA, ReminderKey("appointment.1"), T0, 1)
    await harness.service.handle(ANNA, ButtonPressed("consent=no", T0))
    assert await consents(harness) == [(False, NOTICE, sha(CONSENT_TEXT))]
    assert "sensitive_domains.check" not in await pending(harness)
    assert "appointment.1" in await pending(harness)


async def test_privacy_shows_the_notice_and_one_button_per_consent() -> None:
    harness = make_harness(MemoryStorage())
    await to_consent(harness)
    await harness.service.handle(ANNA, ButtonPressed("consent=yes", T0))
    await harness.service.handle(ANNA, CommandReceived("privacy", "", T0))
    sent = [m for p, m in harness.channel.sent if p == ANNA][-3:]
    assert sent[0].text == "privacy.full"
    assert sent[1].text.split("\n") == [
        "privacy.consents.title",
        # One line per category (health, addiction, justice are asked separately), and the
        # one consent for all three from before, shown because this person gave it.
        "privacy.consent.line",
        "privacy.category.health.about",
        "privacy.consent.line",
        "privacy.category.addiction.about",
        "privacy.consent.line",
        "privacy.category.justice.about",
        "privacy.consent.line",
        "privacy.category.sensitive_domains.about",
    ]
    assert [v for row in sent[1].buttons for _, v in row] == [
        "privacy=give:health",
        "privacy=give:addiction",
        "privacy=give:justice",
        "privacy=withdraw:sensitive_domains",
        "privacy=export",
        "privacy=erase",
    ]
    assert sent[2].text == "intake.domain.mental.ask"  # and the question again


async def test_withdrawing_takes_one_tap_and_takes_effect_at_once() -> None:
    storage = MemoryStorage()
    part = DependentPart()
    storage.personal_data_parts.append(part)
    harness = make_harness(storage)
    await to_consent(harness)
    await harness.service.handle(ANNA, ButtonPressed("consent=yes", T0))
    await harness.service.handle(ANNA, ButtonPressed("domain_mental=2", T0))
    async with storage.transaction() as tx:
        await tx.reminders.schedule(ANNA, ReminderKey("sensitive_domains.check"), T0, 1)
        await tx.reminders.schedule(ANNA, ReminderKey("appointment.1"), T0, 1)
    before = await session_of(harness)
    assert before.answers["rating_mental"] == "2"

    later = T0 + timedelta(minutes=5)
    await harness.service.handle(ANNA, ButtonPressed("privacy=withdraw:sensitive_domains", later))

    after = await session_of(harness)
    assert "rating_mental" not in after.answers
    assert after.answers["consent_sensitive"] == "no"
    assert after.version == before.version + 1
    assert after.step == "name"
    records = await consents(harness)
    assert records[-1] == (False, NOTICE, sha("privacy.category.sensitive_domains.about"))
    left = await pending(harness)
    assert "sensitive_domains.check" not in left and "appointment.1" in left
    assert part.withdrawn == [(ANNA, "sensitive_domains")]
    texts = harness.channel.texts(ANNA)
    assert texts[-2:] == ["privacy.consent.withdrawn", "hello.name.ask"]


async def test_withdrawing_at_a_question_that_needs_the_consent_moves_on() -> None:
    harness = make_harness(MemoryStorage())
    await to_consent(harness)
    await harness.service.handle(ANNA, ButtonPressed("consent=yes", T0))
    before = await session_of(harness)
    assert before.step == "domain_mental"
    await harness.service.handle(ANNA, ButtonPressed("privacy=withdraw:sensitive_domains", T0))
    after = await session_of(harness)
    assert after.step == "name"
    assert "rating_mental" not in after.answers  # not even a skip marker
    # One change of the session, through the engine, with the consent record.
    assert after.version == before.version + 1
    assert after.history[-1] == "domain_mental"
    assert harness.channel.texts(ANNA)[-2:] == ["privacy.consent.withdrawn", "hello.name.ask"]


async def test_giving_consent_from_privacy_after_a_no() -> None:
    harness = make_harness(MemoryStorage())
    await to_consent(harness)
    await harness.service.handle(ANNA, ButtonPressed("consent=no", T0))
    await harness.service.handle(ANNA, CommandReceived("privacy", "", T0))
    overview = [m for p, m in harness.channel.sent if p == ANNA][-2]
    assert "privacy=give:sensitive_domains" in [v for row in overview.buttons for _, v in row]
    await harness.service.handle(ANNA, ButtonPressed("privacy=give:sensitive_domains", T0))
    assert (await session_of(harness)).answers["consent_sensitive"] == "yes"
    assert [given for given, _, _ in await consents(harness)] == [False, True]
    assert harness.channel.texts(ANNA)[-2:] == ["privacy.consent.given", "hello.name.ask"]


async def test_an_unknown_privacy_button_is_a_kind_reprompt() -> None:
    harness = make_harness(MemoryStorage())
    await to_consent(harness)
    await harness.service.handle(ANNA, ButtonPressed("privacy=withdraw:unknown", T0))
    assert harness.channel.texts(ANNA)[-2:] == [
        "engine.stale_button",
        "intake.consent.ask\n\nintake.consent.why",
    ]
    assert await consents(harness) == []


async def test_withdrawal_in_the_real_intake_drops_every_sensitive_answer() -> None:
    flows = build_flows()
    intake = flows[FlowId("intake")]
    harness = make_harness(MemoryStorage(), flows=(intake,))
    session = Session(
        person=ANNA,
        flow=intake.id,
        step=StepId("domain_physical"),
        language="nl",
        started_at=T0,
        updated_at=T0,
        version=7,
        answers={
            "own_words": "geen werk, veel stress",
            "domains": ["work", "mental"],
            "consent_sensitive": "yes",
            "rating_work": "3",
            "rating_mental": "2",
            "help_mental": "iemand om mee te praten",
        },
        history=(
            StepId("domain_work"),
            StepId("consent"),
            StepId("domain_mental"),
            StepId("help_mental"),
        ),
    )
    async with harness.storage.transaction() as tx:
        await tx.sessions.save(session, expected_version=None)
    await harness.service.handle(ANNA, ButtonPressed("privacy=withdraw:sensitive_domains", T0))
    after = await session_of(harness)
    assert not set(after.answers) & SENSITIVE_DOMAINS.dependent_answers
    assert after.answers["domains"] == ["work"]
    assert after.answers["consent_sensitive"] == "no"
    assert after.answers["rating_work"] == "3"
    assert after.step not in SENSITIVE_DOMAINS.dependent_steps
    assert after.step is not None


async def test_withdrawing_one_category_in_the_real_intake_keeps_the_others() -> None:
    flows = build_flows()
    intake = flows[FlowId("intake")]
    harness = make_harness(MemoryStorage(), flows=(intake,))
    session = Session(
        person=ANNA,
        flow=intake.id,
        step=StepId("more"),
        language="nl",
        started_at=T0,
        updated_at=T0,
        version=7,
        answers={
            "domains": ["mental", "addiction"],
            "consent_health": "yes",
            "consent_addiction": "yes",
            "rating_mental": "2",
            "rating_addiction": "3",
        },
        history=(
            StepId("consent_health"),
            StepId("domain_mental"),
            StepId("consent_addiction"),
            StepId("domain_addiction"),
        ),
    )
    async with harness.storage.transaction() as tx:
        await tx.sessions.save(session, expected_version=None)
    await harness.service.handle(ANNA, CommandReceived("privacy", "", T0))
    overview = [m for p, m in harness.channel.sent if p == ANNA][-2]
    # No record yet for the legacy consent: it is not offered.
    values = [v for row in overview.buttons for _, v in row]
    assert "privacy=give:sensitive_domains" not in values and "privacy=give:health" in values
    await harness.service.handle(ANNA, ButtonPressed("privacy=withdraw:addiction", T0))
    after = await session_of(harness)
    assert after.answers["consent_addiction"] == "no" and "rating_addiction" not in after.answers
    assert after.answers["rating_mental"] == "2" and after.answers["consent_health"] == "yes"
    assert after.answers["domains"] == ["mental"]
