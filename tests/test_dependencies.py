"""The declared dependencies are the imported ones, and the lock files agree with pyproject.toml.

* Every third-party module imported by ``bot/``, ``flows/``, ``storage/`` is declared in
  ``[project] dependencies``; ``tests/`` and ``bench/`` may also use the ``dev`` extra.
* Every declared runtime dependency is imported, except the database drivers SQLAlchemy loads by
  URL and the few declared ahead of the code that will use them (``AHEAD_OF_USE``).
* ``requirements.lock`` / ``requirements-dev.lock`` pin exactly what pyproject declares, at
  versions it allows. When this fails after a change to pyproject.toml: ``make lock``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"bot", "flows", "storage", "locales", "tests", "bench"}
# Loaded by SQLAlchemy from the database URL (sqlite+aiosqlite, postgresql+asyncpg).
DRIVERS = {"aiosqlite", "asyncpg"}
# Loaded by another package at run time: fpdf2's text shaping imports uharfbuzz; httpcore
# (under PTB's httpx) imports sniffio on every request.
LOADED_BY_OTHERS = {"uharfbuzz", "sniffio"}
# Declared for work in progress (the team dashboard, the safety lexicon): a name leaves this
# list when its first import lands, and this test then keeps it honest.
AHEAD_OF_USE = {"jinja2", "argon2-cffi", "pyotp", "pygal", "simplemma"}
LOCKS = {"requirements.lock": False, "requirements-dev.lock": True}  # file: with the dev extra


@cache
def project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        data = tomllib.load(handle)
    found = data["project"]
    assert isinstance(found, dict)
    return found


def requirements(with_dev: bool) -> dict[str, Requirement]:
    raw = list(project()["dependencies"])  # type: ignore[call-overload]
    if with_dev:
        raw += project()["optional-dependencies"]["dev"]  # type: ignore[index]
    parsed = (Requirement(text) for text in raw)
    return {canonicalize_name(req.name): req for req in parsed}


def imported_modules(*folders: str) -> set[str]:
    modules: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.partition(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules.add(node.module.partition(".")[0])
    return {
        m
        for m in modules
        if m not in sys.stdlib_module_names and m not in FIRST_PARTY and m != "__future__"
    }


def distributions(modules: set[str]) -> set[str]:
    owners = packages_distributions()
    found: set[str] = set()
    for module in modules:
        assert module in owners, f"'{module}' is imported but no installed package provides it"
        found.update(canonicalize_name(name) for name in owners[module])
    return found


def test_every_imported_package_is_declared() -> None:
    runtime = distributions(imported_modules("bot", "flows", "storage"))
    missing = runtime - set(requirements(with_dev=False))
    assert not missing, f"imported by the code, not in [project] dependencies: {sorted(missing)}"
    tooling = distributions(imported_modules("tests", "bench"))
    missing_dev = tooling - set(requirements(with_dev=True))
    assert not missing_dev, f"imported by tests or bench, not declared: {sorted(missing_dev)}"


def test_every_declared_package_is_imported() -> None:
    runtime = distributions(imported_modules("bot", "flows", "storage"))
    allowed = runtime | DRIVERS | LOADED_BY_OTHERS | {canonicalize_name(n) for n in AHEAD_OF_USE}
    unused = set(requirements(with_dev=False)) - allowed
    assert not unused, f"declared in [project] dependencies but never imported: {sorted(unused)}"


def test_zero_versions_are_bounded() -> None:
    """A 0.x release may break in a minor version: every 0.x dependency has an upper bound."""
    for name, req in requirements(with_dev=True).items():
        lows = [s.version for s in req.specifier if s.operator in (">=", "==", "~=")]
        if any(low.startswith("0.") for low in lows):
            assert any(s.operator in ("<", "<=", "==", "~=") for s in req.specifier), name


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def read_lock(name: str) -> tuple[dict[str, str], set[str]]:
    """Pins (name -> version) and the names pinned because pyproject.toml asks for them."""
    pins: dict[str, str] = {}
    direct: set[str] = set()
    current = ""
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        pin = _PIN.match(line)
        if pin:
            current = canonicalize_name(pin.group(1))
            pins[current] = pin.group(2)
        elif "opstap (pyproject.toml)" in line and current:
            direct.add(current)
    return pins, direct


@pytest.mark.parametrize(("lock", "with_dev"), list(LOCKS.items()))
def test_the_lock_agrees_with_pyproject(lock: str, with_dev: bool) -> None:
    pins, direct = read_lock(lock)
    declared = requirements(with_dev)
    hint = "; run `make lock`"
    assert direct == set(declared), (
        f"{lock} and pyproject.toml disagree: only declared {sorted(set(declared) - direct)},"
        f" only locked {sorted(direct - set(declared))}{hint}"
    )
    for name, req in declared.items():
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, pyproject.toml asks {req.specifier}{hint}"
        )


def test_every_pin_carries_hashes() -> None:
    for lock in LOCKS:
        lines = (ROOT / lock).read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if _PIN.match(line):
                assert line.endswith("\\") and "--hash=sha256:" in lines[index + 1], (lock, line)
