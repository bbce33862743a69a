"""Drafts of guided conversations (an officer's broadcast, a resident's message), kept across restarts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from storage.clock import to_text

__all__ = ["DraftRepository"]


class DraftRepository:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def get(self, user_id: int, kind: str) -> dict[str, Any] | None:
        async with self._db.execute("SELECT data FROM drafts WHERE user_id = ? AND kind = ?", (user_id, kind)) as cur:
            row = await cur.fetchone()
        return dict(json.loads(row[0])) if row else None

    async def kinds(self, user_id: int) -> set[str]:
        """Which drafts a person has open (one query, for routing typed text)."""
        async with self._db.execute("SELECT kind FROM drafts WHERE user_id = ?", (user_id,)) as cur:
            return {str(r[0]) for r in await cur.fetchall()}

    async def put(self, user_id: int, kind: str, data: dict[str, Any], now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO drafts(user_id, kind, data, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(user_id, kind) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (user_id, kind, json.dumps(data, ensure_ascii=False), to_text(now)),
        )

    async def drop(self, user_id: int, kind: str) -> None:
        await self._db.execute("DELETE FROM drafts WHERE user_id = ? AND kind = ?", (user_id, kind))
