"""Every update is kept in the database from its arrival until it is handled.

python-telegram-bot confirms updates to Telegram (the next getUpdates, or the webhook's 200)
as soon as they are queued, before they are handled: a crash then lost them. Here the queue
writes each update to `update_inbox` before it is queued, so before it is confirmed; the
update processor (bot/ordering.py) deletes it once handled, noting the chat's last handled
update. At start-up what is left is handled again, and the replay guard is told what was
handled before, so that Telegram's re-delivery or a replayed webhook request changes nothing.

An update handled again after a crash may have been partly applied. The conversations make
that harmless where it matters: a typed survey answer carries the message it came from, so it
is applied once (conversations/answering.py); a message to the team is linked to the thread
once forwarded, so a replay only confirms it (conversations/contact.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from bot.guards import Door
from storage.updates import UpdateRepository

log = logging.getLogger(__name__)

# Telegram keeps an unconfirmed update about 24 hours; a handled one is remembered twice as long.
REMEMBER_HANDLED = timedelta(hours=48)


class InboxQueue(asyncio.Queue[object]):
    """The application's update queue; once `inbox` is set, an update is stored before it is queued.

    What is stored is the update as Telegram sent it, when the receiver still has it: the
    webhook passes it (`put_received`), and for getUpdates `as_sent` finds it in the batch the
    bot last read (bot/reading.py). Writing that out is ~20 us; the library's `to_json`, the
    fallback, rebuilds it from the objects in ~120 us, on every update (bench/README.md).
    """

    def __init__(self) -> None:
        super().__init__()
        self.inbox: UpdateRepository | None = None
        self.clock: Callable[[], datetime] | None = None
        self.as_sent: Callable[[int], dict[str, Any] | None] | None = None

    async def put(self, item: object) -> None:
        await self.put_received(item, None)

    async def put_received(self, item: object, sent: dict[str, Any] | None) -> None:
        """Queue `item`, stored first; `sent`: the update's JSON object as Telegram sent it, if known."""
        if self.inbox is not None and self.clock is not None and isinstance(item, Update):
            if sent is None and self.as_sent is not None:
                sent = self.as_sent(item.update_id)
            if sent is not None and sent.get("update_id") == item.update_id:
                data = json.dumps(sent, separators=(",", ":"))
            else:
                data = item.to_json()
            chat = item.effective_chat
            await self.inbox.receive(item.update_id, chat.id if chat else None, data, self.clock())
        await super().put(item)


async def open_inbox(
    queue: InboxQueue, updates: UpdateRepository, door: Door, clock: Callable[[], datetime], bot: Any
) -> set[int]:
    """At start-up: remember what was handled, queue what was not; returns the ids queued again."""
    await updates.forget_before(clock() - REMEMBER_HANDLED)
    for chat_id, update_id in (await updates.last_handled()).items():
        door.replays.remember(chat_id, update_id)
    queue.inbox, queue.clock = updates, clock
    replayed: set[int] = set()
    for update_id, data in await updates.unhandled():
        update = Update.de_json(json.loads(data), bot)
        replayed.add(update_id)
        await asyncio.Queue.put(queue, update)  # already kept
    if replayed:
        log.warning("%d updates received before the bot stopped were not finished; handling them now", len(replayed))
    return replayed
