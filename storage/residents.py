"""Residents: who has acknowledged the privacy notice, their language, area and interests."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_text, to_text
from storage.sql import Connection

__all__ = ["Audience", "Resident", "ResidentRepository"]


@dataclass(frozen=True)
class Resident:
    chat_id: int
    language: str
    area_id: str | None
    onboarding_step: str | None
    active_consultation_id: str | None
    notices: bool
    reminders: bool = True
    unreachable: bool = False
    last_seen: datetime | None = None  # the resident's last update before this one (kept to the minute)


_COLUMNS = (
    "chat_id, language, area_id, onboarding_step, active_consultation_id, notices, reminders,"
    " unreachable_at IS NOT NULL, last_seen_at"
)


@dataclass(frozen=True)
class Audience:
    """Who a notice is for: everyone (no filters), or those matching every filter given.

    Areas and topics are alternatives (a consultation's notice goes to residents of its areas and
    to the subscribers of its topics) unless `areas_and_topics` is set: then a resident must be in
    one of the areas and follow one of the topics (a broadcast's combined filters).
    """

    areas: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    language: str | None = None
    participants_of: str | None = None
    unfinished_of: str | None = None  # started this consultation's survey and not submitted
    not_taking_part_in: str | None = None  # neither started nor submitted it
    areas_and_topics: bool = False


class ResidentRepository:
    """Reads and writes residents; a resident row exists only after the privacy notice is acknowledged."""

    def __init__(self, connection: Connection, remembered: int = 100_000) -> None:
        self._db = connection
        # Every update starts by reading its resident; the bot process is the only one that
        # changes residents, and every change below keeps the copy to the row the write returned
        # (or forgets it), so it stays true without a second round trip.
        # Counts the units of work that ended: a row read while one ended may predate its commit.
        self._generation = 0
        self._remembered: OrderedDict[int, Resident | None] = OrderedDict()
        self._limit = remembered

    def forget_all(self) -> None:
        """Drop every remembered copy (when a unit of work ends: it may have changed any row)."""
        self._remembered.clear()
        self._generation += 1

    def forget(self, chat_id: int) -> None:
        """Drop the remembered copy (after a change, or an erasure done directly in SQL)."""
        self._remembered.pop(chat_id, None)

    async def get(self, chat_id: int) -> Resident | None:
        """The resident with this private chat id, or None."""
        if chat_id in self._remembered:
            self._remembered.move_to_end(chat_id)
            return self._remembered[chat_id]
        generation = self._generation
        found = await self._read(chat_id)
        if generation == self._generation:  # no unit of work ended while it was read: still true
            self._remember(chat_id, found)
        return found

    def _remember(self, chat_id: int, resident: Resident | None) -> None:
        self._remembered[chat_id] = resident
        self._remembered.move_to_end(chat_id)
        if len(self._remembered) > self._limit:
            self._remembered.popitem(last=False)

    async def _read(self, chat_id: int) -> Resident | None:
        found = list(await self._db.execute_fetchall(f"SELECT {_COLUMNS} FROM residents WHERE chat_id = ?", (chat_id,)))
        row = found[0] if found else None
        return _resident(row) if row else None

    async def _write(self, chat_id: int, sql: str, parameters: tuple[object, ...]) -> Resident | None:
        """Run a write that ends `RETURNING` the resident's columns, and remember the row it returns.

        Results come back from aiosqlite's one thread in the order the statements were queued, so
        the copy kept last is the row as the last statement left it.
        """
        self.forget(chat_id)
        found = list(await self._db.execute_fetchall(f"{sql} RETURNING {_COLUMNS}", parameters))
        resident = _resident(found[0]) if found else None
        if resident is None:
            self.forget(chat_id)
        else:
            self._remember(chat_id, resident)
        return resident

    async def acknowledge(self, chat_id: int, language: str, now: datetime, onboarding_step: str | None) -> Resident:
        """Record that a resident acknowledged the privacy notice (the first thing we store)."""
        stamp = to_text(now)
        resident = await self._write(
            chat_id,
            "INSERT INTO residents(chat_id, language, acknowledged_at, onboarding_step, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET language = excluded.language, last_seen_at = excluded.last_seen_at",
            (chat_id, language, stamp, onboarding_step, stamp, stamp),
        )
        assert resident is not None
        return resident

    async def set_language(self, chat_id: int, language: str) -> None:
        """Remember the language a resident chose."""
        await self._write(chat_id, "UPDATE residents SET language = ? WHERE chat_id = ?", (language, chat_id))

    async def set_area(self, chat_id: int, area_id: str | None, onboarding_step: str | None) -> None:
        """Remember the resident's area (None: they preferred not to say) and move onboarding on."""
        await self._write(
            chat_id,
            "UPDATE residents SET area_id = ?, onboarding_step = ? WHERE chat_id = ?",
            (area_id, onboarding_step, chat_id),
        )

    async def set_onboarding_step(self, chat_id: int, step: str | None) -> None:
        await self._write(chat_id, "UPDATE residents SET onboarding_step = ? WHERE chat_id = ?", (step, chat_id))

    async def topics(self, chat_id: int) -> set[str]:
        """The topics a resident asked to hear about."""
        rows = await self._db.execute_fetchall("SELECT topic_id FROM resident_topics WHERE chat_id = ?", (chat_id,))
        return {row[0] for row in rows}

    async def toggle_topic(self, chat_id: int, topic_id: str) -> bool:
        """Subscribe to a topic, or unsubscribe if already subscribed; True when now subscribed."""
        cursor = await self._db.execute(
            "DELETE FROM resident_topics WHERE chat_id = ? AND topic_id = ?", (chat_id, topic_id)
        )
        if cursor.rowcount:
            return False
        await self._db.execute("INSERT INTO resident_topics(chat_id, topic_id) VALUES (?, ?)", (chat_id, topic_id))
        return True

    async def set_topic(self, chat_id: int, topic_id: str, subscribed: bool) -> None:
        """Subscribe to a topic or not (the same call twice changes nothing more)."""
        if subscribed:
            await self._db.execute(
                "INSERT INTO resident_topics(chat_id, topic_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (chat_id, topic_id),
            )
        else:
            await self._db.execute(
                "DELETE FROM resident_topics WHERE chat_id = ? AND topic_id = ?", (chat_id, topic_id)
            )

    async def set_active_consultation(self, chat_id: int, consultation_id: str | None) -> None:
        """Which survey the resident's typed messages answer."""
        await self._write(
            chat_id, "UPDATE residents SET active_consultation_id = ? WHERE chat_id = ?", (consultation_id, chat_id)
        )

    async def set_preferences(
        self, chat_id: int, *, notices: bool | None = None, reminders: bool | None = None
    ) -> None:
        """Turn notices of new consultations, or reminders before closing, on or off."""
        await self._write(
            chat_id,
            "UPDATE residents SET notices = COALESCE(?, notices), reminders = COALESCE(?, reminders) WHERE chat_id = ?",
            (None if notices is None else int(notices), None if reminders is None else int(reminders), chat_id),
        )

    async def mark_unreachable(self, chat_id: int, now: datetime) -> None:
        """The resident blocked the bot (or left Telegram): send nothing more until they /start again."""
        await self._write(
            chat_id,
            "UPDATE residents SET unreachable_at = ? WHERE chat_id = ? AND unreachable_at IS NULL",
            (to_text(now), chat_id),
        )

    async def mark_reachable(self, chat_id: int) -> None:
        await self._write(
            chat_id,
            "UPDATE residents SET unreachable_at = NULL WHERE chat_id = ? AND unreachable_at IS NOT NULL",
            (chat_id,),
        )

    async def audience(self, audience: Audience, *, wants: str | None = "notices") -> list[tuple[int, str]]:
        """(chat id, language) of every reachable resident in the audience who wants `notices` or `reminders`.

        `wants=None`: whatever those settings say (feedback on what a resident took part in).
        """
        assert wants in ("notices", "reminders", None)
        where = ["r.unreachable_at IS NULL"] + ([f"r.{wants} = 1"] if wants else [])
        params: list[object] = []
        alternatives = []
        if audience.areas:
            alternatives.append(f"r.area_id IN ({', '.join('?' * len(audience.areas))})")
            params += audience.areas
        if audience.topics:
            alternatives.append(
                "EXISTS (SELECT 1 FROM resident_topics t WHERE t.chat_id = r.chat_id"
                f" AND t.topic_id IN ({', '.join('?' * len(audience.topics))}))"
            )
            params += audience.topics
        if alternatives:
            where.append("(" + (" AND " if audience.areas_and_topics else " OR ").join(alternatives) + ")")
        if audience.language:
            where.append("r.language = ?")
            params.append(audience.language)
        if audience.participants_of:
            where.append(
                "EXISTS (SELECT 1 FROM participation p WHERE p.chat_id = r.chat_id AND p.consultation_id = ?"
                " AND p.submitted_at IS NOT NULL)"
            )
            params.append(audience.participants_of)
        if audience.unfinished_of:
            where.append(
                "EXISTS (SELECT 1 FROM participation p WHERE p.chat_id = r.chat_id AND p.consultation_id = ?"
                " AND p.submitted_at IS NULL)"
            )
            params.append(audience.unfinished_of)
        if audience.not_taking_part_in:
            where.append(
                "NOT EXISTS (SELECT 1 FROM participation p WHERE p.chat_id = r.chat_id AND p.consultation_id = ?)"
            )
            params.append(audience.not_taking_part_in)
        sql = f"SELECT r.chat_id, r.language FROM residents r WHERE {' AND '.join(where)} ORDER BY r.chat_id"
        rows = await self._db.execute_fetchall(sql, params)
        return [(int(r[0]), str(r[1])) for r in rows]

    async def touch(self, chat_id: int, now: datetime) -> None:
        """Note that the resident was here (for inactivity rules); coming back cancels a removal notice."""
        await self._write(
            chat_id,
            "UPDATE residents SET last_seen_at = ?, inactivity_notice_at = NULL WHERE chat_id = ?",
            (to_text(now), chat_id),
        )


def _resident(row: Sequence[object]) -> Resident:
    chat_id, language, area_id, step, active, notices, reminders, unreachable, last_seen = row
    return Resident(
        chat_id=int(str(chat_id)),
        language=str(language),
        area_id=area_id if area_id is None else str(area_id),
        onboarding_step=None if step is None else str(step),
        active_consultation_id=None if active is None else str(active),
        notices=bool(notices),
        reminders=bool(reminders),
        unreachable=bool(unreachable),
        last_seen=from_text(str(last_seen)) if last_seen else None,
    )
