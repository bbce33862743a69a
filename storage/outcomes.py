"""Published outcomes ("What you told us", "What we did") and residents' replies to them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_text, to_text
from storage.sql import Connection

__all__ = ["OutcomeRepository", "OutcomeVersion"]

KINDS = ("told_us", "decided")


@dataclass(frozen=True)
class OutcomeVersion:
    """One published version of an outcome text: 1 is the original, each later one a correction."""

    version: int
    texts: dict[str, str]
    published_at: datetime
    published_by: int | None  # None for outcomes published before versions were kept


class OutcomeRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def publish(self, consultation_id: str, kind: str, texts: dict[str, str], now: datetime, by: int) -> int:
        """Store a new version of one of the two outcome texts (per language); returns its number (1: the original).

        Earlier versions are kept; `get` gives the latest.
        """
        assert kind in KINDS
        stored = json.dumps(texts, ensure_ascii=False)
        found = list(
            await self._db.execute_fetchall(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM outcome_versions WHERE consultation_id = ? AND kind = ?",
                (consultation_id, kind),
            )
        )
        version = int(found[0][0])
        await self._db.execute(
            "INSERT INTO outcome_versions(consultation_id, kind, version, texts, published_at, published_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (consultation_id, kind, version, stored, to_text(now), by),
        )
        await self._db.execute(
            f"INSERT INTO outcomes(consultation_id, {kind}, {kind}_at) VALUES (?, ?, ?)"
            f" ON CONFLICT(consultation_id) DO UPDATE SET {kind} = excluded.{kind}, {kind}_at = excluded.{kind}_at",
            (consultation_id, stored, to_text(now)),
        )
        return version

    async def latest_version(self, consultation_id: str, kind: str) -> tuple[int, datetime] | None:
        """The number and time of the latest version of one outcome text; None when it was never published."""
        found = list(
            await self._db.execute_fetchall(
                "SELECT version, published_at FROM outcome_versions WHERE consultation_id = ? AND kind = ?"
                " ORDER BY version DESC LIMIT 1",
                (consultation_id, kind),
            )
        )
        return (int(found[0][0]), from_text(str(found[0][1]))) if found else None

    async def versions(self, consultation_id: str, kind: str) -> list[OutcomeVersion]:
        """Every published version of one outcome text, the original first."""
        found = await self._db.execute_fetchall(
            "SELECT version, texts, published_at, published_by FROM outcome_versions"
            " WHERE consultation_id = ? AND kind = ? ORDER BY version",
            (consultation_id, kind),
        )
        return [
            OutcomeVersion(int(row[0]), json.loads(str(row[1])), from_text(str(row[2])), _int_or_none(row[3]))
            for row in found
        ]

    async def get(self, consultation_id: str) -> dict[str, dict[str, str]]:
        """{'told_us': {lang: text}, 'decided': {...}} with only what has been published."""
        found = list(
            await self._db.execute_fetchall(
                "SELECT told_us, decided FROM outcomes WHERE consultation_id = ?", (consultation_id,)
            )
        )
        row = found[0] if found else None
        if row is None:
            return {}
        return {kind: json.loads(value) for kind, value in zip(KINDS, row, strict=True) if value}

    async def was_sent(self, consultation_id: str, dedupe_key: str) -> bool:
        """True if "What you told us" is published for the consultation and was queued under `dedupe_key`."""
        found = await self._db.execute_fetchall(
            "SELECT 1 FROM outcomes WHERE consultation_id = ? AND told_us IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM deliveries WHERE dedupe_key = ?)",
            (consultation_id, dedupe_key),
        )
        return bool(list(found))

    async def consultations_with_feedback(self) -> list[str]:
        """Every consultation any stored feedback names, so erasure and /mydata find all of a resident's."""
        rows = await self._db.execute_fetchall("SELECT DISTINCT consultation_id FROM outcome_feedback")
        return [str(row[0]) for row in rows]

    async def rate(self, feedback_id: str, consultation_id: str, rating: str, now: datetime) -> None:
        """A resident's answer to "Did we get this right?"; answering again replaces it."""
        await self._db.execute(
            "INSERT INTO outcome_feedback(feedback_id, consultation_id, rating, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(feedback_id) DO UPDATE SET rating = excluded.rating, at = excluded.at",
            (feedback_id, consultation_id, rating, to_text(now)),
        )

    async def comment(self, feedback_id: str, text: str) -> None:
        await self._db.execute("UPDATE outcome_feedback SET comment = ? WHERE feedback_id = ?", (text, feedback_id))


def _int_or_none(value: object) -> int | None:
    return int(str(value)) if value is not None else None
