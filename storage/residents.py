"""Residents: who has acknowledged the privacy notice, their language, area and interests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import to_text

__all__ = ["Resident", "ResidentRepository"]


@dataclass(frozen=True)
class Resident:
    chat_id: int
    language: str
    area_id: str | None
    onboarding_step: str | None
    active_consultation_id: str | None
    notices: bool


_COLUMNS = "chat_id, language, area_id, onboarding_step, active_consultation_id, notices"


class ResidentRepository:
    """Reads and writes residents; a resident row exists only after the privacy notice is acknowledged."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def get(self, chat_id: int) -> Resident | None:
        """The resident with this private chat id, or None."""
        async with self._db.execute(f"SELECT {_COLUMNS} FROM residents WHERE chat_id = ?", (chat_id,)) as cur:
            row = await cur.fetchone()
        return _resident(row) if row else None

    async def acknowledge(self, chat_id: int, language: str, now: datetime, onboarding_step: str | None) -> Resident:
        """Record that a resident acknowledged the privacy notice (the first thing we store)."""
        stamp = to_text(now)
        await self._db.execute(
            "INSERT INTO residents(chat_id, language, acknowledged_at, onboarding_step, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET language = excluded.language, last_seen_at = excluded.last_seen_at",
            (chat_id, language, stamp, onboarding_step, stamp, stamp),
        )
        resident = await self.get(chat_id)
        assert resident is not None
        return resident

    async def set_language(self, chat_id: int, language: str) -> None:
        """Remember the language a resident chose."""
        await self._db.execute("UPDATE residents SET language = ? WHERE chat_id = ?", (language, chat_id))

    async def set_area(self, chat_id: int, area_id: str | None, onboarding_step: str | None) -> None:
        """Remember the resident's area (None: they preferred not to say) and move onboarding on."""
        await self._db.execute(
            "UPDATE residents SET area_id = ?, onboarding_step = ? WHERE chat_id = ?",
            (area_id, onboarding_step, chat_id),
        )

    async def set_onboarding_step(self, chat_id: int, step: str | None) -> None:
        await self._db.execute("UPDATE residents SET onboarding_step = ? WHERE chat_id = ?", (step, chat_id))

    async def topics(self, chat_id: int) -> set[str]:
        """The topics a resident asked to hear about."""
        async with self._db.execute("SELECT topic_id FROM resident_topics WHERE chat_id = ?", (chat_id,)) as cur:
            return {row[0] for row in await cur.fetchall()}

    async def toggle_topic(self, chat_id: int, topic_id: str) -> bool:
        """Subscribe to a topic, or unsubscribe if already subscribed; True when now subscribed."""
        cursor = await self._db.execute(
            "DELETE FROM resident_topics WHERE chat_id = ? AND topic_id = ?", (chat_id, topic_id)
        )
        if cursor.rowcount:
            return False
        await self._db.execute("INSERT INTO resident_topics(chat_id, topic_id) VALUES (?, ?)", (chat_id, topic_id))
        return True

    async def set_active_consultation(self, chat_id: int, consultation_id: str | None) -> None:
        """Which survey the resident's typed messages answer."""
        await self._db.execute(
            "UPDATE residents SET active_consultation_id = ? WHERE chat_id = ?", (consultation_id, chat_id)
        )

    async def touch(self, chat_id: int, now: datetime) -> None:
        """Note that the resident was here (for inactivity rules)."""
        await self._db.execute("UPDATE residents SET last_seen_at = ? WHERE chat_id = ?", (to_text(now), chat_id))


def _resident(row: aiosqlite.Row | tuple[object, ...]) -> Resident:
    chat_id, language, area_id, step, active, notices = row
    return Resident(
        chat_id=int(str(chat_id)),
        language=str(language),
        area_id=area_id if area_id is None else str(area_id),
        onboarding_step=None if step is None else str(step),
        active_consultation_id=None if active is None else str(active),
        notices=bool(notices),
    )
