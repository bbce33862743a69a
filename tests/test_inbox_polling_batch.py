"""A getUpdates batch is stored in one trip before get_updates returns it, so before the next getUpdates confirms it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from telegram import Update
from telegram.ext import ExtBot

from bot.reading import ForgivingBot
from storage import Database, open_database
from tests.backends import on_disk
from tests.test_inbox_group_commit import CountingTrips
from tests.test_inbox_queue import TOKEN, queue_on, sent, stored


@pytest.fixture
async def db(database_target: str) -> AsyncIterator[Database]:
    """The test once on SQLite, once on PostgreSQL."""
    async with open_database(database_target) as database:
        yield database


def polling_bot(monkeypatch: pytest.MonkeyPatch, batch: list[dict[str, Any]]) -> ForgivingBot:
    """A bot whose getUpdates answers `batch`, as Telegram sent it."""
    bot = ForgivingBot(TOKEN)

    async def from_telegram(self: ForgivingBot, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        self._sent_by_id = {raw["update_id"]: raw for raw in batch}  # as _post keeps the last batch
        return tuple(Update.de_json(raw, self) for raw in batch)

    monkeypatch.setattr(ExtBot, "get_updates", from_telegram)
    return bot


async def test_the_batch_is_stored_in_one_trip_before_get_updates_returns_and_not_again_when_queued(
    db: Database, database_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = [sent(n, f"message {n}") for n in range(40, 45)]
    bot = polling_bot(monkeypatch, batch)
    queue = queue_on(db)
    queue.as_sent = bot.as_sent
    bot.keep_batches_with(queue.keep_batch)
    counting = CountingTrips(db, monkeypatch)
    updates = await bot.get_updates(offset=40)
    # On disk when get_updates returns: the updater confirms them with its next call.
    on_file = on_disk(database_target, "SELECT update_id, data FROM update_inbox ORDER BY update_id")
    assert [(update_id, json.loads(str(data))) for update_id, data in on_file] == [(r["update_id"], r) for r in batch]
    assert counting.trips == [5]
    for update in updates:  # as the updater hands them over
        await queue.put(update)
    assert counting.trips == [5]  # nothing stored twice
    assert [queue.get_nowait() for _ in batch] == list(updates)
    assert [update_id for update_id, _ in await stored(db)] == [40, 41, 42, 43, 44]


async def test_if_the_batch_cannot_be_stored_get_updates_fails(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = polling_bot(monkeypatch, [sent(50), sent(51)])
    queue = queue_on(db)
    bot.keep_batches_with(queue.keep_batch)

    async def refused(statements: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(db.connection, "execute_together", refused)
    # The updater then asks again from the same offset: Telegram has not been told it arrived.
    with pytest.raises(sqlite3.OperationalError):
        await bot.get_updates(offset=50)
    monkeypatch.undo()
    assert await stored(db) == []
    # Not marked as stored: queued later, it is stored then.
    update = Update.de_json(sent(50), bot)
    await queue.put(update)
    assert [update_id for update_id, _ in await stored(db)] == [50]


async def test_an_empty_batch_writes_nothing(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = polling_bot(monkeypatch, [])
    queue = queue_on(db)
    bot.keep_batches_with(queue.keep_batch)
    counting = CountingTrips(db, monkeypatch)
    assert await bot.get_updates() == ()
    assert counting.trips == []


async def test_an_update_alone_is_stored_as_it_is_queued(
    db: Database, database_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = polling_bot(monkeypatch, [sent(60)])
    queue = queue_on(db)
    queue.as_sent = bot.as_sent
    bot.keep_batches_with(queue.keep_batch)
    counting = CountingTrips(db, monkeypatch)
    [update] = await bot.get_updates(offset=60)
    assert counting.trips == []  # as quick either way; still before the next getUpdates
    await queue.put(update)  # the updater puts it before asking again
    assert counting.trips == [1]
    assert on_disk(database_target, "SELECT update_id FROM update_inbox") == [(60,)]
