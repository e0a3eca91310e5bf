"""The intake with referral links and per-partnership age ranges (pure: flows/intake/flow.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.intake_data import load_domain_lexicon
from flows.effects import CancelReminders, Discard, SendMessage
from flows.engine import Flow, Transition, resume, start, with_link
from flows.ids import PersonId
from flows.inputs import ConnectedToCoach, LinkFollowed
from flows.intake.flow import (
    Targets,
    build_intake_flow,
    referral_answers,
    summary_rows,
)
from flows.routing.directory import AgeRange
from flows.text import Msg, Verbatim, msg
from tests.flows import NOTICE_VERSION, START, T0, Action, Run, translator
from tests.flows.test_intake import COVERAGE, fake_places

YOUTH = AgeRange(18, 30)
# Aan Boord! as if it were a Europa WSE partnership that also serves adults.
TARGETS = Targets({"Boest!": YOUTH, "Aan Boord!": AgeRange(18, None), "Vangnet": YOUTH})


def flow_with(targets: Targets | None) -> Flow:
    return build_intake_flow(
        load_domain_lexicon(),
        notice_version=NOTICE_VERSION,
        place_check=fake_places,
        coverage=COVERAGE,
        targets=targets,
    )


@pytest.fixture
def flow() -> Flow:
    return flow_with(TARGETS)


def run(actions: list[Action], flow: Flow, referral: tuple[str, str] | None = None) -> Run:
    scripted = Run(flow, translator())
    scripted.act(actions[0])
    if referral is not None:
        # What the service hands the engine for a first /start through a partner's link.
        assert scripted.session is not None
        followed = LinkFollowed(referral_answers(*referral), T0)
        scripted.session = with_link(Transition(scripted.session, ()), followed).session
    for action in actions[1:]:
        scripted.act(action)
    return scripted


def at_place(age: str) -> list[Action]:
    return [*START, ("tap", "words=dont_know"), ("text", age)]


def parts(done: Run) -> list[Msg]:
    return [
        p for e in done.effects if isinstance(e, SendMessage) for p in e.parts if isinstance(p, Msg)
    ]


def test_the_widest_range_decides_at_the_age_question(flow: Flow) -> None:
    # One partnership serves adults: 34 is asked where they live.
    assert run(at_place("34"), flow).session.step == "place"  # type: ignore[union-attr]
    # None does: as before, the referral and nothing kept.
    done = run(at_place("34"), flow_with(Targets({"Boest!": YOUTH})))
    assert done.session is not None and done.session.step is None
    assert any(isinstance(e, Discard) for e in done.effects)
    assert msg("intake.age.over") in parts(done)
    # Under everybody's range: the same referral as always.
    young = run(at_place("16"), flow)
    assert msg("intake.age.under") in parts(young)


def test_outside_the_range_of_the_partnership_where_they_live(flow: Flow) -> None:
    done = run([*at_place("34"), ("text", "Leuven")], flow)
    assert done.session is not None and done.session.step == "place_age"
    shown = parts(done)
    # Honest: which partnership, which ages; the region's general services; no "helps you".
    assert msg("intake.place.age.range", partnership=Verbatim("Boest!"), low=18, high=30) in shown
    assert msg("intake.place.services") in shown
    assert not any(m.id == "intake.place.covered" for m in shown)
    last = [e for e in done.effects if isinstance(e, SendMessage)][-1]
    assert [b.value for row in last.buttons for b in row][:2] == [
        "place_age=place",
        "place_age=stop",
    ]
    # Another place whose partnership serves adults: on with the intake.
    moved = run(
        [*at_place("34"), ("text", "Leuven"), ("tap", "place_age=place"), ("text", "3400")], flow
    )
    assert moved.session is not None and moved.session.step == "more"
    assert moved.session.answer("place_partnership") == "Aan Boord!"
    assert msg(
        "intake.place.covered", place=Verbatim("Landen"), partnership=Verbatim("Aan Boord!")
    ) in parts(moved)


def test_stopping_there_keeps_nothing(flow: Flow) -> None:
    done = run([*at_place("34"), ("text", "Leuven"), ("tap", "place_age=stop")], flow)
    assert done.session is not None and done.session.step is None
    assert done.session.answers == {}
    assert any(isinstance(e, Discard) for e in done.effects)
    assert msg("intake.place.end") in parts(done)


def test_an_age_not_given_is_not_checked(flow: Flow) -> None:
    done = run([*START, ("tap", "words=dont_know"), ("tap", "age=_skip"), ("text", "Leuven")], flow)
    assert done.session is not None and done.session.step == "more"


def test_the_fallback_team_is_offered_only_for_ages_it_serves(flow: Flow) -> None:
    done = run([*at_place("34"), ("text", "Mechelen")], flow)
    assert done.session is not None and done.session.step == "place_uncovered"
    last = [e for e in done.effects if isinstance(e, SendMessage)][-1]
    assert [b.value for row in last.buttons for b in row][:1] == ["place_uncovered=stop"]
    assert not any(m.id == "intake.place.fallback.ask" for m in parts(done))
    ok = run([*at_place("24"), ("text", "Mechelen")], flow)
    assert any(m.id == "intake.place.fallback.ask" for m in parts(ok))


def test_a_referral_link_preselects_its_partnership(flow: Flow) -> None:
    done = run(at_place("24"), flow, referral=("aan-boord", "Aan Boord!"))
    assert done.session is not None and done.session.step == "place"
    ask = [e for e in done.effects if isinstance(e, SendMessage)][-1]
    assert ask.parts[0] == msg("intake.place.referral.ask", partnership=Verbatim("Aan Boord!"))
    assert next(b.value for row in ask.buttons for b in row) == "place=referral"
    kept = run([*at_place("24"), ("tap", "place=referral")], flow, ("aan-boord", "Aan Boord!"))
    assert kept.session is not None and kept.session.step == "more"
    answers = kept.session.answers
    assert answers["place_status"] == "referral" and answers["place_route"] == "partnership"
    assert answers["referral_partnership"] == "aan-boord"
    assert msg("intake.place.referral.kept", partnership=Verbatim("Aan Boord!")) in parts(kept)
    rows = summary_rows(kept.session)
    assert (
        msg(
            "intake.summary.line",
            label=msg("intake.place.label"),
            value=msg("intake.place.referral.label", partnership=Verbatim("Aan Boord!")),
        )
        in rows
    )
    # "ja" typed counts as the button.
    typed = run([*at_place("24"), ("text", "ja")], flow, ("aan-boord", "Aan Boord!"))
    assert typed.session is not None and typed.session.answer("place_status") == "referral"


def test_they_can_still_say_where_they_live(flow: Flow) -> None:
    done = run([*at_place("24"), ("text", "Leuven")], flow, ("aan-boord", "Aan Boord!"))
    assert done.session is not None
    answers = done.session.answers
    assert answers["place_status"] == "ok" and answers["place_partnership"] == "Boest!"
    assert answers["place"] == "24062:boest"


def test_the_referral_partnership_has_its_age_range_too(flow: Flow) -> None:
    done = run([*at_place("34"), ("tap", "place=referral")], flow, ("boest", "Boest!"))
    assert done.session is not None and done.session.step == "place_age"


def test_changing_the_age_from_the_summary_checks_the_partnership_again(flow: Flow) -> None:
    to_summary: list[Action] = [
        *at_place("24"),
        ("text", "Leuven"),
        ("tap", "more=none"),
        ("tap", "contact=chat"),
        ("text", "Sam"),
    ]
    summary = run(to_summary, flow)
    assert summary.session is not None and summary.session.step == "summary"
    done = run([*to_summary, ("tap", "summary=edit_age"), ("text", "35")], flow)
    assert done.session is not None and done.session.step == "place_age"
    back = run(
        [*to_summary, ("tap", "summary=edit_age"), ("text", "35"), ("tap", "place_age=place")],
        flow,
    )
    assert back.session is not None and back.session.step == "place"


def test_a_personal_invitation_ends_the_intake_and_keeps_the_answers() -> None:
    person = PersonId("tg:7")
    intake = flow_with(None)
    # Connected before they wrote anything: the service hands the engine a new session.
    placeholder = start(intake, person, at=T0, language="fr").session
    fresh = resume(intake, placeholder, ConnectedToCoach(T0))
    assert (fresh.session.step, fresh.session.status, fresh.session.language) == (
        None,
        "done",
        "fr",
    )
    assert fresh.effects == (CancelReminders("nudge"),)
    scripted = run([*at_place("24")], intake)
    assert scripted.session is not None
    done = resume(intake, scripted.session, ConnectedToCoach(T0 + timedelta(hours=1)))
    assert done.session.step is None and done.session.status == "done"
    assert done.session.answers == scripted.session.answers
    assert done.session.version == scripted.session.version + 1
    assert done.effects == (CancelReminders("nudge"),)


def test_a_link_followed_records_its_answers_only_with_a_question_open() -> None:
    intake = flow_with(None)
    answers = referral_answers("aan-boord", "Aan Boord!")
    scripted = run([*at_place("24")], intake)
    assert scripted.session is not None
    opened = resume(intake, scripted.session, LinkFollowed(answers, T0 + timedelta(hours=1)))
    assert opened.session.step is not None
    assert opened.session.answers["referral_partnership"] == "aan-boord"
    assert opened.session.answers["referral"] == "Aan Boord!"
    # A finished intake stays finished, and a link does not put answers into it.
    done = resume(intake, scripted.session, ConnectedToCoach(T0)).session
    again = resume(intake, done, LinkFollowed(answers, T0 + timedelta(hours=2)))
    assert again.session.step is None and "referral" not in again.session.answers


def test_asked_again_for_the_place_the_referral_is_still_one_tap(flow: Flow) -> None:
    skipped: list[Action] = [
        *at_place("24"),
        ("tap", "place=_skip"),
        ("tap", "more=none"),
        ("tap", "contact=chat"),
        ("text", "Sam"),
    ]
    asked = run(skipped, flow, ("aan-boord", "Aan Boord!"))
    assert asked.session is not None and asked.session.step == "place_again"
    last = [e for e in asked.effects if isinstance(e, SendMessage)][-1]
    assert [b.value for row in last.buttons for b in row][:2] == [
        "place_again=referral",
        "place_again=rather_not",
    ]
    # "Liever niet": the partnership of the link, not the fallback team.
    done = run([*skipped, ("tap", "place_again=rather_not")], flow, ("aan-boord", "Aan Boord!"))
    assert done.session is not None and done.session.step == "summary"
    assert done.session.answer("place_status") == "referral"
    assert done.session.answer("place_partnership") == "Aan Boord!"
    # Without a referral nothing changed.
    plain = run([*skipped, ("tap", "place_again=rather_not")], flow)
    assert plain.session is not None and plain.session.answer("place_route") == "fallback"
