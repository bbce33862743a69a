"""Updates received and handled: a crash neither loses an update nor lets it be applied twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from storage.clock import to_text
from storage.transactions import Connection

__all__ = ["UpdateRepository"]


class UpdateRepository:
    """The inbox of updates not yet handled, and the last update handled in each chat."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def receive(self, update_id: int, chat_id: int | None, data: str, now: datetime) -> None:
        """Keep an update until it is handled (a second copy of one already kept is ignored)."""
        await self._db.execute(
            "INSERT OR IGNORE INTO update_inbox(update_id, chat_id, data, received_at) VALUES (?, ?, ?, ?)",
            (update_id, chat_id, data, to_text(now)),
        )

    async def handled(self, update_id: int, now: datetime) -> None:
        """The update is handled: remember it for its chat first, then let go of its content.

        In this order a crash in between leaves an update that is both kept and known to be
        handled: at start-up it is recognised as handled and dropped. An update whose row is
        gone (its resident was erased while it was handled) leaves no trace.
        """
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "INSERT INTO handled_updates(chat_id, update_id, handled_at)"
                " SELECT chat_id, update_id, ? FROM update_inbox WHERE update_id = ? AND chat_id IS NOT NULL"
                " ON CONFLICT(chat_id) DO UPDATE SET update_id = MAX(update_id, excluded.update_id),"
                " handled_at = excluded.handled_at",
                (to_text(now), update_id),
            ),
            ("DELETE FROM update_inbox WHERE update_id = ?", (update_id,)),
        ]
        if isinstance(self._db, Connection):
            # Both in one trip to SQLite's thread, in this order: this runs for every update.
            await self._db.execute_in_order(statements)
            return
        for sql, parameters in statements:
            await self._db.execute(sql, parameters)

    async def unhandled(self) -> list[tuple[int, str]]:
        """Updates received before a crash and not handled, oldest first: (update id, JSON)."""
        rows = await self._db.execute_fetchall("SELECT update_id, data FROM update_inbox ORDER BY update_id")
        return [(int(r[0]), str(r[1])) for r in rows]

    async def last_handled(self) -> dict[int, int]:
        """Chat id -> the last update handled in it (recently)."""
        rows = await self._db.execute_fetchall("SELECT chat_id, update_id FROM handled_updates")
        return {int(r[0]): int(r[1]) for r in rows}

    async def forget_before(self, moment: datetime) -> int:
        """Drop what is older than any update Telegram could still send again."""
        cursor = await self._db.execute("DELETE FROM handled_updates WHERE handled_at < ?", (to_text(moment),))
        return cursor.rowcount
