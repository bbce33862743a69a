"""Updates from different residents run side by side; one resident's run in the order they came."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.ordering import PerChatUpdateProcessor


def update_from(chat_id: int, update_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "text": "hi",
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "R"},
            },
        },
        None,
    )


async def test_one_residents_updates_wait_for_each_other_and_others_do_not() -> None:
    processor = PerChatUpdateProcessor(8)
    first_may_finish = asyncio.Event()
    order: list[str] = []

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        order.append(f"{name} started")
        if wait is not None:
            await wait.wait()
        order.append(f"{name} done")

    first = asyncio.create_task(processor.process_update(update_from(1, 1), handle("A1", first_may_finish)))
    second = asyncio.create_task(processor.process_update(update_from(1, 2), handle("A2")))
    other = asyncio.create_task(processor.process_update(update_from(2, 3), handle("B1")))
    await other
    assert order == ["A1 started", "B1 started", "B1 done"], "another resident is not held up"
    first_may_finish.set()
    await asyncio.gather(first, second)
    assert order[3:] == ["A1 done", "A2 started", "A2 done"], "the same resident's next update waited"
    assert processor._locks == {}, "no lock is kept for a chat with nothing waiting"


async def test_a_chats_update_runs_only_once_the_last_one_is_recorded_handled() -> None:
    processor = PerChatUpdateProcessor(8)
    order: list[str] = []
    recorded = asyncio.Event()

    async def handle(name: str) -> None:
        order.append(name)

    async def after(update: Update) -> None:
        order.append(f"handled {update.update_id}")  # noted; recorded later (storage/updates.py)

    async def before(chat_id: int) -> None:
        order.append(f"waiting for chat {chat_id}")
        await recorded.wait()
        order.append(f"chat {chat_id} settled")

    processor.after, processor.before = after, before
    first = asyncio.create_task(processor.process_update(update_from(1, 1), handle("A1")))
    second = asyncio.create_task(processor.process_update(update_from(1, 2), handle("A2")))
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["waiting for chat 1"], "even the first waits for what came before it"
    recorded.set()
    await asyncio.gather(first, second)
    assert order[1:] == ["chat 1 settled", "A1", "handled 1", "waiting for chat 1", "chat 1 settled", "A2", "handled 2"]
