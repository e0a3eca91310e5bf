"""Opstap's storage: sessions, reminders, update dedupe, consents and every feature's tables, on
SQLite or PostgreSQL.

Rules of this package (import rules checked by ``tests/test_architecture.py``):

* Callers depend on the ports only (the core ones in :mod:`storage.ports`, a feature's in its
  own module); :mod:`storage.sql` (``SqlStorage``, ``open_storage``) and :mod:`storage.memory`
  (``MemoryStorage``, for tests) implement them, and ``tests/storage`` runs one contract suite
  against memory, SQLite and PostgreSQL.
* One transaction class, :class:`storage.ports.Transaction`, assembled from the repositories
  each adapter module registers for its port's key (:mod:`storage.assembly`).
* May import :mod:`flows` for domain types; never ``bot``, ``telegram``, ``aiohttp`` or
  ``apscheduler``. Reads no environment variables: URLs arrive as arguments.
* Every schema change is an Alembic migration (:mod:`storage.migrate`); tables are declared in
  :mod:`storage.tables`, encoding of stored sessions in :mod:`storage.codec`.
* Datetimes are aware UTC in and out. Nothing here logs: rows hold personal data.
"""
