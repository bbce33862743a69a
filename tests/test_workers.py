"""Several workers on one database (two Database objects on one SQLite file stand for two
processes): one sender at a time by a lease, and each scheduled check once a tick."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot

from bot.app import scheduled_checks
from bot.delivery import DeliveryWorker
from bot.guards import Door, ReplayGuard, Verdict
from bot.settings import SettingsError, load_settings
from bot.workers import ChatClaims, SenderLease, TickClaims
from storage import Database, open_database
from storage.coordination import ChatInbox, FloodCounts, LeaseRepository, TickRepository
from storage.deliveries import PRIORITY_NOTICE, NewDelivery
from storage.updates import UpdateRepository
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.offline import GP_HOURS, offline_services

START = datetime(2026, 11, 26, 12, 0, 30, tzinfo=UTC)
FINAL = {"sent", "uncertain", "failed", "unreachable", "expired"}


@dataclass
class FakeTime:
    """The workers' wall clock and monotonic clock, moved by the test (they share one here)."""

    wall: datetime = START
    mono: float = 1_000.0

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def clock(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono


@dataclass
class Workers:
    fake: FakeTelegram
    bot: Bot
    a: Database
    b: Database
    time: FakeTime = field(default_factory=FakeTime)

    def lease(self, db: Database, holder: str, **options: Any) -> SenderLease:
        settings: dict[str, Any] = {"clock": self.time.clock, "monotonic": self.time.monotonic, "renew_every": 0.02}
        return SenderLease(LeaseRepository(db.connection), holder, **(settings | options))

    def worker(self, db: Database, lease: SenderLease | None, **options: Any) -> DeliveryWorker:
        settings: dict[str, Any] = {"clock": lambda: datetime.now(UTC), "hold_first_window": False}
        return DeliveryWorker(self.bot, db, lease=lease, **(settings | options))

    async def residents(self, count: int) -> list[FakeUser]:
        users = []
        for number in range(count):
            user = self.fake.add_user(f"Resident{number}")
            self.fake.mark_started(user)
            await self.a.residents.acknowledge(user.id, "en", datetime.now(UTC), None)
            users.append(user)
        return users

    async def queue(self, users: list[FakeUser]) -> None:
        deliveries = [NewDelivery(user.id, "notice", PRIORITY_NOTICE, f"to {user.first_name}") for user in users]
        await self.a.deliveries.enqueue(deliveries, datetime.now(UTC))

    async def states(self) -> dict[str, str]:
        rows = await self.a.connection.execute_fetchall("SELECT text, state FROM deliveries")
        return {str(text): str(state) for text, state in rows}

    async def all_final(self, timeout: float = 20.0) -> dict[str, str]:
        """Wait until every delivery has ended (polling the database, as the workers do)."""
        async with asyncio.timeout(timeout):
            while True:
                states = await self.states()
                if states and set(states.values()) <= FINAL:
                    return states
                await asyncio.sleep(0.02)

    def received(self, user: FakeUser) -> list[str]:
        return [message.text for message in self.fake.messages(user.id)]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def workers(fake: FakeTelegram, database_target: str) -> AsyncIterator[Workers]:
    """Two workers on one database: a SQLite file, then PostgreSQL (where several workers are meant to run)."""
    async with (
        Bot(fake.token, base_url=fake.base_url) as bot,
        open_database(database_target) as a,
        open_database(database_target) as b,
    ):
        yield Workers(fake, bot, a, b)


async def test_one_worker_holds_a_lease_until_it_expires_then_another_may_take_it(workers: Workers) -> None:
    a, b = LeaseRepository(workers.a.connection), LeaseRepository(workers.b.connection)
    lasts = timedelta(seconds=6)
    assert await a.claim("sender", "worker-a", START, lasts)
    assert not await b.claim("sender", "worker-b", START + timedelta(seconds=1), lasts)
    assert await a.claim("sender", "worker-a", START + timedelta(seconds=2), lasts), "renewed"
    assert not await b.claim("sender", "worker-b", START + timedelta(seconds=7), lasts), "renewed until 8 s"
    assert await b.claim("sender", "worker-b", START + timedelta(seconds=8), lasts), "expired: taken over"
    assert not await a.claim("sender", "worker-a", START + timedelta(seconds=9), lasts), "lost"
    assert await a.holder("sender", START + timedelta(seconds=9)) == "worker-b"
    assert await b.release("sender", "worker-b")
    assert await a.claim("sender", "worker-a", START + timedelta(seconds=9), lasts), "released: free at once"


async def test_two_workers_running_send_each_message_once(workers: Workers) -> None:
    users = await workers.residents(6)
    a = workers.worker(workers.a, workers.lease(workers.a, "worker-a"))
    b = workers.worker(workers.b, workers.lease(workers.b, "worker-b"))
    tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
    await workers.queue(users)
    a.wake()
    b.wake()

    states = await workers.all_final()
    for worker in (a, b):
        worker.stop()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)

    assert set(states.values()) == {"sent"}
    assert all(workers.received(user) == [f"to {user.first_name}"] for user in users)
    assert sorted((a.stats.sent, b.stats.sent)) == [0, 6], "one sender"
    holder = await LeaseRepository(workers.a.connection).holder("sender", workers.time.wall)
    assert holder is None, "released when its worker stopped"


