"""Assignment inside a partnership: expertise, language, load, fairness; never above capacity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.ids import CoachId
from flows.routing.assign import (
    MAX_COACH_OFFERS,
    CoachProfile,
    Need,
    choose_coach,
    need_from_answers,
    next_offer,
    rank_coaches,
)
from flows.session import JsonValue

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
NEED = Need(language="nl", named=("work",), lowest=("money",))


def coach(
    name: str,
    *,
    domains: tuple[str, ...] = (),
    languages: tuple[str, ...] = ("nl",),
    load: int = 0,
    capacity: int = 5,
    last: datetime | None = None,
    role: str = "coach",
    active: bool = True,
    reachable: bool = True,
    absent: bool = False,
) -> CoachProfile:
    return CoachProfile(
        id=CoachId(name),
        domains=frozenset(domains),
        languages=frozenset(languages),
        capacity=capacity,
        load=load,
        last_assigned_at=last,
        role="coordinator" if role == "coordinator" else "coach",
        active=active,
        absent=absent,
        reachable=reachable,
    )


def test_expertise_comes_first_even_over_a_lighter_load() -> None:
    expert = coach("expert", domains=("work", "money"), load=4)
    idle = coach("idle", domains=("housing",), load=0)
    choice = choose_coach([idle, expert], NEED)
    assert choice is not None and choice.coach.id == "expert"
    assert choice.decided_by == "expertise"
    assert choice.expertise == ("work", "money")


def test_own_words_and_lowest_ratings_both_count_as_expertise() -> None:
    words_only = coach("words", domains=("work",))
    both = coach("both", domains=("work", "money"))
    ranked = rank_coaches([words_only, both], NEED)
    assert [c.id for c in ranked] == ["both", "words"]


def test_a_shared_language_breaks_an_expertise_tie() -> None:
    dutch = coach("dutch", domains=("work",), languages=("nl",))
    arabic = coach("arabic", domains=("work",), languages=("nl", "ar"), load=3)
    choice = choose_coach([dutch, arabic], Need(language="ar", named=("work",)))
    assert choice is not None and choice.coach.id == "arabic"
    assert choice.decided_by == "language" and choice.language == "ar"


def test_then_the_load_against_capacity() -> None:
    # 2 of 4 is fuller than 2 of 10, though the counts are equal.
    small = coach("small", load=2, capacity=4)
    large = coach("large", load=2, capacity=10)
    choice = choose_coach([small, large], NEED)
    assert choice is not None and choice.coach.id == "large" and choice.decided_by == "load"


def test_then_fairness_the_longest_since_the_last_assignment() -> None:
    recent = coach("recent", last=T0 - timedelta(hours=1))
    longer = coach("longer", last=T0 - timedelta(days=3))
    never = coach("never", last=None)
    assert [c.id for c in rank_coaches([recent, longer, never], NEED)] == [
        "never",
        "longer",
        "recent",
    ]
    choice = choose_coach([recent, longer], NEED)
    assert choice is not None and choice.coach.id == "longer" and choice.decided_by == "fairness"


def test_a_full_inactive_or_unbound_coach_is_never_a_candidate() -> None:
    full = coach("full", domains=("work", "money"), load=5, capacity=5)
    away = coach("away", domains=("work", "money"), active=False)
    unbound = coach("unbound", domains=("work", "money"), reachable=False)
    zero = coach("zero", capacity=0)
    assert choose_coach([full, away, unbound, zero], NEED) is None
    other = coach("other")
    choice = choose_coach([full, away, unbound, other], NEED)
    assert choice is not None and choice.coach.id == "other" and choice.decided_by == "only"


def test_a_coordinator_is_not_a_first_choice() -> None:
    boss = coach("boss", role="coordinator", domains=("work", "money"))
    assert choose_coach([boss], NEED) is None


def test_next_coach_then_the_coordinator() -> None:
    team = [
        coach("a", domains=("work", "money")),
        coach("b", domains=("work",)),
        coach("c"),
        coach("boss", role="coordinator"),
    ]
    offered: list[CoachId] = []
    order = []
    for _ in range(MAX_COACH_OFFERS + 1):
        choice = next_offer(team, NEED, offered=offered)
        assert choice is not None
        order.append((choice.coach.id, choice.decided_by))
        offered.append(choice.coach.id)
    # Two coaches, then the coordinator, once.
    assert [o[0] for o in order] == ["a", "b", "boss"]
    assert order[2][1] == "escalation"
    # Everyone was asked: the end of the line is the team queue, never the same coordinator.
    assert next_offer(team, NEED, offered=offered) is None


def test_every_coordinator_once_then_the_team_queue() -> None:
    team = [coach("anna", role="coordinator"), coach("bert", role="coordinator")]
    first = next_offer(team, NEED, offered=[])
    assert first is not None and first.coach.id == "anna"
    # Anna said "Niet voor mij": it goes to Bert, never back to her.
    second = next_offer(team, NEED, offered=[CoachId("anna")])
    assert second is not None and second.coach.id == "bert"
    assert next_offer(team, NEED, offered=[CoachId("anna"), CoachId("bert")]) is None
    # No coordinator at all: straight to the team queue.
    assert next_offer([coach("a", load=5, capacity=5)], NEED, offered=[]) is None


def test_absent_or_unreachable_people_get_no_offer() -> None:
    team = [
        coach("a", domains=("work", "money"), absent=True),
        coach("b", reachable=False),
        coach("c"),
        coach("boss", role="coordinator", absent=True),
    ]
    choice = next_offer(team, NEED, offered=[])
    assert choice is not None and choice.coach.id == "c"
    assert next_offer(team, NEED, offered=[CoachId("c")]) is None


def test_the_coordinator_when_no_coach_has_room_and_nobody_without_one() -> None:
    team = [coach("a", load=5, capacity=5), coach("boss", role="coordinator", load=99, capacity=1)]
    choice = next_offer(team, NEED, offered=[])
    assert choice is not None and choice.coach.id == "boss"
    assert next_offer([coach("a", load=5, capacity=5)], NEED, offered=[]) is None


def test_the_need_of_an_intake() -> None:
    answers: dict[str, JsonValue] = {
        "domains": ["work", "mental"],
        "rating_work": "3",
        "rating_money": "2",
        "rating_housing": "2",
        "rating_mental": "1",
        "rating_leisure": "dont_know",
        "consent_sensitive": "no",
    }
    need = need_from_answers(answers, "ar")
    # Without consent the sensitive domain counts nowhere, not even as the lowest rating.
    assert need == Need(language="ar", named=("work",), lowest=("money", "housing"))
    with_consent = need_from_answers({**answers, "consent_sensitive": "yes"}, "nl")
    assert with_consent.named == ("work", "mental") and with_consent.lowest == ("mental",)
    # A lowest rating of 4 is no need.
    assert need_from_answers({"rating_work": "4"}, "nl").lowest == ()


def test_reasons_are_ids_and_numbers() -> None:
    choice = choose_coach([coach("a", domains=("work",), load=1)], NEED)
    assert choice is not None
    assert choice.to_json() == {
        "decided_by": "only",
        "expertise": ["work"],
        "language": "nl",
        "load": 1,
        "capacity": 5,
        "role": "coach",
    }


@settings(max_examples=150, deadline=None)
@given(
    capacities=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=6),
    cases=st.integers(min_value=0, max_value=30),
)
def test_capacity_is_never_exceeded(capacities: list[int], cases: int) -> None:
    """Offer and accept case after case: no coach ever holds more than their capacity, and a
    case only waits when every coach is full."""
    loads = [0] * len(capacities)
    for n in range(cases):
        team = [
            coach(f"c{i}", capacity=cap, load=loads[i], last=T0 + timedelta(minutes=i))
            for i, cap in enumerate(capacities)
        ]
        choice = choose_coach(team, NEED)
        if choice is None:
            assert all(load >= cap for load, cap in zip(loads, capacities, strict=True))
            continue
        index = int(choice.coach.id[1:])
        loads[index] += 1
        assert loads[index] <= capacities[index], (n, loads, capacities)
