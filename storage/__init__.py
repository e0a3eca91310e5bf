"""Opstap's storage: sessions, reminders, update dedupe, consents and every feature's tables, on
SQLite or PostgreSQL.

Rules of this package (import rules checked by ``tests/test_architecture.py``):

* Callers depend on the ports in :mod:`storage.ports` only; :mod:`storage.sql` (``SqlStorage``,
  ``open_storage``) and :mod:`storage.memory` (``MemoryStorage``, for tests) implement them, and
  ``tests/storage`` runs one contract suite against memory, SQLite and PostgreSQL.
* May import :mod:`flows` for domain types; never ``bot``, ``telegram``, ``aiohttp`` or
  ``apscheduler``. Reads no environment variables: URLs arrive as arguments.
* Every schema change is an Alembic migration (:mod:`storage.migrate`); tables are declared in
  :mod:`storage.tables`, encoding of stored sessions in :mod:`storage.codec`.
* Datetimes are aware UTC in and out. Nothing here logs: rows hold personal data.
"""
