"""python-telegram-bot's bot, except that an update it cannot read is skipped, with one line in the log.

Left to itself the library logs such an update in full at CRITICAL (a resident's words with it),
does not confirm the batch it came in, and asks for the same batch again, for ever: no update
after it would be handled. Here each update of that batch is read on its own; one that cannot be
read becomes an empty update with its id (no handler takes it), so the offset moves past it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import TelegramError
from telegram.ext import ExtBot

log = logging.getLogger(__name__)


class ForgivingBot(ExtBot[None]):
    """An ExtBot whose get_updates skips an update the library cannot read instead of stalling on it."""

    __slots__ = ("_keep", "_received", "_sent_by_id")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._received: list[Any] = []
        # The last batch getUpdates returned, by update id, as Telegram sent it (bot/inbox.py
        # stores that rather than rebuilding it from the library's objects).
        self._sent_by_id: dict[int, dict[str, Any]] = {}
        # Stores a batch before get_updates returns it (bot/inbox.py: InboxQueue.keep_batch).
        self._keep: Callable[[Sequence[Update]], Awaitable[None]] | None = None

    def keep_batches_with(self, keep: Callable[[Sequence[Update]], Awaitable[None]]) -> None:
        """From now on, each batch getUpdates returns is given to `keep` (awaited) before it is returned."""
        self._keep = keep

    def as_sent(self, update_id: int) -> dict[str, Any] | None:
        """The update `update_id` of the last batch read, as Telegram sent it (each is given once)."""
        return self._sent_by_id.pop(update_id, None)

    async def _post(
        self,
        endpoint: str,
        data: JSONDict | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> Any:
        result = await super()._post(
            endpoint,
            data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        if endpoint == "getUpdates":
            self._received = result if isinstance(result, list) else []
            self._sent_by_id = {
                raw["update_id"]: raw
                for raw in self._received
                if isinstance(raw, dict) and isinstance(raw.get("update_id"), int)
            }
        return result

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        try:
            updates = await super().get_updates(
                offset=offset,
                limit=limit,
                timeout=timeout,
                allowed_updates=allowed_updates,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
                api_kwargs=api_kwargs,
            )
        except TelegramError:
            raise
        except Exception:  # the library could not read the batch (bot/logs.py quiets its own log of it)
            received, self._received = self._received, []
            updates = tuple(update for raw in received if (update := self._read_one(raw)) is not None)
        if self._keep is not None and updates:
            await self._keep(updates)  # stored in one trip, before the next getUpdates confirms them
        return updates

    def _read_one(self, raw: Any) -> Update | None:
        try:
            update = Update.de_json(raw, self)
        except Exception as error:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                log.warning("Skipped an update without an id that python-telegram-bot could not read")
                return None
            log.warning(
                "Skipped update %d: python-telegram-bot could not read it (%s)", update_id, type(error).__name__
            )
            return Update(update_id)
        self.insert_callback_data(update)
        return update
