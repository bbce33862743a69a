"""Every update is kept in the database from its arrival until it is handled.

python-telegram-bot confirms updates to Telegram (the next getUpdates, or the webhook's 200)
as soon as they are queued, before they are handled: a crash then lost them. Here the queue
writes each update to `update_inbox` before it is queued, so before it is confirmed; once the
update processor (bot/ordering.py) has handled it, it is deleted, and the chat's last handled
update noted. At start-up what is left is handled again, and the replay guard is told what was
handled before, so that Telegram's re-delivery or a replayed webhook request changes nothing.

Each write is committed before what depends on it goes on: an update before it is queued; an
update's "handled" record before the chat's next update runs (`UpdateRepository.settled`).
Writes asked for at once share a trip to SQLite and a commit (storage/updates.py): a getUpdates
batch is stored in one (`keep_batch`, before get_updates returns it), and so are webhook
requests arriving together; a "handled" record, which nobody waits for, goes with the next
trip (usually the next update's arrival) or on its own within 20 ms, and at shutdown.

An update handled again after a crash may have been partly applied. The conversations make
that harmless where it matters: a typed survey answer carries the message it came from, so it
is applied once (conversations/answering.py); a message to the team is linked to the thread
once forwarded, so a replay only confirms it (conversations/contact.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from bot.guards import Door
from storage.updates import UpdateRepository

log = logging.getLogger(__name__)

# Telegram keeps an unconfirmed update about 24 hours; a handled one is remembered twice as long.
REMEMBER_HANDLED = timedelta(hours=48)
# Compact JSON, as json.dumps(..., separators=(",", ":")) writes it, without a new encoder a call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


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
        self._kept: set[int] = set()  # stored with their getUpdates batch, not queued yet
        # Several workers: a stored update is queued by the worker that claims its chat (bot/workers.py).
        self.arrived: Callable[[int], Awaitable[None]] | None = None

    async def put(self, item: object) -> None:
        await self.put_received(item, None)

    async def put_received(self, item: object, sent: dict[str, Any] | None) -> None:
        """Queue `item`, stored first; `sent`: the update's JSON object as Telegram sent it, if known."""
        if isinstance(item, Update) and item.update_id in self._kept:
            self._kept.discard(item.update_id)  # stored with its batch (`keep_batch`)
        elif isinstance(item, Update):
            await self._store(item, sent)
            if self.arrived is not None and item.effective_chat is not None:
                await self.arrived(item.effective_chat.id)
                return
        await super().put(item)

    async def keep_batch(self, updates: Sequence[Update]) -> None:
        """Store a batch getUpdates returned, before the bot hands it over (bot/reading.py).

        Asked for at once, the rows go to SQLite in one trip and one commit (storage/updates.py)
        rather than one each as the updater puts them on the queue one after another; `put`
        then finds each already stored. If storing fails, getUpdates fails: the updater asks
        again for the same batch, which Telegram has not been told arrived.
        """
        if self.inbox is None or self.clock is None or len(updates) < 2:
            return  # one alone is stored as it is queued, which is as quick
        await self.inbox.receive_many([self._row(update, None) for update in updates], self.clock())
        self._kept.update(update.update_id for update in updates)

    async def _store(self, update: Update, sent: dict[str, Any] | None) -> None:
        if self.inbox is None or self.clock is None:
            return
        await self.inbox.receive_many([self._row(update, sent)], self.clock())

    def _row(self, update: Update, sent: dict[str, Any] | None) -> tuple[int, int | None, str]:
        """(update id, chat id, JSON): the JSON as Telegram sent it when known (see the class)."""
        if sent is None and self.as_sent is not None:
            sent = self.as_sent(update.update_id)
        if sent is not None and sent.get("update_id") == update.update_id:
            data = _COMPACT.encode(sent)
        else:
            data = update.to_json()
        chat = update.effective_chat
        return update.update_id, chat.id if chat else None, data


async def open_inbox(
    queue: InboxQueue,
    updates: UpdateRepository,
    door: Door,
    clock: Callable[[], datetime],
    bot: Any,
    *,
    several_workers: bool = False,
) -> set[int]:
    """At start-up: remember what was handled, queue what was not; returns the ids queued again.

    With several workers, what is stored is left to the workers' chat claims (bot/workers.py):
    other workers may be applying it now."""
    await updates.forget_before(clock() - REMEMBER_HANDLED)
    for chat_id, update_id in (await updates.last_handled()).items():
        door.replays.remember(chat_id, update_id)
    queue.inbox, queue.clock = updates, clock
    if several_workers:
        return set()
    replayed: set[int] = set()
    for update_id, data in await updates.unhandled():
        update = Update.de_json(json.loads(data), bot)
        replayed.add(update_id)
        await asyncio.Queue.put(queue, update)  # already kept
    if replayed:
        log.warning("%d updates received before the bot stopped were not finished; handling them now", len(replayed))
    return replayed
