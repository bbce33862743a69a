"""A/B in one process: the inbox's "handled" record and the outbox's call, as before and as now.

    python bench/inbound_ab.py [--residents 400] [--rounds 40] [--concurrent 0]
                               [--configs awaited+library,deferred+post,deferred+lean]

Like bench/inbound.py (whose applications and feeding it uses), but several configurations of
our bot and the bare python-telegram-bot bot run in one event loop, fed in rotating rounds, so
that other work on the machine falls on all of them alike. A configuration is two words:
- `awaited`: each update's "handled" record is its own trip, awaited before its chat's lock is
  let go (as before 2026-11-26, "One at a time"); `deferred`: it goes with the next trip of
  the inbox's writes (`UpdateRepository.handled_soon`, as the bot runs now);
- `library`: the outbox calls `Bot.do_api_request` (with its warning, filtered, as before);
  `post`: `Bot._post` (as from 2026-11-26, "One at a time"); `lean`: the bot's request object,
  as the outbox does now (bot/outbox.py: `_call`).
- and optionally, what the schema keeps on each submission: `+nocounts` drops the triggers that
  keep `answer_counts` (migration 0022), `+nosource` the index of responses by source (0020), in
  that configuration's database only (the price of each, bench/README.md "One at a time, counted").
Each configuration has its own database; the ratio is to the bare bot, overall and the median
of the rounds.

    python bench/inbound_ab.py --trees /tmp/base,. [--runs 3] -- --residents 1200 --rounds 30 --concurrent 16

compares two checkouts instead (for changes no patch can switch, such as the garbage collector's
settings): each tree's own bench/inbound.py runs at the same time as the other's, in a process of
its own with that tree first on the path, `--runs` times; what follows `--` is passed to both.
Each process measures its bot against a bare bot of its own, so what the machine's other work
does to one tree's run it does to the other's in the same moments. Printed per run and as the
median: ours / bare overall and by median round, p99 of ours and of the bare bot, CPU s / 1000.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import inbound  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.warnings import PTBUserWarning  # noqa: E402

from bot import outbox  # noqa: E402

# What the outbox did before it called Bot._post, and before it called the request object.
warnings.filterwarnings("ignore", r"Please use 'Bot\.\w+' instead", PTBUserWarning)
LEAN = outbox._call


async def via_post(bot: Any, endpoint: str, parameters: dict[str, Any]) -> Any:
    return await bot._post(endpoint, parameters)


async def via_library(bot: Any, endpoint: str, parameters: dict[str, Any]) -> Any:
    return await bot.do_api_request(endpoint, api_kwargs=parameters)


CALLS = {"library": via_library, "post": via_post, "lean": LEAN}


def awaited_handled(application: Any) -> None:
    """The "handled" record as before: a trip of its own, awaited inside the chat's lock."""
    updates = application.bot_data["updates"]
    services = application.bot_data["services"]

    async def handled(update: Update) -> None:
        await updates.handled(update.update_id, services.clock())

    application.update_processor.after = handled
    application.update_processor.before = None


# What `+nocounts` and `+nosource` take out of a configuration's database.
WITHOUT = {
    "nocounts": (
        "DROP TRIGGER answers_counted",
        "DROP TRIGGER answers_uncounted",
        "DROP TRIGGER answers_recounted",
    ),
    "nosource": ("DROP INDEX responses_by_source",),
}


async def without(application: Any, parts: list[str]) -> None:
    """Drop what `parts` name from the application's database (an A/B of what the schema keeps)."""
    for part in parts:
        for statement in WITHOUT[part]:
            await application.bot_data["services"].db.connection.execute(statement)


