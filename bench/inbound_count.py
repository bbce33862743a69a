"""Count the work an inbound update does, not its time: calls, trips to SQLite's thread, statements.

    python bench/inbound_count.py [--residents 200] [--warm 20] [--concurrent 0] [--top 40]
                                  [--profile] [--json FILE]

Ours alone (no bare bot), residents through bench/inbound.py's journey, one at a time by default.
After `--warm` residents (caches filled, first-time imports done), the next `--residents` are
measured:
- trips to SQLite's thread (aiosqlite's `_execute`), by the function sent;
- statements SQLite ran, by text (the connection's trace callback; parameters left out), with
  the statements triggers run;
- with `--profile`, Python function calls on the event loop's thread (cProfile), by function.
All per update. A machine's load changes none of these, so two checkouts can be compared on a
busy machine: run this file from each with that checkout first on PYTHONPATH, `--json` each, and
compare the two files with `--against`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402
import inbound  # noqa: E402

UPDATES_A_JOURNEY = len(inbound.journey())


def _threads() -> dict[str, float]:
    """CPU seconds of each of this process's threads so far, by thread id and name (from /proc)."""
    found: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[f"{task.name} {name}"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _shape(text: str) -> str:
    """A statement's text without its literal values, so that each text counts once."""
    text = re.sub(r"'[^']*'", "?", text)
    text = re.sub(r"\b\d+(\.\d+)?\b", "N", text)
    return " ".join(text.split())[:160]


async def measure(
    residents: int, warm: int, concurrent: int, profile: bool, folder: Path, trace: bool = True
) -> dict[str, Any]:
    application, request, _database = await inbound.ours_application(folder, 0)
    driven = inbound.Driven(application, request, first_chat=900_000_000)
    await driven.start()
    statements: Counter[str] = Counter()
    trips: Counter[str] = Counter()
    counting = False

    def traced(text: str) -> None:  # on SQLite's thread
        if counting:
            statements[_shape(text)] += 1

    connection = application.bot_data["services"].db.connection if "services" in application.bot_data else None
    if connection is None:
        raise SystemExit("no database connection found in bot_data['services']")
    if trace:
        await connection.set_trace_callback(traced)
    original = aiosqlite.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if counting:
            trips[getattr(fn, "__name__", repr(fn))] += 1
        return await original(self, fn, *args, **kwargs)

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
    await driven.feed(warm, concurrent)
    counting = True
    profiler = cProfile.Profile() if profile else None
    collections: Counter[int] = Counter()

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections[info["generation"]] += 1

    gc.callbacks.append(collected)
    sqlite_cpu = await connection._execute(time.thread_time)
    threads = _threads()
    process_cpu = time.process_time()
    cpu = time.thread_time()
    if profiler:
        profiler.enable()
    first = len(driven.latencies)
    await driven.feed(residents, concurrent)
    if profiler:
        profiler.disable()
    cpu = time.thread_time() - cpu
    process_cpu = time.process_time() - process_cpu
    threads = {k: v - threads.get(k, 0.0) for k, v in _threads().items()}
    sqlite_cpu = await connection._execute(time.thread_time) - sqlite_cpu
    gc.callbacks.remove(collected)
    counting = False
    aiosqlite.Connection._execute = original  # type: ignore[method-assign]
    await driven.stop()
    updates = residents * UPDATES_A_JOURNEY
    steps = (
        [
            1000 * statistics.median(driven.latencies[first + step :: UPDATES_A_JOURNEY])
            for step in range(UPDATES_A_JOURNEY)
        ]
        if not concurrent
        else []
    )
    calls: dict[str, float] = {}
    if profiler:
        stats = pstats.Stats(profiler)
        for (file, _line, name), (_cc, ncalls, _tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            where = file
            for marker in ("site-packages/", "/bot/", "/conversations/", "/storage/", "/bench/"):
                if marker in file:
                    where = marker.strip("/") + "/" + file.split(marker, 1)[1]
                    break
            calls[f"{where}:{name}"] = calls.get(f"{where}:{name}", 0) + ncalls / updates
    return {
        "updates": updates,
        "main_thread_cpu_ms_per_update": 1000 * cpu / updates,
        "sqlite_thread_cpu_ms_per_update": 1000 * sqlite_cpu / updates,
        "process_cpu_ms_per_update": 1000 * process_cpu / updates,
        "threads_cpu_ms_per_update": {k: 1000 * v / updates for k, v in threads.items()},
        "collections_per_1000_updates": {str(k): 1000 * v / updates for k, v in sorted(collections.items())},
        "median_ms_by_step": steps,
        "trips": {k: v / updates for k, v in trips.items()},
        "statements": {k: v / updates for k, v in statements.items()},
        "calls": calls,
    }


def report(result: dict[str, Any], top: int) -> None:
    print(
        f"{result['updates']} updates; CPU ms an update: main thread {result['main_thread_cpu_ms_per_update']:.3f},"
        f" SQLite's thread {result['sqlite_thread_cpu_ms_per_update']:.3f},"
        f" process {result['process_cpu_ms_per_update']:.3f}; collections per 1000 updates by generation"
        f" {result['collections_per_1000_updates']}"
    )
    print("threads, CPU ms an update:", {k: round(v, 3) for k, v in result["threads_cpu_ms_per_update"].items()})
    if result.get("median_ms_by_step"):
        print("median ms by step of the journey:", " ".join(f"{v:.2f}" for v in result["median_ms_by_step"]))
    print(f"trips to SQLite's thread an update: {sum(result['trips'].values()):.3f}")
    for name, count in sorted(result["trips"].items(), key=lambda item: -item[1]):
        print(f"  {count:7.3f}  {name}")
    print(f"statements an update: {sum(result['statements'].values()):.3f}")
    for text, count in sorted(result["statements"].items(), key=lambda item: -item[1]):
        print(f"  {count:7.3f}  {text}")
    if result["calls"]:
        print(f"Python calls an update (event loop's thread): {sum(result['calls'].values()):.1f}")
        for name, count in sorted(result["calls"].items(), key=lambda item: -item[1])[:top]:
            print(f"  {count:8.2f}  {name}")


def difference(before: dict[str, Any], after: dict[str, Any], top: int) -> None:
    """What `after` does an update that `before` did not (and the reverse), by kind."""
    for kind in ("trips", "statements", "calls"):
        a, b = before[kind], after[kind]
        total_a, total_b = sum(a.values()), sum(b.values())
        print(f"{kind} an update: before {total_a:.2f}, after {total_b:.2f} ({total_b - total_a:+.2f})")
        changes = sorted(((b.get(k, 0) - a.get(k, 0), k) for k in set(a) | set(b)), key=lambda item: -abs(item[0]))
        for change, key in changes[:top]:
            if abs(change) >= 0.005:
                print(f"  {change:+8.3f}  ({a.get(key, 0):.3f} -> {b.get(key, 0):.3f})  {key}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="count Python calls too (cProfile)")
    parser.add_argument("--no-trace", action="store_true", help="do not count statements (no trace callback)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--json", help="write the counts to this file")
    parser.add_argument("--against", nargs=2, metavar=("BEFORE", "AFTER"), help="compare two --json files")
    args = parser.parse_args()
    if args.against:
        before, after = (json.loads(Path(name).read_text()) for name in args.against)
        difference(before, after, args.top)
        return
    folder = Path(tempfile.mkdtemp())
    try:
        with asyncio.Runner(loop_factory=inbound.loop_factory("uvloop")) as runner:
            result = runner.run(
                measure(args.residents, args.warm, args.concurrent, args.profile, folder, not args.no_trace)
            )
    finally:
        shutil.rmtree(folder)
    report(result, args.top)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
