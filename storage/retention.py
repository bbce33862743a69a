"""Storage limitation: responses kept a set time after a consultation closes, conversations with the team
a set time after their last message; inactive residents removed."""

from __future__ import annotations

from datetime import datetime

from storage.clock import to_text
from storage.personal_data import checkpoint
from storage.sql import Connection
from storage.transactions import transaction

__all__ = ["RetentionRepository"]


class RetentionRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def purge_responses_closed_before(self, cutoff: datetime) -> int:
        """Delete every response (and answer and feedback) of consultations that closed before `cutoff`."""
        stamp = to_text(cutoff)
        closed = "SELECT id FROM consultations WHERE closes < ?"
        async with transaction(self._db):
            await self._db.execute(f"DELETE FROM answers WHERE consultation_id IN ({closed})", (stamp,))
            cursor = await self._db.execute(f"DELETE FROM responses WHERE consultation_id IN ({closed})", (stamp,))
            await self._db.execute(f"DELETE FROM outcome_feedback WHERE consultation_id IN ({closed})", (stamp,))
            await self._db.execute(f"DELETE FROM participation WHERE consultation_id IN ({closed})", (stamp,))
        if cursor.rowcount:
            await checkpoint(self._db)
        return cursor.rowcount

    async def purge_conversations_before(self, cutoff: datetime) -> int:
        """Delete every conversation with the team (its messages and their text) whose last message,
        either way, was before `cutoff`."""
        # Its last message is before the cutoff when all of these are: the thread's start, its last
        # answer (threads from before messages were kept) and every message kept. (Written without
        # SQLite's two-argument MAX, which PostgreSQL does not have.)
        stamp = to_text(cutoff)
        async with transaction(self._db):
            cursor = await self._db.execute(
                "DELETE FROM contact_threads WHERE created_at < ? AND COALESCE(answered_at, '') < ?"
                " AND NOT EXISTS (SELECT 1 FROM contact_texts x WHERE x.thread_id = contact_threads.id"
                " AND x.sent_at >= ?)",
                (stamp, stamp, stamp),
            )
        if cursor.rowcount:
            await checkpoint(self._db)
        return cursor.rowcount

    async def inactive_without_notice(self, seen_before: datetime) -> list[tuple[int, str]]:
        """(chat id, language) of residents not seen since `seen_before` who have not been told yet."""
        rows = await self._db.execute_fetchall(
            "SELECT chat_id, language FROM residents WHERE last_seen_at < ? AND inactivity_notice_at IS NULL",
            (to_text(seen_before),),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    async def mark_told(self, chat_ids: list[int], now: datetime) -> None:
        await self._db.executemany(
            "UPDATE residents SET inactivity_notice_at = ? WHERE chat_id = ?", [(to_text(now), c) for c in chat_ids]
        )

    async def told_and_still_away(self, told_before: datetime) -> list[int]:
        """Residents told before `told_before` who have not been back since they were told."""
        rows = await self._db.execute_fetchall(
            "SELECT chat_id FROM residents WHERE inactivity_notice_at < ? AND last_seen_at <= inactivity_notice_at",
            (to_text(told_before),),
        )
        return [int(r[0]) for r in rows]
