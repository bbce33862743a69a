"""Benchmark: a broadcast to 10,000 residents through the real DeliveryWorker and the fake Bot API.

    python bench/broadcast.py [--residents 10000] [--rate 30] [--fake-limit RATE] [--second-every 10]

The fake runs in a child process (as Telegram is another machine: it does not share our
interpreter lock) and enforces strict sliding windows: one message a second per chat and
`--fake-limit` (by default `--rate`) a second overall. Every resident gets one message;
every `--second-every`th also gets a second one queued right behind the first, so the
worker must space two messages to the same chat while it keeps everyone else going.

Reported: the achieved rate as a fraction of the limit (target at least 0.95), the number
of 429 answers (target 0), the most messages any chat got within one second (at most 1),
the wall time and the peak resident memory of the worker's process and of the fake's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import platform
import resource
import statistics
import sys
import tempfile
import time
from bisect import bisect_left
from collections import defaultdict
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402

from bot.delivery import DeliveryWorker  # noqa: E402
from storage import open_database  # noqa: E402
from storage.deliveries import PRIORITY_BROADCAST, NewDelivery  # noqa: E402

NOTICE = "The <b>Sheppey</b> drop-in moves to Thursday. Tap below to tell us what you think."


def serve_fake(connection: Connection, residents: int, global_limit: int) -> None:
    """The child process: a fake Bot API with strict limits and `residents` accounts that have started the bot."""
    sys.path.insert(0, str(ROOT))
    from tests.fake_telegram import FakeTelegram, RateLimits

    # The fake keeps every request and message it has seen, so Python's cyclic collector would
    # scan an ever larger heap and stall the server for 100 ms and more every few seconds,
    # which Telegram does not do. Reference counting still frees the rest.
    gc.disable()
    fake = FakeTelegram().start()
    users = [fake.add_user(f"Resident {n}") for n in range(residents)]
    for user in users:
        fake.mark_started(user)
    fake.set_rate_limits(RateLimits(per_chat_per_second=1, per_group_per_minute=20, global_per_second=global_limit))
    connection.send({"base_url": fake.base_url, "token": fake.token, "chat_ids": [u.id for u in users]})
    connection.recv()  # the worker has finished
    connection.send(summarise_fake(fake.calls_to("sendMessage"), len(fake.rate_limited)))
    fake.stop()


def summarise_fake(calls: list[Any], rate_limited: int) -> dict[str, Any]:
    """What the fake saw: when each message went to which chat, and every 429."""
    sent = sorted((call.at, int(call.params["chat_id"])) for call in calls if call.status == 200)
    by_chat: dict[int, list[float]] = defaultdict(list)
    for at, chat_id in sent:
        by_chat[chat_id].append(at)
    return {
        "sent": len(sent),
        "first": sent[0][0] if sent else 0.0,
        "last": sent[-1][0] if sent else 0.0,
        "status_429": sum(1 for call in calls if call.status == 429),
        "rate_limited": rate_limited,
        "max_per_chat_per_second": max((most_within(times, 1.0) for times in by_chat.values()), default=0),
        "max_overall_per_second": most_within([at for at, _ in sent], 1.0),
        "per_whole_second": per_whole_second([at for at, _ in sent]),
        "fake_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def per_whole_second(times: list[float]) -> list[int]:
    """Messages in each whole second from the first one (the last, partial second left out)."""
    if not times:
        return []
    counts = [0] * (int(times[-1] - times[0]) + 1)
    for at in times:
        counts[int(at - times[0])] += 1
    return counts[:-1]


def most_within(times: list[float], window: float) -> int:
    """The most sends in any half-open window [t, t + window), as Telegram's strict window counts."""
    best = 0
    for i, start in enumerate(times):
        best = max(best, bisect_left(times, start + window, lo=i) - i)
    return best


async def seed(database: Path, chat_ids: list[int], second_every: int) -> int:
    """Residents and a broadcast, queued as /broadcast queues it; returns how many messages."""
    now = datetime.now(UTC)
    async with open_database(database) as db, db.transaction():
        for chat_id in chat_ids:
            await db.residents.acknowledge(chat_id, "en", now, None)
        broadcast = await db.broadcasts.create(1, {"en": NOTICE}, None, {}, len(chat_ids), now)
        buttons = [[{"label": "Take part", "data": "c:open:bench"}]]
        deliveries = []
        for n, chat_id in enumerate(chat_ids):
            deliveries.append(NewDelivery(chat_id, "broadcast", PRIORITY_BROADCAST, NOTICE, buttons, broadcast))
            if second_every and n % second_every == 0:
                deliveries.append(NewDelivery(chat_id, "broadcast", PRIORITY_BROADCAST, "And one more thing."))
        return await db.deliveries.enqueue(deliveries, now)


async def send_all(base_url: str, token: str, database: Path, rate: float) -> dict[str, Any]:
    async with Bot(token, base_url=base_url) as bot, open_database(database) as db:
        worker = DeliveryWorker(bot, db, rate_per_second=rate, clock=lambda: datetime.now(UTC))
        started = time.monotonic()
        cpu = time.process_time()
        await worker.run_until_empty()
        wall = time.monotonic() - started
        states = await db.deliveries.states()
    finals: dict[str, int] = defaultdict(int)
    for state in states.values():
        finals[state] += 1
    return {
        "wall_seconds": wall,
        "worker_cpu_seconds": time.process_time() - cpu,
        "states": dict(finals),
        "worker_rate_limited": worker.stats.rate_limited,
    }


def run(residents: int, rate: float, fake_limit: int, second_every: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=serve_fake, args=(theirs, residents, fake_limit), daemon=True)
    child.start()
    fake = ours.recv()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        queued = asyncio.run(seed(database, fake["chat_ids"], second_every))
        result = asyncio.run(send_all(fake["base_url"], fake["token"], database, rate))
    ours.send("done")
    seen = ours.recv()
    child.join(30)
    # The worker spreads its sends evenly, so the rate is the number of gaps over the time they span.
    span = seen["last"] - seen["first"]
    achieved = (seen["sent"] - 1) / span if span > 0 else 0.0
    return {
        "residents": residents,
        "messages": queued,
        "rate": rate,
        "fake_limit": fake_limit,
        "achieved_per_second": round(achieved, 2),
        "fraction_of_limit": round(achieved / fake_limit, 4),
        "answers_429": seen["status_429"],
        "max_per_chat_per_second": seen["max_per_chat_per_second"],
        "max_overall_per_second": seen["max_overall_per_second"],
        "median_per_second": statistics.median(seen["per_whole_second"] or [0]),
        "slowest_second": min(seen["per_whole_second"] or [0]),
        "sent": seen["sent"],
        "states": result["states"],
        "wall_seconds": round(result["wall_seconds"], 1),
        "worker_cpu_seconds": round(result["worker_cpu_seconds"], 1),
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "fake_peak_rss_mb": round(seen["fake_peak_rss_mb"], 1),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0, help="the worker's messages per second")
    parser.add_argument("--fake-limit", type=int, help="the fake's overall limit per second (default: --rate)")
    parser.add_argument(
        "--second-every", type=int, default=10, help="every Nth resident gets a second message (0: none)"
    )
    args = parser.parse_args(argv)
    fake_limit = args.fake_limit or int(args.rate)
    report = run(args.residents, args.rate, fake_limit, args.second_every)
    print(json.dumps(report, indent=2))
    ok = report["fraction_of_limit"] >= 0.95 and report["answers_429"] == 0 and report["max_per_chat_per_second"] <= 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
