"""Threads between a resident and the engagement team; only which message belongs to which thread."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.clock import to_text

__all__ = ["ContactRepository"]


class ContactRepository:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def open_thread(self, chat_id: int, consultation_id: str | None, now: datetime) -> int:
        cursor = await self._db.execute(
            "INSERT INTO contact_threads(chat_id, consultation_id, created_at) VALUES (?, ?, ?)",
            (chat_id, consultation_id, to_text(now)),
        )
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    async def link(self, chat_id: int, message_id: int, thread_id: int) -> None:
        """Remember that a message (in the officers' chat or the resident's) belongs to a thread."""
        await self._db.execute(
            "INSERT OR REPLACE INTO contact_messages(chat_id, message_id, thread_id) VALUES (?, ?, ?)",
            (chat_id, message_id, thread_id),
        )

    async def thread_of(self, chat_id: int, message_id: int) -> tuple[int, int, str | None] | None:
        """(thread id, resident chat id, consultation id) for a message in a thread, or None."""
        found = list(
            await self._db.execute_fetchall(
                "SELECT t.id, t.chat_id, t.consultation_id FROM contact_messages m"
                " JOIN contact_threads t ON t.id = m.thread_id WHERE m.chat_id = ? AND m.message_id = ?",
                (chat_id, message_id),
            )
        )
        row = found[0] if found else None
        return (int(row[0]), int(row[1]), row[2]) if row else None
