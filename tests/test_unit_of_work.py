"""One writer: a unit of work that rolls back takes nothing of anyone else's with it.

The resident's write is started while an officer's unit of work is open, and the unit rolls back
once the write has been handed to SQLite's thread (`asyncio.sleep(0)` lets the write's task run up
to that point: it orders the tasks, it does not wait for time to pass).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime

import pytest

from conversations.pseudonyms import response_id_for
from storage import Database, open_database
from tests.backends import on_disk
from tests.test_storage import example_definition

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CONSULTATION = "gp-opening-hours"


class OfficersStepFailed(Exception):
    pass


@pytest.fixture
async def db(database_target: str) -> AsyncIterator[Database]:
    """The test once on SQLite, once on PostgreSQL."""
    async with open_database(database_target) as database:
        definition, structure, opens, closes = example_definition()
        await database.consultations.save(definition, structure, opens, closes, NOW)
        yield database


async def while_an_officers_unit_rolls_back(db: Database, write: Awaitable[object]) -> object:
    """Start `write` while another task's unit of work is open; that unit then rolls back."""
    inside, written = asyncio.Event(), asyncio.Event()

    async def officer() -> None:
        with pytest.raises(OfficersStepFailed):
            async with db.transaction():
                await db.connection.execute(
                    "INSERT INTO audit_log(at, actor_id, action, detail) VALUES (?, 1, 'test', 'rolled back')",
                    (NOW.isoformat(),),
                )
                inside.set()
                await written.wait()
                raise OfficersStepFailed

    async def resident() -> object:
        await inside.wait()
        task = asyncio.ensure_future(write)
        await asyncio.sleep(0)  # the write's task runs up to SQLite's queue (or the unit's door)
        written.set()
        return await task

    _, result = await asyncio.gather(officer(), resident())
    return result


async def test_an_answer_saved_during_another_tasks_unit_of_work_survives_its_rollback(
    db: Database, database_target: str
) -> None:
    rid = response_id_for(db.pseudonym_key, 7, CONSULTATION)
    state = {"answers": {"last_visit": "week"}, "path": ["last_visit", "good_times"]}
    saved = await while_an_officers_unit_rolls_back(
        db, db.responses.save_progress(rid, CONSULTATION, 1, "en", state, NOW)
    )
    assert saved is True
    rows = on_disk(database_target, "SELECT current_question FROM responses WHERE response_id = ?", rid)
    assert rows == [("good_times",)]
    assert on_disk(database_target, "SELECT COUNT(*) FROM audit_log WHERE action = 'test'") == [(0,)]
    remembered = await db.responses.get(rid)
    assert remembered is not None and remembered.state["answers"] == {"last_visit": "week"}


async def test_a_draft_saved_during_another_tasks_unit_of_work_survives_its_rollback(
    db: Database, database_target: str
) -> None:
    await while_an_officers_unit_rolls_back(db, db.drafts.put(42, "contact", {"text": "The bus stop"}, NOW))
    rows = on_disk(database_target, "SELECT data FROM drafts WHERE user_id = 42 AND kind = 'contact'")
    assert rows == [('{"text": "The bus stop"}',)]
    assert await db.drafts.get(42, "contact") == {"text": "The bus stop"}


async def test_what_a_rolled_back_unit_wrote_is_not_remembered(db: Database) -> None:
    with pytest.raises(OfficersStepFailed):
        async with db.transaction():
            await db.residents.acknowledge(99, "cy", NOW, None)
            await db.drafts.put(99, "broadcast", {"step": "text"}, NOW)
            raise OfficersStepFailed
    assert await db.residents.get(99) is None
    assert await db.drafts.kinds(99) == set()


async def test_a_unit_opened_inside_another_joins_it(db: Database, database_target: str) -> None:
    with pytest.raises(OfficersStepFailed):
        async with db.transaction():
            await db.residents.acknowledge(5, "en", NOW, None)
            async with db.transaction():
                await db.residents.set_language(5, "pl")
            raise OfficersStepFailed
    assert on_disk(database_target, "SELECT COUNT(*) FROM residents") == [(0,)]


async def test_a_unit_of_work_that_ends_while_the_draft_index_is_read_breaks_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen under load: a unit ended while a handler read which drafts a person has open, and the
    handler failed ('NoneType' has no attribute 'get') instead of answering."""
    await db.drafts.put(42, "contact", {"text": "The bus stop"}, NOW)
    db.drafts.forget_all()
    read = db.connection.execute_fetchall

    async def while_a_unit_ends(*args: object) -> object:
        rows = await read(*args)  # type: ignore[arg-type]
        db.drafts.forget_all()  # another task's unit of work ends meanwhile
        return rows

    monkeypatch.setattr(db.connection, "execute_fetchall", while_a_unit_ends)
    assert await db.drafts.kinds(42) == {"contact"}
    monkeypatch.undo()
    assert await db.drafts.kinds(42) == {"contact"}


async def test_a_row_read_while_a_unit_of_work_ends_is_read_again_next_time(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit may have changed the row after it was read: remembering the old copy would hide it."""
    await db.residents.acknowledge(7, "en", NOW, None)
    db.residents.forget_all()
    read = db.residents._read

    async def while_a_unit_changes_it(chat_id: int) -> object:
        row = await read(chat_id)
        await db.connection.execute("UPDATE residents SET language = 'cy' WHERE chat_id = ?", (chat_id,))
        db.residents.forget_all()  # that unit of work ends
        return row

    monkeypatch.setattr(db.residents, "_read", while_a_unit_changes_it)
    first = await db.residents.get(7)
    assert first is not None and first.language == "en"
    monkeypatch.undo()
    again = await db.residents.get(7)
    assert again is not None and again.language == "cy"
