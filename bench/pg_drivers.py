"""psycopg 3 (AsyncConnectionPool) against asyncpg on the bot's hot statements, on a local PostgreSQL.

    python bench/pg_drivers.py postgresql://postgres@127.0.0.1:5432/bench [--ops 3000] [--concurrent 16]

The database is migrated first (storage.open_database) and its rows of the benchmark removed
after. Each round runs, with `--concurrent` tasks sharing one pool of 8 connections, as many
"answers" as `--ops`: read the resident by id, save the response's progress (the UPSERT of
storage/responses.py), keep an update in the inbox (storage/updates.py). Rounds alternate
between the drivers and their settings, so a busy moment of the machine falls on all of them.

Settings compared:
- psycopg, no server-side prepared statements (prepare_threshold=None: what the bot uses; works
  behind PgBouncer in transaction mode).
- psycopg, prepared after 5 uses (psycopg's default).
- asyncpg with its statement cache (its default: prepared statements; behind PgBouncer in
  transaction mode they need PgBouncer >= 1.21 with max_prepared_statements, or no cache).
- asyncpg without its statement cache (statement_cache_size=0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import psycopg
from psycopg_pool import AsyncConnectionPool

from storage import open_database

READ = (
    "SELECT chat_id, language, area_id, onboarding_step, active_consultation_id, notices, reminders,"
    " unreachable_at IS NOT NULL, last_seen_at FROM residents WHERE chat_id = {0}"
)
SAVE = (
    "INSERT INTO responses(response_id, consultation_id, version, language, state, started_at, updated_at,"
    " current_question) VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7})"
    " ON CONFLICT(response_id) DO UPDATE SET state = excluded.state, language = excluded.language,"
    " updated_at = excluded.updated_at, current_question = excluded.current_question"
    " WHERE responses.submitted_at IS NULL RETURNING 1"
)
KEEP = (
    "INSERT INTO update_inbox(update_id, chat_id, data, received_at) VALUES ({0}, {1}, {2}, {3}) ON CONFLICT DO NOTHING"
)
STAMP = "2026-11-26T12:00:00+00:00"
CONSULTATION = "bench-drivers"
RESIDENTS = 300
POOL = 8

Answer = Callable[[int], Awaitable[None]]


def _marks(style: str, sql: str, count: int) -> str:
    return sql.format(*(["%s"] * count if style == "psycopg" else [f"${i + 1}" for i in range(count)]))


async def prepare(url: str) -> None:
    async with open_database(url) as db:
        await db.connection.execute(
            "INSERT INTO consultations(id, current_version, revision, opens, closes, updated_at)"
            " VALUES (?, 1, 1, ?, ?, ?) ON CONFLICT DO NOTHING",
            (CONSULTATION, STAMP, "2027-01-01T00:00:00+00:00", STAMP),
        )
        await db.connection.execute(
            "INSERT INTO consultation_versions(consultation_id, version, definition, structure, created_at)"
            " VALUES (?, 1, '{}', '[]', ?) ON CONFLICT DO NOTHING",
            (CONSULTATION, STAMP),
        )
        await db.connection.executemany(
            "INSERT INTO residents(chat_id, language, acknowledged_at, created_at, last_seen_at)"
            " VALUES (?, 'en', ?, ?, ?) ON CONFLICT DO NOTHING",
            [(10_000 + i, STAMP, STAMP, STAMP) for i in range(RESIDENTS)],
        )


async def clean(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute("DELETE FROM responses WHERE consultation_id = %s", (CONSULTATION,))
        await connection.execute("DELETE FROM update_inbox")


def _state(n: int) -> str:
    return json.dumps({"answers": {"q1": "a", "q2": n}, "path": ["q1", "q2", "q3"], "token": "abc"})


async def psycopg_answers(url: str, prepare_threshold: int | None) -> tuple[Answer, Callable[[], Awaitable[None]]]:
    pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
        url,
        min_size=POOL,
        max_size=POOL,
        kwargs={"autocommit": True, "prepare_threshold": prepare_threshold},
        open=False,
    )
    await pool.open(wait=True)
    read, save, keep = _marks("psycopg", READ, 1), _marks("psycopg", SAVE, 8), _marks("psycopg", KEEP, 4)

    async def answer(n: int) -> None:
        chat = 10_000 + n % RESIDENTS
        async with pool.connection() as c:
            await (await c.execute(read, (chat,))).fetchall()
        async with pool.connection() as c:
            await c.execute(keep, (n, chat, json.dumps({"update_id": n}), STAMP))
        async with pool.connection() as c:
            rows = await (
                await c.execute(save, (f"r{chat}", CONSULTATION, 1, "en", _state(n), STAMP, STAMP, "q3"))
            ).fetchall()
            assert rows

    return answer, pool.close


async def asyncpg_answers(url: str, cache: int) -> tuple[Answer, Callable[[], Awaitable[None]]]:
    pool = await asyncpg.create_pool(url, min_size=POOL, max_size=POOL, statement_cache_size=cache)
    read, save, keep = _marks("asyncpg", READ, 1), _marks("asyncpg", SAVE, 8), _marks("asyncpg", KEEP, 4)

    async def answer(n: int) -> None:
        chat = 10_000 + n % RESIDENTS
        async with pool.acquire() as c:
            await c.fetch(read, chat)
        async with pool.acquire() as c:
            await c.execute(keep, n, chat, json.dumps({"update_id": n}), STAMP)
        async with pool.acquire() as c:
            rows = await c.fetch(save, f"r{chat}", CONSULTATION, 1, "en", _state(n), STAMP, STAMP, "q3")
            assert rows

    return answer, pool.close


async def measure(answer: Answer, ops: int, concurrent: int, first: int) -> tuple[float, float]:
    """Answers a second, and p99 of one answer in ms."""
    latencies: list[float] = []
    counter = iter(range(first, first + ops))

    async def worker() -> None:
        for n in counter:
            began = time.perf_counter()
            await answer(n)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrent)))
    elapsed = time.perf_counter() - began
    return ops / elapsed, statistics.quantiles(latencies, n=100)[98] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--concurrent", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    await prepare(args.url)
    makers: dict[str, Callable[[], Awaitable[tuple[Answer, Callable[[], Awaitable[None]]]]]] = {
        "psycopg, no prepared statements (the bot's)": lambda: psycopg_answers(args.url, None),
        "psycopg, prepared after 5 uses": lambda: psycopg_answers(args.url, 5),
        "asyncpg, statement cache": lambda: asyncpg_answers(args.url, 100),
        "asyncpg, no statement cache": lambda: asyncpg_answers(args.url, 0),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in makers}
    first = 1
    for _ in range(args.rounds):
        for name, make in makers.items():
            answer, close = await make()
            try:
                await measure(answer, 200, args.concurrent, first)  # warm up
                first += 200
                results[name].append(await measure(answer, args.ops, args.concurrent, first))
                first += args.ops
            finally:
                await close()
    await clean(args.url)
    print(f"{args.ops} answers (3 statements each) x {args.rounds} rounds, {args.concurrent} in flight, pool of {POOL}")
    for name, runs in results.items():
        rates = [rate for rate, _ in runs]
        p99s = [p99 for _, p99 in runs]
        print(
            f"{name:45} {statistics.median(rates):7.0f} answers/s (runs {', '.join(f'{r:.0f}' for r in rates)})"
            f"  p99 {statistics.median(p99s):6.1f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
