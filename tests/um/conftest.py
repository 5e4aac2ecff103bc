"""The UM view tests reuse the integration store fixtures (SQLite file, PostgreSQL schema)."""

from tests.integration.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    _migrated_postgres,
    _migrated_sqlite,
    store,
)
