"""End to end, the real `haveyoursay run` in the several-workers mode (HAVEYOURSAY_WORKERS=several).

One process at a time on SQLite stands for the workers here: the sender is killed mid-broadcast
and the next worker takes the sender lease over once it has run out. Waits are on the fake's
conditions, never on sleeps.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from storage.deliveries import FINAL_STATES
from tests.e2e_support import BotProcess, free_port, haveyoursay
from tests.fake_telegram import FakeTelegram, RateLimits
from tests.test_e2e_delivery import SHOWN, broadcast_states, seed_broadcast, started_user
from tests.test_e2e_webhook import SECRET, post, start_update, wait_until_listening

RATE = 8


def start_worker(bot: BotProcess, port: int) -> None:
    log = bot.log_path.open("ab")
    bot.process = subprocess.Popen([haveyoursay(), "run"], env=bot.env, cwd=bot.workdir, stdout=log, stderr=log)
    wait_until_listening(port)


def test_a_sender_killed_mid_broadcast_is_taken_over_and_each_resident_reached(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    officer = started_user(fake, "Officer")
    residents = [started_user(fake, f"Resident {n}") for n in range(30)]
    fake.set_rate_limits(RateLimits(per_chat_per_second=1, per_group_per_minute=20, global_per_second=RATE))
    port = free_port()
    bot = BotProcess(
        fake,
        tmp_path,
        HAVEYOURSAY_WEBHOOK_URL="https://bot.example.org/telegram",
        HAVEYOURSAY_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        HAVEYOURSAY_WEBHOOK_SECRET=SECRET,
        HAVEYOURSAY_WEB="off",
        HAVEYOURSAY_WORKERS="several",
        HAVEYOURSAY_SEND_RATE=str(RATE),
    )
    asyncio.run(seed_broadcast(bot.database, officer, residents))
    try:
        start_worker(bot, port)
        fake.wait_for_sent(len(residents) // 3, timeout=30)
        bot.kill()
        assert len(fake.calls_to("sendMessage")) < len(residents), "killed part-way through"
        assert [holder for (holder,) in bot.query("SELECT holder FROM leases")] != [], "the dead sender's lease"

        start_worker(bot, port)
        report = fake.wait_for_message(officer.id, since=0, predicate=lambda m: "has finished" in m.text, timeout=60)
        assert "#1" in report.text
        during_the_broadcast = list(fake.rate_limited)
        # A resident's update still goes through this worker's webhook. (Her reply may meet the window the
        # broadcast's last second filled: a reply waits out such a short flood wait, bot/outbox.py send_reply.)
        ada = started_user(fake, "Ada")
        mark = fake.mark(ada.id)
        assert post(port, start_update(1, ada.id), secret=SECRET) == 200
        assert "Your privacy" in fake.wait_for_message(ada.id, since=mark).text
    finally:
        bot.stop()

    states = broadcast_states(bot)
    assert set(states) == {user.id for user in residents}
    assert set(states.values()) <= set(FINAL_STATES) - {"failed", "unreachable", "expired"}
    for user in residents:
        received = [message.text for message in fake.messages(user.id)]
        allowed = 2 if states[user.id] == "uncertain" else 1
        assert received[:1] == [SHOWN] and len(received) <= allowed, (user.id, states[user.id], received)
    assert during_the_broadcast == [], "the sender kept the fake's strict limits"
    assert bot.query("SELECT COUNT(*) FROM leases") == [(0,)], "given up at a clean stop"
    jobs = {job for (job,) in bot.query("SELECT job FROM ticks")}
    assert {"openings", "reminders", "retention"} <= jobs
    assert "Traceback" not in bot.log() and fake.token not in bot.log()
