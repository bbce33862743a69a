"""Updates received and handled: a crash neither loses an update nor lets it be applied twice.

Every update costs two durable writes: kept on arrival, and once handled, remembered for its
chat and let go. A caller of `receive_many` or `handled` waits for its own write to be
committed, exactly as if it were alone; but writes asked for while another batch is on its
way to SQLite's thread wait for the next trip together, in one transaction (group commit).
With many residents in flight that is one trip and one commit for several updates instead of
one or two each (bench/README.md, 2026-11-26, "Group commit").

The bot records "handled" with `handled_soon`: nobody waits for that write, so it goes with the
next trip of the inbox's writes (most often the next update's own arrival), or at the latest
`HANDLED_WITHIN` later. One trip and one commit an update instead of two, one resident at a time
(bench/README.md, "One at a time"). The one order that matters is kept: an update of a chat
runs only once the chat's previous update is recorded handled (`settled`, bot/ordering.py).
What a crash can do differently: an update handled in the last `HANDLED_WITHIN` before it,
not yet recorded, is handled again at start-up, as an update in flight at a crash is.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from datetime import datetime
from typing import Any

from storage.clock import to_text
from storage.sql import Connection

__all__ = ["HANDLED_WITHIN", "UpdateRepository"]

log = logging.getLogger(__name__)
# The longest a "handled" record waits for a trip to share before it goes on its own (seconds).
HANDLED_WITHIN = 0.02

_KEEP = "INSERT INTO update_inbox(update_id, chat_id, data, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
# Remember it for its chat first, then let go of its content (see `handled`).
_REMEMBER = (
    "INSERT INTO handled_updates(chat_id, update_id, handled_at)"
    " SELECT chat_id, update_id, ? FROM update_inbox WHERE update_id = ? AND chat_id IS NOT NULL"
    " ON CONFLICT(chat_id) DO UPDATE SET update_id = CASE WHEN excluded.update_id > handled_updates.update_id"
    " THEN excluded.update_id ELSE handled_updates.update_id END,"
    " handled_at = excluded.handled_at"
)
_LET_GO = "DELETE FROM update_inbox WHERE update_id = ?"


class _Write:
    """One write waiting for its trip: updates to keep, or updates handled (`chats`: theirs)."""

    __slots__ = ("chats", "done", "handled", "kept")

    def __init__(self, kept: list[tuple[Any, ...]], handled: list[tuple[str, int]]) -> None:
        self.kept = kept
        self.handled = handled
        self.chats: set[int] = set()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


def _statements(writes: list[_Write]) -> list[tuple[str, list[Any]]]:
    """In this order: every update kept, then every handled one remembered, then let go."""
    kept = [row for w in writes for row in w.kept]
    handled = [mark for w in writes for mark in w.handled]
    return [(_KEEP, kept), (_REMEMBER, handled), (_LET_GO, [(update_id,) for _at, update_id in handled])]


class UpdateRepository:
    """The inbox of updates not yet handled, and the last update handled in each chat."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._waiting: list[_Write] = []
        self._writer: asyncio.Task[None] | None = None
        self._busy = False  # a trip of the inbox's writes is on its way
        self._marks: _Write | None = None  # handled, nobody waiting: goes with the next trip
        self._marks_due: asyncio.TimerHandle | None = None
        self._unsettled: dict[int, _Write] = {}  # chat -> the write recording its last update handled
        self._taken: set[_Write] = set()  # "handled" records on their way
        self._timed: asyncio.Task[None] | None = None  # the trip `HANDLED_WITHIN` started, if any

    async def receive(self, update_id: int, chat_id: int | None, data: str, now: datetime) -> None:
        """Keep an update until it is handled (a second copy of one already kept is ignored).

        Returns once it is committed.
        """
        await self.receive_many([(update_id, chat_id, data)], now)

    async def receive_many(self, updates: list[tuple[int, int | None, str]], now: datetime) -> None:
        """Keep several updates (update id, chat id, JSON), in one trip; returns once committed."""
        rows = [(update_id, chat_id, data, to_text(now)) for update_id, chat_id, data in updates]
        if not self._db.inside_unit_of_work():
            await self._committed(_Write(rows, []))
            return
        await self._db.executemany(_KEEP, rows)

    async def handled(self, update_id: int, now: datetime) -> None:
        """The update is handled: remember it for its chat first, then let go of its content.

        In this order a crash in between leaves an update that is both kept and known to be
        handled: at start-up it is recognised as handled and dropped (the two are in one
        transaction besides). An update whose row is gone (its resident was erased while it
        was handled) leaves no trace. Returns once it is committed.
        """
        if not self._db.inside_unit_of_work():
            await self._committed(_Write([], [(to_text(now), update_id)]))
            return
        await self._db.execute(_REMEMBER, (to_text(now), update_id))
        await self._db.execute(_LET_GO, (update_id,))

    def handled_soon(self, update_id: int, chat_id: int | None, now: datetime) -> None:
        """As `handled`, but nobody waits: committed with the next trip of the inbox's writes, or
        on its own after `HANDLED_WITHIN` (see the module). Before this chat's next update runs,
        `settled(chat_id)` waits for it. A failure is logged; the update then stays kept, and is
        recognised or handled again after a restart."""
        marks = self._marks
        if marks is None:
            marks = self._marks = _Write([], [])
            marks.done.add_done_callback(functools.partial(self._marks_done, marks))
            self._marks_due = asyncio.get_running_loop().call_later(HANDLED_WITHIN, self._marks_timed_out)
        marks.handled.append((to_text(now), update_id))
        if chat_id is not None:
            marks.chats.add(chat_id)
            self._unsettled[chat_id] = marks

    async def settled(self, chat_id: int) -> None:
        """Returns once the last update handled in this chat is recorded (or its write has failed)."""
        marks = self._unsettled.get(chat_id)
        if marks is None or marks.done.done():
            return
        if marks is self._marks:
            await self.flush()
        else:
            await asyncio.wait([marks.done])  # its trip is on its way; an error is the callback's to log

    async def flush(self) -> None:
        """Commit the "handled" records waiting for a trip, now (before a chat's next update; at shutdown)."""
        taken = self._take_marks()
        if taken:
            await self._commit_marks(taken[0])
        if self._taken:  # others on their way (the timer's trip): the database must not close first
            await asyncio.wait([marks.done for marks in self._taken])

    def _take_marks(self) -> list[_Write]:
        marks, self._marks = self._marks, None
        if self._marks_due is not None:
            self._marks_due.cancel()
            self._marks_due = None
        if marks is None:
            return []
        self._taken.add(marks)
        return [marks]

    def _marks_timed_out(self) -> None:
        self._marks_due = None
        taken = self._take_marks()
        if taken:
            # A context of its own, as the writer's (below): never part of someone's unit of work.
            self._timed = asyncio.get_running_loop().create_task(
                self._commit_marks(taken[0]), name="handled updates", context=contextvars.Context()
            )

    async def _commit_marks(self, marks: _Write) -> None:
        with contextlib.suppress(Exception):  # nobody waits for it: `_marks_done` logs a failure
            await self._committed(marks)

    def _marks_done(self, marks: _Write, _done: asyncio.Future[None]) -> None:
        self._taken.discard(marks)
        for chat_id in marks.chats:
            if self._unsettled.get(chat_id) is marks:
                del self._unsettled[chat_id]
        if marks.done.cancelled():
            log.warning("%d update(s) not recorded as handled (cancelled)", len(marks.handled))
        elif marks.done.exception() is not None:
            log.error("Could not record %d update(s) as handled", len(marks.handled), exc_info=marks.done.exception())

    async def _committed(self, write: _Write) -> None:
        """Wait for `write` to be committed, in the next trip with whatever else is waiting.

        (Inside a unit of work the write joins it instead, as any statement would: the writer
        would wait for that unit to end, and the unit for the writer.)
        """
        if self._busy:
            self._waiting.append(write)
            await write.done
            return
        # Nothing on its way: this write goes at once, from the caller (no extra hop through
        # the event loop for an update alone), with the "handled" records waiting for a trip;
        # what is asked for meanwhile waits for the next trip.
        self._busy = True
        try:
            await self._write_batch(self._db, [write, *self._take_marks()])
        finally:
            if self._waiting:
                # A context of its own: the writer must not be taken for part of a unit of work
                # its starter was in (storage/transactions.py), or a rollback would take the batch.
                self._writer = asyncio.get_running_loop().create_task(
                    self._write_waiting(), name="update inbox writes", context=contextvars.Context()
                )
            else:
                self._busy = False
        await write.done  # its own outcome: committed, or the error that kept it out

    async def _write_waiting(self) -> None:
        try:
            await self._write_all_waiting(self._db)
        finally:
            self._busy = False

    async def _write_all_waiting(self, db: Connection) -> None:
        while self._waiting:
            writes, self._waiting = self._waiting + self._take_marks(), []
            try:
                await self._write_batch(db, writes)
            except asyncio.CancelledError as error:
                for write in self._waiting:
                    _settle(write, error)
                raise

    async def _write_batch(self, db: Connection, writes: list[_Write]) -> None:
        """One trip for `writes`, each settled with its outcome (one that fails fails alone)."""
        try:
            await db.execute_together(_statements(writes))
        except asyncio.CancelledError as error:
            for write in writes:
                _settle(write, error)
            raise
        except Exception as error:
            if len(writes) == 1:
                _settle(writes[0], error)
                return
            # One write that fails must not fail the others: each on its own.
            for write in writes:
                try:
                    await db.execute_together(_statements([write]))
                except Exception as alone:
                    _settle(write, alone)
                else:
                    _settle(write, None)
        else:
            for write in writes:
                _settle(write, None)

    async def unhandled(self) -> list[tuple[int, str]]:
        """Updates received before a crash and not handled, oldest first: (update id, JSON)."""
        rows = await self._db.execute_fetchall("SELECT update_id, data FROM update_inbox ORDER BY update_id")
        return [(int(r[0]), str(r[1])) for r in rows]

    async def last_handled(self) -> dict[int, int]:
        """Chat id -> the last update handled in it (recently)."""
        rows = await self._db.execute_fetchall("SELECT chat_id, update_id FROM handled_updates")
        return {int(r[0]): int(r[1]) for r in rows}

    async def forget_before(self, moment: datetime) -> int:
        """Drop what is older than any update Telegram could still send again."""
        cursor = await self._db.execute("DELETE FROM handled_updates WHERE handled_at < ?", (to_text(moment),))
        return cursor.rowcount


def _settle(write: _Write, error: BaseException | None) -> None:
    if write.done.done():
        return
    if error is None:
        write.done.set_result(None)
    elif isinstance(error, asyncio.CancelledError):
        write.done.cancel()
    else:
        write.done.set_exception(error)
