"""Survey responses, keyed by a pseudonymous response id and never by a Telegram id."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clock import to_text
from storage.sql import Connection

__all__ = ["ResponseRepository", "SourceReach", "StoredResponse"]


def answer_rows(answers: dict[str, Any]) -> list[tuple[str, str | None, int]]:
    """(question, value, first) per answer; a multiple-choice answer gives one row per ticked choice.

    `first` marks one row per question, so "how many answered" is a sum, not a distinct count.
    """
    rows: list[tuple[str, str | None, int]] = []
    for question, value in answers.items():
        if isinstance(value, list):
            rows += [(question, str(choice), int(i == 0)) for i, choice in enumerate(value)]
        else:
            rows.append((question, None if value is None else str(value), 1))
    return rows


@dataclass(frozen=True)
class SourceReach:
    """How many people came to a consultation by links with one source tag (None: by no tagged link)."""

    source: str | None
    started: int  # people who started the survey (submitted or not)
    submitted: int  # of them, those who submitted


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

    def __init__(self, connection: Connection, remembered: int = 100_000) -> None:
        self._db = connection
        # A survey answer reads its response, then writes it: the write keeps this copy current,
        # so the read costs no round trip. Only the bot process writes responses.
        # Counts the units of work that ended: a row read while one ended may predate its commit.
        self._generation = 0
        self._remembered: OrderedDict[str, StoredResponse | None] = OrderedDict()
        self._limit = remembered

    def forget_all(self) -> None:
        """Drop every remembered copy (when a unit of work ends: it may have changed any row)."""
        self._remembered.clear()
        self._generation += 1

    def _remember(self, response_id: str, response: StoredResponse | None) -> None:
        self._remembered[response_id] = response
        self._remembered.move_to_end(response_id)
        if len(self._remembered) > self._limit:
            self._remembered.popitem(last=False)

    async def get(self, response_id: str) -> StoredResponse | None:
        """A response's progress (and answers, once submitted)."""
        if response_id in self._remembered:
            self._remembered.move_to_end(response_id)
            return self._remembered[response_id]
        generation = self._generation
        found = await self._read(response_id)
        if generation == self._generation:  # no unit of work ended while it was read: still true
            self._remember(response_id, found)
        return found

    async def _read(self, response_id: str) -> StoredResponse | None:
        found = list(
            await self._db.execute_fetchall(
                "SELECT response_id, consultation_id, version, language, state, answers, submitted_at"
                " FROM responses WHERE response_id = ?",
                (response_id,),
            )
        )
        row = found[0] if found else None
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
        path = state.get("path") or [None]
        current = None if state.get("reviewing") else path[-1]
        # RETURNING says whether the row was written, in the same round trip: aiosqlite's
        # execute_fetchall costs ~15 us less than execute and a cursor (bench/README.md).
        written = await self._db.execute_fetchall(
            "INSERT INTO responses(response_id, consultation_id, version, language, state, started_at, updated_at,"
            " current_question) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(response_id) DO UPDATE SET state = excluded.state, language = excluded.language,"
            " updated_at = excluded.updated_at, current_question = excluded.current_question"
            " WHERE responses.submitted_at IS NULL RETURNING 1",
            (response_id, consultation_id, version, language, json.dumps(state), stamp, stamp, current),
        )
        saved = bool(written)
        if saved:
            before = self._remembered.get(response_id)
            kept_version = before.version if before is not None else version
            self._remember(
                response_id,
                StoredResponse(response_id, consultation_id, kept_version, language, dict(state), None, None),
            )
        else:
            self._remembered.pop(response_id, None)
        return saved

    async def submit(
        self,
        response_id: str,
        answers: dict[str, Any],
        state: dict[str, Any],
        now: datetime,
        area_id: str | None = None,
    ) -> bool:
        """Record the final answers once, all together; False if this response was already submitted.

        One statement: the trigger `responses_submitted` (migration 0006) writes the answer rows.
        """
        self._remembered.pop(response_id, None)
        written = await self._db.execute_fetchall(
            "UPDATE responses SET answers = ?, state = ?, submitted_at = ?, updated_at = ?, area_id = ?,"
            " current_question = NULL, pending_answer_rows = ? WHERE response_id = ? AND submitted_at IS NULL"
            " RETURNING 1",
            (
                json.dumps(answers),
                json.dumps(state),
                to_text(now),
                to_text(now),
                area_id,
                json.dumps(answer_rows(answers)),
                response_id,
            ),
        )
        return bool(written)

    async def note_source(self, response_id: str, source: str) -> None:
        """Keep the source tag of the link a resident came by with their response, unless it has one.

        The first source counts: scanning a second poster later does not move a response.
        """
        await self._db.execute_fetchall(
            "UPDATE responses SET source = ? WHERE response_id = ? AND source IS NULL AND submitted_at IS NULL",
            (source, response_id),
        )

    async def reach_by_source(self, consultation_id: str) -> list[SourceReach]:
        """People who started and who submitted, per source tag; the most responses first."""
        rows = await self._db.execute_fetchall(
            "SELECT source, COUNT(*), COUNT(submitted_at) FROM responses WHERE consultation_id = ?"
            " GROUP BY source ORDER BY COUNT(submitted_at) DESC, COUNT(*) DESC, source NULLS FIRST",
            (consultation_id,),
        )
        return [SourceReach(None if row[0] is None else str(row[0]), int(row[1]), int(row[2])) for row in rows]
