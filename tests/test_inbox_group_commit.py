"""The inbox's writes asked for at once share one trip and one commit; each caller still waits for its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from storage import Database, open_database
from storage.updates import UpdateRepository
from tests.backends import DATABASE_ERRORS, on_disk
from tests.test_unit_of_work import while_an_officers_unit_rolls_back
from tests.test_update_inbox_storage import NOW


@pytest.fixture
async def db(database_target: str) -> AsyncIterator[Database]:
    """The test once on SQLite, once on PostgreSQL."""
    async with open_database(database_target) as database:
        yield database


class CountingTrips:
    """Counts the trips the inbox's writes take (`Connection.execute_together`)."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.trips: list[int] = []
        connection = db.connection
        together = connection.execute_together

        async def counted(statements: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> None:
            self.trips.append(sum(len(rows) for _sql, rows in statements))
            await together(statements)

        monkeypatch.setattr(connection, "execute_together", counted)


async def test_writes_asked_for_together_share_one_trip_and_each_caller_waits_for_its_commit(
    db: Database, database_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates = UpdateRepository(db.connection)
    counting = CountingTrips(db, monkeypatch)
    await updates.receive(1, 1, "{}", NOW)
    await updates.receive(2, 2, "{}", NOW)

    async def receive_then_look(update_id: int) -> list[tuple[object, ...]]:
        await updates.receive(update_id, update_id, "{}", NOW)
        # Committed when receive returns: another process reading the file sees it.
        return on_disk(database_target, "SELECT update_id FROM update_inbox WHERE update_id = ?", update_id)

    async def handled_then_look(update_id: int) -> list[tuple[object, ...]]:
        await updates.handled(update_id, NOW)
        return on_disk(database_target, "SELECT update_id FROM handled_updates WHERE chat_id = ?", update_id)

    seen = await asyncio.gather(receive_then_look(3), receive_then_look(4), handled_then_look(1), handled_then_look(2))
    assert list(seen) == [[(3,)], [(4,)], [(1,)], [(2,)]]
    # One trip each for the first two; of the four asked for at once, the first goes at once
    # and the other three together in the next trip (one row kept; two updates remembered and
    # two let go).
    assert counting.trips == [1, 1, 1, 5]
    assert await updates.unhandled() == [(3, "{}"), (4, "{}")]
    assert await updates.last_handled() == {1: 1, 2: 2}


async def test_writes_asked_for_during_a_trip_go_together_in_the_next(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates = UpdateRepository(db.connection)
    counting = CountingTrips(db, monkeypatch)
    first = asyncio.create_task(updates.receive(1, 1, "{}", NOW))
    await asyncio.sleep(0)  # the first trip is on its way
    await asyncio.gather(first, *(updates.receive(n, n, "{}", NOW) for n in range(2, 6)))
    assert counting.trips == [1, 4]
    assert [update_id for update_id, _data in await updates.unhandled()] == [1, 2, 3, 4, 5]


async def test_a_write_that_fails_fails_alone(db: Database, database_target: str) -> None:
    updates = UpdateRepository(db.connection)
    results = await asyncio.gather(
        updates.receive(1, 1, "{}", NOW),
        updates.receive(2, 2, object(), NOW),  # type: ignore[arg-type]  # SQLite cannot store it
        updates.receive(3, 3, "{}", NOW),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], DATABASE_ERRORS)
    assert on_disk(database_target, "SELECT update_id FROM update_inbox ORDER BY update_id") == [(1,), (3,)]


async def test_kept_during_another_tasks_unit_of_work_survives_its_rollback(db: Database, database_target: str) -> None:
    updates = UpdateRepository(db.connection)
    await while_an_officers_unit_rolls_back(db, updates.receive(50, 7, "{}", NOW))
    assert on_disk(database_target, "SELECT update_id FROM update_inbox") == [(50,)]


async def test_inside_a_unit_of_work_the_write_joins_it(db: Database, database_target: str) -> None:
    updates = UpdateRepository(db.connection)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await asyncio.wait_for(updates.receive(60, 7, "{}", NOW), 5)  # neither waits for the other
            raise RuntimeError
    async with db.transaction():
        await asyncio.wait_for(updates.receive(61, 7, "{}", NOW), 5)
    assert on_disk(database_target, "SELECT update_id FROM update_inbox") == [(61,)]


# -- "handled" records nobody waits for (UpdateRepository.handled_soon) ---------------------------


async def test_a_handled_record_goes_with_the_next_update_kept_in_one_trip(
    db: Database, database_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates = UpdateRepository(db.connection)
    await updates.receive(1, 7, "{}", NOW)
    counting = CountingTrips(db, monkeypatch)
    updates.handled_soon(1, 7, NOW)
    assert counting.trips == [], "nobody waits for it: no trip of its own yet"
    await updates.receive(2, 7, "{}", NOW)  # the resident's next update arrives
    assert counting.trips == [3], "one trip: the new update kept, the last one remembered and let go"
    assert on_disk(database_target, "SELECT update_id FROM update_inbox") == [(2,)]
    assert on_disk(database_target, "SELECT chat_id, update_id FROM handled_updates") == [(7, 1)]
    await updates.settled(7)  # already recorded: nothing more to wait for
    assert counting.trips == [3]


async def test_a_chats_next_update_waits_until_its_last_is_recorded_handled(
    db: Database, database_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates = UpdateRepository(db.connection)
    await updates.receive(1, 7, "{}", NOW)
    await updates.receive(2, 7, "{}", NOW)  # already kept when update 1 is handled
    counting = CountingTrips(db, monkeypatch)
    updates.handled_soon(1, 7, NOW)
    await updates.settled(8)  # another chat's update: nothing of its own to wait for
    assert counting.trips == []
    await updates.settled(7)
    assert counting.trips == [2]
    assert on_disk(database_target, "SELECT chat_id, update_id FROM handled_updates") == [(7, 1)]


async def test_with_nothing_to_share_a_trip_the_handled_record_goes_on_its_own(
    db: Database, database_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.updates.HANDLED_WITHIN", 0)
    updates = UpdateRepository(db.connection)
    await updates.receive(1, 7, "{}", NOW)
    counting = CountingTrips(db, monkeypatch)
    updates.handled_soon(1, 7, NOW)
    for _ in range(3):
        await asyncio.sleep(0)  # the loop's turn: the timer has started the trip
    assert counting.trips == [2]
    await updates.settled(7)  # waits for that trip, adds none
    assert counting.trips == [2]
    assert on_disk(database_target, "SELECT chat_id, update_id FROM handled_updates") == [(7, 1)]


async def test_at_shutdown_the_waiting_records_are_committed(db: Database, database_target: str) -> None:
    updates = UpdateRepository(db.connection)
    await updates.receive_many([(1, 7, "{}"), (2, 8, "{}"), (3, None, "{}")], NOW)
    updates.handled_soon(1, 7, NOW)
    updates.handled_soon(2, 8, NOW)
    updates.handled_soon(3, None, NOW)
    await updates.flush()
    assert on_disk(database_target, "SELECT COUNT(*) FROM update_inbox") == [(0,)]
    assert on_disk(database_target, "SELECT chat_id, update_id FROM handled_updates ORDER BY chat_id") == [
        (7, 1),
        (8, 2),
    ]


async def test_a_handled_record_that_fails_is_logged_and_fails_nobody_else(
    db: Database, database_target: str, caplog: pytest.LogCaptureFixture
) -> None:
    updates = UpdateRepository(db.connection)
    await updates.receive(1, 7, "{}", NOW)
    updates.handled_soon(object(), 7, NOW)  # type: ignore[arg-type]  # SQLite cannot store it
    await updates.receive(2, 8, "{}", NOW)  # shares the trip, and is kept all the same
    await updates.settled(7)
    await asyncio.sleep(0)  # the loop's turn: the failure's callback logs it
    assert on_disk(database_target, "SELECT update_id FROM update_inbox ORDER BY update_id") == [(1,), (2,)]
    assert "Could not record 1 update(s) as handled" in caplog.text
