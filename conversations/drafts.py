"""Typed drafts: each guided conversation's draft is a frozen dataclass that storage keeps as JSON.

A draft class has `to_data()` (a JSON-friendly dict) and `from_data(data)` (which accepts what
`to_data` wrote, and what earlier versions of the bot wrote). Storage knows only the dicts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from storage.database import Database

log = logging.getLogger(__name__)


class Draft(Protocol):
    def to_data(self) -> dict[str, Any]: ...


D = TypeVar("D")


async def load(db: Database, chat_id: int, kind: str, from_data: Callable[[dict[str, Any]], D]) -> D | None:
    """The person's draft of this kind, or None.

    A stored draft that cannot be read (none is expected: every earlier format is read) is dropped,
    as if it had never been started, rather than stopping the person at every message.
    """
    data = await db.drafts.get(chat_id, kind)
    if data is None:
        return None
    try:
        return from_data(data)
    except (KeyError, TypeError, ValueError) as error:  # the error only: a draft may hold what someone typed
        log.warning("Dropped an unreadable %s draft (%s)", kind, type(error).__name__)
        await db.drafts.drop(chat_id, kind)
        return None


async def save(db: Database, chat_id: int, kind: str, draft: Draft, now: datetime) -> None:
    await db.drafts.put(chat_id, kind, draft.to_data(), now)
