"""Several bot workers on one database: the one sender, and each scheduled check once a tick.

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

from storage.coordination import LeaseRepository, TickRepository

__all__ = ["LEASE_LASTS", "REMEMBER_TICKS", "RENEW_EVERY", "SenderLease", "TickClaims", "worker_name"]

log = logging.getLogger(__name__)

SENDER = "sender"
RENEW_EVERY = 2.0  # seconds between a holder's renewals, and between the others' attempts
LEASE_LASTS = 6.0  # seconds a lease lasts after its last renewal
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
