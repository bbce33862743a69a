"""Every table, and what it holds about a resident: the registry behind /mydata and /delete.

A table added without an entry here fails tests/test_privacy.py, so no personal data
can be added that a resident cannot see or erase.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from storage.clock import to_text
from storage.sql import Connection
from storage.transactions import transaction

__all__ = ["NOT_PERSONAL", "PERSONAL_BY_CHAT", "PERSONAL_BY_PSEUDONYM", "ErasurePolicy", "erase", "everything_about"]

# Tables whose rows name a resident by chat id (column), erased with the resident.
PERSONAL_BY_CHAT = {
    "residents": "chat_id",
    "resident_topics": "chat_id",
    "participation": "chat_id",
    "deliveries": "chat_id",
    "contact_threads": "chat_id",
    "contact_messages": "chat_id",
    "contact_texts": "chat_id",
    "drafts": "user_id",
    "officers": "user_id",
    "officer_names": "user_id",
    "update_inbox": "chat_id",
    "handled_updates": "chat_id",
    "web_signin_links": "officer_id",
    "web_sessions": "officer_id",
}
# Columns about someone else that a resident's copy of their data leaves out: which officer wrote a
# reply from the team (the resident sees "the engagement team", as the reply itself says).
NOT_SHOWN_TO_RESIDENT = {"contact_texts": ("officer_id",)}
# Tables keyed by a keyed hash of the resident (and consultation), found by recomputing it.
PERSONAL_BY_PSEUDONYM = {
    "responses": "response_id",
    "answers": "response_id",
    "outcome_feedback": "feedback_id",
    "equality_answers": "equality_id",
    "take_part_taps": "tapper_id",
}
# Tables with nothing about any resident.
NOT_PERSONAL = {
    "meta": "settings of the database (the pseudonym key)",
    "consultations": "consultation definitions",
    "consultation_versions": "consultation definitions",
    "officer_invites": "invites made by officers (who used one is an officer's id, kept while they are one)",
    "audit_log": "what officers did (officers' ids, not residents')",
    "broadcasts": "notices officers wrote (the count of recipients, not who)",
    "outcomes": "outcome texts officers published",
    "outcome_versions": "every version of the outcome texts (officers' ids, not residents')",
    "consultation_drafts": "consultations being written in the workspace (the officer who saved last)",
    "leases": "which worker sends, and which applies a chat's updates (named by a keyed hash, not the chat id)",
    "ticks": "which worker ran a scheduled check",
    "flood_counts": "updates counted a minute against the flood limits (by a keyed hash, not the chat id)",
    "answer_counts": "how often each answer was given (a written answer's text only while an answer holds it)",
}

ErasurePolicy = str  # "delete" or "anonymise"


async def everything_about(
    db: Connection,
    chat_id: int,
    response_ids: dict[str, str],
    feedback_ids: dict[str, str],
    equality_id: str,
    tap_ids: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """All rows about one resident, table by table (response and feedback ids per consultation given)."""
    found: dict[str, Any] = {}
    for table, column in PERSONAL_BY_CHAT.items():
        found[table] = await _rows(db, f"SELECT * FROM {table} WHERE {column} = ?", (chat_id,))
        for row in found[table]:
            for hidden in NOT_SHOWN_TO_RESIDENT.get(table, ()):
                row.pop(hidden, None)
    ids = list(response_ids.values())
    marks = ", ".join("?" * len(ids))
    # PostgreSQL has no `IN ()`: an empty list finds nothing without asking.
    found["responses"] = await _rows(db, f"SELECT * FROM responses WHERE response_id IN ({marks})", ids)
    found["answers"] = await _rows(db, f"SELECT * FROM answers WHERE response_id IN ({marks})", ids)
    feedback = list(feedback_ids.values())
    found["outcome_feedback"] = await _rows(
        db, f"SELECT * FROM outcome_feedback WHERE feedback_id IN ({', '.join('?' * len(feedback))})", feedback
    )
    found["equality_answers"] = await _rows(db, "SELECT * FROM equality_answers WHERE equality_id = ?", (equality_id,))
    taps = list((tap_ids or {}).values())
    found["take_part_taps"] = await _rows(
        db, f"SELECT * FROM take_part_taps WHERE tapper_id IN ({', '.join('?' * len(taps))})", taps
    )
    for row in found["responses"]:
        for key in ("state", "answers"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    return found


async def _rows(db: Connection, sql: str, params: Any) -> list[dict[str, Any]]:
    if "IN ()" in sql:
        return []
    async with db.execute(sql, params) as cur:
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]
    for row in rows:
        row.pop("rowid", None)  # PostgreSQL's stand-in for SQLite's row id (answers), not data
    return rows


async def erase(
    db: Connection,
    chat_id: int,
    response_ids: dict[str, str],
    feedback_ids: dict[str, str],
    equality_id: str,
    policy: ErasurePolicy,
    now: datetime,
    tap_ids: Mapping[str, str] | None = None,
) -> None:
    """Erase a resident in one transaction, then make sure nothing of it stays in the file or the log.

    With "anonymise", submitted answers stay for the results but lose every link to the
    resident: their response id becomes a random one nobody can recompute.
    """
    async with transaction(db):
        if db.dialect == "sqlite":
            await db.execute("PRAGMA defer_foreign_keys = ON")
        for response_id in response_ids.values():
            if policy == "anonymise":
                await _unlink_submitted(db, response_id, secrets.token_hex(16), to_text(now))
            await db.execute("DELETE FROM answers WHERE response_id = ?", (response_id,))
            await db.execute("DELETE FROM responses WHERE response_id = ?", (response_id,))
        for feedback_id in feedback_ids.values():
            if policy == "anonymise":
                await db.execute(
                    "UPDATE outcome_feedback SET feedback_id = ? WHERE feedback_id = ?",
                    (secrets.token_hex(16), feedback_id),
                )
            else:
                await db.execute("DELETE FROM outcome_feedback WHERE feedback_id = ?", (feedback_id,))
        # "Take part" taps (message -> tap id), found by their primary key; counted in reports, like feedback.
        taps = list((tap_ids or {}).items())
        if policy == "anonymise":
            await db.executemany(
                "UPDATE take_part_taps SET tapper_id = ? WHERE message = ? AND tapper_id = ?",
                [(secrets.token_hex(16), message, tapper_id) for message, tapper_id in taps],
            )
        else:
            await db.executemany("DELETE FROM take_part_taps WHERE message = ? AND tapper_id = ?", taps)
        # Equality answers are never kept after erasure: they may not be used once a person objects.
        await db.execute("DELETE FROM equality_answers WHERE equality_id = ?", (equality_id,))
        for table, column in reversed(list(PERSONAL_BY_CHAT.items())):
            await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (chat_id,))
    await checkpoint(db)


async def checkpoint(db: Connection) -> None:
    """After an erasure or a purge: nothing of the deleted rows stays where the database keeps data.

    SQLite: secure_delete has zeroed the freed space in the file; the write-ahead log still holds
    the old pages until it is checkpointed, here. PostgreSQL: a deleted row stays in its table's
    pages as a dead tuple (and in the write-ahead log segments and any backups) until VACUUM
    reclaims the space and the WAL is recycled; autovacuum does so within minutes on a busy table.
    "Physically gone" on PostgreSQL therefore means: not visible to any query at once, and its
    bytes overwritten once autovacuum (or the operator's VACUUM) has run and the WAL segments and
    backups holding it have aged out (docs/scaling.md). Nothing is done here: VACUUM cannot run
    inside the bot's transactions, and autovacuum does it without blocking.
    """
    if db.dialect == "sqlite":
        await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def _unlink_submitted(db: Connection, old_id: str, new_id: str, stamp: str) -> None:
    """Copy a submitted response under a fresh random id (answers move with it); progress is not kept."""
    await db.execute(
        "INSERT INTO responses(response_id, consultation_id, version, language, state, answers, started_at,"
        " updated_at, submitted_at, area_id, source) SELECT ?, consultation_id, version, language, '{}', answers,"
        # Only the day of submission is kept: an exact time could be matched to a person.
        " substr(submitted_at, 1, 10), ?, substr(submitted_at, 1, 10), area_id, source"
        " FROM responses WHERE response_id = ? AND submitted_at IS NOT NULL",
        (new_id, stamp, old_id),
    )
    await db.execute(
        "UPDATE answers SET response_id = ? WHERE response_id = ? AND EXISTS (SELECT 1 FROM responses"
        " WHERE response_id = ?)",
        (new_id, old_id, new_id),
    )
