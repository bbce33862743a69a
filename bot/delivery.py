"""The delivery worker: sends queued messages at Telegram's pace, and records how each one ended.

One worker per bot. It keeps under a configured overall rate (a sliding window of
one second, as Telegram counts) and at most one message a second to any chat,
and follows Telegram's answers as its documentation says: 429 pauses everything
for `retry_after`; 403 makes the resident unreachable; 400 fails the message;
5xx and timeouts retry with backoff, then fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from storage import Database
from storage.clock import from_text
from storage.deliveries import Delivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (1, 2, 4, 8, 16)
# A little more than a second between sends to one chat and in the overall window,
# so that requests which reach Telegram a few milliseconds apart still fit its limits.
WINDOW_SECONDS = 1.0
MARGIN_SECONDS = 0.03
BATCH = 500
IDLE_POLL_SECONDS = 1.0


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
    ) -> None:
        self.bot = bot
        self.db = db
        self.rate = max(1, int(rate_per_second))
        self.clock = clock
        self.in_civil_hours = in_civil_hours
        self.after_round = after_round
        self.stats = DeliveryStats()
        self._keep_start_times = keep_start_times
        self._window: deque[float] = deque(maxlen=self.rate)
        self._last_to_chat: dict[int, float] = {}
        self._busy_chats: set[int] = set()
        self._paused_until = 0.0
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(min(200, max(4, self.rate // 2)))

    def wake(self) -> None:
        """New deliveries were queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Recover what a crash left in flight, then send until stopped."""
        recovered = await self.db.deliveries.recover_after_restart()
        if recovered:
            log.warning("%d deliveries were in flight when the bot stopped; sending them again", recovered)
        while not self._stopping.is_set():
            dispatched = await self._one_round()
            if self.after_round is not None:
                await self.after_round()
            if not dispatched:
                await self._idle()
        await self._drain()

    async def run_until_empty(self) -> None:
        """Send everything queued, then return (for the command line and benchmarks)."""
        await self.db.deliveries.recover_after_restart()
        while await self.db.deliveries.pending_count():
            if not await self._one_round():
                await self._idle(timeout=0.05)
        await self._drain()
        if self.after_round is not None:
            await self.after_round()

    async def _idle(self, timeout: float = IDLE_POLL_SECONDS) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _drain(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _one_round(self) -> int:
        """Start sending what is due now; return how many sends were started."""
        now = self.clock()
        due = await self.db.deliveries.due(now, BATCH, civil=self.in_civil_hours(now))
        started = 0
        waiting = list(due)
        while waiting and not self._stopping.is_set():
            ready = [d for d in waiting if self._chat_ready(d.chat_id)]
            if not ready:
                if not self._in_flight:
                    break  # every chat left is cooling down: the next round will find them
                await asyncio.wait(self._in_flight, timeout=0.05, return_when=asyncio.FIRST_COMPLETED)
                continue
            for delivery in ready:
                if not self._chat_ready(delivery.chat_id):
                    continue
                if delivery.expires_at and from_text(delivery.expires_at) <= self.clock():
                    await self.db.deliveries.settle(delivery.id, "expired", self.clock(), "too late to send")
                    self.stats.expired += 1
                else:
                    await self._start(delivery)
                    started += 1
                waiting.remove(delivery)
        return started

    def _chat_ready(self, chat_id: int) -> bool:
        if chat_id in self._busy_chats:
            return False
        last = self._last_to_chat.get(chat_id)
        return last is None or time.monotonic() - last >= WINDOW_SECONDS + MARGIN_SECONDS

    async def _start(self, delivery: Delivery) -> None:
        await self._wait_for_a_slot()
        await self._slots.acquire()
        if not await self.db.deliveries.mark_sending(delivery.id):
            self._slots.release()
            return
        moment = time.monotonic()
        self._window.append(moment)
        self._last_to_chat[delivery.chat_id] = moment
        self._busy_chats.add(delivery.chat_id)
        if self._keep_start_times:
            self.stats.started.append(moment)
        task = asyncio.create_task(self._send(delivery))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _wait_for_a_slot(self) -> None:
        """Keep under the overall rate, and out of a flood wait."""
        while True:
            now = time.monotonic()
            wait = self._paused_until - now
            if len(self._window) == self.rate:
                wait = max(wait, self._window[0] + WINDOW_SECONDS + MARGIN_SECONDS - now)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _send(self, delivery: Delivery) -> None:
        try:
            await self.bot.send_message(
                delivery.chat_id, delivery.text, parse_mode=ParseMode.HTML, reply_markup=_markup(delivery)
            )
        except RetryAfter as error:
            await self._flood_wait(delivery, error)
        except Forbidden as error:
            await self._unreachable(delivery, error)
        except ChatMigrated as error:
            await self._fail(delivery, f"the group moved to {error.new_chat_id}")
        except TimedOut as error:
            await self._retry_or_fail(delivery, error, maybe_delivered=True)
        except BadRequest as error:
            await self._fail(delivery, error.message)
        except NetworkError as error:
            await self._retry_or_fail(delivery, error, maybe_delivered=False)
        except TelegramError as error:
            await self._fail(delivery, str(error))
        else:
            await self.db.deliveries.settle(delivery.id, "sent", self.clock())
            self.stats.sent += 1
        finally:
            self._busy_chats.discard(delivery.chat_id)
            self._slots.release()
            self.wake()

    async def _flood_wait(self, delivery: Delivery, error: RetryAfter) -> None:
        seconds = error.retry_after if isinstance(error.retry_after, int | float) else error.retry_after.total_seconds()
        self._paused_until = max(self._paused_until, time.monotonic() + float(seconds))
        self.stats.rate_limited += 1
        log.warning("Telegram asked us to wait %s s; all sending paused", seconds)
        await self.db.deliveries.retry_later(
            delivery.id, self.clock(), "flood wait", count_attempt=False, maybe_delivered=False
        )

    async def _unreachable(self, delivery: Delivery, error: Forbidden) -> None:
        now = self.clock()
        await self.db.deliveries.settle(delivery.id, "unreachable", now, error.message)
        await self.db.residents.mark_unreachable(delivery.chat_id, now)
        await self.db.deliveries.give_up_on_chat(delivery.chat_id, now)
        self.stats.unreachable += 1

    async def _fail(self, delivery: Delivery, reason: str) -> None:
        await self.db.deliveries.settle(delivery.id, "failed", self.clock(), reason)
        self.stats.failed += 1

    async def _retry_or_fail(self, delivery: Delivery, error: TelegramError, *, maybe_delivered: bool) -> None:
        attempts = delivery.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await self._fail(delivery, f"gave up after {attempts} attempts: {error}")
            return
        backoff = timedelta(seconds=BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)])
        await self.db.deliveries.retry_later(
            delivery.id, self.clock() + backoff, str(error), count_attempt=True, maybe_delivered=maybe_delivered
        )
        self.stats.retried += 1


def _markup(delivery: Delivery) -> InlineKeyboardMarkup | None:
    if not delivery.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["label"], callback_data=b.get("data"), url=b.get("url")) for b in row]
            for row in delivery.buttons
        ]
    )
