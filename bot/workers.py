"""Several bot workers on one database: one sender, each scheduled check once a tick, one resident at a time.

In the several-workers mode (HAVEYOURSAY_WORKERS=several, webhook mode; docs/scaling.md) every
worker receives updates, but only one sends the delivery queue, so that the bot as a whole keeps
Telegram's limits: the worker holding the lease `sender` in the database (storage/coordination.py).
It renews the lease every RENEW_EVERY seconds; the lease lasts LEASE_LASTS, and the holder stops
sending as soon as its own last renewal is that old, by its own clock, before anyone else may take
it (workers' wall clocks are assumed in step, as NTP keeps them). The worker that takes the lease
over first marks what the previous holder had in flight as after a crash: sent again, ending as
`uncertain` (bot/delivery.py), never lost.

The scheduled checks (openings, reminders, retention) run on every worker's timer, but each run
first claims its (job, tick) in the database and runs only if its claim was the first.

One resident's updates are applied by one worker at a time, in update_id order, whichever
workers received them: the worker that claims the chat in the database applies the chat's stored
updates (`ChatClaims`).

With one worker (the default) none of this is used: the process is the only sender and runs every tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from conversations.pseudonyms import coordination_name
from storage.coordination import ChatInbox, LeaseRepository, TickRepository

__all__ = ["LEASE_LASTS", "REMEMBER_TICKS", "RENEW_EVERY", "ChatClaims", "SenderLease", "TickClaims", "worker_name"]

log = logging.getLogger(__name__)

SENDER = "sender"
RENEW_EVERY = 2.0  # seconds between a holder's renewals, and between the others' attempts
LEASE_LASTS = 6.0  # seconds a lease lasts after its last renewal
# A worker's claim on a chat (its updates applied there, in order) lasts this long after its last update
# taken; a chat whose claimant died waits this long for another worker (seconds).
CHAT_CLAIM_LASTS = 15.0
# How often each worker looks for stored updates that no worker is applying (seconds).
SWEEP_EVERY = 5.0
# Ticks claimed are remembered this long (a day of minutes is 1,440 rows a job).
REMEMBER_TICKS = timedelta(days=1)


def worker_name() -> str:
    """This process among the workers: its host, its process id, and a random part (a restart is another)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SenderLease:
    """Whether this worker is the bot's sender now, kept up to date by `keep`.

    `held()` is decided by this process's monotonic clock: true until LEASE_LASTS after the start
    of the last renewal that succeeded. The lease row written by that renewal expires at the same
    moment by the wall clock, so this worker has stopped before another may take over.
    """

    def __init__(
        self,
        leases: LeaseRepository,
        holder: str,
        *,
        name: str = SENDER,
        renew_every: float = RENEW_EVERY,
        lasts: float = LEASE_LASTS,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.holder = holder
        self.name = name
        self._leases = leases
        self._renew_every = renew_every
        self._lasts = lasts
        self._clock = clock
        self._monotonic = monotonic
        self._until = -math.inf  # monotonic: held until then
        self._stopping = asyncio.Event()
        self.on_change: Callable[[], None] = lambda: None  # called when the lease is taken or lost

    def held(self) -> bool:
        return self._monotonic() < self._until

    def remaining(self) -> float:
        """Seconds this worker still holds the lease (0 when it does not)."""
        return max(0.0, self._until - self._monotonic())

    async def claim(self) -> bool:
        """Take the lease, or renew it; returns whether this worker holds it now."""
        was = self.held()
        began, now = self._monotonic(), self._clock()
        try:
            won = await self._leases.claim(self.name, self.holder, now, timedelta(seconds=self._lasts))
        except Exception as error:  # the database did not answer: held until the last renewal runs out
            log.warning("Could not renew or claim the sender lease: %s", type(error).__name__)
            won = self.held()
        else:
            self._until = began + self._lasts if won else -math.inf
        if won != was:
            if won:
                log.info("This worker is now the bot's sender")
            else:
                log.warning("This worker is no longer the bot's sender: another worker sends")
            self.on_change()
        return won

    async def keep(self) -> None:
        """Claim or renew the lease every `renew_every` seconds until `stop`."""
        while not self._stopping.is_set():
            await self.claim()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._renew_every)

    def stop(self) -> None:
        self._stopping.set()

    async def release(self) -> None:
        """Give the lease up (nothing of this worker's is in flight any more): another takes it at once."""
        self._until = -math.inf
        try:
            await self._leases.release(self.name, self.holder)
        except Exception as error:  # it expires on its own
            log.warning("Could not release the sender lease: %s", type(error).__name__)


class TickClaims:
    """Each scheduled check runs once a tick (a slot of `seconds`, from the Unix epoch) across the workers."""

    def __init__(self, ticks: TickRepository, worker: str, seconds: float) -> None:
        self.worker = worker
        self.seconds = seconds
        self._ticks = ticks

    def tick_of(self, now: datetime) -> datetime:
        """The start of the tick `now` falls in."""
        start = math.floor(now.timestamp() / self.seconds) * self.seconds
        return datetime.fromtimestamp(start, UTC)

    def until_next(self, now: datetime) -> float:
        """Seconds from `now` to the start of the next tick."""
        return self.tick_of(now).timestamp() + self.seconds - now.timestamp()

    async def claim(self, job: str, now: datetime) -> bool:
        """True when this worker is the first to claim `job` for the tick of `now`: it runs it."""
        return await self._ticks.claim(job, self.tick_of(now), self.worker)

    async def run_once(self, job: str, now: datetime, check: Callable[[], Awaitable[object]]) -> bool:
        """Run `check` if this worker's claim of the tick is the first; returns whether it ran."""
        if not await self.claim(job, now):
            return False
        await check()
        return True

    async def forget_before(self, moment: datetime) -> int:
        return await self._ticks.forget_before(moment)


