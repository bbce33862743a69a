"""The delivery worker in-process against the fake Bot API, on a real SQLite file.

Every test checks the final state of each delivery and what each chat received. Nothing
sleeps for timing: the worker runs until its queue is empty, or a test waits on the fake's
conditions with a timeout. Retries use backoffs of a few milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import Bot
from telegram.error import TimedOut
from telegram.request import HTTPXRequest

from bot.delivery import GROUP_LIMIT, GROUP_WINDOW_SECONDS, DeliveryWorker, Pacer
from storage import Database, open_database
from storage.deliveries import PRIORITY_BROADCAST, PRIORITY_NOTICE, PRIORITY_REMINDER, PRIORITY_REPLY, NewDelivery
from tests.fake_telegram import FakeTelegram, FakeUser, RateLimits

TINY_BACKOFF = (0.01, 0.01, 0.01, 0.01)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Setup:
    fake: FakeTelegram
    bot: Bot
    db: Database

    async def resident(self, name: str = "Amina") -> FakeUser:
        """A fake account that has started the bot, and its resident row."""
        user = self.fake.add_user(name)
        self.fake.mark_started(user)
        await self.db.residents.acknowledge(user.id, "en", utc_now(), None)
        return user

    async def queue(self, chat_id: int, text: str, priority: int = PRIORITY_NOTICE, **extra: Any) -> int:
        return await self.db.deliveries.enqueue([NewDelivery(chat_id, "notice", priority, text, **extra)], utc_now())

    def worker(self, **options: Any) -> DeliveryWorker:
        settings: dict[str, Any] = {"clock": utc_now, "backoff_seconds": TINY_BACKOFF, "hold_first_window": False}
        return DeliveryWorker(self.bot, self.db, **(settings | options))

    async def outcome(self) -> dict[str, tuple[str, str | None]]:
        """Each delivery's text -> (state, last error)."""
        async with self.db.connection.execute("SELECT text, state, last_error FROM deliveries") as cursor:
            return {str(text): (str(state), error) for text, state, error in await cursor.fetchall()}

    def received(self, user: FakeUser) -> list[str]:
        return [message.text for message in self.fake.messages(user.id)]

    def requests_to(self, chat_id: int) -> list[int]:
        """The HTTP status of every sendMessage to the chat, in order."""
        return [call.status for call in self.fake.calls_to("sendMessage") if call.params["chat_id"] == str(chat_id)]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def setup(fake: FakeTelegram, database_target: str) -> AsyncIterator[Setup]:
    """The delivery worker on SQLite, then on PostgreSQL."""
    async with Bot(fake.token, base_url=fake.base_url) as bot, open_database(database_target) as db:
        yield Setup(fake, bot, db)


async def test_queued_messages_are_sent_with_their_buttons(setup: Setup) -> None:
    amina, bashir = await setup.resident("Amina"), await setup.resident("Bashir")
    buttons = [[{"label": "Take part", "data": "c:open:gp"}]]
    await setup.queue(amina.id, "A <b>new</b> consultation", buttons=buttons)
    await setup.queue(bashir.id, "Another notice")

    worker = setup.worker()
    await worker.run_until_empty()

    assert await setup.outcome() == {"A <b>new</b> consultation": ("sent", None), "Another notice": ("sent", None)}
    assert setup.received(amina) == ["A new consultation"] and setup.received(bashir) == ["Another notice"]
    assert setup.fake.last_message(amina.id).labels == ["Take part"]
    assert worker.stats.sent == 2


