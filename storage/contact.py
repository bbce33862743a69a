"""Threads between a resident and the engagement team; only which message belongs to which thread.

Also where the officers' chat moved to when Telegram upgraded it to a supergroup (a new id).
"""

from __future__ import annotations

from datetime import datetime

from storage.clock import from_text, to_text
from storage.sql import Connection

__all__ = ["ContactRepository"]


class ContactRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def open_thread(self, chat_id: int, consultation_id: str | None, now: datetime) -> int:
        [(thread_id,)] = await self._db.execute_fetchall(
            "INSERT INTO contact_threads(chat_id, consultation_id, created_at) VALUES (?, ?, ?) RETURNING id",
            (chat_id, consultation_id, to_text(now)),
        )
        return int(thread_id)

    async def link(self, chat_id: int, message_id: int, thread_id: int) -> None:
        """Remember that a message (in the officers' chat or the resident's) belongs to a thread."""
        await self._db.execute(
            "INSERT INTO contact_messages(chat_id, message_id, thread_id) VALUES (?, ?, ?)"
            " ON CONFLICT(chat_id, message_id) DO UPDATE SET thread_id = excluded.thread_id",
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

    async def discard_thread(self, thread_id: int) -> None:
        """A thread whose first message never reached the team: nothing of it stays."""
        await self._db.execute("DELETE FROM contact_threads WHERE id = ?", (thread_id,))

    async def set_state(self, thread_id: int, state: str, now: datetime | None = None) -> None:
        """'open' (the resident wrote last) or 'answered' (an officer replied, at `now`)."""
        await self._db.execute(
            "UPDATE contact_threads SET state = ?, answered_at = ? WHERE id = ?",
            (state, to_text(now) if now is not None else None, thread_id),
        )

    async def waiting(self) -> tuple[int, datetime | None]:
        """Threads whose resident waits for a reply, and when the oldest of them began (no text, no id)."""
        found = list(
            await self._db.execute_fetchall(
                "SELECT COUNT(*), MIN(created_at) FROM contact_threads WHERE state = 'open'"
            )
        )
        count, oldest = found[0] if found else (0, None)
        return int(count), from_text(oldest) if oldest else None

    async def current_chat(self, chat_id: int | None) -> int | None:
        """The officers' chat as it is now: the configured id, followed through every recorded upgrade."""
        seen = set()
        while chat_id is not None and chat_id not in seen:
            seen.add(chat_id)
            found = list(
                await self._db.execute_fetchall("SELECT value FROM meta WHERE key = ?", (_MOVED + str(chat_id),))
            )
            if not found:
                break
            chat_id = int(found[0][0])
        return chat_id

    async def record_move(self, old_chat_id: int, new_chat_id: int) -> None:
        """Telegram upgraded a group to a supergroup: messages for the old id go to the new one."""
        await self._db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (_MOVED + str(old_chat_id), str(new_chat_id)),
        )


_MOVED = "officers_chat_moved:"
