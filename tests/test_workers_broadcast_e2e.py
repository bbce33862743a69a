"""End to end, three `haveyoursay run` workers on one PostgreSQL database send one broadcast to a
thousand residents (issue 16): once each, at the configured rate for the bot as a whole, no 429.

Telegram's limits apply to the bot, not to each process; the fake Bot API enforces them as strict
sliding windows (a 429 for any message beyond them), so a worker that sent on its own account,
or two senders at once, would draw 429s. The rate is set high (as for a paid broadcast) so that
the test sends a thousand in seconds; the one-a-second-per-chat limit stays Telegram's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram, RateLimits
from tests.test_e2e_delivery import SHOWN, broadcast_states, seed_broadcast, started_user
from tests.test_workers_postgres_e2e import Worker, running

pytestmark = pytest.mark.postgresql

RATE = 250  # messages a second: the bot's configured rate, and the fake's overall limit
RESIDENTS = 1000


def test_three_workers_send_a_broadcast_once_to_each_of_a_thousand_within_the_bots_limits(
    fake: FakeTelegram, tmp_path: Path, postgres_url: str
) -> None:
    officer = started_user(fake, "Officer")
    residents = [started_user(fake, f"Resident {n}") for n in range(RESIDENTS)]
    fake.set_rate_limits(RateLimits(per_chat_per_second=1, per_group_per_minute=20, global_per_second=RATE))
    workers = [Worker(fake, tmp_path / name, postgres_url, HAVEYOURSAY_SEND_RATE=str(RATE)) for name in ("a", "b", "c")]
    migrated = workers[0].bot.command("migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    asyncio.run(seed_broadcast(postgres_url, officer, residents))

    with running(workers):
        report = fake.wait_for_message(officer.id, since=0, predicate=lambda m: "has finished" in m.text, timeout=90)
        assert "#1" in report.text
        senders = [worker for worker in workers if "This worker is now the bot's sender" in worker.bot.log()]

    assert len(senders) == 1, "one sender for the bot"
    states = broadcast_states(workers[0].bot)
    assert set(states) == {user.id for user in residents}
    assert set(states.values()) == {"sent"}
    for user in residents:
        assert [message.text for message in fake.messages(user.id)] == [SHOWN], user.id
    assert fake.rate_limited == [], "the bot as a whole kept the fake's strict limits"
    for worker in workers:
        log = worker.bot.log()
        assert "Traceback" not in log and fake.token not in log
