"""Broadcasts officers sent, and the people who took part in each consultation."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clock import to_text
from storage.sql import Connection

__all__ = ["Broadcast", "BroadcastRepository"]


@dataclass(frozen=True)
class Broadcast:
    id: int
    created_by: int
    created_at: str
    texts: dict[str, str]
    consultation_id: str | None
    audience: dict[str, Any]
    recipients: int
    reported_at: str | None


_COLUMNS = "id, created_by, created_at, texts, consultation_id, audience, recipients, reported_at"


class BroadcastRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def create(
        self,
        created_by: int,
        texts: dict[str, str],
        consultation_id: str | None,
        audience: dict[str, Any],
        recipients: int,
        now: datetime,
    ) -> int:
        """Record a broadcast (its deliveries are queued in the same transaction by the caller)."""
        [(broadcast_id,)] = await self._db.execute_fetchall(
            "INSERT INTO broadcasts(created_by, created_at, texts, consultation_id, audience, recipients)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (
                created_by,
                to_text(now),
                json.dumps(texts, ensure_ascii=False),
                consultation_id,
                json.dumps(audience),
                recipients,
            ),
        )
        return int(broadcast_id)

    async def recent(self, limit: int = 10) -> list[Broadcast]:
        rows = await self._db.execute_fetchall(f"SELECT {_COLUMNS} FROM broadcasts ORDER BY id DESC LIMIT ?", (limit,))
        return [_broadcast(r) for r in rows]

    async def in_progress(self) -> list[Broadcast]:
        """Broadcasts with a delivery still waiting or being sent, oldest first."""
        rows = await self._db.execute_fetchall(
            f"SELECT {_COLUMNS} FROM broadcasts b WHERE EXISTS (SELECT 1 FROM deliveries d"
            " WHERE d.broadcast_id = b.id AND d.state IN ('waiting', 'sending')) ORDER BY id"
        )
        return [_broadcast(r) for r in rows]

    async def finished_unreported(self) -> list[Broadcast]:
        """Broadcasts whose every delivery has ended and whose officer has not had the final report.

        A broadcast counts only once all its deliveries are queued (a broadcast recorded before
        its deliveries, outside one unit of work, is not reported early).
        """
        rows = await self._db.execute_fetchall(
            f"SELECT {_COLUMNS} FROM broadcasts b WHERE reported_at IS NULL"
            " AND (SELECT COUNT(*) FROM deliveries d WHERE d.broadcast_id = b.id) >= b.recipients"
            " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.broadcast_id = b.id"
            " AND d.state IN ('waiting', 'sending'))"
        )
        return [_broadcast(r) for r in rows]

    async def mark_reported(self, broadcast_id: int, now: datetime) -> bool:
        cursor = await self._db.execute(
            "UPDATE broadcasts SET reported_at = ? WHERE id = ? AND reported_at IS NULL", (to_text(now), broadcast_id)
        )
        return cursor.rowcount > 0

    # "Take part" taps (migration 0020): one row per resident and message, by a pseudonymous id.

    async def record_tap(
        self, message: str, tapper_id: str, chat_id: int, *, broadcast_id: int | None = None, key: str | None = None
    ) -> bool:
        """Count a resident's tap on a message's "Take part" button, once, and only if that message was
        queued for them: the broadcast's delivery to `chat_id`, or the notice's under its dedupe `key`.
        False when it was counted already or was never sent to them (a forged or foreign button)."""
        cursor = await self._db.execute(
            "INSERT INTO take_part_taps(message, tapper_id) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM deliveries"
            " WHERE chat_id = ? AND (broadcast_id = ? OR dedupe_key = ?)) ON CONFLICT DO NOTHING",
            (message, tapper_id, chat_id, broadcast_id, key),
        )
        return cursor.rowcount > 0

    async def taps(self, messages: Collection[str]) -> dict[str, int]:
        """Distinct residents who tapped "Take part", per message (messages nobody tapped are left out)."""
        if not messages:
            return {}
        wanted = sorted(set(messages))
        rows = await self._db.execute_fetchall(
            f"SELECT message, COUNT(*) FROM take_part_taps WHERE message IN ({', '.join('?' * len(wanted))})"
            " GROUP BY message",
            wanted,
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def tapped_messages(self) -> list[str]:
        """Every message anyone tapped, so erasure and /mydata can recompute a resident's tap ids."""
        rows = await self._db.execute_fetchall("SELECT DISTINCT message FROM take_part_taps ORDER BY message")
        return [str(r[0]) for r in rows]


def _broadcast(row: Any) -> Broadcast:
    return Broadcast(
        int(row[0]), int(row[1]), str(row[2]), json.loads(row[3]), row[4], json.loads(row[5]), int(row[6]), row[7]
    )
