"""PostgreSQL's schema is SQLite's: every migration has a PostgreSQL form, and they make the same tables."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg

from storage import open_database
from storage.database import migration_scripts
from storage.personal_data import NOT_PERSONAL, PERSONAL_BY_CHAT, PERSONAL_BY_PSEUDONYM

# Only on PostgreSQL: the schema version (SQLite keeps it in PRAGMA user_version).
POSTGRES_BOOKKEEPING = {"schema_version"}
# Only on PostgreSQL: answers' stand-in for SQLite's implicit row id (storage/migrations/postgresql/0003).
POSTGRES_ROW_IDS = {("answers", "rowid")}


def test_every_sqlite_migration_has_a_postgresql_form() -> None:
    """storage/migrations/NNNN_name.sql needs storage/migrations/postgresql/NNNN_name.sql (same number and name)."""
    sqlite = {number for number, _ in migration_scripts("sqlite")}
    postgresql = {number for number, _ in migration_scripts("postgresql")}
    missing = sorted(sqlite - postgresql)
    assert not missing, f"write the PostgreSQL form of migration(s) {missing} in storage/migrations/postgresql/"
    assert postgresql == sqlite, f"PostgreSQL forms without a SQLite migration: {sorted(postgresql - sqlite)}"
    names = {p.name for p in (Path(__file__).resolve().parent.parent / "storage" / "migrations").glob("*.sql")}
    pg_names = {
        p.name for p in (Path(__file__).resolve().parent.parent / "storage" / "migrations" / "postgresql").glob("*.sql")
    }
    assert names == pg_names


def _sqlite_columns(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: {row[1] for row in connection.execute(f"PRAGMA table_info({table})")} for table in tables}


def _postgres_columns(url: str) -> dict[str, set[str]]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        if (table, column) not in POSTGRES_ROW_IDS:
            found.setdefault(table, set()).add(column)
    return found


async def test_postgresql_has_the_same_tables_and_columns_as_sqlite(postgres_url: str, tmp_path: Path) -> None:
    async with open_database(tmp_path / "schema.db"), open_database(postgres_url):
        pass
    sqlite = _sqlite_columns(tmp_path / "schema.db")
    postgresql = _postgres_columns(postgres_url)
    assert set(postgresql) - POSTGRES_BOOKKEEPING == set(sqlite)
    for table, columns in sqlite.items():
        assert postgresql[table] == columns, table
    # Every table that can hold personal data is in the registry behind /mydata and /delete on both.
    registered = set(PERSONAL_BY_CHAT) | set(PERSONAL_BY_PSEUDONYM) | set(NOT_PERSONAL)
    assert set(postgresql) - POSTGRES_BOOKKEEPING == registered


async def test_two_workers_starting_together_migrate_once(empty_postgres_url: str) -> None:
    """Workers starting at once take turns (an advisory lock): each migration runs once, none fails."""

    postgres_url = empty_postgres_url

    async def worker() -> str | None:
        async with open_database(postgres_url) as db:
            return await db.deployment()

    assert await asyncio.gather(worker(), worker(), worker()) == [None, None, None]
    with psycopg.connect(postgres_url) as connection:
        version = connection.execute("SELECT version FROM schema_version").fetchall()
        keys = connection.execute("SELECT COUNT(*) FROM meta WHERE key = 'pseudonym_key'").fetchall()
    assert version == [(max(number for number, _ in migration_scripts("postgresql")),)]
    assert keys == [(1,)]