async def compare(residents: int, rounds: int, concurrent: int, configs: list[str]) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        drivens: dict[str, inbound.Driven] = {}
        for number, name in enumerate(configs):
            (folder / name).mkdir()
            application, request, _database = await inbound.ours_application(folder / name, 0)
            drivens[name] = inbound.Driven(application, request, first_chat=100_000_000 * (number + 1))
        bare_application, bare_request = inbound.bare_application(concurrent)
        drivens["bare"] = inbound.Driven(bare_application, bare_request, first_chat=50_000_000)
        for driven in drivens.values():
            await driven.start()
        for name in configs:
            if name.startswith("awaited"):
                awaited_handled(drivens[name].application)
            await without(drivens[name].application, name.split("+")[2:])
        share = max(1, residents // rounds)
        names = list(drivens)
        for number in range(rounds):
            turn = number % len(names)
            for name in names[turn:] + names[:turn]:
                outbox._call = CALLS.get(name.split("+")[1] if "+" in name else "", LEAN)  # type: ignore[assignment]
                await drivens[name].feed(share, concurrent)
        for driven in drivens.values():
            await driven.stop()
    finally:
        outbox._call = LEAN  # type: ignore[assignment]
        shutil.rmtree(folder)
    bare = drivens["bare"].figures()
    print(f"{'bare PTB bot':24} {bare['per_second']:.0f}/s, p99 {bare['p99_ms']:.2f} ms,", end=" ")
    print(f"{bare['cpu_s_per_1000']:.2f} CPU s per 1000")
    for name in configs:
        ours = drivens[name].figures()
        rounds_ratio = statistics.median(
            o / b for o, b in zip(drivens[name].rounds, drivens["bare"].rounds, strict=True)
        )
        print(
            f"{name:24} {ours['per_second']:.0f}/s, ours / bare {ours['per_second'] / bare['per_second']:.3f}"
            f" (median round {rounds_ratio:.3f}), p50 {ours['p50_ms']:.2f} ms, p99 {ours['p99_ms']:.2f} ms,"
            f" {ours['cpu_s_per_1000']:.2f} CPU s per 1000"
        )


FIGURES = {
    "ratio": re.compile(r"ours / bare: ([\d.]+) overall; by round: lowest [\d.]+, median ([\d.]+)"),
    "ours": re.compile(r"have your say .* p99 ([\d.]+) ms, ([\d.]+) CPU s per 1000"),
    "bare": re.compile(r"bare PTB bot .* p99 ([\d.]+) ms, ([\d.]+) CPU s per 1000"),
}


def _figures(output: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for name, pattern in FIGURES.items():
        match = pattern.search(output)
        if match is None:
            raise SystemExit(f"no {name} figures in a run's output:\n{output}")
        first, second = (float(group) for group in match.groups())
        if name == "ratio":
            found["overall"], found["median round"] = first, second
        else:
            found[f"{name} p99 ms"], found[f"{name} CPU s/1000"] = first, second
    return found


def compare_trees(trees: list[str], runs: int, bench_args: list[str]) -> None:
    """Each tree's bench/inbound.py, all at once, `runs` times; the figures per run and their medians."""
    results: dict[str, list[dict[str, float]]] = {tree: [] for tree in trees}
    for number in range(1, runs + 1):
        processes = {}
        for tree in trees:
            root = Path(tree).resolve()
            environment = dict(os.environ, PYTHONPATH=str(root))
            processes[tree] = subprocess.Popen(
                [sys.executable, str(root / "bench" / "inbound.py"), *bench_args],
                cwd=root,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        for tree, process in processes.items():
            output, _ = process.communicate()
            figures = _figures(output)
            results[tree].append(figures)
            print(f"run {number} {tree}: " + ", ".join(f"{k} {v:g}" for k, v in figures.items()), flush=True)
    for tree, figures in results.items():
        medians = {key: statistics.median(run[key] for run in figures) for key in figures[0]}
        print(f"median of {runs} {tree}: " + ", ".join(f"{k} {v:g}" for k, v in medians.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--concurrent", type=int, default=0)
    parser.add_argument("--configs", default="awaited+library,deferred+post")
    parser.add_argument("--trees", help="two or more checkouts, comma-separated: their bench/inbound.py at once")
    parser.add_argument("--runs", type=int, default=3, help="with --trees: how many times")
    parser.add_argument("bench_args", nargs="*", help="with --trees: after --, passed to bench/inbound.py")
    args = parser.parse_args()
    if args.trees:
        compare_trees(args.trees.split(","), args.runs, args.bench_args)
        return
    with asyncio.Runner(loop_factory=inbound.loop_factory("uvloop")) as runner:
        runner.run(compare(args.residents, args.rounds, args.concurrent, args.configs.split(",")))


if __name__ == "__main__":
    main()
