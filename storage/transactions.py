"""The one writer: a connection whose unit of work nothing else's statement can land inside.

Handlers and the scheduler share one aiosqlite connection, and SQLite has one transaction per
connection. Were a statement of another task to run while a unit of work is open, it would join
that unit and be rolled back with it: a resident shown "saved" would lose the answer. So every
statement on the connection (aiosqlite sends each one through `_execute`) waits while another
task's unit of work is open; statements outside any unit still go out at once, side by side, so
the resident's hot path keeps its one round trip per write.

Repositories that remember rows (residents, responses, drafts) drop what they remember when a
unit of work ends, committed or rolled back: a unit may change their rows in SQL they do not see
(an erasure, a purge), and what a rolled-back unit wrote must not survive in memory.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite

from storage import sql

__all__ = ["Connection", "connect", "transaction"]


class _Unit:
    """One open unit of work; `ended` is set when it has committed or rolled back."""

    def __init__(self) -> None:
        self.ended = asyncio.Event()


# The unit of work the running task (and the tasks it starts) is inside, if any.
_inside: ContextVar[_Unit | None] = ContextVar("haveyoursay_unit_of_work", default=None)


class Connection(aiosqlite.Connection):
    """aiosqlite's connection, with one unit of work at a time that no other task's statement joins.

    The SQLite side of `storage.sql.Connection`: this process is its only writer (`shared` false).
    """

    dialect = "sqlite"
    shared = False

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._open_unit: _Unit | None = None
        self._one_unit_at_a_time = asyncio.Lock()
        self._on_unit_end: list[Callable[[], None]] = []

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Queue one call for SQLite's thread, after any other task's open unit of work has ended."""
        while self._open_unit is not None and _inside.get() is not self._open_unit:
            await self._open_unit.ended.wait()
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    async def execute_in_order(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run statements one after another in a single trip to SQLite's thread.

        Each statement commits on its own, as with `execute` outside a unit of work; if one fails,
        those after it do not run. One wait for the thread instead of one per statement.
        """
        await self._execute(self._run_in_order, statements)

    def _run_in_order(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        # On SQLite's thread.
        for text, parameters in statements:
            self._conn.execute(text, parameters).close()

    async def execute_together(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Each statement run for each of its parameter rows, all in one transaction and one trip.

        All or nothing: if one fails, none of them is kept. Waits, as every statement does, while
        another task's unit of work is open, so it never lands inside one.
        """
        await self._execute(self._run_together, statements)

    def _run_together(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        # On SQLite's thread; the connection is in autocommit mode outside a unit of work.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for text, rows in statements:
                if rows:
                    self._conn.executemany(text, rows).close()
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    async def stream(self, sql: str, parameters: Any, batch: int) -> AsyncIterator[Iterable[Any]]:
        """The rows of a query, `batch` at a time (SQLite's cursor steps through them)."""
        async with self.execute(sql, parameters) as cursor:
            while rows := await cursor.fetchmany(batch):
                yield rows

    def inside_unit_of_work(self) -> bool:
        """Whether the running task is inside this connection's open unit of work."""
        return self._open_unit is not None and _inside.get() is self._open_unit

    def when_unit_ends(self, forget: Callable[[], None]) -> None:
        """Call `forget` after every unit of work, committed or rolled back (for remembered rows)."""
        self._on_unit_end.append(forget)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[None]:
        """Writes that stand or fall together; a unit opened inside another joins it."""
        if self._open_unit is not None and _inside.get() is self._open_unit:
            yield
            return
        async with self._one_unit_at_a_time:
            unit = _Unit()
            self._open_unit = unit
            token = _inside.set(unit)
            try:
                await self.execute("BEGIN IMMEDIATE")
                try:
                    yield
                    await self.execute("COMMIT")
                except BaseException:
                    await self.execute("ROLLBACK")
                    raise
            finally:
                _inside.reset(token)
                self._open_unit = None
                for forget in self._on_unit_end:
                    forget()
                unit.ended.set()


async def connect(path: str | Path) -> Connection:
    """Open the database file in autocommit mode: a statement outside a unit of work commits at once."""
    location = str(path)
    connection = Connection(lambda: sqlite3.connect(location, isolation_level=None), 64)
    await connection
    return connection


@asynccontextmanager
async def transaction(connection: sql.Connection) -> AsyncIterator[None]:
    """Writes that stand or fall together, as one unit of work of the connection (SQLite or PostgreSQL)."""
    async with connection.unit_of_work():
        yield
