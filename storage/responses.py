"""Survey responses, keyed by a pseudonymous response id and never by a Telegram id."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from storage.clock import to_text

__all__ = ["ResponseRepository", "StoredResponse", "response_id_for"]


def response_id_for(key: bytes, chat_id: int, consultation_id: str) -> str:
    """The pseudonymous id of one resident's response to one consultation (a keyed hash)."""
    message = f"{chat_id}:{consultation_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class StoredResponse:
    response_id: str
    consultation_id: str
    version: int
    language: str
    state: dict[str, Any]
    answers: dict[str, Any] | None
    submitted_at: str | None

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


class ResponseRepository:
    """Keeps each response's progress and, once submitted, its answers."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def get(self, response_id: str) -> StoredResponse | None:
        async with self._db.execute(
            "SELECT response_id, consultation_id, version, language, state, answers, submitted_at"
            " FROM responses WHERE response_id = ?",
            (response_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return StoredResponse(
            str(row[0]),
            str(row[1]),
            int(row[2]),
            str(row[3]),
            json.loads(row[4]),
            json.loads(row[5]) if row[5] is not None else None,
            row[6],
        )

    async def save_progress(
        self,
        response_id: str,
        consultation_id: str,
        version: int,
        language: str,
        state: dict[str, Any],
        now: datetime,
    ) -> bool:
        """Store where the resident is; False (and nothing written) once the response is submitted."""
        stamp = to_text(now)
        cursor = await self._db.execute(
            "INSERT INTO responses(response_id, consultation_id, version, language, state, started_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(response_id) DO UPDATE SET state = excluded.state, language = excluded.language,"
            " updated_at = excluded.updated_at WHERE responses.submitted_at IS NULL",
            (response_id, consultation_id, version, language, json.dumps(state), stamp, stamp),
        )
        return cursor.rowcount > 0

    async def submit(self, response_id: str, answers: dict[str, Any], state: dict[str, Any], now: datetime) -> bool:
        """Record the final answers once; False if this response was already submitted."""
        cursor = await self._db.execute(
            "UPDATE responses SET answers = ?, state = ?, submitted_at = ?, updated_at = ?"
            " WHERE response_id = ? AND submitted_at IS NULL",
            (json.dumps(answers), json.dumps(state), to_text(now), to_text(now), response_id),
        )
        return cursor.rowcount > 0

    async def submitted_count(self, consultation_id: str) -> int:
        async with self._db.execute(
            "SELECT COUNT(*) FROM responses WHERE consultation_id = ? AND submitted_at IS NOT NULL",
            (consultation_id,),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
