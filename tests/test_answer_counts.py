"""The results' counts are kept as answers are written (migration 0022): they must always equal a count of
the answer rows themselves, whatever wrote or removed answers, and a written answer must not outlive its row."""

from __future__ import annotations

import random
import sqlite3
import statistics
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conversations import results
from conversations.pseudonyms import Pseudonyms
from conversations.results import _spread
from conversations.services import Services
from storage import Database, open_database
from storage.clock import to_text
from storage.database import migration_scripts
from storage.personal_data import erase
from tests.offline import offline_services
from tests.test_results import BASE, EXAMPLE, FULL, NOW, respond

CID = "gp-opening-hours"
PRIVATE = "Ring me on 07700 900123, I am at home all day"


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, EXAMPLE) as found:
        yield found


async def counted_from_rows(db: Database, consultation_id: str) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Who answered each question and how often each value was given, counted from every answer row."""
    answered: dict[str, int] = {}
    values: dict[str, dict[str, int]] = {}
    for question, value, first, count in await db.connection.execute_fetchall(
        "SELECT question_id, value, first, COUNT(*) FROM answers WHERE consultation_id = ? AND value IS NOT NULL"
        " GROUP BY question_id, value, first",
        (consultation_id,),
    ):
        per_value = values.setdefault(question, {})
        per_value[value] = per_value.get(value, 0) + count
        if first:
            answered[question] = answered.get(question, 0) + count
    return answered, values


async def assert_counts_are_the_rows(db: Database) -> None:
    tally = await db.results.tally(CID)
    assert (tally.answered, tally.values) == await counted_from_rows(db, CID)
    # As results read it: how many wrote an answer, without reading what each wrote.
    written = await db.results.tally(CID, ["why_hard"])
    assert written.answered == tally.answered
    assert written.values == {question: counts for question, counts in tally.values.items() if question != "why_hard"}


async def stored_copies(db: Database, value: str) -> int:
    found = await db.connection.execute_fetchall("SELECT COUNT(*) FROM answer_counts WHERE value = ?", (value,))
    return int(next(iter(found))[0])


async def test_counts_follow_submissions_erasure_deletion_and_retention(services: Services) -> None:
    db = services.db
    for i in range(4):
        await respond(services, BASE + i, {**FULL, "good_times": ["early", "evening"][: 1 + i % 2]}, area="sheerness")
    await respond(services, BASE + 10, {**FULL, "why_hard": PRIVATE, "rating": 5}, area="sittingbourne")
    await respond(services, BASE + 11, {**FULL, "why_hard": None, "online": "no"}, area="sittingbourne")
    await respond(services, BASE + 12, {"last_visit": "longer"}, submit=False)
    await assert_counts_are_the_rows(db)
    tally = await db.results.tally(CID)
    assert tally.answered["good_times"] == 6 and tally.values["good_times"] == {"early": 6, "evening": 2, "weekend": 2}
    assert tally.answered["why_hard"] == 5 and tally.values["why_hard"] == {"Phones, always": 4, PRIVATE: 1}
    assert tally.values["rating"] == {"2": 5, "5": 1} and "last_visit" in tally.answered

    # Nothing changes an answer's value today; were anything to, the counts follow.
    await db.connection.execute(
        "UPDATE answers SET value = 'late' WHERE question_id = 'good_times' AND value = 'evening'"
    )
    await db.connection.execute("UPDATE answers SET value = NULL WHERE question_id = 'online' AND value = 'no'")
    await assert_counts_are_the_rows(db)
    assert (await db.results.tally(CID)).values["good_times"] == {"early": 6, "late": 2, "weekend": 2}
    assert (await db.results.tally(CID)).values["online"] == {"yes": 5}

    # /delete: the answers go, and with them the only copy of what she wrote.
    ids = Pseudonyms(db.pseudonym_key, BASE + 10)
    responses, feedback = ids.everywhere([CID], {CID})
    await erase(db.connection, BASE + 10, responses, feedback, ids.equality, "delete", NOW)
    await assert_counts_are_the_rows(db)
    assert await stored_copies(db, PRIVATE) == 0
    assert (await db.results.tally(CID)).values["rating"] == {"2": 5}

    # /delete where the deployment keeps answers unlinked: the counts stay as they were.
    before = await db.results.tally(CID)
    ids = Pseudonyms(db.pseudonym_key, BASE + 11)
    responses, feedback = ids.everywhere([CID], {CID})
    await erase(db.connection, BASE + 11, responses, feedback, ids.equality, "anonymise", NOW)
    await assert_counts_are_the_rows(db)
    assert (await db.results.tally(CID)).values == before.values

    # A response deleted outright takes its answers with it (the foreign key's cascade).
    async with db.transaction():
        await db.connection.execute(
            "DELETE FROM responses WHERE response_id = ?", (Pseudonyms(db.pseudonym_key, BASE).response(CID),)
        )
    await assert_counts_are_the_rows(db)
    assert (await db.results.tally(CID)).answered["good_times"] == 4

    # Retention: every answer of a consultation long closed goes, and every count of it.
    await db.retention.purge_responses_closed_before(datetime(2030, 1, 1, tzinfo=UTC))
    assert (await db.results.tally(CID)).values == {}
    assert await db.connection.execute_fetchall("SELECT * FROM answer_counts") == []


async def test_a_database_upgraded_counts_the_answers_it_already_held(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        for number, script in migration_scripts():
            if number < 22:
                connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")
        connection.executemany(
            "INSERT INTO answers(response_id, consultation_id, question_id, value, first) VALUES (?, ?, ?, ?, ?)",
            [
                ("r1", CID, "good_times", "early", 1),
                ("r1", CID, "good_times", "evening", 0),
                ("r1", CID, "why_hard", None, 1),
                ("r2", CID, "good_times", "early", 1),
                ("r2", CID, "why_hard", "Too early", 1),
                ("r3", "another", "good_times", "early", 1),
            ],
        )
    async with open_database(path) as db:
        await assert_counts_are_the_rows(db)
        tally = await db.results.tally(CID)
        assert tally.answered == {"good_times": 2, "why_hard": 1}
        assert tally.values == {"good_times": {"early": 2, "evening": 1}, "why_hard": {"Too early": 1}}
        # ...and keeps counting from there (these rows have no responses row: the test needs none).
        await db.connection.execute("PRAGMA foreign_keys=OFF")
        await db.connection.execute(
            "INSERT INTO answers(response_id, consultation_id, question_id, value, first)"
            " VALUES ('r4', ?, 'good_times', 'early', 1)",
            (CID,),
        )
        await assert_counts_are_the_rows(db)


def test_the_median_from_counts_is_the_median_of_every_answer() -> None:
    rng = random.Random(15)
    for size in (1, 2, 3, 4, 7, 10, 101, 1000):
        given = [rng.choice([0, 1, 2, 2.5, 7, 10, 15, 300]) for _ in range(size)]
        counts: dict[str, int] = {}
        for number in given:
            counts[str(number)] = counts.get(str(number), 0) + 1
        counts["not a number"] = 3
        median, lowest, highest = _spread(counts) or (None, None, None)
        assert (median, lowest, highest) == (statistics.median(given), min(given), max(given)), given
    assert _spread({}) is None and _spread({"n/a": 2}) is None


async def test_responses_per_day_count_each_submission_on_its_local_day(services: Services) -> None:
    db, zone = services.db, ZoneInfo("Europe/London")  # summer time ends on 25 October 2026
    moments = [datetime(2026, 10, 23, 22, 30, tzinfo=UTC) + timedelta(hours=7 * i) for i in range(30)]
    stored = [to_text(moment) for moment in moments] + ["2026-10-27"]  # an anonymised one keeps its date only
    await db.connection.executemany(
        "INSERT INTO responses(response_id, consultation_id, version, language, state, answers, started_at,"
        " updated_at, submitted_at) VALUES (?, ?, 1, 'en', '{}', '{}', ?, ?, ?)",
        [(f"r{i}", CID, text, text, text) for i, text in enumerate(stored)],
    )
    expected = Counter(moment.astimezone(zone).date() for moment in moments) + Counter([date(2026, 10, 27)])
    days = await results.submitted_days(services, CID, zone)
    assert days[0].day == date(2026, 10, 23) and days[-1].day == max(expected)
    assert {day.day: day.count for day in days if day.count} == expected
    assert sum(day.count for day in days) == len(stored) and len(days) == (days[-1].day - days[0].day).days + 1
    window = await results.submitted_days(services, CID, zone, date(2026, 10, 25), date(2026, 10, 26))
    assert [(day.day, day.count) for day in window] == [
        (d, expected[d]) for d in (date(2026, 10, 25), date(2026, 10, 26))
    ]
    assert await results.submitted_days(services, "nothing-yet", zone) == ()


async def test_five_thousand_written_answers_come_a_page_at_a_time_and_a_search_finds_one(services: Services) -> None:
    db = services.db
    written = [f"Answer number {n}: the phone rings out" for n in range(5000)]
    written[1234] = "Nobody at the Zanzibar Road surgery answers before 9"
    written[4321] = "100% of the time, the_line is busy"
    await db.connection.executemany(
        "INSERT INTO responses(response_id, consultation_id, version, language, state, answers, started_at,"
        " updated_at, submitted_at) VALUES (?, ?, 1, 'en', '{}', '{}', ?, ?, ?)",
        [(f"r{n}", CID, to_text(NOW), to_text(NOW), to_text(NOW)) for n in range(5000)],
    )
    await db.connection.executemany(
        "INSERT INTO answers(response_id, consultation_id, question_id, value, first) VALUES (?, ?, 'why_hard', ?, 1)",
        [(f"r{n}", CID, text) for n, text in enumerate(written)],
    )
    total, page = await results.written_answers_page(services, CID, "why_hard", "", 1, 50)
    assert total == 5000 and page == written[::-1][:50]  # newest first, 50 at most
    total, page = await results.written_answers_page(services, CID, "why_hard", "", 100, 50)
    assert total == 5000 and page == written[::-1][4950:]
    assert (await results.written_answers_page(services, CID, "why_hard", "", 101, 50))[1] == []
    assert await results.written_answers_page(services, CID, "why_hard", "zanzibar road", 1, 50) == (1, [written[1234]])
    assert await results.written_answers_page(services, CID, "why_hard", "100%", 1, 50) == (1, [written[4321]])
    assert await results.written_answers_page(services, CID, "why_hard", "_line", 1, 50) == (1, [written[4321]])
    total, page = await results.written_answers_page(services, CID, "why_hard", "PHONE", 3, 50)
    assert total == 4998 and len(page) == 50
    assert (await db.results.tally(CID, ["why_hard"])).answered["why_hard"] == 5000
