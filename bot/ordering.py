"""Updates from different residents run at once; one resident's updates run one after another.

python-telegram-bot's concurrent mode would let two updates from the same chat interleave
(a tap and the next tap, a message and the next message). This processor keeps a lock per
chat, so each resident's updates are applied in the order Telegram sent them, while
other residents' updates use the time one resident's update waits for the database. An
update runs only once its chat's previous one is recorded handled (`before`; bot/inbox.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` at once, in order within each chat."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        # Called once an update is handled (bot/inbox.py lets go of its stored copy).
        self.after: Callable[[Update], Awaitable[None]] | None = None
        # Awaited before an update of a chat runs: the chat's previous update is known handled
        # (its record may go with a later trip: storage/updates.py, `handled_soon`).
        self.before: Callable[[int], Awaitable[None]] | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            await self._handled(update)
            return
        chat_id = chat.id
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._waiting[chat_id] = self._waiting.get(chat_id, 0) + 1
        try:
            async with lock:
                if self.before is not None:
                    await self.before(chat_id)
                await coroutine
                await self._handled(update)
        finally:
            self._waiting[chat_id] -= 1
            if not self._waiting[chat_id]:
                # Nobody else is queued for this chat: forget its lock, so memory does not grow.
                del self._waiting[chat_id]
                del self._locks[chat_id]

    async def _handled(self, update: object) -> None:
        if self.after is None or not isinstance(update, Update):
            return
        try:
            await self.after(update)
        except Exception:  # kept in the inbox: after a restart it is recognised or handled again
            log.exception("Could not record update %d as handled", update.update_id)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
