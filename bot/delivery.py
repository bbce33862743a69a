"""The delivery worker: sends queued messages at Telegram's pace, and records how each one ended.

One worker per bot. It keeps under a configured overall rate and at most one message a
second to any chat (twenty a minute to a group), counted the way a strict sliding window
on Telegram's side would count them (see `Pacer`), and follows Telegram's answers as its
documentation says (each read by `bot.outbox.failure`; messages go out through bot/outbox.py):
429 pauses everything for `retry_after`; 403 makes the resident unreachable; 400 fails the
message. A 5xx, a timeout or a lost connection is an outage, not a refusal: the message stays
waiting and is tried again with growing pauses until it is sent, for up to `retry_for` (hours)
after it was queued, or until it expires (a consultation's notices and reminders expire at its
close). Only then does it fail.

Each delivery is claimed ('sending', committed) before its request goes out, so a crash
leaves a trace: after a restart it is sent again and ends as 'uncertain'. Figures and the
reasons behind the pacing: bench/README.md, "Broadcasts".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import Bot

from bot import outbox
from bot.outbox import Failed, Failure
from conversations.screens import Screen, buttons_from_data
from storage import Database
from storage.clock import from_text
from storage.deliveries import Delivery

if TYPE_CHECKING:
    from bot.workers import SenderLease

log = logging.getLogger(__name__)

# The waits after successive failed attempts during an outage; the last one repeats.
BACKOFF_SECONDS: tuple[float, ...] = (1, 2, 4, 8, 15, 30, 60, 120, 300)
# How long after it was queued a message is still tried through an outage (see DeliveryWorker).
RETRY_FOR = timedelta(hours=12)
WINDOW_SECONDS = 1.0
CHAT_GAP_SECONDS = 1.0
GROUP_LIMIT = 20
GROUP_WINDOW_SECONDS = 60.0
# Only against rounding: the bookkeeping below is already on the safe side of Telegram's clock.
MARGIN_SECONDS = 0.002
# Below python-telegram-bot's connection pool (256): a request that waits for a free
# connection longer than its pool timeout fails without being sent.
MAX_IN_FLIGHT = 128
# Requests in flight before any answer has been timed.
FIRST_IN_FLIGHT = 4
# The quickest answer among this many recent ones is taken as the network's own latency.
LATENCY_SAMPLES = 256
IDLE_POLL_SECONDS = 1.0
# How late a send may start and still keep its slot (see Pacer.started).
CATCH_UP_SECONDS = 0.1
# The longest the sending loop sleeps without looking whether it should stop.
NAP_SECONDS = 0.05
MIN_BATCH = 20
MAX_BATCH = 500


@dataclass
class DeliveryStats:
    """What the worker did since it started (for benchmarks and logs)."""

    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    expired: int = 0
    retried: int = 0
    rate_limited: int = 0
    started: list[float] = field(default_factory=list)


class Pacer:
    """Decides when the next message may go, so that Telegram never counts more than its limits.

    Telegram stamps a request at some moment between our sending it and its answer reaching us.
    So a send is counted from the moment it starts until one window after its answer arrived:
    only then is it certainly out of a strict sliding window on Telegram's side, whatever the
    network's delays. The price is the latency, once per window: `per_window` messages take
    `window + latency` seconds. Sends are also spread evenly over the window rather than
    started all at once when it opens, so that Telegram sees a steady stream, not bursts.
    """

    def __init__(self, per_window: int, window: float, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self.per_window = per_window
        self.window = window
        self.max_in_flight = max(1, min(max_in_flight, per_window))
        # Requests in flight are limited to what the rate needs at the quickest recent latency
        # (Little's law, with room for jitter). Not more: when the process itself is the
        # bottleneck, latencies grow with the backlog and more requests at once only cost more
        # each (httpx checks every pooled connection for every request), which feeds the backlog.
        self.allowed_in_flight = min(self.max_in_flight, FIRST_IN_FLIGHT)
        self._quickest = _SlidingMinimum(LATENCY_SAMPLES)
        self.paused_until = 0.0
        self._spacing = window / per_window
        # How late a start may be and still keep its slot: delays (the event loop's timer, a
        # garbage collection) then do not add up into a lower rate; the window rule still bounds bursts.
        self._catch_up = max(self._spacing, min(CATCH_UP_SECONDS, window / 10))
        self._next_start = -math.inf
        self._in_flight = 0
        self._answers: deque[float] = deque()  # when answers came, oldest first, within a window
        self._busy: set[int] = set()
        self._free_at: dict[int, float] = {}  # chat -> when it may have its next message
        self._group_answers: dict[int, deque[float]] = {}

    def pause(self, until: float) -> None:
        """Send nothing before `until` (a flood wait, or the start-up hold)."""
        self.paused_until = max(self.paused_until, until)

    def overall_wait(self, now: float) -> float | None:
        """Seconds until one more send fits (0: now); None when only an answer can make room."""
        self._forget_answers_before(now - self.window - MARGIN_SECONDS)
        if self._in_flight >= self.allowed_in_flight:
            return None
        wait = max(self.paused_until, self._next_start) - now
        must_leave = self._in_flight + len(self._answers) - self.per_window + 1
        if must_leave > len(self._answers):
            return None
        if must_leave > 0:
            wait = max(wait, self._answers[must_leave - 1] + self.window + MARGIN_SECONDS - now)
        return max(0.0, wait)

    def cooling(self, now: float) -> dict[int, float]:
        """Chats that cannot take a message now, and when they can (infinity: one is in flight)."""
        for chat_id in [c for c, at in self._free_at.items() if at <= now]:
            del self._free_at[chat_id]
        cooling = dict(self._free_at)
        cooling.update(dict.fromkeys(self._busy, math.inf))
        return cooling

    def started(self, chat_id: int, now: float) -> None:
        # The next slot follows this one's slot, not this start: a start a little late does not
        # push every later one back. After a quiet spell, no credit: the next slot is from now.
        slot = self._next_start if now - self._next_start <= self._catch_up else now
        self._next_start = slot + self._spacing
        self._in_flight += 1
        self._busy.add(chat_id)

    def withdrawn(self, chat_id: int) -> None:
        """A started send that made no request after all (its delivery was no longer waiting)."""
        self._in_flight -= 1
        self._busy.discard(chat_id)

    def finished(self, chat_id: int, now: float, *, took: float | None = None, delivered: bool = True) -> None:
        """The answer to a send arrived at `now`, `took` seconds after the send started.

        Every request counts toward the overall rate, whatever the answer. Only a message that
        reached the chat (or may have: a timeout) counts toward the chat's own limit, since
        Telegram counts messages in a chat; an error answer leaves the chat free.
        """
        if took is not None:
            self._allow_for_latency(self._quickest.add(took))
        self._in_flight -= 1
        self._busy.discard(chat_id)
        self._answers.append(now)
        if not delivered:
            return
        free_at = now + CHAT_GAP_SECONDS + MARGIN_SECONDS
        if _is_group(chat_id):
            free_at = max(free_at, self._group_free_at(chat_id, now))
        self._free_at[chat_id] = free_at

    def _allow_for_latency(self, latency: float) -> None:
        needed = math.ceil(self.per_window / self.window * latency * 2) + 2
        self.allowed_in_flight = max(1, min(self.max_in_flight, needed))

    def _group_free_at(self, chat_id: int, now: float) -> float:
        answers = self._group_answers.setdefault(chat_id, deque())
        answers.append(now)
        while answers and answers[0] <= now - GROUP_WINDOW_SECONDS - MARGIN_SECONDS:
            answers.popleft()
        if len(answers) < GROUP_LIMIT:
            return now
        return answers[-GROUP_LIMIT] + GROUP_WINDOW_SECONDS + MARGIN_SECONDS

    def _forget_answers_before(self, moment: float) -> None:
        while self._answers and self._answers[0] <= moment:
            self._answers.popleft()


class DeliveryWorker:
    """Sends waiting deliveries in order of priority until stopped."""

    def __init__(
        self,
        bot: Bot,
        db: Database,
        *,
        rate_per_second: float = 30.0,
        clock: Callable[[], datetime],
        in_civil_hours: Callable[[datetime], bool] = lambda _now: True,
        after_round: Callable[[], Awaitable[None]] | None = None,
        keep_start_times: bool = False,
        backoff_seconds: Sequence[float] = BACKOFF_SECONDS,
        max_in_flight: int = MAX_IN_FLIGHT,
        hold_first_window: bool = True,
        retry_for: timedelta = RETRY_FOR,
        lease: SenderLease | None = None,
    ) -> None:
        """`hold_first_window`: send nothing in the first window after starting, because the process
        that ran before a restart may have sent its last messages a moment ago.

        `retry_for`: through an outage (5xx, timeouts, no connection), a message is tried again
        until this long after it was queued; `backoff_seconds` are the pauses between tries.

        `lease`: with several workers, this one sends only while it holds the sender lease
        (bot/workers.py); without, it is the bot's only sender."""
        self.bot = bot
        self.db = db
        self.rate = rate_per_second
        self.clock = clock
        self.in_civil_hours = in_civil_hours
        self.after_round = after_round
        self.stats = DeliveryStats()
        per_window, window = _window_for(rate_per_second)
        self._pacer = Pacer(per_window, window, max_in_flight)
        self._batch = min(MAX_BATCH, max(MIN_BATCH, per_window))
        self._backoff = tuple(backoff_seconds)
        self._retry_for = retry_for
        self._hold_first_window = hold_first_window
        self._keep_start_times = keep_start_times
        self._news = False  # wake() was called since the round began
        self._changed = asyncio.Event()  # wake(), stop() or an answer: worth looking again
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._lease = lease

    def wake(self) -> None:
        """New deliveries were queued: look now rather than at the next poll, and re-sort by priority."""
        self._news = True
        self._changed.set()

    def stop(self) -> None:
        self._stopping.set()
        self._changed.set()

    async def run(self) -> None:
        """Recover what a crash left in flight, then send until stopped."""
        if self._lease is not None:
            await self._run_as_sender(self._lease)
            return
        await self._start_up()
        while not self._stopping.is_set():
            self._begin_looking()
            started = await self._round_safely()
            await self._after_round_safely()
            if not started:
                await self._idle()
        await self._drain()

    async def _run_as_sender(self, lease: SenderLease) -> None:
        """Several workers: send only while this worker holds the sender lease, and stop at once without it.

        Each time it takes the lease it starts as after a restart (`_start_up`): what the previous
        holder had in flight goes again and ends as 'uncertain', and the first window is held.
        Its own sends in flight are drained before it may take the lease again, so what it
        recovers was never its own.
        """
        lease.on_change = self._changed.set
        keeper = asyncio.create_task(lease.keep(), name="sender lease")
        try:
            while not self._stopping.is_set():
                if not lease.held():
                    self._changed.clear()
                    await self._changed.wait()  # the lease taken, or stop()
                    continue
                await self._start_up()
                while not self._stopping.is_set() and lease.held():
                    self._begin_looking()
                    started = await self._round_safely()
                    await self._after_round_safely()
                    if not started:
                        await self._idle()
                await self._drain()
        finally:
            lease.stop()
            await keeper
            await self._drain()
            await lease.release()

    def _may_send(self) -> bool:
        return self._lease is None or self._lease.held()

    async def run_until_empty(self) -> None:
        """Send everything that can be sent now, then return (for bench/broadcast.py and the tests).

        Civil-hours-only deliveries are left waiting outside civil hours.
        """
        await self._start_up()
        while True:
            self._begin_looking()
            if not await self.db.deliveries.pending_count(civil=self.in_civil_hours(self.clock())):
                break
            if not await self._round_safely():
                await self._idle()
        await self._drain()
        await self._after_round_safely()

    async def _start_up(self) -> None:
        recovered = await self.db.deliveries.recover_after_restart()
        if recovered:
            log.warning("%d deliveries were in flight when the bot stopped; sending them again", recovered)
        if self._hold_first_window:
            self._pacer.pause(time.monotonic() + self._pacer.window)

    def _begin_looking(self) -> None:
        """Forget earlier signals, before reading the queue: what happens from now on is seen by _idle."""
        self._news = False
        self._changed.clear()

    async def _round_safely(self) -> int:
        try:
            return await self._one_round()
        except Exception:  # a database hiccup must not end sending for good
            log.exception("A delivery round failed; trying again shortly")
            return 0

    async def _after_round_safely(self) -> None:
        if self.after_round is None:
            return
        try:
            await self.after_round()
        except Exception:
            log.exception("The check after a delivery round failed; sending goes on")

    async def _one_round(self) -> int:
        """Start sending what is due now, in order of priority; return how many deliveries were handled."""
        now = self.clock()
        due = await self.db.deliveries.due(
            now, self._batch, civil=self.in_civil_hours(now), skip_chats=self._pacer.cooling(time.monotonic())
        )
        handled = 0
        chats: set[int] = set()
        for delivery in due:
            if self._news or self._stopping.is_set() or not self._may_send():
                break  # newly queued deliveries may outrank the rest of this batch: fetch again
            if delivery.chat_id in chats:
                continue  # one message per chat per round: the chat is busy now
            chats.add(delivery.chat_id)
            if _expired(delivery, self.clock()):
                await self._expire(delivery)
            elif not await self._wait_for_room() or self._news or not self._may_send():
                break  # stopping or no longer the sender; or, after a wait, something that may outrank it was queued
            else:
                self._start(delivery)
            handled += 1
        return handled

    async def _wait_for_room(self) -> bool:
        """Wait until one more send fits the overall rate, a flood wait and the in-flight cap.

        False when the worker is stopping, or no longer the sender.
        """
        while not self._stopping.is_set() and self._may_send():
            self._changed.clear()
            wait = self._pacer.overall_wait(time.monotonic())
            if wait == 0:
                return True
            if wait is None:  # only an answer can make room: wait for one (or a stop)
                await self._changed.wait()
            else:  # a plain sleep: cheaper than waking at every answer, at hundreds a second
                await asyncio.sleep(min(wait, NAP_SECONDS))
        return False

    async def _idle(self) -> None:
        """Nothing could be started: wait until something may be sendable, or for news."""
        if self._news or self._stopping.is_set():
            return
        try:
            timeout = await self._time_to_next_chance()
        except Exception:
            log.exception("Could not work out when to look again")
            timeout = IDLE_POLL_SECONDS
        if self._lease is not None:
            timeout = min(timeout, self._lease.remaining())  # to notice at once when the lease runs out
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def _time_to_next_chance(self) -> float:
        """Seconds until a cooling chat with a waiting message is free, or a retry's backoff ends."""
        moment = time.monotonic()
        chances = [IDLE_POLL_SECONDS]
        cooling = self._pacer.cooling(moment)
        for chat_id in await self.db.deliveries.chats_waiting([c for c, at in cooling.items() if at < math.inf]):
            chances.append(cooling[chat_id] - moment)
        now = self.clock()
        next_due = await self.db.deliveries.next_due_time(after=now)
        if next_due is not None:
            chances.append((next_due - now).total_seconds())
        return max(0.001, min(chances))

    async def _drain(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _expire(self, delivery: Delivery) -> None:
        await self.db.deliveries.settle(delivery.id, "expired", self.clock(), "too late to send")
        self.stats.expired += 1

    def _start(self, delivery: Delivery) -> None:
        # The pacer counts the send from now, a little before the request really leaves: on the safe side.
        self._pacer.started(delivery.chat_id, time.monotonic())
        if self._keep_start_times:
            self.stats.started.append(time.monotonic())
        task = asyncio.create_task(self._send(delivery), name=f"delivery {delivery.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _send(self, delivery: Delivery) -> None:
        """Claim, send and record one delivery (a task of its own, so the next start need not wait)."""
        try:
            if not await self._claim(delivery):
                return
            error = await self._request(delivery)
            await self._record(delivery, error)
        except Exception:  # the row stays 'sending'; after a restart it goes again, as 'uncertain'
            log.exception("Could not record how delivery %d ended", delivery.id)
        finally:
            self._changed.set()

    async def _claim(self, delivery: Delivery) -> bool:
        """Mark the delivery 'sending', committed before the request goes out, so a crash leaves a trace."""
        try:
            claimed = await self.db.deliveries.mark_sending(delivery.id)
        except BaseException:
            self._pacer.withdrawn(delivery.chat_id)
            raise
        if not claimed:  # no longer waiting: its chat became unreachable meanwhile
            self._pacer.withdrawn(delivery.chat_id)
        return claimed

    async def _request(self, delivery: Delivery) -> Failure | None:
        """Send one message; return what went wrong, or None."""
        began = time.monotonic()
        try:
            await outbox.send(self.bot, delivery.chat_id, Screen(delivery.text, buttons_from_data(delivery.buttons)))
        except Exception as error:  # every failure ends as a recorded state, never as a crash
            failed = outbox.failure(error)
            if failed.kind is Failed.UNREACHABLE:
                # The chat stays busy until its other deliveries are given up (`_unreachable`): none of them
                # may start meanwhile, whichever connection the writes take (several on PostgreSQL).
                return failed
            self._pacer.finished(delivery.chat_id, time.monotonic(), delivered=failed.maybe_delivered)
            if failed.kind is Failed.FLOOD_WAIT:
                # Paused at once, before anything else is started, not after the database write.
                self._pacer.pause(time.monotonic() + failed.retry_after)
            return failed
        except BaseException:  # cancelled mid-request: Telegram may have the message
            self._pacer.finished(delivery.chat_id, time.monotonic())
            raise
        now = time.monotonic()
        self._pacer.finished(delivery.chat_id, now, took=now - began)
        return None

    async def _record(self, delivery: Delivery, failed: Failure | None) -> None:
        if failed is None:
            await self.db.deliveries.settle(delivery.id, "sent", self.clock())
            self.stats.sent += 1
        elif failed.kind is Failed.FLOOD_WAIT:
            await self._flood_wait(delivery, failed)
        elif failed.kind is Failed.UNREACHABLE:
            await self._unreachable(delivery, failed)
        elif failed.kind in (Failed.TIMED_OUT, Failed.OUTAGE):
            await self._retry_or_fail(delivery, failed)
        else:  # refused, moved, or a fault of ours
            if failed.kind is Failed.BROKEN:
                log.error("Delivery %d could not be sent", delivery.id, exc_info=failed.error)
            await self._fail(delivery, failed.reason)

    async def _flood_wait(self, delivery: Delivery, failed: Failure) -> None:
        self.stats.rate_limited += 1
        log.warning("Telegram asked us to wait %s s; all sending paused", failed.retry_after)
        await self.db.deliveries.retry_later(
            delivery.id, self.clock(), "flood wait", count_attempt=False, maybe_delivered=False
        )
        self._news = True  # back in the queue, and it may outrank what the current round holds

    async def _unreachable(self, delivery: Delivery, failed: Failure) -> None:
        now = self.clock()
        try:
            await self.db.deliveries.settle(delivery.id, "unreachable", now, failed.reason)
            await self.db.residents.mark_unreachable(delivery.chat_id, now)
            await self.db.deliveries.give_up_on_chat(delivery.chat_id, now, failed.reason)
        finally:  # the answer came before these writes: the chat was kept busy until they were done
            self._pacer.finished(delivery.chat_id, time.monotonic(), delivered=False)
        self.stats.unreachable += 1

    async def _fail(self, delivery: Delivery, reason: str) -> None:
        await self.db.deliveries.settle(delivery.id, "failed", self.clock(), reason)
        self.stats.failed += 1

    async def _retry_or_fail(self, delivery: Delivery, failed: Failure) -> None:
        """An outage: wait and try again, until `retry_for` after the message was queued.

        While it waits the delivery is 'waiting' (with the error noted), and is reported so.
        """
        attempts = delivery.attempts + 1  # this attempt included
        now = self.clock()
        queued = from_text(delivery.created_at) if delivery.created_at else now
        if not self._backoff or now >= queued + self._retry_for:
            await self._fail(delivery, f"gave up after {attempts} attempts: {failed.reason}")
            return
        backoff = timedelta(seconds=self._backoff[min(attempts, len(self._backoff)) - 1])
        await self.db.deliveries.retry_later(
            delivery.id, now + backoff, failed.reason, count_attempt=True, maybe_delivered=failed.maybe_delivered
        )
        self.stats.retried += 1


class _SlidingMinimum:
    """The smallest of the last `size` values added, in constant time per value."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._count = 0
        self._candidates: deque[tuple[int, float]] = deque()  # increasing values, by arrival

    def add(self, value: float) -> float:
        """Add a value; return the minimum of the last `size` values."""
        self._count += 1
        while self._candidates and self._candidates[-1][1] >= value:
            self._candidates.pop()
        self._candidates.append((self._count, value))
        if self._candidates[0][0] <= self._count - self._size:
            self._candidates.popleft()
        return self._candidates[0][1]


def _window_for(rate_per_second: float) -> tuple[int, float]:
    """The limit as whole messages per window: 30/s is 30 per second; 0.5/s is 1 per 2 seconds."""
    if rate_per_second >= 1:
        return int(rate_per_second), WINDOW_SECONDS
    return 1, WINDOW_SECONDS / rate_per_second


def _is_group(chat_id: int) -> bool:
    return chat_id < 0  # groups, supergroups and channels have negative ids; private chats positive


def _expired(delivery: Delivery, now: datetime) -> bool:
    return delivery.expires_at is not None and from_text(delivery.expires_at) <= now
