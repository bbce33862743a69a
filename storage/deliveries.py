"""The delivery queue: one row per message to one chat, written before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from storage.clock import to_text
from storage.sql import Connection

__all__ = ["FINAL_STATES", "Delivery", "DeliveryRepository", "NewDelivery"]

FINAL_STATES = ("sent", "failed", "unreachable", "expired", "uncertain")

# A set of chat ids passed as one JSON array parameter (the one place the dialects differ here).
_IDS = {
    "sqlite": "SELECT value FROM json_each(?)",
    "postgresql": "SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS JSON))",
}
# The position of a text in another: SQLite's instr, PostgreSQL's strpos.
_INSTR = {"sqlite": "instr", "postgresql": "strpos"}

PRIORITY_REPLY = 0  # an officer's reply to a resident, a report to an officer
PRIORITY_REMINDER = 10
PRIORITY_NOTICE = 20  # a new consultation, an outcome
PRIORITY_BROADCAST = 30


@dataclass(frozen=True)
class NewDelivery:
    chat_id: int
    kind: str
    priority: int
    text: str
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    broadcast_id: int | None = None
    dedupe_key: str | None = None
    civil_only: bool = False
    expires_at: datetime | None = None
    not_before: datetime | None = None  # not to go before this (civil hours, a time the officer chose); None: now


@dataclass(frozen=True)
class Delivery:
    id: int
    chat_id: int
    kind: str
    text: str
    buttons: list[list[dict[str, str]]]
    attempts: int
    resent: bool
    civil_only: bool
    expires_at: str | None
    created_at: str | None = None  # when it was queued: retries after outages end a set time after this


class DeliveryRepository:
    """Queue, claim and settle deliveries; every delivery ends in exactly one final state."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def enqueue(self, deliveries: Iterable[NewDelivery], now: datetime) -> int:
        """Queue messages; one whose dedupe key was queued before is left out. Returns how many were queued."""
        stamp = to_text(now)
        rows = [
            (
                d.chat_id,
                d.kind,
                d.priority,
                d.text,
                json.dumps(d.buttons) if d.buttons else None,
                d.broadcast_id,
                d.dedupe_key,
                int(d.civil_only),
                to_text(d.expires_at) if d.expires_at else None,
                to_text(d.not_before) if d.not_before else stamp,
                stamp,
            )
            for d in deliveries
        ]
        cursor = await self._db.executemany(
            "INSERT INTO deliveries(chat_id, kind, priority, text, buttons, broadcast_id, dedupe_key,"
            " civil_only, expires_at, not_before, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            rows,
        )
        return int(cursor.rowcount)

    async def reached_by(self, dedupe_prefix: str) -> list[tuple[int, str]]:
        """(chat id, language) of each reachable resident sent, or about to be sent, a message whose key starts so.

        For a correction: who got the message it corrects (not who failed to get it).
        """
        rows = await self._db.execute_fetchall(
            "SELECT DISTINCT r.chat_id, r.language FROM deliveries AS d JOIN residents AS r ON r.chat_id = d.chat_id"
            " WHERE substr(d.dedupe_key, 1, length(CAST(? AS TEXT))) = ?"
            " AND d.state IN ('waiting', 'sending', 'sent', 'uncertain')"
            " AND r.unreachable_at IS NULL ORDER BY r.chat_id",
            (dedupe_prefix, dedupe_prefix),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    async def recover_after_restart(self) -> int:
        """Deliveries in flight when the process died go out again, marked so their end state says so."""
        cursor = await self._db.execute("UPDATE deliveries SET state = 'waiting', resent = 1 WHERE state = 'sending'")
        return cursor.rowcount

    async def due(self, now: datetime, limit: int, civil: bool, skip_chats: Collection[int] = ()) -> list[Delivery]:
        """The next waiting deliveries in order of priority (civil-hours ones only when `civil`).

        `skip_chats`: chats that cannot take a message yet. Leaving them out here, rather than
        after the fetch, keeps one chat with many waiting messages from filling every batch.
        """
        # The repeated `state IN (...)` is the partial index's own condition: without it SQLite
        # does not see that deliveries_waiting applies, and scans and sorts the whole table.
        rows = list(
            await self._db.execute_fetchall(
                "SELECT id, chat_id, kind, text, buttons, attempts, resent, civil_only, expires_at, created_at"
                " FROM deliveries"
                " WHERE state IN ('waiting', 'sending') AND state = 'waiting' AND not_before <= ?"
                f" AND (civil_only = 0 OR ? = 1) AND chat_id NOT IN ({_IDS[self._db.dialect]})"
                " ORDER BY priority, id LIMIT ?",
                (_precise(now), int(civil), json.dumps(sorted(skip_chats)), limit),
            )
        )
        return [
            Delivery(
                int(r[0]),
                int(r[1]),
                str(r[2]),
                str(r[3]),
                json.loads(r[4]) if r[4] else [],
                int(r[5]),
                bool(r[6]),
                bool(r[7]),
                r[8],
                r[9],
            )
            for r in rows
        ]

    async def chats_waiting(self, chat_ids: Collection[int]) -> set[int]:
        """Which of these chats have a delivery waiting (to know when a cooling chat is worth a look)."""
        if not chat_ids:
            return set()
        rows = await self._db.execute_fetchall(
            "SELECT DISTINCT chat_id FROM deliveries"
            f" WHERE chat_id IN ({_IDS[self._db.dialect]}) AND state = 'waiting'",
            (json.dumps(sorted(chat_ids)),),
        )
        return {int(r[0]) for r in rows}

    async def mark_sending(self, delivery_id: int) -> bool:
        """Claim a waiting delivery; committed before the request goes out, so a crash leaves a trace.

        False when it is no longer waiting (its chat became unreachable meanwhile).
        """
        cursor = await self._db.execute(
            "UPDATE deliveries SET state = 'sending', attempts = attempts + 1 WHERE id = ? AND state = 'waiting'",
            (delivery_id,),
        )
        return cursor.rowcount > 0

    async def settle(self, delivery_id: int, state: str, now: datetime, error: str | None = None) -> None:
        """Record a final state."""
        assert state in FINAL_STATES
        await self._db.execute(
            "UPDATE deliveries SET state = CASE WHEN ? = 'sent' AND resent = 1 THEN 'uncertain' ELSE ? END,"
            " finished_at = ?, last_error = ? WHERE id = ?",
            (state, state, to_text(now), error, delivery_id),
        )

    async def retry_later(
        self, delivery_id: int, not_before: datetime, error: str, *, count_attempt: bool, maybe_delivered: bool
    ) -> None:
        """Put a delivery back in the queue (after a flood wait or a passing failure).

        `maybe_delivered`: the request timed out, so Telegram may have the message already;
        if it goes out again its end state is 'uncertain'.
        """
        await self._db.execute(
            "UPDATE deliveries SET state = 'waiting', not_before = ?, last_error = ?,"
            " attempts = attempts - ?, resent = CASE WHEN ? = 1 THEN 1 ELSE resent END WHERE id = ?",
            (_precise(not_before), error, 0 if count_attempt else 1, int(maybe_delivered), delivery_id),
        )

    async def give_up_on_chat(self, chat_id: int, now: datetime, reason: str = "blocked") -> int:
        """A chat that blocked the bot: every waiting message to it is unreachable too."""
        cursor = await self._db.execute(
            "UPDATE deliveries SET state = 'unreachable', finished_at = ?, last_error = ?"
            " WHERE chat_id = ? AND state = 'waiting'",
            (to_text(now), reason, chat_id),
        )
        return cursor.rowcount

    async def expire_waiting(self, dedupe_prefixes: Collection[str], now: datetime) -> int:
        """Messages not sent yet whose key starts with one of these become 'expired' (a consultation
        closed early: its opening notices and reminders would speak of it as open)."""
        expired = 0
        for prefix in dedupe_prefixes:
            cursor = await self._db.execute(
                "UPDATE deliveries SET state = 'expired', finished_at = ?, last_error = 'closed early'"
                " WHERE state = 'waiting' AND substr(dedupe_key, 1, length(CAST(? AS TEXT))) = ?",
                (to_text(now), prefix, prefix),
            )
            expired += cursor.rowcount
        return expired

    async def counts(self, broadcast_id: int) -> dict[str, int]:
        """How many deliveries of a broadcast are in each state."""
        rows = await self._db.execute_fetchall(
            "SELECT state, COUNT(*) FROM deliveries WHERE broadcast_id = ? GROUP BY state", (broadcast_id,)
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def failure_reasons(self, broadcast_id: int) -> dict[str, int]:
        """Why deliveries of a broadcast failed or expired: the last error of each, counted."""
        rows = await self._db.execute_fetchall(
            "SELECT COALESCE(last_error, state), COUNT(*) FROM deliveries"
            " WHERE broadcast_id = ? AND state IN ('failed', 'expired') GROUP BY 1 ORDER BY 2 DESC",
            (broadcast_id,),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def notice_counts(self) -> list[tuple[str, str, str, str, str | None, int]]:
        """Opening notices, reminders and outcomes, counted: (kind, what, consultation id, state, last error, n).

        Their dedupe keys are `what:consultation id:chat id[:version]` ("opened", "reminder",
        "closing", or the outcome's kind).
        """
        instr = _INSTR[self._db.dialect]
        rows = await self._db.execute_fetchall(
            f"SELECT kind, substr(k, 1, {instr}(k, ':') - 1), substr(r, 1, {instr}(r, ':') - 1), state, last_error,"
            f" COUNT(*) FROM (SELECT kind, dedupe_key AS k, substr(dedupe_key, {instr}(dedupe_key, ':') + 1) AS r,"
            " state, CASE WHEN state IN ('failed', 'expired') THEN COALESCE(last_error, state) END AS last_error"
            " FROM deliveries WHERE broadcast_id IS NULL AND kind IN ('notice', 'reminder', 'closing', 'outcome')"
            " AND dedupe_key IS NOT NULL) AS notices"
            " GROUP BY 1, 2, 3, 4, 5 ORDER BY 3, 1, 2",
        )
        return [(str(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4], int(r[5])) for r in rows]

    async def waiting_until(self, broadcast_id: int) -> datetime | None:
        """When the first waiting delivery of a broadcast may go (later than now for a scheduled one)."""
        found = list(
            await self._db.execute_fetchall(
                "SELECT MIN(not_before) FROM deliveries WHERE broadcast_id = ? AND state = 'waiting'", (broadcast_id,)
            )
        )
        return datetime.fromisoformat(str(found[0][0])) if found and found[0][0] else None

    async def states(self) -> dict[int, str]:
        """Every delivery's state (for tests and benchmarks)."""
        rows = await self._db.execute_fetchall("SELECT id, state FROM deliveries")
        return {int(r[0]): str(r[1]) for r in rows}

    async def pending_count(self, civil: bool = True) -> int:
        """Deliveries not yet ended; outside civil hours (`civil` false) civil-hours-only ones are left out."""
        found = list(
            await self._db.execute_fetchall(
                "SELECT COUNT(*) FROM deliveries WHERE state IN ('waiting', 'sending') AND (civil_only = 0 OR ? = 1)",
                (int(civil),),
            )
        )
        row = found[0] if found else None
        return int(row[0]) if row else 0

    async def next_due_time(self, after: datetime | None = None) -> datetime | None:
        """When the next waiting delivery (after `after`, if given) may go: the end of a retry's backoff."""
        since = _precise(after) if after else ""
        found = list(
            await self._db.execute_fetchall(
                "SELECT MIN(not_before) FROM deliveries WHERE state IN ('waiting', 'sending') AND state = 'waiting'"
                " AND not_before > ?",
                (since,),
            )
        )
        row = found[0] if found else None
        return datetime.fromisoformat(str(row[0])) if row and row[0] else None


def _precise(moment: datetime) -> str:
    """A timestamp to the microsecond, for retry times a second apart or less.

    It compares as text with the whole-second stamps of `to_text` (written when a delivery is
    queued): "…:05+00:00" < "…:05.250000+00:00" < "…:06+00:00".
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
