"""What several bot workers on one database agree on through it: who sends, and who runs a tick.

Each is one portable statement (SQLite and PostgreSQL alike), decided by the database: a lease
is claimed or renewed by an upsert that only updates a row its claimant holds or that has
expired; a tick is claimed by an insert that does nothing when another worker's came first.
Timestamps are UTC ISO text to the microsecond, always the same length, so they compare as text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.clock import to_text
from storage.sql import Connection

__all__ = ["ChatInbox", "FloodCounts", "LeaseRepository", "TickRepository", "stamp"]

_CLAIM_LEASE = (
    "INSERT INTO leases(name, holder, expires_at) VALUES (?, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
    " WHERE leases.holder = excluded.holder OR leases.expires_at <= ?"
    " RETURNING holder"
)
_COUNT = (
    "INSERT INTO flood_counts(name, minute, count) VALUES (?, ?, 1)"
    " ON CONFLICT (name, minute) DO UPDATE SET count = flood_counts.count + 1"
    " RETURNING count"
)
_CLAIM_TICK = "INSERT INTO ticks(job, tick, worker) VALUES (?, ?, ?) ON CONFLICT (job, tick) DO NOTHING RETURNING job"


def stamp(moment: datetime) -> str:
    """A lease's or tick's timestamp: UTC, to the microsecond, always the same length."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class LeaseRepository:
    """Named leases: at most one holder each at any moment, as the database's clock-free rows say."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def claim(self, name: str, holder: str, now: datetime, lasts: timedelta) -> bool:
        """Take the lease or renew it until `now + lasts`; true when `holder` holds it now.

        Taken only when free, expired (by `now`), or already `holder`'s: one statement, so two
        workers claiming at once cannot both win.
        """
        rows = await self._db.execute_fetchall(_CLAIM_LEASE, (name, holder, stamp(now + lasts), stamp(now)))
        return len(list(rows)) == 1

    async def release(self, name: str, holder: str) -> bool:
        """Give the lease up (a worker stopping cleanly), so another may take it at once."""
        cursor = await self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
        return cursor.rowcount > 0

    async def holder(self, name: str, now: datetime) -> str | None:
        """Who holds the lease now, if anyone (for tests and logs)."""
        rows = list(
            await self._db.execute_fetchall(
                "SELECT holder FROM leases WHERE name = ? AND expires_at > ?", (name, stamp(now))
            )
        )
        return str(rows[0][0]) if rows else None


class TickRepository:
    """Scheduled checks' runs: one per job and tick across every worker."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def claim(self, job: str, tick: datetime, worker: str) -> bool:
        """True when this worker's claim is the first for the job's tick: it runs it."""
        rows = await self._db.execute_fetchall(_CLAIM_TICK, (job, stamp(tick), worker))
        return len(list(rows)) == 1

    async def forget_before(self, moment: datetime) -> int:
        cursor = await self._db.execute("DELETE FROM ticks WHERE tick < ?", (stamp(moment),))
        return cursor.rowcount


class ChatInbox:
    """The stored updates of one chat, for the worker that claims the chat (several workers)."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def unhandled_of(self, chat_id: int) -> list[tuple[int, str]]:
        """The chat's updates received and not yet handled, in update_id order: (update id, JSON)."""
        rows = await self._db.execute_fetchall(
            "SELECT update_id, data FROM update_inbox WHERE chat_id = ? ORDER BY update_id", (chat_id,)
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    async def last_handled_of(self, chat_id: int) -> int | None:
        """The last update handled in the chat (by any worker), if remembered."""
        rows = list(
            await self._db.execute_fetchall("SELECT update_id FROM handled_updates WHERE chat_id = ?", (chat_id,))
        )
        return int(rows[0][0]) if rows else None

    async def chats_waiting(self, received_before: datetime) -> list[int]:
        """Chats with an update stored before `received_before` and not handled yet (a sweep for orphans)."""
        rows = await self._db.execute_fetchall(
            "SELECT DISTINCT chat_id FROM update_inbox WHERE chat_id IS NOT NULL AND received_at < ? ORDER BY chat_id",
            (to_text(received_before),),
        )
        return [int(r[0]) for r in rows]

    async def forget_expired_claims(self, now: datetime) -> int:
        """Chat claims of workers that died holding them (nobody has claimed the chat since)."""
        cursor = await self._db.execute("DELETE FROM leases WHERE name LIKE 'chat:%' AND expires_at < ?", (stamp(now),))
        return cursor.rowcount


class FloodCounts:
    """The flood guard's counts shared by the workers: updates per name (a kind and a chat's keyed hash)
    per minute. Counting is one upsert that returns the new count, so two workers counting at once
    both count, each seeing a different number."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def count(self, name: str, minute: int) -> int:
        """Count one more under `name` in `minute` (from the Unix epoch); returns the count, this one included."""
        rows = list(await self._db.execute_fetchall(_COUNT, (name, minute)))
        return int(rows[0][0])

    async def forget_before(self, minute: int) -> int:
        """Drop the counts of minutes before `minute`."""
        cursor = await self._db.execute("DELETE FROM flood_counts WHERE minute < ?", (minute,))
        return cursor.rowcount
