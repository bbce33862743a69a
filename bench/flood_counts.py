"""What counting floods in the database costs (several workers; bot/guards.py, SharedFlood).

    python bench/flood_counts.py /tmp/bench.db                                  # SQLite
    python bench/flood_counts.py postgresql://postgres@127.0.0.1:5432/bench     # PostgreSQL
    [--updates 3000] [--concurrent 16] [--chats 300]

With one process the flood guard counts in memory. With several workers a resident's updates reach
every worker, so the count must be shared. Compared here, per update, in the same run:
- memory: the one process's guard (FloodGuard.check), for scale;
- upsert: one statement, a per-chat, per-minute counter upserted with RETURNING (what the bot does);
- log and count: one row a update inserted, then the chat's rows of the last minute counted
  (a sliding window, as the one process's guard; two statements, and a row per update to prune).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.guards import FloodGuard, SharedFlood
from storage import open_database
from storage.coordination import FloodCounts
from storage.sql import Connection

LOG = "CREATE TABLE IF NOT EXISTS bench_flood_log (name TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)"
LOG_INDEX = "CREATE INDEX IF NOT EXISTS bench_flood_log_name ON bench_flood_log(name, at)"


async def timed(updates: int, concurrent: int, chats: int, check: Callable[[int], Awaitable[object]]) -> list[float]:
    """Latency (ms) of each check, `concurrent` chats at a time."""
    latencies: list[float] = []
    queue = list(range(updates))

    async def runner() -> None:
        while queue:
            n = queue.pop()
            began = time.perf_counter()
            await check(1_000_000 + n % chats)
            latencies.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(runner() for _ in range(concurrent)))
    return latencies


def logged(db: Connection) -> Callable[[int], Awaitable[object]]:
    async def check(chat_id: int) -> object:
        now = time.time()
        name = f"messages:{chat_id}"
        await db.execute("INSERT INTO bench_flood_log(name, at) VALUES (?, ?)", (name, now))
        rows = await db.execute_fetchall(
            "SELECT COUNT(*) FROM bench_flood_log WHERE name = ? AND at > ?", (name, now - 60)
        )
        return list(rows)

    return check


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target")
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--concurrent", type=int, default=16)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    async with open_database(args.target) as db:
        await db.connection.execute(LOG)
        await db.connection.execute(LOG_INDEX)
        memory = FloodGuard(limit=10**9)
        shared = SharedFlood(FloodCounts(db.connection), db.pseudonym_key, 10**9, "messages")

        async def in_memory(chat_id: int) -> object:
            return memory.check(chat_id)

        ways: dict[str, Callable[[int], Awaitable[object]]] = {
            "memory": in_memory,
            "upsert": shared.check,
            "log and count": logged(db.connection),
        }
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, check in ways.items():
                began = time.perf_counter()
                latencies = await timed(args.updates, args.concurrent, args.chats, check)
                elapsed = time.perf_counter() - began
                latencies.sort()
                p99 = latencies[int(len(latencies) * 0.99) - 1]
                results[name].append((args.updates / elapsed, statistics.median(latencies), p99))
        await db.connection.execute("DROP TABLE bench_flood_log")
        await db.connection.execute("DELETE FROM flood_counts")
    print(
        f"{args.target.split('://')[0] if '://' in args.target else 'sqlite'}: {args.updates} updates, "
        f"{args.concurrent} at once, {args.chats} chats; medians of {args.rounds} rounds"
    )
    for name, rounds in results.items():
        rate = statistics.median(r[0] for r in rounds)
        median = statistics.median(r[1] for r in rounds)
        p99 = statistics.median(r[2] for r in rounds)
        print(f"  {name:14} {rate:10.0f} checks/s   median {median:7.3f} ms   p99 {p99:7.3f} ms")


if __name__ == "__main__":
    asyncio.run(main())
