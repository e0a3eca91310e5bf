"""The transaction is assembled from the repositories the features register
(:mod:`storage.assembly`): every declared key has an adapter on each of its backends once a
storage is imported, an unknown key says which, and the one class serves every backend."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import storage
from storage.assembly import (
    BACKENDS,
    MEMORY_ADAPTERS,
    SQL_ADAPTERS,
    Adapters,
    RepositoryKey,
    UnknownRepository,
)
from storage.memory import MemoryStorage
from storage.ports import SESSIONS_KEY, Storage, Transaction
from storage.referral import referrals_of
from storage.referral_port import REFERRALS_KEY, ReferralLink
from storage.routing_port import CASES_KEY
from storage.team_sql import TEAM_DATA_KEY, team_of
from tests.storage.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
NOBODY: RepositoryKey[object] = RepositoryKey("tests.nobody_registers_this")


def declared_keys() -> dict[str, list[RepositoryKey[Any]]]:
    """Every key declared at module level anywhere in ``storage/``, by name."""
    found: dict[str, list[RepositoryKey[Any]]] = {}
    for module in pkgutil.iter_modules(storage.__path__, "storage."):
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, RepositoryKey) and all(
                value is not k for k in found.get(value.name, [])
            ):
                found.setdefault(value.name, []).append(value)
    return found


# What a fresh interpreter has registered after importing the two backends and nothing else:
# proves that storage.sql and storage.memory import every adapter module.
_FRESH = """
import json
import storage.memory, storage.sql
from storage.assembly import MEMORY_ADAPTERS, SQL_ADAPTERS
names = {a.backend: sorted(k.name for k in a.registered()) for a in (SQL_ADAPTERS, MEMORY_ADAPTERS)}
print(json.dumps(names))
"""


def test_every_declared_key_has_an_adapter_on_each_of_its_backends() -> None:
    declared = declared_keys()
    assert {"sessions", "cases", "referrals", "relay_files", "team"} <= set(declared)
    assert {n: len(k) for n, k in declared.items() if len(k) > 1} == {}, "a name used twice"
    fresh = subprocess.run(
        [sys.executable, "-c", _FRESH], cwd=ROOT, capture_output=True, text=True, check=True
    )
    registered: dict[str, list[str]] = json.loads(fresh.stdout)
    for name, (key,) in declared.items():
        for backend in BACKENDS:
            expected = backend in key.backends
            assert (name in registered[backend]) == expected, f"{name} on {backend}"
    # And nothing is registered that no storage module declares.
    for adapters in (SQL_ADAPTERS, MEMORY_ADAPTERS):
        assert {k.name for k in adapters.registered()} <= set(declared)
        assert all(declared[k.name] == [k] for k in adapters.registered())


async def test_the_one_transaction_class_builds_each_port_once(backend: Backend) -> None:
    store = await backend.open()
    adapters = MEMORY_ADAPTERS if backend.name == "memory" else SQL_ADAPTERS
    async with store.transaction() as tx:
        assert type(tx) is Transaction
        assert tx.backend == adapters.backend
        for key in adapters.registered():
            assert key in tx
            assert tx[key] is tx[key] is tx.get(key)
        # The core ports' attributes are the same repositories as their keys.
        assert tx.sessions is tx[SESSIONS_KEY] and tx.cases is tx[CASES_KEY]
        assert referrals_of(tx) is tx[REFERRALS_KEY]
        assert team_of(tx) is tx.get(TEAM_DATA_KEY)
        assert (team_of(tx) is None) == (backend.name == "memory")


async def test_an_unregistered_key_is_named_in_the_error(storage: Storage) -> None:
    async with storage.transaction() as tx:
        assert NOBODY not in tx and tx.get(NOBODY) is None and tx.get(NOBODY, 7) == 7
        with pytest.raises(UnknownRepository, match=re.escape(repr(NOBODY.name))) as error:
            tx[NOBODY]
        assert error.value.key is NOBODY
        assert error.value.backend in str(error.value)


async def test_a_repository_of_one_technology_says_so_on_the_other() -> None:
    async with MemoryStorage().transaction() as tx:
        with pytest.raises(UnknownRepository, match=r"'team'.* exists on sql only"):
            tx[TEAM_DATA_KEY]


def test_a_second_adapter_for_a_key_is_refused() -> None:
    adapters: Adapters[None] = Adapters("test")
    adapters.register(NOBODY, lambda _: object())
    with pytest.raises(ValueError, match=r"'tests\.nobody_registers_this' has a test adapter"):
        adapters.register(NOBODY, lambda _: object())


async def test_a_features_memory_part_rolls_back_with_the_transaction() -> None:
    # The memory backend keeps a feature's tables as a part of the snapshot: a transaction that
    # raises leaves nothing, one that commits keeps it, like a database.
    store = MemoryStorage()
    link = ReferralLink("poster_1", "boest-your-future", "bib", T0, None)
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx[REFERRALS_KEY].add_link(link)
            raise RuntimeError("rollback")
    async with store.transaction() as tx:
        assert await tx[REFERRALS_KEY].links() == []
        await tx[REFERRALS_KEY].add_link(link)
    async with store.transaction() as tx:
        assert await tx[REFERRALS_KEY].links() == [link]
