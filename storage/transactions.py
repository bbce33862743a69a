"""One transaction at a time on the shared connection.

Handlers, the delivery worker and the scheduler share one aiosqlite connection. SQLite
allows one open transaction per connection, so a second BEGIN while another task's
transaction is open would fail: every multi-statement write goes through this lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

import aiosqlite

__all__ = ["transaction"]

_locks: WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = WeakKeyDictionary()


@asynccontextmanager
async def transaction(connection: aiosqlite.Connection) -> AsyncIterator[None]:
    """Writes that stand or fall together."""
    lock = _locks.setdefault(connection, asyncio.Lock())
    async with lock:
        await connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")
