"""Guards that run before any handler: replayed updates and floods are stopped at the door.

Both keep their memory in the process; the replay guard is also told at start-up which update
each chat had last handled before (bot/inbox.py), so a replay across a restart is dropped too.
With several workers (docs/scaling.md) the replay guard is told the chat's last handled update
whenever its worker claims the chat (bot/workers.py), and the floods are counted in the database
(`SharedFlood`), since one resident's updates reach every worker.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from enum import Enum

from conversations.pseudonyms import coordination_name
from storage.coordination import FloodCounts

log = logging.getLogger(__name__)


class Verdict(Enum):
    ALLOW = "allow"
    SLOW_DOWN = "slow_down"  # the first update over the limit: tell the resident once
    DROP = "drop"


class ReplayGuard:
    """Drops an update seen before, or one older than the last update handled in the same chat."""

    def __init__(self, chats: int = 100_000) -> None:
        self._latest: OrderedDict[int, int] = OrderedDict()
        self._chats = chats

    def remember(self, chat_id: int, update_id: int) -> None:
        """An update handled before a restart (from the database): it and older ones are replays."""
        if update_id > self._latest.get(chat_id, update_id - 1):
            self._latest[chat_id] = update_id

    def is_new(self, chat_id: int | None, update_id: int) -> bool:
        if chat_id is None:
            return True
        latest = self._latest.get(chat_id)
        if latest is not None and update_id <= latest:
            return False
        self._latest[chat_id] = update_id
        self._latest.move_to_end(chat_id)
        if len(self._latest) > self._chats:
            self._latest.popitem(last=False)
        return True


class FloodGuard:
    """At most `limit` updates per chat in any `window` seconds; beyond that, one notice, then silence."""

    def __init__(self, limit: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, chat_id: int) -> Verdict:
        now = self.clock()
        recent = self._seen.setdefault(chat_id, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) < self.limit:
            recent.append(now)
            self._warned.pop(chat_id, None)
            if len(self._seen) > 50_000:
                self._forget_quiet_chats(now)
            return Verdict.ALLOW
        if chat_id in self._warned:
            return Verdict.DROP
        self._warned[chat_id] = now
        return Verdict.SLOW_DOWN

    def _forget_quiet_chats(self, now: float) -> None:
        for chat_id in [c for c, times in self._seen.items() if not times or now - times[-1] >= self.window]:
            del self._seen[chat_id]


class SharedFlood:
    """Several workers: at most `limit` updates per chat and kind in a minute, counted in the database.

    One upsert an update (storage/coordination.py, FloodCounts): the count of the chat's updates of
    that kind in this minute (from the Unix epoch, by the workers' clocks, which NTP keeps in step),
    whichever worker received them. Up to `limit`: ALLOW; the next one: SLOW_DOWN (the one notice);
    beyond: DROP, until the next minute. Minutes rather than the one process's sliding window:
    at a minute's turn a chat may get up to twice the limit within 60 seconds.
    The name counted is a keyed hash of the chat id: the table holds nothing personal.
    """

    def __init__(
        self, counts: FloodCounts, key: bytes, limit: int, kind: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.limit = limit
        self.kind = kind
        self.clock = clock
        self._counts = counts
        self._key = key

    async def check(self, chat_id: int) -> Verdict:
        name = coordination_name(self._key, self.kind, chat_id)
        try:
            count = await self._counts.count(name, int(self.clock() // 60))
        except Exception as error:  # the database did not answer: let it in (its handler will need the database)
            log.warning("Could not count an update against the flood limit: %s", type(error).__name__)
            return Verdict.ALLOW
        if count <= self.limit:
            return Verdict.ALLOW
        return Verdict.SLOW_DOWN if count == self.limit + 1 else Verdict.DROP


class Door:
    """Every update passes here before any conversation runs: replays and floods stop here.

    Typed messages are limited as the issue of floods asks (20 a minute); button taps more
    loosely, since a resident answering quickly taps several a question. In a group the bot
    has little to say (that it works in private chats; notes in the officers' chat), and
    Telegram allows 20 messages a minute there for everything: a few replies a minute per
    group, then silence, however many commands arrive.
    """

    GROUP_REPLIES_PER_MINUTE = 5

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.replays = ReplayGuard()
        self.messages = FloodGuard(limit=20, clock=clock)
        self.taps = FloodGuard(limit=90, clock=clock)
        self.group_replies = FloodGuard(limit=self.GROUP_REPLIES_PER_MINUTE, clock=clock)
        # Several workers (`share`): the floods counted in the database instead, with the same limits.
        self.shared: tuple[SharedFlood, SharedFlood, SharedFlood] | None = None

    def share(self, counts: FloodCounts, key: bytes, clock: Callable[[], float] = time.time) -> None:
        """Count floods in the database, across the workers (`SharedFlood`), rather than in this process."""
        self.shared = (
            SharedFlood(counts, key, self.messages.limit, "messages", clock),
            SharedFlood(counts, key, self.taps.limit, "taps", clock),
            SharedFlood(counts, key, self.group_replies.limit, "group", clock),
        )

    def group_reply(self, chat_id: int) -> Verdict:
        """ALLOW one more reply in this group now (counted); SLOW_DOWN the first time it may not, then DROP."""
        return self.group_replies.check(chat_id)

    async def shared_group_reply(self, chat_id: int) -> Verdict:
        """As `group_reply`, counted across the workers once `share`d."""
        if self.shared is None:
            return self.group_replies.check(chat_id)
        return await self.shared[2].check(chat_id)

    async def shared_verdict(self, chat_id: int | None, private: bool, update_id: int, tap: bool) -> Verdict | None:
        """As `verdict`, the floods counted across the workers once `share`d."""
        if self.shared is None:
            return self.verdict(chat_id, private, update_id, tap)
        if not self.replays.is_new(chat_id, update_id):
            return None
        if chat_id is None or not private:
            return Verdict.ALLOW
        return await self.shared[1 if tap else 0].check(chat_id)

    def verdict(self, chat_id: int | None, private: bool, update_id: int, tap: bool) -> Verdict | None:
        """ALLOW, SLOW_DOWN (tell the resident once) or DROP; None for a replayed update (drop silently)."""
        if not self.replays.is_new(chat_id, update_id):
            return None
        if chat_id is None or not private:
            return Verdict.ALLOW
        return (self.taps if tap else self.messages).check(chat_id)