class ChatClaims:
    """Several workers: one resident's updates applied by one worker at a time, in update_id order.

    A worker that receives an update stores it (bot/inbox.py), then claims its chat: a lease named
    `chat:<id>`, CHAT_CLAIM_LASTS long. If the claim is won, the worker queues every stored update
    of the chat it has not queued yet, in update_id order; if another worker holds the chat, the
    update is left stored for that worker. Once its last queued update of a chat is handled and
    recorded so, the claimant lets the chat go, then looks once more for updates of the chat that
    other workers stored meanwhile (their claims failed while it held the chat) and takes them.
    A claim is named by a keyed hash of the chat id, not the id: the table holds nothing personal.
    A chat whose claimant died is taken by the next worker to receive one of its updates, or by
    the sweep (`keep_sweeping`) once the claim has run out.
    """

    def __init__(
        self,
        leases: LeaseRepository,
        inbox: ChatInbox,
        worker: str,
        *,
        enqueue: Callable[[str], Awaitable[None]],
        settled: Callable[[int], Awaitable[None]],
        remember: Callable[[int, int], None] = lambda _chat, _update: None,
        clock: Callable[[], datetime] = _utc_now,
        lasts: float = CHAT_CLAIM_LASTS,
        sweep_every: float = SWEEP_EVERY,
        key: bytes = b"",
    ) -> None:
        """`enqueue`: put a stored update (its JSON) on this worker's queue; `settled`: wait until the
        chat's handled updates are recorded; `remember`: tell the replay guard the chat's last handled
        update; `key`: the database's pseudonym key, so that a claim's name does not hold the chat id."""
        self.worker = worker
        self._key = key
        self._leases = leases
        self._inbox = inbox
        self._enqueue = enqueue
        self._settled = settled
        self._remember = remember
        self._clock = clock
        self._lasts = timedelta(seconds=lasts)
        self._sweep_every = sweep_every
        self._queued: dict[int, set[int]] = {}  # chats this worker holds -> their updates queued, not handled
        self._locks: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        self._stopping = asyncio.Event()

    def holds(self, chat_id: int) -> bool:
        return chat_id in self._queued

    async def arrived(self, chat_id: int) -> None:
        """An update of the chat was stored: this worker applies the chat's stored updates if it may."""
        async with self._lock(chat_id):
            await self._take(chat_id)

    async def handled(self, chat_id: int, update_id: int) -> None:
        """One of the chat's updates queued here is handled; the last one lets the chat go."""
        async with self._lock(chat_id):
            queued = self._queued.get(chat_id)
            if queued is None:
                return
            queued.discard(update_id)
            if queued:
                return
            await self._settled(chat_id)  # recorded handled before anyone else may take the chat
            await self._let_go(chat_id)
            if await self._inbox.unhandled_of(chat_id):
                await self._take(chat_id)

    async def sweep(self, stored_before: datetime) -> int:
        """Take the chats with updates stored before `stored_before` that no worker holds; returns how many."""
        taken = 0
        for chat_id in await self._inbox.chats_waiting(stored_before):
            if not self.holds(chat_id):
                await self.arrived(chat_id)
                taken += self.holds(chat_id)
        return taken

    async def keep_sweeping(self) -> None:
        """Every `sweep_every` seconds, until `stop`: take what dead workers left (see the class)."""
        while not self._stopping.is_set():
            try:
                taken = await self.sweep(self._clock() - timedelta(seconds=self._sweep_every))
            except Exception as error:
                log.warning("Could not look for updates other workers left: %s", type(error).__name__)
            else:
                if taken:
                    log.warning("Took over %d chats whose updates another worker had left unhandled", taken)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._sweep_every)

    def stop(self) -> None:
        self._stopping.set()

    async def _take(self, chat_id: int) -> None:
        """Claim the chat (or renew the claim) and queue its stored updates not queued yet, in order."""
        if not await self._leases.claim(self._lease_of(chat_id), self.worker, self._clock(), self._lasts):
            return  # another worker holds it, and takes what is stored
        if chat_id not in self._queued:
            last = await self._inbox.last_handled_of(chat_id)  # perhaps by another worker
            if last is not None:
                self._remember(chat_id, last)
        queued = self._queued.setdefault(chat_id, set())
        for update_id, data in await self._inbox.unhandled_of(chat_id):
            if update_id not in queued:
                queued.add(update_id)
                await self._enqueue(data)
        if not queued:
            await self._let_go(chat_id)

    async def _let_go(self, chat_id: int) -> None:
        self._queued.pop(chat_id, None)
        await self._leases.release(self._lease_of(chat_id), self.worker)

    def _lease_of(self, chat_id: int) -> str:
        """The claim's name: `chat:` and a keyed hash of the chat id (nothing personal in the table)."""
        return coordination_name(self._key, "chat", chat_id)

    def _lock(self, chat_id: int) -> _ChatLock:
        return _ChatLock(self._locks, chat_id)


class _ChatLock:
    """A lock per chat, forgotten when nobody holds or waits for it (memory does not grow)."""

    def __init__(self, locks: dict[int, tuple[asyncio.Lock, list[int]]], chat_id: int) -> None:
        self._locks = locks
        self._chat_id = chat_id
        self._lock, self._users = locks.setdefault(chat_id, (asyncio.Lock(), [0]))

    async def __aenter__(self) -> None:
        self._users[0] += 1
        try:
            await self._lock.acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, *_exc: object) -> None:
        self._lock.release()
        self._leave()

    def _leave(self) -> None:
        self._users[0] -= 1
        if not self._users[0]:
            self._locks.pop(self._chat_id, None)
