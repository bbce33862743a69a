"""The connection the repositories use, on SQLite or PostgreSQL: one small interface, two backends.

Repositories write SQL by hand, one text per statement wherever the two dialects agree: `?`
placeholders (`:name` for named ones), `INSERT ... ON CONFLICT ... DO NOTHING / DO UPDATE`,
`RETURNING id` rather than a cursor's last row id, timestamps as the ISO text of
`storage.clock`, booleans as the integers 0 and 1. Where the dialects truly differ, a
repository picks its text by `connection.dialect` ("sqlite" or "postgresql").

- SQLite: `storage.transactions.Connection` (aiosqlite's connection and its one writer).
- PostgreSQL: `storage.postgres.PostgresConnection` (a psycopg pool: a pooled connection per
  unit of work, single statements on the pool in autocommit).

`shared` says whether other processes may write the same database (PostgreSQL, several bot
workers): then repositories remember no rows between statements, since another worker's write
would leave a remembered copy stale.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

__all__ = ["Connection", "Cursor", "Dialect", "Executing", "is_postgres_url"]

Dialect = str  # "sqlite" or "postgresql"


def is_postgres_url(target: object) -> bool:
    """Whether HAVEYOURSAY_DB names a PostgreSQL database (postgresql://, postgres://) rather than an SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Cursor(Protocol):
    """What a statement left: its rows (if it returned any) and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...

    async def fetchone(self) -> Any: ...

    async def fetchmany(self, size: int) -> Iterable[Any]: ...


class Executing(Protocol):
    """A statement on its way: awaited for its cursor, or used as `async with ... as cursor`."""

    def __await__(self) -> Generator[Any, None, Cursor]: ...

    async def __aenter__(self) -> Cursor: ...

    async def __aexit__(self, *exc_info: Any) -> Any: ...


class Connection(Protocol):
    """The statements the repositories send, and the unit of work several writes share."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def shared(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = None) -> Executing:
        """Run one statement; awaited (or `async with`) it gives a `Cursor`."""
        ...

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> Iterable[Any]:
        """Run one statement and return every row it gives."""
        ...

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        """Run one statement for each row of parameters (in one transaction outside a unit of work)."""
        ...

    def stream(self, sql: str, parameters: Any, batch: int) -> AsyncIterator[Iterable[Any]]:
        """The rows of a query, `batch` at a time, never all in memory at once (an export)."""
        ...

    async def execute_in_order(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Statements one after another, each committing on its own outside a unit of work."""
        ...

    async def execute_together(self, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Each statement for each of its parameter rows, all in one transaction."""
        ...

    def inside_unit_of_work(self) -> bool: ...

    def when_unit_ends(self, forget: Callable[[], None]) -> None: ...

    def unit_of_work(self) -> AbstractAsyncContextManager[None]: ...

    async def close(self) -> None: ...