async def test_a_flood_wait_pauses_all_sending_then_the_message_goes(setup: Setup) -> None:
    first, second, third = [await setup.resident(name) for name in ("First", "Second", "Third")]
    await setup.queue(first.id, "urgent", PRIORITY_REPLY)
    await setup.queue(second.id, "later one", PRIORITY_BROADCAST)
    await setup.queue(third.id, "later two", PRIORITY_BROADCAST)
    setup.fake.fail_next("sendMessage", chat_id=first.id, error_code=429, retry_after=1)

    # One request at a time, so that the two waiting deliveries could go during the pause if it leaked.
    worker = setup.worker(max_in_flight=1)
    await worker.run_until_empty()

    calls = setup.fake.calls_to("sendMessage")
    assert [(c.params["chat_id"], c.status) for c in calls] == [
        (str(first.id), 429),
        (str(first.id), 200),
        (str(second.id), 200),
        (str(third.id), 200),
    ]
    assert calls[1].at - calls[0].at >= 1.0, "nothing may be sent during the flood wait"
    assert await setup.outcome() == {"urgent": ("sent", None), "later one": ("sent", None), "later two": ("sent", None)}
    async with setup.db.connection.execute("SELECT attempts FROM deliveries WHERE text = 'urgent'") as cursor:
        assert await cursor.fetchone() == (1,), "a flood wait is not a failed attempt"
    assert worker.stats.rate_limited == 1


async def test_a_resident_who_blocked_the_bot_becomes_unreachable_with_all_their_messages(setup: Setup) -> None:
    blocker, other = await setup.resident("Blocker"), await setup.resident("Other")
    setup.fake.block(blocker)
    await setup.queue(blocker.id, "first to blocker", PRIORITY_REMINDER)
    await setup.queue(blocker.id, "second to blocker", PRIORITY_BROADCAST)
    await setup.queue(other.id, "to other", PRIORITY_BROADCAST)

    await setup.worker().run_until_empty()

    outcome = await setup.outcome()
    assert outcome["first to blocker"] == ("unreachable", "Forbidden: bot was blocked by the user")
    assert outcome["second to blocker"][0] == "unreachable"
    assert outcome["to other"] == ("sent", None)
    assert setup.requests_to(blocker.id) == [403], "the second message is never requested"
    resident = await setup.db.residents.get(blocker.id)
    assert resident is not None and resident.unreachable


async def test_a_user_who_never_started_the_bot_is_unreachable(setup: Setup) -> None:
    stranger = setup.fake.add_user("Stranger")
    await setup.queue(stranger.id, "hello")

    await setup.worker().run_until_empty()

    assert await setup.outcome() == {"hello": ("unreachable", "Forbidden: bot can't initiate conversation with a user")}


async def test_an_unknown_chat_fails_with_telegrams_reason(setup: Setup) -> None:
    await setup.queue(424242, "to nowhere")

    await setup.worker().run_until_empty()

    assert await setup.outcome() == {"to nowhere": ("failed", "Chat not found")}


async def test_a_server_error_is_retried_and_the_message_sent(setup: Setup) -> None:
    amina = await setup.resident()
    await setup.queue(amina.id, "retry me")
    setup.fake.fail_next("sendMessage", chat_id=amina.id, error_code=500)

    worker = setup.worker()
    await worker.run_until_empty()

    assert await setup.outcome() == {"retry me": ("sent", None)}
    assert setup.requests_to(amina.id) == [500, 200]
    assert setup.received(amina) == ["retry me"] and worker.stats.retried == 1


async def test_an_outage_longer_than_five_tries_delays_every_delivery_and_fails_none(setup: Setup) -> None:
    users = [await setup.resident(f"Resident {n}") for n in range(6)]
    for user in users:
        await setup.queue(user.id, f"notice for {user.first_name}", PRIORITY_BROADCAST)
    # Telegram answers 502 to the next 60 sends, whoever they are for: ten failed tries a delivery.
    setup.fake.fail_next("sendMessage", error_code=502, count=60)
    worker = setup.worker()
    await worker.run_until_empty()

    outcome = await setup.outcome()
    assert {state for state, _ in outcome.values()} == {"sent"}, outcome
    assert all(setup.received(user) == [f"notice for {user.first_name}"] for user in users)
    assert len([c for c in setup.fake.calls_to("sendMessage") if c.status == 502]) == 60
    assert worker.stats.failed == 0 and worker.stats.retried == 60


