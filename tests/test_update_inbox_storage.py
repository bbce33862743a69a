"""The inbox's writes: an update handled is remembered for its chat and its content let go, in one trip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from storage import Database, open_database
from storage.updates import UpdateRepository
from tests.backends import INTEGRITY_ERRORS, on_disk
from tests.test_unit_of_work import while_an_officers_unit_rolls_back

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_target: str) -> AsyncIterator[Database]:
    """The test once on SQLite, once on PostgreSQL."""
    async with open_database(database_target) as database:
        yield database


async def test_a_handled_update_is_remembered_for_its_chat_and_leaves_the_inbox(
    db: Database, database_target: str
) -> None:
    updates = UpdateRepository(db.connection)
    await updates.receive(10, 7, '{"update_id": 10}', NOW)
    await updates.receive(11, 8, '{"update_id": 11}', NOW)
    await updates.handled(10, NOW)
    assert await updates.unhandled() == [(11, '{"update_id": 11}')]
    assert await updates.last_handled() == {7: 10}
    assert on_disk(database_target, "SELECT COUNT(*) FROM update_inbox WHERE update_id = 10") == [(0,)]


async def test_an_older_update_handled_later_does_not_lower_the_chats_last(db: Database) -> None:
    updates = UpdateRepository(db.connection)
    await updates.receive(21, 7, "{}", NOW)
    await updates.receive(20, 7, "{}", NOW)
    await updates.handled(21, NOW)
    await updates.handled(20, NOW)
    assert await updates.last_handled() == {7: 21}
    assert await updates.unhandled() == []


async def test_an_update_no_longer_kept_leaves_no_trace(db: Database) -> None:
    updates = UpdateRepository(db.connection)
    await updates.handled(30, NOW)
    assert await updates.last_handled() == {}


async def test_handled_during_another_tasks_unit_of_work_survives_its_rollback(
    db: Database, database_target: str
) -> None:
    updates = UpdateRepository(db.connection)
    await updates.receive(40, 7, "{}", NOW)
    await while_an_officers_unit_rolls_back(db, updates.handled(40, NOW))
    assert on_disk(database_target, "SELECT chat_id, update_id FROM handled_updates") == [(7, 40)]
    assert on_disk(database_target, "SELECT COUNT(*) FROM update_inbox") == [(0,)]


async def test_statements_in_one_trip_stop_at_the_first_that_fails(db: Database, database_target: str) -> None:
    await db.connection.execute("CREATE TABLE t(x INTEGER PRIMARY KEY)")
    with pytest.raises(INTEGRITY_ERRORS):
        await db.connection.execute_in_order(
            [
                ("INSERT INTO t(x) VALUES (?)", (1,)),
                ("INSERT INTO t(x) VALUES (?)", (1,)),
                ("INSERT INTO t(x) VALUES (?)", (2,)),
            ]
        )
    assert on_disk(database_target, "SELECT x FROM t") == [(1,)]
