"""End to end: the real `haveyoursay run` process sends a broadcast through the fake Bot API.

The broadcast and its deliveries are written through the storage API before the bot starts,
as /broadcast would write them. The fake enforces strict sliding-window limits, so a single
429 would show. The waits are on the fake's conditions, never on sleeps.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from storage import open_database
from storage.deliveries import FINAL_STATES, PRIORITY_BROADCAST, NewDelivery
from tests.e2e_support import BotProcess, Resident
from tests.fake_telegram import FakeTelegram, FakeUser, RateLimits

NOTICE = "The <b>Sheppey</b> drop-in moves to Thursday."
SHOWN = "The Sheppey drop-in moves to Thursday."
RATE = 8  # messages a second, for the bot and the fake alike: 40 messages take about five seconds


def started_user(fake: FakeTelegram, name: str) -> FakeUser:
    """An account that wrote to the bot before the test began."""
    user = fake.add_user(name)
    fake.mark_started(user)
    return user


async def seed_broadcast(database: str | Path, officer: FakeUser, residents: list[FakeUser]) -> None:
    """Residents and one broadcast to all of them, queued as the officer's /broadcast queues it."""
    now = datetime.now(UTC)
    async with open_database(database) as db:
        for user in residents:
            await db.residents.acknowledge(user.id, "en", now, None)
        async with db.transaction():
            broadcast = await db.broadcasts.create(officer.id, {"en": NOTICE}, None, {}, len(residents), now)
            deliveries = [
                NewDelivery(user.id, "broadcast", PRIORITY_BROADCAST, NOTICE, broadcast_id=broadcast)
                for user in residents
            ]
            await db.deliveries.enqueue(deliveries, now)


def start_sending(bot: BotProcess, fake: FakeTelegram, officer: FakeUser, residents: list[FakeUser]) -> None:
    fake.set_rate_limits(RateLimits(per_chat_per_second=1, per_group_per_minute=20, global_per_second=RATE))
    asyncio.run(seed_broadcast(bot.database_url or bot.database, officer, residents))
    bot.env["HAVEYOURSAY_SEND_RATE"] = str(RATE)
    bot.start()


def wait_for_the_final_report(bot: BotProcess, fake: FakeTelegram, officer: FakeUser) -> None:
    """The officer's report is queued only once every delivery of the broadcast has ended."""
    report = fake.wait_for_message(officer.id, since=0, predicate=lambda m: "has finished" in m.text, timeout=60)
    assert "#1" in report.text
    bot.stop()  # a clean stop: whatever is in flight is answered and recorded first


def broadcast_states(bot: BotProcess) -> dict[int, str]:
    rows = bot.query("SELECT chat_id, state FROM deliveries WHERE broadcast_id = 1")
    assert len(rows) == len({chat_id for chat_id, _ in rows}), "one delivery per resident"
    return {int(chat_id): str(state) for chat_id, state in rows}


def test_a_broadcast_interrupted_by_a_crash_reaches_everyone_once(bot: BotProcess, fake: FakeTelegram) -> None:
    officer = started_user(fake, "Officer")
    residents = [started_user(fake, f"Resident {n}") for n in range(40)]
    start_sending(bot, fake, officer, residents)

    fake.wait_for_sent(len(residents) // 3, timeout=30)
    bot.kill()
    assert len(fake.calls_to("sendMessage")) < len(residents), "the crash came part-way through"
    bot.start()
    wait_for_the_final_report(bot, fake, officer)

    states = broadcast_states(bot)
    assert set(states) == {user.id for user in residents}
    assert set(states.values()) <= set(FINAL_STATES) - {"failed", "unreachable", "expired"}
    for user in residents:
        received = [message.text for message in fake.messages(user.id)]
        allowed = 2 if states[user.id] == "uncertain" else 1
        assert received[:1] == [SHOWN] and len(received) <= allowed, (user.id, states[user.id], received)
    assert fake.rate_limited == [], "the bot kept under every limit, across the restart too"
    assert bot.query("SELECT COUNT(*) FROM deliveries WHERE state IN ('waiting', 'sending')") == [(0,)]


def test_each_of_telegrams_answers_ends_its_delivery_in_the_right_state(
    bot: BotProcess, fake: FakeTelegram, database_target: str
) -> None:
    officer = started_user(fake, "Officer")
    names = ["flooded", "blocked", "not found", "server error", "fine"]
    users = {name: started_user(fake, name) for name in names}
    fake.fail_next("sendMessage", chat_id=users["flooded"].id, error_code=429, retry_after=1)
    fake.block(users["blocked"])
    not_found = "Bad Request: chat not found"
    fake.fail_next("sendMessage", chat_id=users["not found"].id, error_code=400, description=not_found)
    fake.fail_next("sendMessage", chat_id=users["server error"].id, error_code=500)
    start_sending(bot, fake, officer, list(users.values()))

    wait_for_the_final_report(bot, fake, officer)

    states = broadcast_states(bot)
    assert {name: states[user.id] for name, user in users.items()} == {
        "flooded": "sent",
        "blocked": "unreachable",
        "not found": "failed",
        "server error": "sent",
        "fine": "sent",
    }
    answers = Counter(
        (int(call.params["chat_id"]), call.status)
        for call in fake.calls_to("sendMessage")
        if int(call.params["chat_id"]) != officer.id
    )
    assert answers == Counter(
        {
            (users["flooded"].id, 429): 1,
            (users["flooded"].id, 200): 1,
            (users["blocked"].id, 403): 1,
            (users["not found"].id, 400): 1,
            (users["server error"].id, 500): 1,
            (users["server error"].id, 200): 1,
            (users["fine"].id, 200): 1,
        }
    )
    assert bot.query("SELECT unreachable_at IS NOT NULL FROM residents WHERE chat_id = ?", users["blocked"].id) == [
        (1,)
    ]
    assert bot.query("SELECT last_error FROM deliveries WHERE chat_id = ?", users["not found"].id) == [
        ("Chat not found",)
    ]
    assert fake.rate_limited == []

    # Writing to the bot again makes a resident who had blocked it reachable.
    bot.start()
    fake.unblock(users["blocked"])
    Resident(fake, users["blocked"]).say("/start", expect="Welcome")
    assert bot.query("SELECT unreachable_at FROM residents WHERE chat_id = ?", users["blocked"].id) == [(None,)]