class SteppingClock:
    """A clock that moves on `step` each time it is read: hours of retries without sleeping."""

    def __init__(self, step: timedelta) -> None:
        self.now = utc_now()
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


async def test_an_outage_fails_a_delivery_only_after_the_retry_deadline(setup: Setup) -> None:
    amina = await setup.resident()
    await setup.queue(amina.id, "doomed")
    setup.fake.fail_next("sendMessage", chat_id=amina.id, error_code=500, count=1000)

    clock = SteppingClock(timedelta(minutes=2))
    await setup.worker(clock=clock, retry_for=timedelta(hours=3)).run_until_empty()

    state, error = (await setup.outcome())["doomed"]
    assert state == "failed" and error is not None and error.endswith("Internal Server Error")
    tries = setup.requests_to(amina.id)
    assert tries == [500] * len(tries) and len(tries) > 5, "tried through three hours, not five times"
    assert setup.received(amina) == []


async def test_a_notice_waiting_out_an_outage_expires_at_the_consultations_close(setup: Setup) -> None:
    amina = await setup.resident()
    await setup.queue(amina.id, "closing soon", expires_at=utc_now() + timedelta(hours=1))
    setup.fake.fail_next("sendMessage", chat_id=amina.id, error_code=503, count=1000)

    clock = SteppingClock(timedelta(minutes=10))
    await setup.worker(clock=clock, retry_for=timedelta(hours=12)).run_until_empty()

    assert (await setup.outcome())["closing soon"] == ("expired", "too late to send")
    assert setup.received(amina) == []


async def test_bad_html_fails_one_delivery_and_the_others_go(setup: Setup) -> None:
    users = [await setup.resident(name) for name in ("A", "B", "C")]
    await setup.queue(users[0].id, "fine one")
    await setup.queue(users[1].id, "<b>never closed")
    await setup.queue(users[2].id, "fine two")

    await setup.worker().run_until_empty()

    outcome = await setup.outcome()
    assert outcome["fine one"] == ("sent", None) and outcome["fine two"] == ("sent", None)
    state, error = outcome["<b>never closed"]
    assert state == "failed" and error is not None and error.startswith("Can't parse entities")
    assert setup.received(users[1]) == []


async def test_deliveries_go_in_order_of_priority_then_of_queueing(setup: Setup) -> None:
    queued = [
        ("broadcast 1", PRIORITY_BROADCAST),
        ("notice", PRIORITY_NOTICE),
        ("broadcast 2", PRIORITY_BROADCAST),
        ("reminder", PRIORITY_REMINDER),
        ("reply", PRIORITY_REPLY),
    ]
    chats = {}
    for text, priority in queued:
        chats[(await setup.resident(text)).id] = text
        await setup.queue(next(reversed(chats)), text, priority)

    await setup.worker(max_in_flight=1).run_until_empty()

    order = [chats[int(call.params["chat_id"])] for call in setup.fake.calls_to("sendMessage")]
    assert order == ["reply", "reminder", "notice", "broadcast 1", "broadcast 2"]


async def test_civil_hours_deliveries_wait_for_civil_hours(setup: Setup) -> None:
    amina, bashir = await setup.resident("Amina"), await setup.resident("Bashir")
    await setup.queue(amina.id, "reminder", PRIORITY_REMINDER, civil_only=True)
    await setup.queue(bashir.id, "notice")
    civil = False

    worker = setup.worker(in_civil_hours=lambda _now: civil)
    await worker.run_until_empty()

    assert await setup.outcome() == {"reminder": ("waiting", None), "notice": ("sent", None)}
    assert setup.requests_to(amina.id) == []

    civil = True
    await worker.run_until_empty()
    assert await setup.outcome() == {"reminder": ("sent", None), "notice": ("sent", None)}
    assert setup.received(amina) == ["reminder"]


