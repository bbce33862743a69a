"""Officers and admins, one-time invites, and the audit log of what officers did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import to_text

__all__ = ["AuditEntry", "OfficerRepository"]


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor_id: int
    action: str
    detail: str


class OfficerRepository:
    """Roles granted in the bot (admins from the environment are not stored here)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def role(self, user_id: int) -> str | None:
        """'officer', 'admin', or None for a resident."""
        found = list(await self._db.execute_fetchall("SELECT role FROM officers WHERE user_id = ?", (user_id,)))
        row = found[0] if found else None
        return str(row[0]) if row else None

    async def add(self, user_id: int, role: str, added_by: int, now: datetime) -> None:
        """Make someone an officer (or admin); idempotent."""
        await self._db.execute(
            "INSERT INTO officers(user_id, role, added_by, added_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET role = excluded.role",
            (user_id, role, added_by, to_text(now)),
        )

    async def remove(self, user_id: int) -> bool:
        """Take the role away; False if they had none."""
        cursor = await self._db.execute("DELETE FROM officers WHERE user_id = ?", (user_id,))
        return cursor.rowcount > 0

    async def all(self) -> list[tuple[int, str]]:
        rows = await self._db.execute_fetchall("SELECT user_id, role FROM officers ORDER BY added_at, user_id")
        return [(int(r[0]), str(r[1])) for r in rows]

    async def create_invite(self, code: str, created_by: int, now: datetime, expires: datetime) -> None:
        await self._db.execute(
            "INSERT INTO officer_invites(code, created_by, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (code, created_by, to_text(now), to_text(expires)),
        )

    async def use_invite(self, code: str, user_id: int, now: datetime) -> int | None:
        """Spend an unused, unexpired invite; return who created it, or None if it cannot be used."""
        stamp = to_text(now)
        cursor = await self._db.execute(
            "UPDATE officer_invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL AND expires_at > ?",
            (user_id, stamp, code, stamp),
        )
        if cursor.rowcount == 0:
            return None
        found = list(await self._db.execute_fetchall("SELECT created_by FROM officer_invites WHERE code = ?", (code,)))
        row = found[0] if found else None
        return int(row[0]) if row else None

    async def audit(self, actor_id: int, action: str, detail: str, now: datetime) -> None:
        """Record an officer action: who, what, when."""
        await self._db.execute(
            "INSERT INTO audit_log(at, actor_id, action, detail) VALUES (?, ?, ?, ?)",
            (to_text(now), actor_id, action, detail),
        )

    async def audit_entries(self, limit: int = 20) -> list[AuditEntry]:
        """The latest audit entries, newest first."""
        rows = await self._db.execute_fetchall(
            "SELECT at, actor_id, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [AuditEntry(str(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]
