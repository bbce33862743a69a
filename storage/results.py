"""Aggregate queries for officers: counts only, never a Telegram id, and streamed exports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from storage.sql import Connection

__all__ = ["ExportRow", "ResultRepository", "Tally"]

DAYS_A_STATEMENT = 200  # 800 parameters: well within what SQLite and PostgreSQL take in one statement


@dataclass(frozen=True)
class Tally:
    """Counts for one consultation's submitted responses."""

    started: int
    submitted: int
    stopped_at: dict[str, int]  # question id -> unfinished responses stopped there
    answered: dict[str, int]  # question id -> responses that answered it (not skipped)
    values: dict[str, dict[str, int]]  # question id -> value -> count
    feedback: dict[str, int]  # yes / partly / no -> count


@dataclass(frozen=True)
class ExportRow:
    response_id: str
    submitted_at: str
    language: str
    area_id: str | None
    answers: dict[str, Any]


class ResultRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def tally(self, consultation_id: str, written: Collection[str] = ()) -> Tally:
        """Everything /results shows, in a handful of indexed queries, none of which reads every answer. For the
        questions `written` (answered in free text) only how many answered is read, not each text."""
        started, submitted = await self._progress(consultation_id)
        answered, values = await self._answer_counts(consultation_id, written)
        return Tally(
            started=started,
            submitted=submitted,
            stopped_at=await self._pairs(
                "SELECT current_question, COUNT(*) FROM responses WHERE consultation_id = ?"
                " AND submitted_at IS NULL AND current_question IS NOT NULL GROUP BY current_question",
                consultation_id,
            ),
            answered=answered,
            values=values,
            feedback=await self._pairs(
                "SELECT rating, COUNT(*) FROM outcome_feedback WHERE consultation_id = ? GROUP BY rating",
                consultation_id,
            ),
        )

    async def _progress(self, consultation_id: str) -> tuple[int, int]:
        found = list(
            await self._db.execute_fetchall(
                "SELECT COUNT(*), COUNT(submitted_at) FROM responses WHERE consultation_id = ?", (consultation_id,)
            )
        )
        row = found[0] if found else None
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def _pairs(self, sql: str, consultation_id: str) -> dict[str, int]:
        async with self._db.execute(sql, (consultation_id,)) as cur:
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def _answer_counts(
        self, consultation_id: str, written: Collection[str]
    ) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        """Who answered each question, and how often each value was given (not for `written` questions): read
        from the counts the triggers of migration 0022 keep as answers are written and deleted (one row per
        question and value), not counted from the answer rows."""
        answered: dict[str, int] = {}
        values: dict[str, dict[str, int]] = {}
        texts = tuple(written)
        marks = ", ".join("?" * len(texts))
        not_texts = f" AND question_id NOT IN ({marks})" if texts else ""
        for question, value, given, first in await self._db.execute_fetchall(
            f"SELECT question_id, value, given, answered FROM answer_counts WHERE consultation_id = ?{not_texts}",
            (consultation_id, *texts),
        ):
            values.setdefault(str(question), {})[str(value)] = int(given)
            answered[str(question)] = answered.get(str(question), 0) + int(first)
        if texts:
            for question, count in await self._db.execute_fetchall(
                "SELECT question_id, SUM(answered) FROM answer_counts WHERE consultation_id = ?"
                f" AND question_id IN ({marks}) GROUP BY question_id",
                (consultation_id, *texts),
            ):
                answered[str(question)] = int(count)
        return answered, values

    async def comments(self, consultation_id: str, limit: int = 5) -> list[str]:
        """The latest comments left on "Did we get this right?"."""
        async with self._db.execute(
            "SELECT comment FROM outcome_feedback WHERE consultation_id = ? AND comment IS NOT NULL"
            " ORDER BY at DESC LIMIT ?",
            (consultation_id, limit),
        ) as cur:
            return [str(r[0]) for r in await cur.fetchall()]

    async def text_answers(self, consultation_id: str, question_id: str) -> list[str]:
        """What people wrote at one free-text question, oldest first (no response or Telegram id)."""
        async with self._db.execute(
            "SELECT value FROM answers WHERE consultation_id = ? AND question_id = ? AND value IS NOT NULL"
            " ORDER BY rowid",
            (consultation_id, question_id),
        ) as cur:
            return [str(r[0]) for r in await cur.fetchall()]

    async def people_by(self, column: str, consultation_id: str | None = None) -> dict[str, int]:
        """People who submitted (to one consultation, or to any), per their area or language: each counted once.

        Responses are keyed by resident and consultation, so across consultations they are not
        people; who took part is read from participation, and the area and language are the
        resident's own, so a count by language is always part of the residents using that language.
        """
        assert column in ("area_id", "language")
        where = "p.submitted_at IS NOT NULL" + (" AND p.consultation_id = ?" if consultation_id else "")
        params = (consultation_id,) if consultation_id else ()
        async with self._db.execute(
            f"SELECT COALESCE(r.{column}, ''), COUNT(DISTINCT p.chat_id) FROM participation AS p"
            f" JOIN residents AS r ON r.chat_id = p.chat_id WHERE {where} GROUP BY 1",
            params,
        ) as cur:
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def residents_by_language(self) -> dict[str, int]:
        async with self._db.execute("SELECT language, COUNT(*) FROM residents GROUP BY language") as cur:
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def export_rows(self, consultation_id: str, batch: int = 1000) -> AsyncIterator[ExportRow]:
        """Every submitted response, a batch at a time, so memory stays flat however many there are."""
        async for rows in self._db.stream(
            "SELECT response_id, submitted_at, language, area_id, answers FROM responses"
            " WHERE consultation_id = ? AND submitted_at IS NOT NULL ORDER BY submitted_at, response_id",
            (consultation_id,),
            batch,
        ):
            for r in rows:
                yield ExportRow(str(r[0]), str(r[1]), str(r[2]), r[3], json.loads(r[4]) if r[4] else {})

    async def text_answers_page(
        self, consultation_id: str, question_id: str, search: str = "", limit: int = 50, offset: int = 0
    ) -> tuple[int, list[str]]:
        """One page of what people wrote at a free-text question, newest first, with how many match `search`."""
        where = "consultation_id = ? AND question_id = ? AND value IS NOT NULL"
        params: list[object] = [consultation_id, question_id]
        if search:
            # Case-insensitive, as SQLite's LIKE is (PostgreSQL's ILIKE is, beyond ASCII too).
            like = "ILIKE" if self._db.dialect == "postgresql" else "LIKE"
            where += f" AND value {like} ? ESCAPE '\\'"
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        found = list(await self._db.execute_fetchall(f"SELECT COUNT(*) FROM answers WHERE {where}", params))
        total = int(found[0][0]) if found else 0
        async with self._db.execute(
            f"SELECT value FROM answers WHERE {where} ORDER BY rowid DESC LIMIT ? OFFSET ?", (*params, limit, offset)
        ) as cur:
            return total, [str(r[0]) for r in await cur.fetchall()]

    async def submitted_span(self, consultation_id: str) -> tuple[str, str] | None:
        """The stored timestamps of the first and the last submission (the two ends of the consultation's index)."""
        submitted = "FROM responses WHERE consultation_id = ? AND submitted_at IS NOT NULL"
        found = list(
            await self._db.execute_fetchall(
                f"SELECT (SELECT MIN(submitted_at) {submitted}), (SELECT MAX(submitted_at) {submitted})",
                (consultation_id, consultation_id),
            )
        )
        if not found or found[0][0] is None:
            return None
        return str(found[0][0]), str(found[0][1])

    async def submitted_per_day(self, consultation_id: str, days: Sequence[tuple[str, str, str]]) -> list[int]:
        """Submitted responses on each day, given as (its date, its first moment, the next day's first moment),
        the moments as stored timestamps: a count of a range of the consultation's index each, a batch of days a
        statement, so nothing is sorted or grouped. A response anonymised on erasure keeps only the date it
        was submitted (no time): it counts on that date."""
        counts: list[int] = []
        for start in range(0, len(days), DAYS_A_STATEMENT):
            batch = days[start : start + DAYS_A_STATEMENT]
            found = await self._db.execute_fetchall(
                f"WITH days(place, day, starts, ends) AS (VALUES {', '.join('(?, ?, ?, ?)' for _ in batch)})"
                " SELECT place, (SELECT COUNT(*) FROM responses WHERE consultation_id = ?"
                " AND submitted_at >= starts AND submitted_at < ends AND length(submitted_at) > 10)"
                " + (SELECT COUNT(*) FROM responses WHERE consultation_id = ? AND submitted_at = day)"
                " FROM days ORDER BY place",
                (*(v for place, day in enumerate(batch) for v in (place, *day)), consultation_id, consultation_id),
            )
            counts += [int(r[1]) for r in found]
        return counts