async def test_an_expired_delivery_is_never_requested(setup: Setup) -> None:
    amina, bashir = await setup.resident("Amina"), await setup.resident("Bashir")
    await setup.queue(amina.id, "too late", PRIORITY_REMINDER, expires_at=utc_now() - timedelta(minutes=1))
    await setup.queue(bashir.id, "in time", PRIORITY_REMINDER, expires_at=utc_now() + timedelta(hours=1))

    await setup.worker().run_until_empty()

    assert await setup.outcome() == {"too late": ("expired", "too late to send"), "in time": ("sent", None)}
    assert setup.requests_to(amina.id) == []


async def test_a_dedupe_key_queues_a_message_once(setup: Setup) -> None:
    amina = await setup.resident()
    assert await setup.queue(amina.id, "reminder", dedupe_key="reminder:gp:1") == 1
    assert await setup.queue(amina.id, "reminder", dedupe_key="reminder:gp:1") == 0

    await setup.worker().run_until_empty()

    assert setup.received(amina) == ["reminder"] and await setup.outcome() == {"reminder": ("sent", None)}


async def test_after_a_crash_deliveries_in_flight_are_sent_again_as_uncertain(setup: Setup) -> None:
    reached, lost, untouched = [await setup.resident(name) for name in ("Reached", "Lost", "Untouched")]
    for user in (reached, lost, untouched):
        await setup.queue(user.id, f"to {user.first_name}")
    # The crashed process had claimed two deliveries; one request reached Telegram, one did not.
    claimed = await setup.db.deliveries.due(utc_now(), 2, civil=True)
    for delivery in claimed:
        assert await setup.db.deliveries.mark_sending(delivery.id)
    await setup.bot.send_message(reached.id, "to Reached")

    await setup.worker(hold_first_window=True).run_until_empty()

    assert await setup.outcome() == {
        "to Reached": ("uncertain", None),
        "to Lost": ("uncertain", None),
        "to Untouched": ("sent", None),
    }
    assert setup.received(reached) == ["to Reached", "to Reached"]
    assert setup.received(lost) == ["to Lost"] and setup.received(untouched) == ["to Untouched"]


class TimingOutRequest(HTTPXRequest):
    """Times out on the first send, where a real timeout arises: in the request layer (bot/outbox.py
    calls the request object, not the bot's methods)."""

    def __init__(self, error: TimedOut) -> None:
        super().__init__()
        self._error: TimedOut | None = error

    async def post(self, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.endswith("/sendMessage") and self._error is not None:
            error, self._error = self._error, None
            raise error
        return await super().post(url, *args, **kwargs)


class TimingOutBot(Bot):
    """Times out on the first send, with a timeout that the request may or may not have survived."""

    def __init__(self, token: str, base_url: str, error: TimedOut) -> None:
        super().__init__(token, base_url=base_url, request=TimingOutRequest(error))


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (TimedOut(), "uncertain"),  # a read timeout: Telegram may have the first one
        (TimedOut("Pool timeout: All connections in the connection pool are occupied."), "sent"),  # never left
    ],
)
async def test_a_timeout_is_retried_and_marked_when_it_may_have_been_delivered(
    fake: FakeTelegram, database_target: str, error: TimedOut, state: str
) -> None:
    async with (
        TimingOutBot(fake.token, fake.base_url, error) as bot,
        open_database(database_target) as db,
    ):
        setup = Setup(fake, bot, db)
        amina = await setup.resident()
        await setup.queue(amina.id, "slow network")

        await setup.worker().run_until_empty()

        assert await setup.outcome() == {"slow network": (state, None)}
        assert setup.received(amina) == ["slow network"]


async def test_the_running_worker_picks_up_new_deliveries_and_survives_a_failing_check(setup: Setup) -> None:
    amina = await setup.resident()
    checks = 0

    async def failing_check() -> None:
        nonlocal checks
        checks += 1
        raise RuntimeError("the report query broke")

    worker = setup.worker(after_round=failing_check)
    task = asyncio.create_task(worker.run())
    await setup.queue(amina.id, "while running")
    worker.wake()
    await asyncio.to_thread(setup.fake.wait_for_message, amina.id, timeout=5)
    worker.stop()
    await asyncio.wait_for(task, 5)

    assert await setup.outcome() == {"while running": ("sent", None)} and checks >= 1


