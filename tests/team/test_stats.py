"""The statistics as they may be published (bot/team/stats.py ``publish``): pure."""

from __future__ import annotations

from bot.team.stats import DomainProgress, Stats, export_rows, plotted, publish, shown


def _stats(**changes: object) -> Stats:
    values: dict[str, object] = {
        "intakes_per_week": (("2026-W47", 0), ("2026-W48", 3), ("2026-W49", 7)),
        "cases": 10,
        "accepted": 4,
        "hours_to_acceptance": 5.0,
        "hours_to_first_contact": 8.0,
        "acceptance_base": 4,
        "first_contact_base": 6,
        "appointments_attended": 10,
        "appointments_missed": 2,
        "domains": (("work", 6), ("money", 1)),
        "outcomes": (("work", 5), ("not_reached", 2)),
        "progress": (DomainProgress("work", 5, 2.0, 3.4), DomainProgress("money", 2, 1.0, 5.0)),
        "blind_spots": (("11002", 4), ("24062", 9)),
    }
    values.update(changes)
    return Stats(**values)  # type: ignore[arg-type]


def test_counts_under_the_minimum_are_shown_as_less_than_it() -> None:
    assert [shown(n, 5) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]
    assert [plotted(n, 5) for n in (0, 3, 5)] == [0, None, 5]
    assert shown(2, 1) == "2" and shown(9, 10) == "<10"


def test_publish_hides_small_counts_and_measures_over_few_cases() -> None:
    report = publish(_stats(), 5)
    assert report.intakes_per_week == (("2026-W47", "0"), ("2026-W48", "<5"), ("2026-W49", "7"))
    assert (report.cases, report.accepted) == ("10", "<5")
    # A median over 4 cases is left out; over 6 it is shown.
    assert report.hours_to_acceptance is None and report.hours_to_first_contact == 8.0
    assert report.domains == (("work", "6"), ("money", "<5"))
    assert report.outcome_reporting == (("niet bereikt", "<5"), ("werk", "5"))
    work, money = report.progress
    assert (work.cases, work.change) == ("5", 1.4)
    assert (money.cases, money.intake_mean, money.latest_mean, money.change) == (
        "<5",
        None,
        None,
        None,
    )
    # 2 missed is hidden, so the rate (which would give it away) is too.
    assert report.appointments_missed == "<5" and report.no_show_rate is None
    rows = export_rows("p", report)
    assert ("p", "appointments", "missed", "<5") in rows
    assert ("p", "no_show_rate", "all", "") in rows
    assert ("p", "blind_spot", "11002", "<5") in rows and ("p", "blind_spot", "24062", "9") in rows
    assert not [r for r in rows if r[3] in {"1", "2", "3", "4"}]


def test_a_minimum_of_one_shows_everything() -> None:
    report = publish(_stats(), 1)
    assert report.accepted == "4" and report.hours_to_acceptance == 5.0
    assert report.no_show_rate == round(2 / 12, 3)
    assert report.appointments_missed == "2"
