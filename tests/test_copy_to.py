"""`haveyoursay copy-to postgresql://…`: an SQLite deployment moved into PostgreSQL with nothing lost
(storage/copy_to.py, bot/copy_to_cli.py, docs/scaling.md)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bot.cli import main
from conversations import answering, onboarding
from conversations.services import Services, begin_visit
from storage import open_database
from storage.deliveries import NewDelivery
from tests.backends import on_disk
from tests.e2e_support import EXAMPLES, BotProcess, Resident, submit_after_saturday
from tests.fake_telegram import FakeTelegram
from tests.offline import DEPLOYMENT, offline_services
from tests.test_e2e_resident import onboard, open_for_years
from tests.test_privacy import EXAMPLE, NOW, SECRET_ANSWER, resident_who_answered

pytestmark = pytest.mark.postgresql

HALFWAY = 731_594_300  # a resident who stopped at the third question
OFFICER = 555_000_111
PASSWORD = "n0t-in-any-output"
# Tables the seeded deployment leaves empty, and why.
LEFT_EMPTY = {
    "update_inbox": "every stored update was handled (the bot stopped cleanly)",
    "flood_counts": "counted in the database only by several workers on PostgreSQL",
}


def with_password(url: str) -> str:
    """The same database, with a password in the URL (the test cluster trusts any)."""
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")


async def a_deployment_with_data(services: Services) -> None:
    """Residents who answered, one half way through, a broadcast with deliveries and taps, an outcome,
    a /contact conversation, officers and audit lines, drafts, the workers' bookkeeping."""
    db = services.db
    await resident_who_answered(services)  # answers, area, interest, a notice, "What you told us", feedback
    visit = await begin_visit(services, HALFWAY, "cy")
    await onboarding.acknowledge(visit, "cy", None)
    await answering.take_part(await begin_visit(services, HALFWAY, "cy"), "gp-opening-hours", source="poster")
    session = await answering.active_session(await begin_visit(services, HALFWAY, "cy"))
    assert session is not None
    state = session.engine.choose(session.state, "week").state  # type: ignore[union-attr]
    await session.save(state)
    await db.officers.add(OFFICER, "admin", 0, NOW)
    await db.officers.remember_name(OFFICER, "Olu", None, "olu", NOW)
    await db.officers.create_invite("invite-code", OFFICER, NOW, NOW + timedelta(days=1))
    await db.officers.audit(OFFICER, "publish", "gp-opening-hours", NOW)
    broadcast = await db.broadcasts.create(OFFICER, {"en": "Have your say"}, "gp-opening-hours", {"all": True}, 2, NOW)
    await db.deliveries.enqueue(
        [
            NewDelivery(chat, "broadcast", 10, "Have your say", broadcast_id=broadcast)
            for chat in (731_594_268, HALFWAY)
        ],
        NOW,
    )
    await db.broadcasts.record_tap(f"broadcast:{broadcast}", "tapper-1", HALFWAY, broadcast_id=broadcast)
    thread = await db.contact.open_thread(HALFWAY, "gp-opening-hours", NOW)
    await db.contact.link(HALFWAY, 42, thread)
    await db.contact.keep_text(thread, HALFWAY, "Is the surgery open on Saturdays?", NOW)
    await db.contact.keep_text(thread, HALFWAY, "Yes, from 9 to 12.", NOW, officer_id=OFFICER)
    await db.drafts.put(OFFICER, "broadcast", {"text": "Half written", "flag": True}, NOW)
    await db.workspace.save_draft({"id": "library-hours", "title": {"en": "Library hours"}}, OFFICER, NOW)
    await db.workspace.add_signin_link("link-hash", OFFICER, NOW + timedelta(minutes=15))
    await db.workspace.add_session("session-hash", OFFICER, "csrf", NOW)
    await db.equality.record("equality-1", "gp-opening-hours", "age", "45-54", NOW)
    await db.connection.execute(
        "INSERT INTO handled_updates(chat_id, update_id, handled_at) VALUES (?, ?, ?)", (HALFWAY, 9001, "2026-12-01")
    )
    await db.connection.execute(
        "INSERT INTO leases(name, holder, expires_at) VALUES ('sender', 'worker-1', '2026-12-01T12:00:06+00:00')"
    )
    await db.connection.execute("INSERT INTO ticks(job, tick, worker) VALUES ('reminders', '2026-12-01', 'worker-1')")


