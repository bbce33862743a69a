"""Drafts of guided conversations (an officer's broadcast, a resident's message), kept across restarts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.clock import to_text
from storage.sql import Connection

__all__ = ["DraftRepository"]


class DraftRepository:
    """Drafts in the database; which person has which kinds is also kept in memory.

    Every typed message and button asks whether its sender has a draft open, and almost
    nobody has: the in-memory index answers that without a database round trip. Only the
    bot process writes drafts, so the index stays true. On a database several workers share
    (`connection.shared`, PostgreSQL) there is no index: each question is asked of the database.
    """

    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._open: dict[int, set[str]] | None = None
        self._generation = 0  # units of work ended so far

    async def _index(self) -> dict[int, set[str]]:
        if self._open is not None:
            return self._open
        generation = self._generation
        index: dict[int, set[str]] = {}
        for user_id, kind in await self._db.execute_fetchall("SELECT user_id, kind FROM drafts"):
            index.setdefault(int(user_id), set()).add(str(kind))
        # A unit of work that ended while this was read may have changed drafts after it: this
        # answer stands for this call, and the next reads again.
        if generation == self._generation:
            self._open = index
        return index

    async def get(self, user_id: int, kind: str) -> dict[str, Any] | None:
        if not self._db.shared and kind not in (await self._index()).get(user_id, ()):
            return None
        found = list(
            await self._db.execute_fetchall("SELECT data FROM drafts WHERE user_id = ? AND kind = ?", (user_id, kind))
        )
        row = found[0] if found else None
        return dict(json.loads(row[0])) if row else None

    async def kinds(self, user_id: int) -> set[str]:
        """Which drafts a person has open (from memory, for routing every update)."""
        if self._db.shared:
            rows = await self._db.execute_fetchall("SELECT kind FROM drafts WHERE user_id = ?", (user_id,))
            return {str(row[0]) for row in rows}
        return set((await self._index()).get(user_id, ()))

    async def put(self, user_id: int, kind: str, data: dict[str, Any], now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO drafts(user_id, kind, data, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(user_id, kind) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (user_id, kind, json.dumps(data, ensure_ascii=False), to_text(now)),
        )
        if self._db.shared:
            return
        (await self._index()).setdefault(user_id, set()).add(kind)

    def forget_all(self) -> None:
        """Read the index again next time (when a unit of work ends: it may have changed any draft)."""
        self._open = None
        self._generation += 1

    async def drop(self, user_id: int, kind: str) -> None:
        if self._db.shared:
            await self._db.execute("DELETE FROM drafts WHERE user_id = ? AND kind = ?", (user_id, kind))
            return
        index = await self._index()
        if kind not in index.get(user_id, ()):
            return
        await self._db.execute("DELETE FROM drafts WHERE user_id = ? AND kind = ?", (user_id, kind))
        index[user_id].discard(kind)
        if not index[user_id]:
            del index[user_id]
