"""The officers' web workspace: sign-in links, sessions, and consultations being written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clock import from_text, to_text
from storage.sql import Connection

__all__ = ["ConsultationDraft", "WebSession", "WorkspaceRepository"]


@dataclass(frozen=True)
class WebSession:
    officer_id: int
    csrf_token: str
    language: str | None
    last_seen: datetime


@dataclass(frozen=True)
class ConsultationDraft:
    id: str
    definition: dict[str, Any]
    updated_at: datetime
    updated_by: int


class WorkspaceRepository:
    """Tokens are stored as hashes only: a copy of the database signs nobody in."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def add_signin_link(self, token_hash: str, officer_id: int, expires: datetime) -> None:
        await self._db.execute(
            "INSERT INTO web_signin_links(token_hash, officer_id, expires_at) VALUES (?, ?, ?)",
            (token_hash, officer_id, to_text(expires)),
        )

    async def use_signin_link(self, token_hash: str, now: datetime) -> int | None:
        """The officer a link signs in, marking it used; None if unknown, used or expired."""
        rows = list(
            await self._db.execute_fetchall(
                "UPDATE web_signin_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?"
                " RETURNING officer_id",
                (to_text(now), token_hash, to_text(now)),
            )
        )
        return int(rows[0][0]) if rows else None

    async def forget_signin_links_before(self, moment: datetime) -> None:
        await self._db.execute("DELETE FROM web_signin_links WHERE expires_at < ?", (to_text(moment),))

    async def add_session(self, token_hash: str, officer_id: int, csrf_token: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO web_sessions(token_hash, officer_id, csrf_token, created_at, last_seen)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_hash, officer_id, csrf_token, to_text(now), to_text(now)),
        )

    async def session(self, token_hash: str) -> WebSession | None:
        rows = list(
            await self._db.execute_fetchall(
                "SELECT officer_id, csrf_token, language, last_seen FROM web_sessions WHERE token_hash = ?",
                (token_hash,),
            )
        )
        if not rows:
            return None
        officer_id, csrf, language, last_seen = rows[0]
        return WebSession(int(officer_id), str(csrf), language, from_text(str(last_seen)))

    async def touch_session(self, token_hash: str, now: datetime) -> None:
        await self._db.execute("UPDATE web_sessions SET last_seen = ? WHERE token_hash = ?", (to_text(now), token_hash))

    async def set_session_language(self, token_hash: str, language: str) -> None:
        await self._db.execute("UPDATE web_sessions SET language = ? WHERE token_hash = ?", (language, token_hash))

    async def end_session(self, token_hash: str) -> None:
        await self._db.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))

    async def end_sessions_of(self, officer_id: int) -> None:
        await self._db.execute("DELETE FROM web_sessions WHERE officer_id = ?", (officer_id,))

    async def end_sessions_idle_since(self, moment: datetime) -> None:
        await self._db.execute("DELETE FROM web_sessions WHERE last_seen < ?", (to_text(moment),))

    async def save_draft(self, definition: dict[str, Any], officer_id: int, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO consultation_drafts(id, definition, updated_at, updated_by) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at,"
            " updated_by = excluded.updated_by",
            (str(definition["id"]), json.dumps(definition, ensure_ascii=False), to_text(now), officer_id),
        )

    async def draft(self, consultation_id: str) -> ConsultationDraft | None:
        rows = list(
            await self._db.execute_fetchall(
                "SELECT id, definition, updated_at, updated_by FROM consultation_drafts WHERE id = ?",
                (consultation_id,),
            )
        )
        return _draft(rows[0]) if rows else None

    async def drafts(self) -> list[ConsultationDraft]:
        rows = await self._db.execute_fetchall(
            "SELECT id, definition, updated_at, updated_by FROM consultation_drafts ORDER BY updated_at DESC"
        )
        return [_draft(row) for row in rows]

    async def delete_draft(self, consultation_id: str) -> None:
        await self._db.execute("DELETE FROM consultation_drafts WHERE id = ?", (consultation_id,))


def _draft(row: Any) -> ConsultationDraft:
    return ConsultationDraft(str(row[0]), json.loads(row[1]), from_text(str(row[2])), int(row[3]))
