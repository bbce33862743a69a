"""Threads between a resident and the engagement team: which message belongs to which thread, and
what each side wrote (the workspace's inbox shows it; it is the resident's data, see 0019_contact_texts.sql).

Also where the officers' chat moved to when Telegram upgraded it to a supergroup (a new id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from storage.clock import from_text, to_text
from storage.sql import Connection

__all__ = ["ContactRepository", "ContactText", "Shown", "Thread"]

Shown = Literal["all", "open", "answered", "closed"]
# A thread whose resident waits for a reply: they wrote last and no officer closed it.
_OPEN = "t.state = 'open' AND t.closed_at IS NULL"
_SHOWN: dict[str, str] = {
    "all": "TRUE",
    "open": _OPEN,
    "answered": "t.state = 'answered' AND t.closed_at IS NULL",
    "closed": "t.closed_at IS NOT NULL",
}


@dataclass(frozen=True)
class Thread:
    """A conversation with the team as the inbox lists it (no text)."""

    id: int
    chat_id: int
    consultation_id: str | None
    language: str | None  # the resident's language now (None if they are gone)
    state: str  # "open" (the resident waits for a reply), "answered" or "closed"
    created_at: datetime
    first_answer_at: datetime | None  # the team's first reply (kept since messages are kept)
    last_at: datetime  # the last message either way
    officer_ids: tuple[int, ...]  # officers who replied, in the order of their first reply


@dataclass(frozen=True)
class ContactText:
    """One message of a thread, as it was written."""

    id: int
    from_team: bool
    officer_id: int | None
    text: str
    sent_at: datetime


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
        """'open' (the resident wrote last) or 'answered' (an officer replied, at `now`).

        A new message either way takes the thread out of "closed".
        """
        await self._db.execute(
            "UPDATE contact_threads SET state = ?, answered_at = ?, closed_at = NULL WHERE id = ?",
            (state, to_text(now) if now is not None else None, thread_id),
        )

    async def close(self, thread_id: int, now: datetime) -> bool:
        """An officer closed the thread: it leaves the open list until the resident writes again."""
        cursor = await self._db.execute(
            "UPDATE contact_threads SET closed_at = ? WHERE id = ? AND closed_at IS NULL", (to_text(now), thread_id)
        )
        return cursor.rowcount > 0

    async def keep_text(
        self, thread_id: int, chat_id: int, text: str, now: datetime, *, officer_id: int | None = None
    ) -> None:
        """Keep a message of a thread: the resident's (`chat_id` is theirs), or an officer's reply."""
        await self._db.execute(
            "INSERT INTO contact_texts(thread_id, chat_id, from_team, officer_id, text, sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (thread_id, chat_id, int(officer_id is not None), officer_id, text, to_text(now)),
        )

    async def texts(self, thread_id: int) -> list[ContactText]:
        """The messages of a thread, in the order they were written."""
        rows = await self._db.execute_fetchall(
            "SELECT id, from_team, officer_id, text, sent_at FROM contact_texts WHERE thread_id = ? ORDER BY id",
            (thread_id,),
        )
        return [
            ContactText(int(r[0]), bool(r[1]), int(r[2]) if r[2] is not None else None, str(r[3]), from_text(r[4]))
            for r in rows
        ]

    async def threads(self, shown: Shown = "all", limit: int = 50, offset: int = 0) -> list[Thread]:
        """Threads for the inbox: open ones first (the longest waiting first), then the latest first."""
        # Ordered outside: PostgreSQL's ORDER BY takes an output column's name alone, not in an expression.
        rows = await self._db.execute_fetchall(
            f"SELECT * FROM ({_threads(self._db.dialect)} WHERE {_SHOWN[shown]}) AS th"
            " ORDER BY th.shown = 'open' DESC,"
            " CASE WHEN th.shown = 'open' THEN COALESCE(th.resident_last, th.created_at) END,"
            " COALESCE(th.last_at, th.answered_at, th.created_at) DESC, th.id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_thread(row) for row in rows]

    async def count_threads(self, shown: Shown = "all") -> int:
        rows = list(await self._db.execute_fetchall(f"SELECT COUNT(*) FROM contact_threads t WHERE {_SHOWN[shown]}"))
        return int(rows[0][0])

    async def thread(self, thread_id: int) -> Thread | None:
        rows = list(await self._db.execute_fetchall(f"{_threads(self._db.dialect)} WHERE t.id = ?", (thread_id,)))
        return _thread(rows[0]) if rows else None

    async def waiting(self) -> tuple[int, datetime | None]:
        """Threads whose resident waits for a reply, and when the oldest of them began (no text, no id)."""
        found = list(
            await self._db.execute_fetchall(f"SELECT COUNT(*), MIN(t.created_at) FROM contact_threads t WHERE {_OPEN}")
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

    async def record_move(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Telegram upgraded a group to a supergroup: messages for the old id go to the new one.

        False when this move was recorded already (Telegram tells of it twice; with several workers,
        perhaps to two of them)."""
        rows = await self._db.execute_fetchall(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
            " WHERE meta.value <> excluded.value RETURNING key",
            (_MOVED + str(old_chat_id), str(new_chat_id)),
        )
        return len(list(rows)) == 1


_MOVED = "officers_chat_moved:"

# The officers who replied, as "id,id,..." in the order of their first reply. SQLite's group_concat
# (before 3.44) takes no ORDER BY and keeps its subquery's order; PostgreSQL has string_agg.
_OFFICERS = {
    "sqlite": "group_concat(o.officer_id)",
    "postgresql": "string_agg(CAST(o.officer_id AS TEXT), ',' ORDER BY o.first_id)",
}


def _threads(dialect: str) -> str:
    return (
        "SELECT t.id, t.chat_id, t.consultation_id, r.language,"
        " CASE WHEN t.closed_at IS NOT NULL THEN 'closed' ELSE t.state END AS shown, t.created_at,"
        " (SELECT MIN(x.sent_at) FROM contact_texts x WHERE x.thread_id = t.id AND x.from_team = 1) AS first_answer_at,"
        " (SELECT MAX(x.sent_at) FROM contact_texts x WHERE x.thread_id = t.id) AS last_at,"
        f" (SELECT {_OFFICERS[dialect]} FROM (SELECT x.officer_id, MIN(x.id) AS first_id FROM contact_texts x"
        "  WHERE x.thread_id = t.id AND x.officer_id IS NOT NULL GROUP BY x.officer_id ORDER BY MIN(x.id)) AS o)"
        " AS officer_ids,"
        " t.answered_at,"
        " (SELECT MAX(x.sent_at) FROM contact_texts x WHERE x.thread_id = t.id AND x.from_team = 0) AS resident_last"
        " FROM contact_threads t LEFT JOIN residents r ON r.chat_id = t.chat_id"
    )


def _thread(row: Any) -> Thread:
    created = from_text(row[5])
    last = max((from_text(value) for value in (row[5], row[7], row[9]) if value), default=created)
    return Thread(
        id=int(row[0]),
        chat_id=int(row[1]),
        consultation_id=row[2],
        language=row[3],
        state=str(row[4]),
        created_at=created,
        first_answer_at=from_text(row[6]) if row[6] else None,
        last_at=last,
        officer_ids=tuple(int(part) for part in str(row[8]).split(",")) if row[8] else (),
    )
