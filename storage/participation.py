"""Who took part in which consultation: for reminders and outcomes. Never their answers."""

from __future__ import annotations

from datetime import datetime

from storage.clock import to_text
from storage.sql import Connection

__all__ = ["ParticipationRepository"]


class ParticipationRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def started(self, chat_id: int, consultation_id: str, now: datetime) -> None:
        await self._db.execute_fetchall(
            "INSERT INTO participation(chat_id, consultation_id, started_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (chat_id, consultation_id, to_text(now)),
        )

    async def submitted(self, chat_id: int, consultation_id: str, now: datetime) -> None:
        """Record a submission (also for a resident whose start was never recorded)."""
        stamp = to_text(now)
        await self._db.execute_fetchall(
            "INSERT INTO participation(chat_id, consultation_id, started_at, submitted_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(chat_id, consultation_id) DO UPDATE SET submitted_at = excluded.submitted_at",
            (chat_id, consultation_id, stamp, stamp),
        )