async def test_the_worker_taking_over_from_a_dead_sender_marks_its_deliveries_in_flight_uncertain(
    workers: Workers,
) -> None:
    reached, lost, untouched = await workers.residents(3)
    await workers.queue([reached, lost, untouched])
    # The dead sender had the lease, and had claimed two deliveries; one of them reached Telegram.
    assert await LeaseRepository(workers.a.connection).claim("sender", "dead", START, timedelta(seconds=6))
    for delivery in await workers.a.deliveries.due(datetime.now(UTC), 2, civil=True):
        assert await workers.a.deliveries.mark_sending(delivery.id)
    await workers.bot.send_message(reached.id, f"to {reached.first_name}")

    lease = workers.lease(workers.b, "worker-b")
    worker = workers.worker(workers.b, lease, hold_first_window=True)
    task = asyncio.create_task(worker.run())
    assert not await lease.claim() and not lease.held(), "the dead sender's lease has not run out yet"
    assert workers.received(untouched) == []
    workers.time.advance(6)  # it runs out: the worker's next try takes it over
    states = await workers.all_final()
    worker.stop()
    await asyncio.wait_for(task, 10)

    assert states == {"to Resident0": "uncertain", "to Resident1": "uncertain", "to Resident2": "sent"}
    assert workers.received(reached) == ["to Resident0", "to Resident0"]
    assert workers.received(lost) == ["to Resident1"] and workers.received(untouched) == ["to Resident2"]


async def test_a_worker_that_loses_the_lease_stops_sending_at_once_and_the_next_one_finishes(
    workers: Workers,
) -> None:
    users = await workers.residents(12)
    await workers.queue(users)
    # Worker A sends two a second and renews its lease only once, at the start.
    lease_a = workers.lease(workers.a, "worker-a", renew_every=3600)
    a = workers.worker(workers.a, lease_a, rate_per_second=2, keep_start_times=True)
    task_a = asyncio.create_task(a.run())
    async with asyncio.timeout(10):
        while len(a.stats.started) < 2:
            await asyncio.sleep(0.02)
    # A's lease runs out (its process stalled, say) and B takes it at once.
    workers.time.advance(6)
    lost_at = time.monotonic()
    lease_b = workers.lease(workers.b, "worker-b")
    assert await lease_b.claim()
    b = workers.worker(workers.b, lease_b)
    task_b = asyncio.create_task(b.run())

    states = await workers.all_final()
    for worker in (a, b):
        worker.stop()
    await asyncio.wait_for(asyncio.gather(task_a, task_b), 10)

    assert all(started < lost_at for started in a.stats.started), "A started nothing once its lease ran out"
    assert len(a.stats.started) < len(users) and b.stats.sent > 0
    for user in users:
        got = workers.received(user)
        assert got and set(got) == {f"to {user.first_name}"}
        # Sent twice only if A had it in flight when B took over: then it says so.
        assert len(got) == 1 or states[f"to {user.first_name}"] == "uncertain"


