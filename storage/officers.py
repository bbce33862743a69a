"""Officers and admins, one-time invites, and the audit log of what officers did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_text, to_text
from storage.sql import Connection

__all__ = ["AuditEntry", "AuditQuery", "OfficerRepository", "StaffName"]


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor_id: int
    action: str
    detail: str
    consultation_id: str | None = None


@dataclass(frozen=True)
class AuditQuery:
    """Which audit entries: by whom, about which consultation, from `since` (included) to `before`."""

    actor_id: int | None = None
    consultation_id: str | None = None
    since: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class StaffName:
    """An officer's name as Telegram last gave it."""

    first_name: str
    last_name: str | None = None
    username: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def label(self) -> str:
        """The name and @username, e.g. Priya Shah (@priya); just the name when they have no username."""
        return f"{self.full_name} (@{self.username})" if self.username else self.full_name


# The consultation an audit entry's detail begins with ("gp-hours as CSV", "gp-hours: version 2"),
# when the entry is written without one (0018_team_and_audit.sql fills in older entries the same way).
_CONSULTATION_OF_DETAIL = (
    "SELECT known.id FROM (SELECT id FROM consultations UNION SELECT id FROM consultation_drafts) AS known"
    " WHERE :detail = known.id"
    " OR substr(:detail, 1, length(known.id) + 1) IN (known.id || ':', known.id || ' ', known.id || ',')"
    " ORDER BY length(known.id) DESC LIMIT 1"
)


# "Differs, NULLs counting as equal": SQLite's IS NOT on row values; PostgreSQL's IS DISTINCT FROM.
_IS_NOT = {"sqlite": "IS NOT", "postgresql": "IS DISTINCT FROM"}


class OfficerRepository:
    """Roles granted in the bot (admins from the environment are not stored here)."""

    def __init__(self, connection: Connection) -> None:
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

    async def added(self) -> dict[int, datetime]:
        """When each officer was made one."""
        rows = await self._db.execute_fetchall("SELECT user_id, added_at FROM officers")
        return {int(r[0]): from_text(str(r[1])) for r in rows}

    async def remember_name(
        self, user_id: int, first_name: str, last_name: str | None, username: str | None, now: datetime
    ) -> None:
        """Keep the name Telegram gives for this officer (written only when it changed)."""
        await self._db.execute(
            "INSERT INTO officer_names(user_id, first_name, last_name, username, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,"
            " username = excluded.username, updated_at = excluded.updated_at"
            " WHERE (officer_names.first_name, officer_names.last_name, officer_names.username)"
            f" {_IS_NOT[self._db.dialect]} (excluded.first_name, excluded.last_name, excluded.username)",
            (user_id, first_name, last_name, username, to_text(now)),
        )

    async def names(self) -> dict[int, StaffName]:
        rows = await self._db.execute_fetchall("SELECT user_id, first_name, last_name, username FROM officer_names")
        return {int(r[0]): StaffName(str(r[1]), r[2], r[3]) for r in rows}

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

    async def audit(
        self, actor_id: int, action: str, detail: str, now: datetime, consultation_id: str | None = None
    ) -> None:
        """Record an officer action: who, what, when, and about which consultation (when not given:
        the one whose id the detail begins with, if any)."""
        await self._db.execute(
            "INSERT INTO audit_log(at, actor_id, action, detail, consultation_id)"
            f" VALUES (:at, :actor, :action, :detail, COALESCE(:consultation, ({_CONSULTATION_OF_DETAIL})))",
            {
                "at": to_text(now),
                "actor": actor_id,
                "action": action,
                "detail": detail,
                "consultation": consultation_id,
            },
        )

    async def audit_entries(
        self, limit: int | None = 20, offset: int = 0, query: AuditQuery | None = None
    ) -> list[AuditEntry]:
        """Audit entries, newest first (`limit` None: all of them, from the first)."""
        where, params = _audit_where(query or AuditQuery())
        # Without a limit, no LIMIT clause: SQLite's "no limit" (-1) is an error on PostgreSQL.
        page, paging = (" LIMIT ? OFFSET ?", (limit, offset)) if limit is not None else ("", ())
        assert limit is not None or offset == 0
        rows = await self._db.execute_fetchall(
            f"SELECT at, actor_id, action, detail, consultation_id FROM audit_log {where} ORDER BY id DESC{page}",
            (*params, *paging),
        )
        return [AuditEntry(str(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4]) for r in rows]

    async def count_audit_entries(self, query: AuditQuery | None = None) -> int:
        where, params = _audit_where(query or AuditQuery())
        rows = list(await self._db.execute_fetchall(f"SELECT COUNT(*) FROM audit_log {where}", params))
        return int(rows[0][0])

    async def audit_actors(self) -> list[int]:
        """Everyone the audit log names."""
        rows = await self._db.execute_fetchall("SELECT DISTINCT actor_id FROM audit_log")
        return [int(r[0]) for r in rows]

    async def audited_consultations(self) -> list[str]:
        """Every consultation the audit log names."""
        rows = await self._db.execute_fetchall(
            "SELECT DISTINCT consultation_id FROM audit_log WHERE consultation_id IS NOT NULL"
        )
        return [str(r[0]) for r in rows]

    async def last_audited(self, action: str) -> dict[int, datetime]:
        """When each person last did `action` (e.g. signed in to the workspace)."""
        rows = await self._db.execute_fetchall(
            "SELECT actor_id, MAX(at) FROM audit_log WHERE action = ? GROUP BY actor_id", (action,)
        )
        return {int(r[0]): from_text(str(r[1])) for r in rows}


def _audit_where(query: AuditQuery) -> tuple[str, tuple[object, ...]]:
    conditions: list[str] = []
    params: list[object] = []
    if query.actor_id is not None:
        conditions.append("actor_id = ?")
        params.append(query.actor_id)
    if query.consultation_id is not None:
        conditions.append("consultation_id = ?")
        params.append(query.consultation_id)
    if query.since is not None:
        conditions.append("at >= ?")
        params.append(to_text(query.since))
    if query.before is not None:
        conditions.append("at < ?")
        params.append(to_text(query.before))
    return ("WHERE " + " AND ".join(conditions) if conditions else ""), tuple(params)
