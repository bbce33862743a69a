"""The inbox stores an update as Telegram sent it when the receiver has it, else as the library writes it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Bot, Update

from bot.inbox import InboxQueue
from bot.reading import ForgivingBot
from storage import Database, open_database
from storage.updates import UpdateRepository

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOKEN = "123456:TEST-token-aaaaaaaaaaaaaaaaaaaaaaaaa"


def sent(update_id: int, text: str = "The bus stop \U0001f68f") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 5,
            "date": 1764590400,
            "chat": {"id": 7, "type": "private"},
            "from": {"id": 7, "is_bot": False, "first_name": "R"},
            "text": text,
            "a_field_the_library_does_not_know": 1,
        },
    }


@pytest.fixture
async def db(database_target: str) -> AsyncIterator[Database]:
    async with open_database(database_target) as database:
        yield database


def queue_on(db: Database) -> InboxQueue:
    queue = InboxQueue()
    queue.inbox, queue.clock = UpdateRepository(db.connection), lambda: NOW
    return queue


async def stored(db: Database) -> list[tuple[int, dict[str, Any]]]:
    return [(update_id, json.loads(data)) for update_id, data in await UpdateRepository(db.connection).unhandled()]


async def test_an_update_given_as_sent_is_stored_as_sent(db: Database) -> None:
    queue = queue_on(db)
    raw = sent(10)
    update = Update.de_json(raw, Bot(TOKEN))
    await queue.put_received(update, raw)
    assert await stored(db) == [(10, raw)]
    assert queue.get_nowait() is update
    replayed = Update.de_json((await stored(db))[0][1], Bot(TOKEN))
    assert replayed.message is not None and replayed.message.text == "The bus stop \U0001f68f"


async def test_an_update_read_by_getupdates_is_stored_as_sent(db: Database) -> None:
    queue = queue_on(db)
    bot = ForgivingBot(TOKEN)
    batch = [sent(20), sent(21, "Later")]
    bot._sent_by_id = {raw["update_id"]: raw for raw in batch}  # as _post keeps the last batch
    queue.as_sent = bot.as_sent
    for raw in batch:
        await queue.put(Update.de_json(raw, bot))
    assert await stored(db) == [(20, batch[0]), (21, batch[1])]
    assert bot.as_sent(20) is None  # each is given once


async def test_without_what_was_sent_the_librarys_json_is_stored(db: Database) -> None:
    queue = queue_on(db)
    queue.as_sent = lambda update_id: None
    raw = sent(30)
    update = Update.de_json(raw, Bot(TOKEN))
    await queue.put(update)
    other = Update.de_json(sent(31), Bot(TOKEN))
    await queue.put_received(other, sent(99))  # not this update's: ignored
    [(_, first), (_, second)] = await stored(db)
    assert first == json.loads(update.to_json()) != raw
    assert second == json.loads(other.to_json())


async def test_before_the_inbox_is_open_nothing_is_stored(db: Database) -> None:
    queue = InboxQueue()
    raw = sent(40)
    await queue.put_received(Update.de_json(raw, Bot(TOKEN)), raw)
    assert await stored(db) == []
    assert queue.qsize() == 1