async def test_each_scheduled_check_runs_once_a_tick_across_workers(database_target: str) -> None:
    database = database_target
    async with (
        offline_services(database, START, GP_HOURS) as one,
        offline_services(database, START) as other,
    ):
        ticks_one = TickClaims(TickRepository(one.db.connection), "worker-one", 60)
        ticks_other = TickClaims(TickRepository(other.db.connection), "worker-other", 60)
        assert await scheduled_checks(one, ticks_one) == ["openings", "reminders", "retention"]
        assert await scheduled_checks(other, ticks_other) == [], "this tick was run"
        queued = await one.db.deliveries.pending_count()

        # The next tick: whichever worker's timer fires first runs it.
        for services in (one, other):
            services.clock.now = START + timedelta(seconds=45)  # type: ignore[attr-defined]
        assert await scheduled_checks(other, ticks_other) == ["openings", "reminders", "retention"]
        assert await scheduled_checks(one, ticks_one) == []
        assert await one.db.deliveries.pending_count() == queued
        assert ticks_one.tick_of(START) == datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        assert ticks_one.until_next(START) == 30


async def test_with_one_worker_every_check_runs_every_time(tmp_path: Path) -> None:
    async with offline_services(tmp_path / "one.db", START, GP_HOURS) as services:
        assert await scheduled_checks(services) == ["openings", "reminders", "retention"]
        assert await scheduled_checks(services) == ["openings", "reminders", "retention"]


def test_several_workers_need_webhook_mode(tmp_path: Path) -> None:
    webhook = {
        "HAVEYOURSAY_WEBHOOK_URL": "https://bot.example.org/telegram",
        "HAVEYOURSAY_WEBHOOK_SECRET": "s3cret",
    }
    no_file = tmp_path / "no.env"
    assert not load_settings({}, no_file).several_workers
    assert load_settings({**webhook, "HAVEYOURSAY_WORKERS": "several"}, no_file).several_workers
    with pytest.raises(SettingsError, match="needs webhook mode"):
        load_settings({"HAVEYOURSAY_WORKERS": "several"}, no_file)
    with pytest.raises(SettingsError, match="must be one or several"):
        load_settings({**webhook, "HAVEYOURSAY_WORKERS": "3"}, no_file)


@dataclass
class Receiver:
    """One worker's side of the chat claims: what it stores, claims and queues (its queue: `applied`)."""

    name: str
    db: Database
    time: FakeTime
    applied: list[int] = field(default_factory=list)
    handled_here: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.updates = UpdateRepository(self.db.connection)
        self.replays = ReplayGuard()
        self.claims = ChatClaims(
            LeaseRepository(self.db.connection),
            ChatInbox(self.db.connection),
            self.name,
            enqueue=self._enqueue,
            settled=self.updates.settled,
            remember=self.replays.remember,
            clock=self.time.clock,
        )

    async def _enqueue(self, data: str) -> None:
        self.applied.append(int(json.loads(data)["update_id"]))

    async def receive(self, update_id: int, chat_id: int) -> None:
        """Stored, then its chat claimed (as InboxQueue.put_received does with several workers)."""
        data = json.dumps({"update_id": update_id, "chat": chat_id})
        await self.updates.receive(update_id, chat_id, data, self.time.wall)
        await self.claims.arrived(chat_id)

    async def handle(self, chat_id: int) -> None:
        """Apply what is queued here now (the replay guard first), recorded handled as the bot does."""
        batch, self.applied = self.applied, []
        for update_id in batch:
            if self.replays.is_new(chat_id, update_id):
                self.handled_here.append(update_id)
            self.updates.handled_soon(update_id, chat_id, self.time.wall)
            await self.claims.handled(chat_id, update_id)


