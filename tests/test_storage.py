"""Storage on a real SQLite file in a temporary folder."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conversations.pseudonyms import response_id_for
from conversations.survey.loader import load_consultation_file
from storage import Database, open_database

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "gp-opening-hours.yaml"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# The highest migration number (numbers are given out ahead, so they may skip some).
LATEST_SCHEMA = max(
    int(p.name.split("_", 1)[0])
    for p in (Path(__file__).resolve().parent.parent / "storage" / "migrations").glob("*.sql")
)


@pytest.fixture
async def db(database_target: str) -> AsyncIterator[Database]:
    """The test once on SQLite, once on PostgreSQL."""
    async with open_database(database_target) as database:
        yield database


def example_definition() -> tuple[dict[str, Any], list[Any], datetime, datetime]:
    result = load_consultation_file(EXAMPLE)
    assert result.consultation is not None and result.data is not None
    c = result.consultation
    return result.data, c.structure(), c.opens, c.closes


async def test_an_empty_database_is_migrated_to_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    async with open_database(path):
        pass
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (LATEST_SCHEMA,)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert {
        "residents",
        "resident_topics",
        "consultations",
        "consultation_versions",
        "responses",
        "deliveries",
        "broadcasts",
        "officers",
        "audit_log",
        "participation",
        "contact_threads",
    } <= tables


async def test_the_wal_grows_to_the_checkpoint_limit_chosen_and_no_further(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    wal = tmp_path / "wal.db-wal"
    page = 4096
    stamp = NOW.isoformat()
    async with open_database(path, checkpoint_pages=1500) as db:
        largest = 0
        for chat in range(1, 3001):  # about one WAL page a commit: past the limit twice
            await db.connection.execute(
                "INSERT INTO residents(chat_id, language, acknowledged_at, created_at, last_seen_at)"
                " VALUES (?, 'en', ?, ?, ?)",
                (chat, stamp, stamp, stamp),
            )
            largest = max(largest, wal.stat().st_size)
        # Past SQLite's default of 1,000 pages without a checkpoint; never much past 1,500.
        assert 1100 * page < largest < 1600 * page
        [(count,)] = await db.connection.execute_fetchall("SELECT COUNT(*) FROM residents")
        assert count == 3000


async def test_reopening_keeps_data_and_the_pseudonym_key(tmp_path: Path) -> None:
    path = tmp_path / "again.db"
    async with open_database(path) as first:
        await first.residents.acknowledge(42, "cy", NOW, "area")
        key = first.pseudonym_key
    async with open_database(path) as second:
        resident = await second.residents.get(42)
        assert second.pseudonym_key == key
    assert resident is not None and resident.language == "cy" and resident.onboarding_step == "area"


async def test_a_resident_exists_only_after_acknowledging(db: Database) -> None:
    assert await db.residents.get(7) is None
    resident = await db.residents.acknowledge(7, "en", NOW, None)
    assert resident.chat_id == 7 and resident.notices


async def test_topics_toggle_on_and_off(db: Database) -> None:
    await db.residents.acknowledge(7, "en", NOW, "topics")
    assert await db.residents.toggle_topic(7, "primary-care") is True
    assert await db.residents.toggle_topic(7, "social-care") is True
    assert await db.residents.toggle_topic(7, "primary-care") is False
    assert await db.residents.topics(7) == {"social-care"}


async def test_importing_twice_is_unchanged_and_a_text_fix_updates_in_place(db: Database) -> None:
    definition, structure, opens, closes = example_definition()
    assert (await db.consultations.save(definition, structure, opens, closes, NOW)).action == "added"
    assert (await db.consultations.save(definition, structure, opens, closes, NOW)).action == "unchanged"
    fixed = {**definition, "title": {"en": "GP opening hours in Swale"}}
    outcome = await db.consultations.save(fixed, structure, opens, closes, NOW)
    assert (outcome.action, outcome.version) == ("updated", 1)
    stored = await db.consultations.get("gp-opening-hours")
    assert stored is not None and stored.definition["title"] == {"en": "GP opening hours in Swale"}


async def test_changing_questions_after_answers_starts_a_new_version_and_keeps_the_old(db: Database) -> None:
    definition, structure, opens, closes = example_definition()
    await db.consultations.save(definition, structure, opens, closes, NOW)
    rid = response_id_for(db.pseudonym_key, 7, "gp-opening-hours")
    await db.responses.save_progress(rid, "gp-opening-hours", 1, "en", {"answers": {"last_visit": "week"}}, NOW)
    changed = {**definition, "survey": definition["survey"][:2]}
    outcome = await db.consultations.save(changed, structure[:2], opens, closes, NOW)
    assert (outcome.action, outcome.version, outcome.responses_on_old_version) == ("new_version", 2, 1)
    old = await db.consultations.get("gp-opening-hours", version=1)
    assert old is not None and len(old.definition["survey"]) == len(definition["survey"])
    response = await db.responses.get(rid)
    assert response is not None and response.version == 1


async def test_open_consultations_are_those_between_opens_and_closes(db: Database) -> None:
    definition, structure, opens, closes = example_definition()
    await db.consultations.save(definition, structure, opens, closes, NOW)
    assert await db.consultations.open_ids(opens - timedelta(seconds=1)) == []
    assert await db.consultations.open_ids(opens) == ["gp-opening-hours"]
    assert await db.consultations.open_ids(closes) == []


async def test_a_response_is_submitted_once_and_then_frozen(db: Database) -> None:
    definition, structure, opens, closes = example_definition()
    await db.consultations.save(definition, structure, opens, closes, NOW)
    rid = response_id_for(db.pseudonym_key, 7, "gp-opening-hours")
    assert await db.responses.save_progress(rid, "gp-opening-hours", 1, "en", {"answers": {}}, NOW)
    assert await db.responses.submit(rid, {"last_visit": "week"}, {"answers": {"last_visit": "week"}}, NOW)
    assert not await db.responses.submit(rid, {"last_visit": "month"}, {}, NOW)
    assert not await db.responses.save_progress(rid, "gp-opening-hours", 1, "en", {"answers": {}}, NOW)
    stored = await db.responses.get(rid)
    assert stored is not None and stored.answers == {"last_visit": "week"} and stored.submitted
    submitted = await db.connection.execute_fetchall(
        "SELECT COUNT(*) FROM responses WHERE consultation_id = ? AND submitted_at IS NOT NULL", ("gp-opening-hours",)
    )
    assert list(submitted) == [(1,)]


async def test_submitting_writes_one_answer_row_per_choice_in_the_same_statement(db: Database) -> None:
    definition, structure, opens, closes = example_definition()
    await db.consultations.save(definition, structure, opens, closes, NOW)
    rid = response_id_for(db.pseudonym_key, 7, "gp-opening-hours")
    await db.responses.save_progress(rid, "gp-opening-hours", 1, "en", {"answers": {}}, NOW)
    answers = {"last_visit": "week", "problems": ["phone", "early"], "rating": 2, "comments": None}
    assert await db.responses.submit(rid, answers, {"answers": answers}, NOW)
    assert not await db.responses.submit(rid, {"last_visit": "month"}, {}, NOW)
    rows = await db.connection.execute_fetchall(
        "SELECT question_id, value, first FROM answers WHERE response_id = ? ORDER BY question_id, first DESC", (rid,)
    )
    assert [tuple(row) for row in rows] == [
        ("comments", None, 1),
        ("last_visit", "week", 1),
        ("problems", "phone", 1),
        ("problems", "early", 0),
        ("rating", "2", 1),
    ]
    left = await db.connection.execute_fetchall(
        "SELECT pending_answer_rows FROM responses WHERE response_id = ?", (rid,)
    )
    assert [tuple(row) for row in left] == [(None,)]


def test_response_ids_are_stable_per_resident_and_consultation_and_hide_the_telegram_id() -> None:
    key = b"k" * 32
    first = response_id_for(key, 700000001, "gp-opening-hours")
    assert first == response_id_for(key, 700000001, "gp-opening-hours")
    assert first != response_id_for(key, 700000001, "home-care")
    assert first != response_id_for(b"x" * 32, 700000001, "gp-opening-hours")
    assert "700000001" not in first
