"""A/B in one process: the inbox's "handled" record and the outbox's call, as before and as now.

    python bench/inbound_ab.py [--residents 400] [--rounds 40] [--concurrent 0]
                               [--configs awaited+library,deferred+post]

Like bench/inbound.py (whose applications and feeding it uses), but several configurations of
our bot and the bare python-telegram-bot bot run in one event loop, fed in rotating rounds, so
that other work on the machine falls on all of them alike. A configuration is two words:
- `awaited`: each update's "handled" record is its own trip, awaited before its chat's lock is
  let go (as before 2026-11-26, "One at a time"); `deferred`: it goes with the next trip of
  the inbox's writes (`UpdateRepository.handled_soon`, as the bot runs now);
- `library`: the outbox calls `Bot.do_api_request` (with its warning, filtered, as before);
  `post`: `Bot._post`, as the outbox does now.
Each configuration has its own database; the ratio is to the bare bot, overall and the median
of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
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

# What the outbox did before it called Bot._post.
warnings.filterwarnings("ignore", r"Please use 'Bot\.\w+' instead", PTBUserWarning)
POST = outbox._call


async def via_library(bot: Any, endpoint: str, parameters: dict[str, Any]) -> Any:
    return await bot.do_api_request(endpoint, api_kwargs=parameters)


def awaited_handled(application: Any) -> None:
    """The "handled" record as before: a trip of its own, awaited inside the chat's lock."""
    updates = application.bot_data["updates"]
    services = application.bot_data["services"]

    async def handled(update: Update) -> None:
        await updates.handled(update.update_id, services.clock())

    application.update_processor.after = handled
    application.update_processor.before = None


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
        share = max(1, residents // rounds)
        names = list(drivens)
        for number in range(rounds):
            turn = number % len(names)
            for name in names[turn:] + names[:turn]:
                outbox._call = via_library if name.endswith("library") else POST  # type: ignore[assignment]
                await drivens[name].feed(share, concurrent)
        for driven in drivens.values():
            await driven.stop()
    finally:
        outbox._call = POST  # type: ignore[assignment]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--concurrent", type=int, default=0)
    parser.add_argument("--configs", default="awaited+library,deferred+post")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=inbound.loop_factory("uvloop")) as runner:
        runner.run(compare(args.residents, args.rounds, args.concurrent, args.configs.split(",")))


if __name__ == "__main__":
    main()
