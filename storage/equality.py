"""Equality monitoring answers: apart from survey answers, aggregate reports only, withdrawable alone."""

from __future__ import annotations

from datetime import datetime

from storage.clock import to_text
from storage.sql import Connection

__all__ = ["EqualityRepository"]


class EqualityRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def record(self, equality_id: str, consultation_id: str, question: str, value: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO equality_answers(equality_id, consultation_id, question, value, at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(equality_id, consultation_id, question)"
            " DO UPDATE SET value = excluded.value, at = excluded.at",
            (equality_id, consultation_id, question, value, to_text(now)),
        )

    async def answered(self, equality_id: str, consultation_id: str) -> set[str]:
        rows = await self._db.execute_fetchall(
            "SELECT question FROM equality_answers WHERE equality_id = ? AND consultation_id = ?",
            (equality_id, consultation_id),
        )
        return {str(r[0]) for r in rows}

    async def of(self, equality_id: str) -> list[dict[str, str]]:
        """A resident's own equality answers (for /mydata)."""
        async with self._db.execute(
            "SELECT consultation_id, question, value, at FROM equality_answers WHERE equality_id = ?"
            " ORDER BY consultation_id, question",
            (equality_id,),
        ) as cur:
            return [
                {"consultation_id": r[0], "question": r[1], "value": r[2], "at": r[3]} for r in await cur.fetchall()
            ]

    async def withdraw(self, equality_id: str) -> int:
        """Delete every equality answer of one resident; nothing else of theirs changes."""
        cursor = await self._db.execute("DELETE FROM equality_answers WHERE equality_id = ?", (equality_id,))
        return cursor.rowcount

    async def counts(self, consultation_id: str | None) -> dict[str, dict[str, int]]:
        """question -> value -> people, for one consultation or all (each person once: their latest answer)."""
        where = "WHERE consultation_id = ?" if consultation_id else ""
        params = (consultation_id,) if consultation_id else ()
        found: dict[str, dict[str, int]] = {}
        # Each person's latest answer: SQLite takes the bare `value` from the row holding MAX(at);
        # PostgreSQL says it with DISTINCT ON.
        latest = {
            "sqlite": "SELECT equality_id, question, value, MAX(at)"
            f" FROM equality_answers {where} GROUP BY equality_id, question",
            "postgresql": "SELECT DISTINCT ON (equality_id, question) equality_id, question, value"
            f" FROM equality_answers {where} ORDER BY equality_id, question, at DESC",
        }[self._db.dialect]
        async with self._db.execute(
            f"SELECT question, value, COUNT(*) FROM ({latest}) AS latest GROUP BY question, value", params
        ) as cur:
            for question, value, count in await cur.fetchall():
                found.setdefault(str(question), {})[str(value)] = int(count)
        return found
