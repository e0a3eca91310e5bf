"""``opstap route TEXT`` and ``opstap directory check``: the logic, without argument parsing.

Rules: each function writes to the ``stdout`` it is given and returns the exit code; the
console script (``bot/cli.py``) only parses arguments and calls them.

* ``run_route`` prints exactly one JSON object on one line: the
  :meth:`~flows.routing.places.Resolution.to_json_dict` of the text, exit code 0 whatever the
  status (``unknown`` is an answer, not a failure). When the routing data itself is broken it
  prints ``{"error": ..., "problems": [...]}`` and returns 1.
* ``run_directory_check`` prints one line per problem (``problem: ...``), then a summary of
  coverage and unverified contacts, and returns 1 when there is any problem, else 0.
"""

from __future__ import annotations

import json
from typing import TextIO

from bot.routing.gazetteer import (
    ATTRIBUTION,
    GazetteerError,
    directory_problems,
    gazetteer_problems,
    load_directory_mapping,
    load_gazetteer,
    load_resolver,
)
from flows.routing.directory import DirectoryError, parse_directory
from flows.routing.places import Gazetteer

__all__ = ["run_directory_check", "run_route"]


def run_route(text: str, stdout: TextIO) -> int:
    try:
        resolver = load_resolver()
    except (DirectoryError, GazetteerError) as error:
        stdout.write(
            json.dumps(
                {"error": "routing data is invalid", "problems": list(error.problems)},
                ensure_ascii=False,
            )
            + "\n"
        )
        return 1
    resolution = resolver.resolve(text)
    stdout.write(json.dumps(resolution.to_json_dict(), ensure_ascii=False) + "\n")
    return 0


def run_directory_check(stdout: TextIO, *, directory_text: str | None = None) -> int:
    """Check the shipped directory, or ``directory_text`` (a draft) when given."""
    problems = [f"places.yaml: {p}" for p in gazetteer_problems()]
    try:
        problems += directory_problems(directory_text)
    except ValueError as error:  # not YAML, or not a mapping at the top
        problems.append(str(error))
    for line in problems:
        stdout.write(f"problem: {line}\n")
    if problems:
        stdout.write(f"{len(problems)} problem(s): the directory is NOT valid\n")
        return 1

    gazetteer = load_gazetteer()
    directory = parse_directory(load_directory_mapping(directory_text), gazetteer)
    flemish = gazetteer.flemish_nis()
    blind = directory.blind_spots(flemish)
    partial = directory.partially_covered()
    covered = len(flemish) - len(blind)
    stdout.write(
        f"directory OK: {len([p for p in directory.partnerships if p.role is None])} "
        f"partnerships, {covered} of {len(flemish)} "
        f"Flemish municipalities covered ({len(partial)} only in part: "
        f"{_names(gazetteer, partial)})\n"
    )
    team = directory.partnership(directory.fallback.team) if directory.fallback.team else None
    stdout.write(
        f"blind spots: {len(blind)} municipalities covered by no partnership get the fallback "
        f"({', '.join(c.name + ' ' + c.phone for c in directory.fallback.contacts)})"
        + (f" and can send their question to the fallback team {team.name}" if team else "")
        + "\n"
    )
    unverified = directory.unverified()
    if unverified:
        stdout.write(
            f"not verified yet: {len(unverified)} contacts have verified_on: null "
            "(placeholders until the partnership confirms them)\n"
        )
    stdout.write(f"{ATTRIBUTION}\n")
    return 0


def _names(gazetteer: Gazetteer, codes: tuple[str, ...]) -> str:
    names = []
    for code in codes:
        municipality = gazetteer.municipality(code)
        names.append(municipality.name_nl if municipality else code)
    return ", ".join(names) or "none"