async def test_one_chats_updates_are_applied_by_one_worker_in_order_whichever_received_them(
    workers: Workers,
) -> None:
    a, b = Receiver("worker-a", workers.a, workers.time), Receiver("worker-b", workers.b, workers.time)
    await a.receive(10, chat_id=5)
    await b.receive(11, chat_id=5)  # while A holds the chat: left stored for A
    await b.receive(20, chat_id=6)  # another resident's: B's
    assert (a.applied, b.applied) == ([10], [20])

    await a.handle(5)  # A lets the chat go, finds 11 that B stored, takes it
    assert a.applied == [11] and b.applied == [20]
    await a.handle(5)
    await b.handle(6)
    assert (a.handled_here, b.handled_here) == ([10, 11], [20])
    assert not a.claims.holds(5) and not b.claims.holds(6)

    # Next time the chat is B's, and B knows what A handled: a replay of 11 changes nothing.
    await b.receive(11, chat_id=5)
    await b.receive(12, chat_id=5)
    await b.handle(5)
    assert b.handled_here == [20, 12]
    assert await ChatInbox(workers.a.connection).unhandled_of(5) == []


async def test_a_chat_whose_worker_died_is_taken_by_another_once_its_claim_runs_out(workers: Workers) -> None:
    dead, alive = Receiver("dead", workers.a, workers.time), Receiver("alive", workers.b, workers.time)
    await dead.receive(30, chat_id=7)  # claimed and queued, never handled: the worker died
    await alive.receive(31, chat_id=7)
    assert alive.applied == []
    workers.time.advance(5)
    assert await alive.claims.sweep(workers.time.wall) == 0, "the dead worker's claim has not run out"

    workers.time.advance(11)
    assert await alive.claims.sweep(workers.time.wall) == 1
    assert alive.applied == [30, 31], "both, in order"
    await alive.handle(7)
    assert alive.handled_here == [30, 31]


async def test_two_workers_flood_guards_together_stop_the_21st_typed_message_in_a_minute(workers: Workers) -> None:
    """A resident's updates reach both workers (alternating): the limits hold for the two together."""
    now = [START.timestamp()]
    doors = [Door(), Door()]
    for door, db in zip(doors, (workers.a, workers.b), strict=True):
        door.share(FloodCounts(db.connection), db.pseudonym_key, clock=lambda: now[0])
    typed = [await doors[n % 2].shared_verdict(5, True, 100 + n, tap=False) for n in range(23)]
    assert typed == [Verdict.ALLOW] * 20 + [Verdict.SLOW_DOWN, Verdict.DROP, Verdict.DROP], "one notice, once"
    assert await doors[0].shared_verdict(5, True, 200, tap=True) is Verdict.ALLOW, "taps are counted apart"
    assert await doors[1].shared_verdict(6, True, 201, tap=False) is Verdict.ALLOW, "another resident's own"
    assert await doors[1].shared_verdict(5, False, 202, tap=False) is Verdict.ALLOW, "a group is not a resident"
    assert await doors[1].shared_verdict(5, True, 150, tap=False) is None, "a replay, dropped as before"
    groups = [await doors[n % 2].shared_group_reply(-7) for n in range(Door.GROUP_REPLIES_PER_MINUTE + 2)]
    assert groups == [Verdict.ALLOW] * Door.GROUP_REPLIES_PER_MINUTE + [Verdict.SLOW_DOWN, Verdict.DROP]

    now[0] += 60  # the next minute: room again, and a notice again once it is full
    typed = [await doors[n % 2].shared_verdict(5, True, 300 + n, tap=False) for n in range(22)]
    assert typed == [Verdict.ALLOW] * 20 + [Verdict.SLOW_DOWN, Verdict.DROP]
    counts = FloodCounts(workers.a.connection)
    names = [str(name) for (name,) in await workers.a.connection.execute_fetchall("SELECT name FROM flood_counts")]
    assert {name.split(":")[0] for name in names} == {"messages", "taps", "group"}
    assert all(len(name.split(":")[1]) == 32 for name in names), "a keyed hash, never the chat id"
    assert await counts.forget_before(int(now[0] // 60)) == 4, "the past minute's: 5's typed and taps, 6's, -7's"
    assert await workers.a.connection.execute_fetchall("SELECT COUNT(*) FROM flood_counts") == [(1,)]


def test_one_worker_keeps_the_flood_guard_in_memory() -> None:
    assert Door().shared is None
