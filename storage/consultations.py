"""Consultations, versioned so that answers always stay tied to the questions they answered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clock import from_text, to_text
from storage.sql import Connection
from storage.transactions import transaction

__all__ = ["ConsultationRepository", "ImportOutcome", "Overview", "StoredConsultation", "save_action"]


@dataclass(frozen=True)
class StoredConsultation:
    id: str
    version: int
    revision: int
    definition: dict[str, Any]


@dataclass(frozen=True)
class Overview:
    """One published consultation as the workspace lists it."""

    id: str
    definition: dict[str, Any]
    opens: datetime
    closes: datetime
    started: int
    submitted: int
    outcome_at: datetime | None


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did: 'added', 'updated' (same version), 'new_version' or 'unchanged'."""

    consultation_id: str
    action: str
    version: int
    responses_on_old_version: int = 0


def save_action(
    old_definition: str | None, old_structure: str | None, definition: str, structure: str, answered: int
) -> str:
    """What saving a consultation does, the one rule for `import`, the workspace and its confirmations.

    'added' (new), 'unchanged', 'updated' (the current version in place: wording and dates), or
    'new_version': what answers mean (questions, types, choices) changed once anyone has answered,
    so earlier answers keep the survey they answered.
    """
    if old_definition is None:
        return "added"
    if old_definition == definition:
        return "unchanged"
    return "new_version" if old_structure != structure and answered else "updated"