def sqlite_deployment(folder: Path) -> Path:
    path = folder / "haveyoursay.db"

    async def build() -> None:
        async with offline_services(path, NOW, EXAMPLE) as services:
            await a_deployment_with_data(services)
            await services.db.belong_to(services.deployment.identity)

    asyncio.run(build())
    return path


def copy_to(url: str, database: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("HAVEYOURSAY_DB", str(database))
    monkeypatch.setenv("HAVEYOURSAY_CONFIG", str(DEPLOYMENT))
    return main(["copy-to", url])


def tables_of(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]


def rows_of(target: str | Path, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    listed = ", ".join(columns)
    return sorted(on_disk(target, f"SELECT {listed} FROM {table}"), key=repr)


def columns_of(url: str, table: str) -> list[str]:
    return [
        str(name)
        for (name,) in on_disk(
            url,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ?"
            " ORDER BY ordinal_position",
            table,
        )
    ]


def test_every_table_every_row_and_id_arrives_and_the_next_inserts_work(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = sqlite_deployment(tmp_path)
    tables = tables_of(database)
    empty = {table for table in tables if on_disk(database, f"SELECT COUNT(*) FROM {table}") == [(0,)]}
    assert empty == set(LEFT_EMPTY), "seed the new table in a_deployment_with_data, so that its copy is tested"

    assert copy_to(with_password(postgres_url), database, monkeypatch) == 0

    out, err = capsys.readouterr()
    assert PASSWORD not in out + err and "postgres:***@" in out
    assert SECRET_ANSWER not in out + err and "Saturdays" not in out + err
    assert "responses: 2 rows" in out and "answers" in out
    for table in tables:
        columns = columns_of(postgres_url, table)  # answers' `rowid` is SQLite's implicit row id
        assert rows_of(postgres_url, table, columns) == rows_of(database, table, columns), table
        assert f"{table} " in out.split("Count check:")[1], "every table's count is checked"
    assert on_disk(postgres_url, "SELECT value FROM meta WHERE key = 'pseudonym_key'") == on_disk(
        database, "SELECT value FROM meta WHERE key = 'pseudonym_key'"
    ), "the response ids are keyed by the file's key, not by a new one"
    direct = (
        "SELECT consultation_id, question_id, value, COUNT(*), SUM(first) FROM answers WHERE value IS NOT NULL"
        " GROUP BY consultation_id, question_id, value"
    )
    counts = rows_of(postgres_url, "answer_counts", ["consultation_id", "question_id", "value", "given", "answered"])
    assert counts == sorted(on_disk(postgres_url, direct), key=repr) and counts

    async def next_inserts() -> None:
        async with open_database(postgres_url) as db:
            await db.officers.audit(OFFICER, "export", "gp-opening-hours", NOW)
            broadcast = await db.broadcasts.create(OFFICER, {"en": "Again"}, None, {"all": True}, 1, NOW)
            await db.deliveries.enqueue([NewDelivery(HALFWAY, "broadcast", 10, "Again", broadcast_id=broadcast)], NOW)
            thread = await db.contact.open_thread(HALFWAY, None, NOW)
            await db.contact.keep_text(thread, HALFWAY, "Another question", NOW)
            await db.connection.execute(
                "INSERT INTO answers(response_id, consultation_id, question_id, value, first)"
                " SELECT response_id, consultation_id, 'extra', 'x', 1 FROM responses LIMIT 1"
            )

    asyncio.run(next_inserts())
    for table, column in (
        ("audit_log", "id"),
        ("broadcasts", "id"),
        ("deliveries", "id"),
        ("contact_threads", "id"),
        ("contact_texts", "id"),
        ("answers", "rowid"),
    ):
        [(largest,)] = on_disk(database, f"SELECT MAX({column}) FROM {table}")
        assert on_disk(postgres_url, f"SELECT MAX({column}) FROM {table}") == [(int(str(largest)) + 1,)], table
    assert on_disk(postgres_url, "SELECT given FROM answer_counts WHERE question_id = 'extra'") == [(1,)], (
        "the answer counts' trigger is on again"
    )


def test_a_target_that_holds_data_is_refused_and_left_as_it_was(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = sqlite_deployment(tmp_path)
    with psycopg.connect(postgres_url) as connection:
        connection.execute(
            "INSERT INTO residents(chat_id, language, acknowledged_at, created_at, last_seen_at)"
            " VALUES (1, 'en', 'x', 'x', 'x')"
        )
        connection.execute("INSERT INTO ticks(job, tick, worker) VALUES ('a', 'b', 'c'), ('d', 'e', 'f')")
    before = {table: on_disk(postgres_url, f"SELECT COUNT(*) FROM {table}") for table in tables_of(database)}

    assert copy_to(with_password(postgres_url), database, monkeypatch) == 2

    err = capsys.readouterr().err
    assert "already holds data: residents (1 row), ticks (2 rows)" in err and "Nothing was copied" in err
    assert PASSWORD not in err
    assert {table: on_disk(postgres_url, f"SELECT COUNT(*) FROM {table}") for table in before} == before


def test_a_failure_half_way_leaves_the_target_empty(
    tmp_path: Path, empty_postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = sqlite_deployment(tmp_path)
    with sqlite3.connect(database) as connection:  # PostgreSQL's text cannot hold a NUL: the ticks, copied late, fail
        connection.execute("UPDATE ticks SET worker = 'worker' || char(0) || ?", (SECRET_ANSWER,))

    assert copy_to(empty_postgres_url, database, monkeypatch) == 1

    err = capsys.readouterr().err
    assert "the copy failed: PostgreSQL refused ticks" in err and "Nothing was committed" in err
    assert SECRET_ANSWER not in err, "a failing row's values are never shown"
    tables = tables_of(database)
    assert all(on_disk(empty_postgres_url, f"SELECT COUNT(*) FROM {table}") == [(0,)] for table in tables)
    assert on_disk(empty_postgres_url, "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'answers_by_question'") == [
        (1,)
    ], "what the copy set aside is back"


def test_a_file_from_an_older_release_is_refused(
    tmp_path: Path, empty_postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = sqlite_deployment(tmp_path)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA user_version = 21")

    assert copy_to(empty_postgres_url, database, monkeypatch) == 2

    err = capsys.readouterr().err
    assert "schema version 21, older than this release's" in err and "`haveyoursay migrate`" in err
    with psycopg.connect(empty_postgres_url) as connection:
        assert connection.execute("SELECT to_regclass('schema_version')").fetchone() == (None,), "nothing written"


def test_the_bot_on_the_copy_lets_a_resident_finish_the_survey_they_began(
    fake: FakeTelegram, resident: Resident, tmp_path: Path, postgres_url: str
) -> None:
    bot = BotProcess(fake, tmp_path)
    try:
        bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
        bot.start()
        resident.tap("GP opening hours", on=onboard(resident), expect="Take part")
        resident.tap("Take part", expect="Question 1 of 7")
        resident.tap("Longer ago", expect="Question 2 of 7")
        resident.tap("⬜ Saturday", expect="✅ Saturday")

        running = bot.command("copy-to", postgres_url)
        assert running.returncode == 2 and "the bot is running" in running.stderr
        bot.stop()
        copied = bot.command("copy-to", postgres_url)
        assert copied.returncode == 0, copied.stdout + copied.stderr
    finally:
        bot.stop()

    (tmp_path / "workers").mkdir()
    moved = BotProcess(fake, tmp_path / "workers", database_url=postgres_url)
    try:
        moved.start()
        resumed = resident.say("/start", expect="Here is where you left off")
        assert "Question 2 of 7" in resumed.text and "✅ Saturday" in resumed.labels
        submit_after_saturday(resident)
        assert moved.query("SELECT COUNT(*) FROM responses WHERE submitted_at IS NOT NULL") == [(1,)]
        assert moved.query("SELECT given FROM answer_counts WHERE question_id = 'rating' AND value = '5'") == [(1,)]
    finally:
        moved.stop()
    assert not moved.database.exists(), "the bot ran on PostgreSQL"
