"""PostgreSQL: the connection interface of `storage.sql` on a psycopg 3 connection pool.

- A statement outside a unit of work takes a pooled connection in autocommit: it commits on its
  own, as on SQLite, and statements of different residents run side by side on the pool.
- A unit of work takes one pooled connection for its whole life, in its own transaction: only
  the statements of the task that opened it (and the tasks it starts) run on it, so nothing
  else's statement can join it. Units of work wait for each other, across every worker sharing
  the database (a transaction-level advisory lock), as SQLite's `BEGIN IMMEDIATE` makes them
  wait: what a unit reads stays true until it commits.
- Nothing is remembered between statements (`shared`): several workers may write the database.

Placeholders: the repositories' `?` and `:name` become psycopg's `%s` and `%(name)s` (a literal
`%` is doubled); the translation is done once per statement text.

SQLite's settings and what stands for them here (storage/database.py `_configure`):
- WAL and synchronous=NORMAL: PostgreSQL always writes ahead, and with its default
  synchronous_commit=on a commit is on disk before it returns, so what a resident said is
  durable before the bot replies (stronger than SQLite's NORMAL; an operator who sets it off
  trades that away).
- foreign_keys=ON: PostgreSQL always enforces them. busy_timeout: a statement waits for the row
  locks it needs for as long as it takes (no SQLITE_BUSY).
- secure_delete and the checkpoint after an erasure: see `storage.personal_data.checkpoint`
  (on PostgreSQL a deleted row's bytes go with VACUUM).
- The submit trigger (migration 0006): the same, in PL/pgSQL (migrations/postgresql/0006).
- The one-process OS lock on the database file (bot/single_instance.py): not taken; workers share
  PostgreSQL, and migrating at start-up takes `MIGRATION_LOCK`.

Why psycopg rather than asyncpg: bench/pg_drivers.py and the commit that added this module.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

__all__ = ["PostgresConnection", "apply_postgres_migrations", "connect_postgres", "to_pyformat"]

# Taken inside every unit of work (pg_advisory_xact_lock), so units run one at a time.
UNIT_LOCK = 0x4859_5355  # "HYSU"
# Taken around migrating (pg_advisory_lock), so workers starting together migrate once.
MIGRATION_LOCK = 0x4859_534D  # "HYSM"

_STREAMS = itertools.count(1)  # names of server-side cursors
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|::|\?|:[A-Za-z_]\w*|%")


@functools.lru_cache(maxsize=4096)
def to_pyformat(sql: str) -> str:
    """The statement with psycopg's placeholders: `?` -> `%s`, `:name` -> `%(name)s`, `%` -> `%%`."""

    def placeholder(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if token[0] == ":" and token != "::":
            return f"%({token[1:]})s"
        return token.replace("%", "%%")  # a string literal, a quoted name, a comment, a cast

    return _TOKEN.sub(placeholder, sql)


class _Cursor:
    """What a statement left, read in full before its pooled connection went back."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int, description: Any) -> None:
        self.rows = rows
        self.rowcount = rowcount
        self.description = description
        self.lastrowid: int | None = None  # not on PostgreSQL: write `RETURNING id`

    async def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    async def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    async def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        taken, self.rows = self.rows[:size], self.rows[size:]
        return taken


class _Executing:
    """A statement on its way: awaited, or used as `async with ... as cursor` (as aiosqlite's)."""

    __slots__ = ("_running",)

    def __init__(self, running: Coroutine[Any, Any, _Cursor]) -> None:
        self._running = running

    def __await__(self) -> Generator[Any, None, _Cursor]:
        return self._running.__await__()

    async def __aenter__(self) -> _Cursor:
        return await self._running

    async def __aexit__(self, *exc_info: object) -> None:
        return None


async def _run(connection: psycopg.AsyncConnection[Any], sql: str, parameters: Any) -> _Cursor:
    cursor = await connection.execute(to_pyformat(sql), () if parameters is None else parameters)
    try:
        rows = await cursor.fetchall() if cursor.description is not None else []
        return _Cursor(rows, cursor.rowcount, cursor.description)
    finally:
        await cursor.close()


class PostgresConnection:
    """The repositories' connection on a pool of PostgreSQL connections (see the module)."""

    dialect = "postgresql"
    shared = True

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]) -> None:
        self.pool = pool
        self._unit: ContextVar[psycopg.AsyncConnection[Any] | None] = ContextVar(
            f"haveyoursay_pg_unit_{id(self)}", default=None
        )
        self._on_unit_end: list[Callable[[], None]] = []

    def execute(self, sql: str, parameters: Any = None) -> _Executing:
        return _Executing(self._execute(sql, parameters))

    async def _execute(self, sql: str, parameters: Any) -> _Cursor:
        unit = self._unit.get()
        if unit is not None:
            return await _run(unit, sql, parameters)
        async with self.pool.connection() as connection:
            return await _run(connection, sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> list[tuple[Any, ...]]:
        return (await self._execute(sql, parameters)).rows

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> _Cursor:
        """One statement for each row, in one transaction (the unit's, inside one); `rowcount`: rows changed."""
        rows = [tuple(row) for row in parameters]
        unit = self._unit.get()
        if unit is not None:
            return _Cursor([], await _many(unit, sql, rows), None)
        async with self.pool.connection() as connection, connection.transaction():
            return _Cursor([], await _many(connection, sql, rows), None)

    async def execute_in_order(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Statements one after another on one connection, each committing on its own outside a unit."""
        unit = self._unit.get()
        if unit is not None:
            for sql, parameters in statements:
                await _run(unit, sql, parameters)
            return
        async with self.pool.connection() as connection:
            for sql, parameters in statements:
                await _run(connection, sql, parameters)

    async def execute_together(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Each statement for each of its parameter rows, all in one transaction."""
        unit = self._unit.get()
        if unit is not None:
            for sql, rows in statements:
                if rows:
                    await _many(unit, sql, rows)
            return
        async with self.pool.connection() as connection, connection.transaction():
            for sql, rows in statements:
                if rows:
                    await _many(connection, sql, rows)

    async def stream(self, sql: str, parameters: Any, batch: int) -> AsyncIterator[Iterable[Any]]:
        """The rows of a query, `batch` at a time: a server-side cursor, in a transaction of its own
        (or the unit of work's), so an export of every response never holds them all in memory."""
        unit = self._unit.get()
        if unit is not None:
            async for rows in _fetch_in_batches(unit, sql, parameters, batch):
                yield rows
            return
        async with self.pool.connection() as connection, connection.transaction():
            async for rows in _fetch_in_batches(connection, sql, parameters, batch):
                yield rows

    def inside_unit_of_work(self) -> bool:
        return self._unit.get() is not None

    def when_unit_ends(self, forget: Callable[[], None]) -> None:
        self._on_unit_end.append(forget)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[None]:
        """Writes that stand or fall together, on a connection of their own; one inside another joins it."""
        if self._unit.get() is not None:
            yield
            return
        async with self.pool.connection() as connection:
            try:
                async with connection.transaction():
                    await connection.execute("SELECT pg_advisory_xact_lock(%s)", (UNIT_LOCK,))
                    token = self._unit.set(connection)
                    try:
                        yield
                    finally:
                        self._unit.reset(token)
            finally:
                for forget in self._on_unit_end:
                    forget()

    async def close(self) -> None:
        await self.pool.close()


async def _fetch_in_batches(
    connection: psycopg.AsyncConnection[Any], sql: str, parameters: Any, batch: int
) -> AsyncIterator[list[tuple[Any, ...]]]:
    async with connection.cursor(name=f"stream_{next(_STREAMS)}") as cursor:
        await cursor.execute(to_pyformat(sql), parameters)
        while rows := await cursor.fetchmany(batch):
            yield rows


async def _many(connection: psycopg.AsyncConnection[Any], sql: str, rows: Sequence[Sequence[Any]]) -> int:
    async with connection.cursor() as cursor:
        await cursor.executemany(to_pyformat(sql), rows)
        return max(cursor.rowcount, 0)


async def connect_postgres(url: str, *, max_size: int = 10) -> PostgresConnection:
    """A pool of autocommit connections to the database at `url` (postgresql://user:pass@host/db)."""
    pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        # Autocommit: a statement outside a unit of work commits at once. No server-side
        # prepared statements, so the pool works behind PgBouncer in transaction mode.
        kwargs={"autocommit": True, "prepare_threshold": None},
        open=False,
        name="haveyoursay",
    )
    await pool.open(wait=True, timeout=30)
    return PostgresConnection(pool)


class MissingMigration(Exception):
    """A migration has no PostgreSQL form: the schema would not be the one the code expects."""


async def apply_postgres_migrations(
    connection: PostgresConnection, scripts: Sequence[tuple[int, str]], sqlite_scripts: Sequence[tuple[int, str]]
) -> int:
    """Bring the schema up to date (each migration all or nothing); return the version now in force.

    The version is kept in `schema_version` (SQLite keeps it in PRAGMA user_version). Workers
    starting together take turns (a session advisory lock), so each migration runs once.
    """
    missing = sorted({n for n, _ in sqlite_scripts} - {n for n, _ in scripts})
    if missing:
        raise MissingMigration(f"migration(s) {missing} have no PostgreSQL form in storage/migrations/postgresql/")
    async with connection.pool.connection() as session:
        await session.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            await session.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            found = await (await session.execute("SELECT version FROM schema_version")).fetchone()
            if found is None:
                await session.execute("INSERT INTO schema_version(version) VALUES (0)")
            current = int(found[0]) if found else 0
            for number, script in scripts:
                if number <= current:
                    continue
                async with session.transaction():
                    await session.execute(script.encode())  # several statements: no parameters
                    await session.execute("UPDATE schema_version SET version = %s", (number,))
                current = number
        finally:
            await session.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return current