async def test_two_messages_to_one_chat_are_a_second_apart_under_strict_limits(setup: Setup) -> None:
    setup.fake.set_rate_limits(RateLimits(per_chat_per_second=1, global_per_second=30))
    amina = await setup.resident()
    await setup.queue(amina.id, "first", PRIORITY_REPLY)
    await setup.queue(amina.id, "second", PRIORITY_NOTICE)

    await setup.worker().run_until_empty()

    calls = setup.fake.calls_to("sendMessage")
    assert [c.status for c in calls] == [200, 200] and calls[1].at - calls[0].at >= 1.0
    assert setup.fake.rate_limited == [] and setup.received(amina) == ["first", "second"]


# The pacer's arithmetic, on made-up times.


def test_the_pacer_counts_a_send_until_one_window_after_its_answer() -> None:
    pacer = Pacer(per_window=2, window=1.0)
    assert pacer.overall_wait(10.0) == 0
    pacer.started(1, 10.0)
    assert pacer.overall_wait(10.0) == pytest.approx(0.5), "sends are spread over the window"
    pacer.started(2, 10.5)
    assert pacer.overall_wait(10.5) is None, "both places are taken by requests in flight"
    pacer.finished(1, 10.6)
    pacer.finished(2, 10.7)
    assert pacer.overall_wait(10.8) == pytest.approx(0.802), "until the first answer is a window old"
    assert pacer.overall_wait(11.61) == 0


def chat_ready(pacer: Pacer, chat_id: int, now: float) -> bool:
    """Whether the worker would pick a message for this chat now: it skips the chats the pacer says are cooling."""
    return chat_id not in pacer.cooling(now)


def test_the_pacer_keeps_a_chat_a_second_apart_only_after_a_delivered_message() -> None:
    pacer = Pacer(per_window=30, window=1.0)
    pacer.started(7, 9.9)
    assert not chat_ready(pacer, 7, 10.0) and pacer.cooling(10.0) == {7: float("inf")}
    pacer.finished(7, 10.0)
    assert not chat_ready(pacer, 7, 10.9) and chat_ready(pacer, 7, 11.01)
    pacer.started(8, 9.9)
    pacer.finished(8, 10.0, delivered=False)
    assert chat_ready(pacer, 8, 10.0)


def test_the_pacer_keeps_a_group_to_twenty_messages_a_minute() -> None:
    pacer = Pacer(per_window=30, window=1.0)
    group = -400_000_001
    for second in range(GROUP_LIMIT):
        pacer.started(group, 99.0 + second * 1.5)
        pacer.finished(group, 100.0 + second * 1.5)
    last = 100.0 + (GROUP_LIMIT - 1) * 1.5
    assert not chat_ready(pacer, group, last + 2)
    assert chat_ready(pacer, group, 100.0 + GROUP_WINDOW_SECONDS + 0.01)


def test_the_pacer_allows_the_requests_in_flight_that_the_quickest_recent_latency_needs() -> None:
    pacer = Pacer(per_window=300, window=1.0)
    assert pacer.allowed_in_flight == 4, "before any answer is timed"
    pacer.started(1, 10.0)
    pacer.finished(1, 10.1, took=0.1)
    assert pacer.allowed_in_flight == 62, "300 a second at 100 ms: 30 in flight, doubled, and two spare"
    pacer.started(2, 10.2)
    pacer.finished(2, 10.202, took=0.002)
    pacer.started(3, 10.3)
    pacer.finished(3, 10.5, took=0.2)
    assert pacer.allowed_in_flight == 4, "slow answers from a busy process do not raise the limit again"


def test_the_pacer_holds_everything_during_a_pause() -> None:
    pacer = Pacer(per_window=30, window=1.0)
    pacer.pause(12.0)
    assert pacer.overall_wait(10.0) == pytest.approx(2.0)
    assert pacer.overall_wait(12.0) == 0
