"""Tests on both storage backends: what another process reading the database would find."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.sql import is_postgres_url


async def migrated(url: str) -> None:
    """Fill the template each test's PostgreSQL database is copied from: every migration, as at start-up."""
    from storage import open_database

    async with open_database(url):
        pass


def on_disk(target: str | Path, sql: str, *parameters: object) -> list[tuple[object, ...]]:
    """Rows committed to the database (a SQLite file, or a PostgreSQL URL), read on a connection of its own."""
    if is_postgres_url(target):
        import psycopg

        from storage.postgres import to_pyformat

        with psycopg.connect(str(target), autocommit=True) as connection:
            cursor = connection.execute(to_pyformat(sql).encode(), parameters)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description is not None else []
    with sqlite3.connect(target) as connection:
        return list(connection.execute(sql, parameters))


def holds_text(target: str | Path, text: str) -> bool:
    """Whether the database still holds `text` anywhere: in the SQLite file or its log, byte for byte; on
    PostgreSQL, in any row of any table (its pages are the operator's: storage.personal_data.checkpoint)."""
    if not is_postgres_url(target):
        folder, name = Path(target).parent, Path(target).name
        return text.encode() in b"".join(path.read_bytes() for path in folder.glob(f"{name}*"))
    tables = [
        str(row[0])
        for row in on_disk(target, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    ]
    anywhere = " UNION ALL ".join(f'SELECT 1 FROM "{table}" AS row WHERE row::text LIKE ?' for table in tables)
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return on_disk(target, f"SELECT COUNT(*) FROM ({anywhere}) AS found", *[pattern] * len(tables)) != [(0,)]


def _errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    try:
        import psycopg
    except ImportError:
        return (sqlite3.Error,), (sqlite3.IntegrityError,)
    return (sqlite3.Error, psycopg.Error), (sqlite3.IntegrityError, psycopg.IntegrityError)


# What either backend raises: any database error, or a broken constraint.
DATABASE_ERRORS, INTEGRITY_ERRORS = _errors()
