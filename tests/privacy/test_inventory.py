"""The data inventory (docs/data-inventory.yaml) covers the schema, and sensitive data is
encrypted.

Fails when ``SQLModel.metadata`` (after importing :mod:`storage.tables`) has a table or column
the inventory lacks (or the inventory lists one that is gone), when a sensitive or justice
column is not encrypted, or when "encrypted" in the inventory and the column type
(:class:`storage.db.EncryptedText`) disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Column, MetaData, Table, Text
from sqlmodel import SQLModel

from storage import tables as _registered  # noqa: F401  (all tables on SQLModel.metadata)
from storage.db import EncryptedText
from storage.memory import MemoryStorage

INVENTORY = Path(__file__).resolve().parents[2] / "docs" / "data-inventory.yaml"
CATEGORIES = {"ordinary", "sensitive", "justice"}
PROTECTED = {"sensitive", "justice"}
TABLE_FIELDS = ("purpose", "retention", "recipients", "part")


def load() -> dict[str, Any]:
    data = yaml.safe_load(INVENTORY.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("tables"), dict)
    tables: dict[str, Any] = data["tables"]
    return tables


def categories_of(entry: dict[str, Any]) -> set[str]:
    value = entry.get("category")
    return set(value) if isinstance(value, list) else {str(value)}


def problems(metadata: MetaData, inventory: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for table in metadata.sorted_tables:
        listed = inventory.get(table.name)
        if not isinstance(listed, dict):
            found.append(f"{table.name}: table missing from the inventory")
            continue
        for name in TABLE_FIELDS:
            if not isinstance(listed.get(name), str) or not listed[name].strip():
                found.append(f"{table.name}: needs '{name}'")
        columns = listed.get("columns") or {}
        for column in table.columns:
            entry = columns.get(column.name)
            if not isinstance(entry, dict):
                found.append(f"{table.name}.{column.name}: column missing from the inventory")
                continue
            found.extend(column_problems(table.name, column, entry))
        for gone in sorted(set(columns) - {c.name for c in table.columns}):
            found.append(f"{table.name}.{gone}: listed, but not in the schema")
    for gone in sorted(set(inventory) - set(metadata.tables)):
        found.append(f"{gone}: listed, but not in the schema")
    return found


def column_problems(table: str, column: Column[Any], entry: dict[str, Any]) -> list[str]:
    where = f"{table}.{column.name}"
    found = []
    kinds = categories_of(entry)
    if not kinds or not kinds <= CATEGORIES:
        found.append(f"{where}: category must be one or more of {sorted(CATEGORIES)}")
    for name in ("encrypted", "exportable"):
        if not isinstance(entry.get(name), bool):
            found.append(f"{where}: '{name}' must be true or false")
    if entry.get("exportable") is False and not entry.get("note"):
        found.append(f"{where}: not exportable needs a note saying why")
    is_encrypted = isinstance(column.type, EncryptedText)
    if kinds & PROTECTED and not is_encrypted:
        found.append(f"{where}: {'/'.join(sorted(kinds & PROTECTED))} but not encrypted")
    if entry.get("encrypted") is not is_encrypted:
        found.append(
            f"{where}: inventory says encrypted={entry.get('encrypted')}, the column"
            f" type says {is_encrypted}"
        )
    return found


def test_the_inventory_covers_the_schema_and_sensitive_data_is_encrypted() -> None:
    found = problems(SQLModel.metadata, load())
    assert not found, "docs/data-inventory.yaml against the schema:\n" + "\n".join(found)


def test_every_core_part_is_named_in_the_inventory() -> None:
    named = {entry["part"] for entry in load().values()}
    assert {part.name for part in MemoryStorage().personal_data_parts} <= named


def copy_of_schema() -> MetaData:
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    return changed


def test_a_new_column_without_an_inventory_line_fails() -> None:
    baseline = set(problems(SQLModel.metadata, load()))
    changed = copy_of_schema()
    changed.tables["sessions"].append_column(Column("nickname", Text(), nullable=True))
    Table("pen_pals", changed, Column("id", Text(), primary_key=True))
    assert set(problems(changed, load())) - baseline == {
        "pen_pals: table missing from the inventory",
        "sessions.nickname: column missing from the inventory",
    }


@pytest.mark.parametrize("encrypted", [True, False])
def test_a_sensitive_column_that_is_not_encrypted_fails(encrypted: bool) -> None:
    changed = copy_of_schema()
    kind = EncryptedText() if encrypted else Text()
    changed.tables["consents"].append_column(Column("health_note", kind, nullable=True))
    inventory = load()
    inventory["consents"]["columns"]["health_note"] = {
        "category": "sensitive",
        "encrypted": True,
        "exportable": True,
    }
    found = set(problems(changed, inventory)) - set(problems(SQLModel.metadata, load()))
    if encrypted:
        assert found == set()
    else:
        assert found == {
            "consents.health_note: sensitive but not encrypted",
            "consents.health_note: inventory says encrypted=True, the column type says False",
        }
