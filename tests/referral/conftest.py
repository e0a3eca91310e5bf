"""The storage backends of the contract suite (memory, SQLite, PostgreSQL) for the referral
port's tests."""

from tests.storage.conftest import (  # noqa: F401  (fixtures)
    backend,
    postgres_database,
    postgres_server,
    storage,
)
