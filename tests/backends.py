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
            return [tuple(row) for row in connection.execute(to_pyformat(sql).encode(), parameters).fetchall()]
    with sqlite3.connect(target) as connection:
        return list(connection.execute(sql, parameters))


def _errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    try:
        import psycopg
    except ImportError:
        return (sqlite3.Error,), (sqlite3.IntegrityError,)
    return (sqlite3.Error, psycopg.Error), (sqlite3.IntegrityError, psycopg.IntegrityError)


# What either backend raises: any database error, or a broken constraint.
DATABASE_ERRORS, INTEGRITY_ERRORS = _errors()