class ConsultationRepository:
    """Stores consultation definitions (as JSON) and finds the open ones."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def save(
        self, definition: dict[str, Any], structure: list[Any], opens: datetime, closes: datetime, now: datetime
    ) -> ImportOutcome:
        """Add or update a consultation by id.

        Text changes update the current version in place. A change to what answers
        mean (questions, types, choices) starts a new version once anyone has
        answered, so earlier answers keep the survey they answered.
        """
        consultation_id = str(definition["id"])
        definition_json, structure_json = _as_json(definition, structure)
        async with transaction(self._db):
            outcome = await self._save_in_transaction(
                consultation_id, definition_json, structure_json, to_text(opens), to_text(closes), to_text(now)
            )
        return outcome

    async def plan(self, definition: dict[str, Any], structure: list[Any]) -> ImportOutcome:
        """What `save` would do with this definition now, without saving it (for a confirmation)."""
        current = await self._current(str(definition["id"]))
        new_definition, new_structure = _as_json(definition, structure)
        if current is None:
            return ImportOutcome(str(definition["id"]), "added", 1)
        version, old_definition, old_structure = current
        answered = await self._response_count(str(definition["id"]), version)
        action = save_action(old_definition, old_structure, new_definition, new_structure, answered)
        if action == "new_version":
            return ImportOutcome(str(definition["id"]), action, version + 1, answered)
        return ImportOutcome(str(definition["id"]), action, version)

    async def _current(self, cid: str) -> tuple[int, str, str] | None:
        found = list(
            await self._db.execute_fetchall(
                "SELECT c.current_version, v.definition, v.structure FROM consultations c"
                " JOIN consultation_versions v ON v.consultation_id = c.id AND v.version = c.current_version"
                " WHERE c.id = ?",
                (cid,),
            )
        )
        return (int(found[0][0]), str(found[0][1]), str(found[0][2])) if found else None

    async def _save_in_transaction(
        self, cid: str, definition: str, structure: str, opens: str, closes: str, now: str
    ) -> ImportOutcome:
        current = await self._current(cid)
        if current is None:
            await self._db.execute(
                "INSERT INTO consultations(id, current_version, revision, opens, closes, updated_at)"
                " VALUES (?, 1, 1, ?, ?, ?)",
                (cid, opens, closes, now),
            )
            await self._insert_version(cid, 1, definition, structure, now)
            return ImportOutcome(cid, "added", 1)
        version, old_definition, old_structure = current
        answered = await self._response_count(cid, version)
        action = save_action(old_definition, old_structure, definition, structure, answered)
        if action == "unchanged":
            return ImportOutcome(cid, action, version)
        if action == "new_version":
            version += 1
            await self._insert_version(cid, version, definition, structure, now)
        else:
            await self._db.execute(
                "UPDATE consultation_versions SET definition = ?, structure = ?"
                " WHERE consultation_id = ? AND version = ?",
                (definition, structure, cid, version),
            )
        await self._db.execute(
            "UPDATE consultations SET current_version = ?, revision = revision + 1, opens = ?, closes = ?,"
            " updated_at = ? WHERE id = ?",
            (version, opens, closes, now, cid),
        )
        return ImportOutcome(cid, action, version, answered if action == "new_version" else 0)

    async def _insert_version(self, cid: str, version: int, definition: str, structure: str, now: str) -> None:
        await self._db.execute(
            "INSERT INTO consultation_versions(consultation_id, version, definition, structure, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (cid, version, definition, structure, now),
        )

    async def _response_count(self, cid: str, version: int) -> int:
        found = list(
            await self._db.execute_fetchall(
                "SELECT COUNT(*) FROM responses WHERE consultation_id = ? AND version = ?", (cid, version)
            )
        )
        row = found[0] if found else None
        return int(row[0]) if row else 0

    async def revision(self, consultation_id: str) -> tuple[int, int] | None:
        """(current version, revision) of a consultation, or None if unknown; cheap, for caches."""
        found = list(
            await self._db.execute_fetchall(
                "SELECT current_version, revision FROM consultations WHERE id = ?", (consultation_id,)
            )
        )
        row = found[0] if found else None
        return (int(row[0]), int(row[1])) if row else None

    async def get(self, consultation_id: str, version: int | None = None) -> StoredConsultation | None:
        """A consultation at its current version, or at a given one."""
        found = list(
            await self._db.execute_fetchall(
                "SELECT c.id, v.version, c.revision, v.definition FROM consultations c"
                " JOIN consultation_versions v ON v.consultation_id = c.id"
                " AND v.version = COALESCE(?, c.current_version) WHERE c.id = ?",
                (version, consultation_id),
            )
        )
        row = found[0] if found else None
        if row is None:
            return None
        return StoredConsultation(str(row[0]), int(row[1]), int(row[2]), json.loads(row[3]))

    async def open_ids(self, now: datetime) -> list[str]:
        """Ids of the consultations open at `now`, closing soonest first."""
        stamp = to_text(now)
        rows = await self._db.execute_fetchall(
            "SELECT id FROM consultations WHERE opens <= ? AND closes > ? ORDER BY closes, id", (stamp, stamp)
        )
        return [str(row[0]) for row in rows]

    async def unannounced_open(self, now: datetime) -> list[str]:
        """Consultations open now whose opening notice has not been queued yet."""
        stamp = to_text(now)
        rows = await self._db.execute_fetchall(
            "SELECT id FROM consultations WHERE opening_notice_at IS NULL AND opens <= ? AND closes > ? ORDER BY id",
            (stamp, stamp),
        )
        return [str(row[0]) for row in rows]

    async def opening_notice_at(self, consultation_id: str) -> datetime | None:
        """When the opening notice of a consultation was queued; None if not yet (or never published)."""
        found = list(
            await self._db.execute_fetchall(
                "SELECT opening_notice_at FROM consultations WHERE id = ?", (consultation_id,)
            )
        )
        return from_text(str(found[0][0])) if found and found[0][0] else None

    async def mark_announced(self, consultation_id: str, now: datetime) -> None:
        await self._db.execute(
            "UPDATE consultations SET opening_notice_at = ? WHERE id = ?", (to_text(now), consultation_id)
        )

    async def all_versions(self, consultation_id: str) -> list[dict[str, Any]]:
        """Every version's definition, newest first (an export covers answers to each)."""
        rows = await self._db.execute_fetchall(
            "SELECT definition FROM consultation_versions WHERE consultation_id = ? ORDER BY version DESC",
            (consultation_id,),
        )
        return [json.loads(row[0]) for row in rows]

    async def all_ids(self) -> list[str]:
        rows = await self._db.execute_fetchall("SELECT id FROM consultations ORDER BY id")
        return [str(row[0]) for row in rows]

    async def overview(self) -> list[Overview]:
        """Every consultation with its dates, people started and submitted, and when "What we did" went out."""
        rows = await self._db.execute_fetchall(
            "SELECT c.id, v.definition, c.opens, c.closes,"
            " (SELECT COUNT(*) FROM responses r WHERE r.consultation_id = c.id),"
            " (SELECT COUNT(submitted_at) FROM responses r WHERE r.consultation_id = c.id),"
            " (SELECT decided_at FROM outcomes o WHERE o.consultation_id = c.id)"
            " FROM consultations c JOIN consultation_versions v"
            " ON v.consultation_id = c.id AND v.version = c.current_version ORDER BY c.closes DESC, c.id"
        )
        return [
            Overview(
                str(row[0]),
                json.loads(row[1]),
                from_text(str(row[2])),
                from_text(str(row[3])),
                int(row[4]),
                int(row[5]),
                from_text(str(row[6])) if row[6] else None,
            )
            for row in rows
        ]


def _as_json(definition: dict[str, Any], structure: list[Any]) -> tuple[str, str]:
    """A definition and its structure as stored (and compared)."""
    return json.dumps(definition, sort_keys=True, ensure_ascii=False), json.dumps(structure)
