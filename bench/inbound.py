"""Benchmark: how many resident updates a second the real application handles, against a bare PTB bot.

    python bench/inbound.py [--residents 2000] [--preload 0] [--concurrent 0]

Residents go through the whole journey (/start, privacy notice, area, interests, take part,
seven answers by the buttons the bot actually sent, a typed answer, Submit), fed to the real
`Application` built by `bot.app.build_application`, with the real SQLite storage. By default
each update is put on the application's `update_queue`, as the updater and the webhook do in
`haveyoursay run`: ours is the `InboxQueue`, which stores the update in `update_inbox` before
queueing it, then python-telegram-bot's fetcher hands it to our per-chat update processor,
which records it handled afterwards (bot/inbox.py, bot/ordering.py). `--feed direct` calls
the update processor instead, skipping the queue and so the inbox write (the benchmark's
path before 2026-11-26). The request layer answers every Bot API call at once from memory,
so the figures are the bot's own cost.

In the same run the same number of updates go to a bare python-telegram-bot application
that answers every message and button with one fixed reply and stores nothing: the
framework's own ceiling on this machine. It is fed the same way (its own plain
`asyncio.Queue` by default), and stays bare: no inbox, no per-chat order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    CallbackQueryHandler,
    MessageHandler,
    SimpleUpdateProcessor,
    filters,
)
from telegram.request import BaseRequest, RequestData  # noqa: E402

import bot.app  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.settings import Settings  # noqa: E402
from conversations.deployment import load_deployment  # noqa: E402
from storage import open_database  # noqa: E402

TOKEN = "123456:BENCH-token-aaaaaaaaaaaaaaaaaaaaaaa"
BOT = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Bench",
    "username": "BenchBot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
DEPLOYMENT = ROOT / "tests" / "data" / "deployment.yaml"
EXAMPLE = ROOT / "examples" / "gp-opening-hours.yaml"


class InstantRequest(BaseRequest):
    """Answers every Bot API call from memory, remembering the last buttons shown in each chat.

    At once by default (the figures are then the bot's own cost); with `latency`, each answer
    comes that many seconds later, as Telegram's do over the network.
    """

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.buttons: dict[int, list[str]] = {}
        self.message_ids = 0
        self.calls = 0

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        self.calls += 1
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if self.latency and name != "getMe":
            await asyncio.sleep(self.latency)
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT
        if name in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            chat_id = int(params.get("chat_id", 0))
            markup = params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                self.buttons[chat_id] = [b.get("callback_data", "") for row in markup["inline_keyboard"] for b in row]
            self.message_ids += 1
            return {
                "message_id": int(params.get("message_id", self.message_ids)),
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT,
                "text": params.get("text", "x"),
            }
        return True


class Stream:
    """Builds resident updates as Telegram sends them, pressing buttons the bot showed."""

    def __init__(self, request: InstantRequest) -> None:
        self.request = request
        self.update_id = 1

    def _next_id(self) -> int:
        self.update_id += 1
        return self.update_id

    def text(self, chat_id: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_id(),
            # Written now: a message dated before the bot started is from a returning resident
            # (conversations/services.py: begin_visit), who is shown where they left off.
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "R", "language_code": "en"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": self.update_id, "message": message}

    def tap(self, chat_id: int, choose: Callable[[list[str]], str]) -> dict[str, Any]:
        data = choose(self.request.buttons.get(chat_id, []))
        user = {"id": chat_id, "is_bot": False, "first_name": "R", "language_code": "en"}
        return {
            "update_id": self._next_id(),
            "callback_query": {
                "id": str(self.update_id),
                "from": user,
                "chat_instance": "1",
                "data": data,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                    "from": BOT,
                    "text": "question",
                },
            },
        }


def first(prefix: str) -> Callable[[list[str]], str]:
    def choose(buttons: list[str]) -> str:
        return next(b for b in buttons if prefix in b)

    return choose


def journey() -> list[tuple[str, Any]]:
    """One resident's updates: (kind, argument)."""
    return [
        ("text", "/start"),
        ("tap", first("ok:")),
        ("tap", first("oa:-")),
        ("tap", first("od")),
        ("tap", first("card:")),
        ("tap", first("take:")),
        ("tap", first(":pick:week")),
        ("tap", first(":toggle:early")),
        ("tap", first(":done")),
        ("tap", first(":pick:2")),
        ("text", "The phone lines are always busy"),
        ("tap", first(":pick:yes")),
        ("text", "15"),
        ("tap", first(":skip")),
        ("tap", first(":submit")),
    ]


async def ours_application(folder: Path, preload: int, latency: float = 0.0) -> tuple[Any, InstantRequest, Path]:
    """The real application on a fresh SQLite file with `preload` residents already stored."""
    database = folder / "bench.db"
    await _prepare(database, preload)
    settings = Settings(
        token=TOKEN,
        api_url="http://instant/bot",
        database=database,
        admins=frozenset(),
        default_language="en",
        config_path=DEPLOYMENT,
        tick_seconds=3600,
        # No officers' workspace: it plays no part in updates, and two runs at once (bench/inbound_ab.py
        # --trees) would both want its port.
        web_listen=None,
        web_url="",
    )
    request = InstantRequest(latency)
    return build_application(settings, load_deployment(DEPLOYMENT), request=request), request, database


def bare_application(concurrent: int, latency: float = 0.0) -> tuple[Any, InstantRequest]:
    """A python-telegram-bot application that answers everything with one fixed reply and stores nothing."""
    request = InstantRequest(latency)
    builder = Application.builder().token(TOKEN).request(request).get_updates_request(request).updater(None)
    # python-telegram-bot's own processor (a subclass only so that Driven can note when an
    # update is done): one at a time unless `concurrent`, as `concurrent_updates(K)` gives.
    builder = builder.concurrent_updates(_PlainProcessor(max(1, concurrent)))
    bare = builder.build()

    async def reply(update: Update, context: Any) -> None:
        if update.callback_query:
            await update.callback_query.answer()
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "Thank you",
            reply_markup={
                "inline_keyboard": [
                    [
                        {
                            "text": "ok",
                            "callback_data": "ok: take: :pick:week :toggle:early "
                            ":done :pick:2 :pick:yes :skip :submit "
                            "oa:- od card:",
                        }
                    ]
                ]
            },
        )

    bare.add_handler(MessageHandler(filters.ALL, reply))
    bare.add_handler(CallbackQueryHandler(reply))
    return bare, request


async def submitted_surveys(database: Path) -> int:
    async with open_database(database) as db:
        [(submitted,)] = await db.connection.execute_fetchall(
            "SELECT COUNT(*) FROM responses WHERE submitted_at IS NOT NULL AND response_id NOT IN"
            " (SELECT response_id FROM responses WHERE answers = '{}')"
        )
    return int(submitted)


async def inbox_state(database: Path) -> str:
    """What the inbox holds after the run (the queue path writes and deletes a row per update)."""
    async with open_database(database) as db:
        tables = {r[0] for r in await db.connection.execute_fetchall("SELECT name FROM sqlite_master")}
        if "update_inbox" not in tables:
            return "no inbox in this version"
        [(left,)] = await db.connection.execute_fetchall("SELECT COUNT(*) FROM update_inbox")
        [(chats,)] = await db.connection.execute_fetchall("SELECT COUNT(*) FROM handled_updates")
    return f"{left} updates left in the inbox, {chats} chats recorded as handled"


async def _prepare(database: Path, preload: int) -> None:
    """The consultation, and `preload` residents with submitted responses already in the database."""
    from conversations.pseudonyms import response_id_for
    from conversations.survey.loader import load_consultation_file

    text = EXAMPLE.read_text(encoding="utf-8").replace("opens: 2026-11-01T09:00:00Z", "opens: 2020-01-01T00:00:00Z")
    text = text.replace("closes: 2027-01-31T23:59:00Z", "closes: 2099-01-01T00:00:00Z")
    (database.parent / "c.yaml").write_text(text, encoding="utf-8")
    loaded = load_consultation_file(database.parent / "c.yaml")
    assert loaded.consultation is not None and loaded.data is not None
    c = loaded.consultation
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    async with open_database(database) as db:
        await db.consultations.save(loaded.data, c.structure(), c.opens, c.closes, now)
        await db.consultations.mark_announced(c.id, now)
        stamp = now.isoformat()
        async with db.transaction():
            for start in range(0, preload, 5000):
                chats = range(start + 1, min(preload, start + 5000) + 1)
                await db.connection.executemany(
                    "INSERT INTO residents(chat_id, language, acknowledged_at, created_at, last_seen_at)"
                    " VALUES (?, 'en', ?, ?, ?)",
                    [(chat, stamp, stamp, stamp) for chat in chats],
                )
                await db.connection.executemany(
                    "INSERT INTO responses(response_id, consultation_id, version, language, state, answers,"
                    " started_at, updated_at, submitted_at) VALUES (?, ?, 1, 'en', '{}', '{}', ?, ?, ?)",
                    [(response_id_for(db.pseudonym_key, chat, c.id), c.id, stamp, stamp, stamp) for chat in chats],
                )


class _PlainProcessor(SimpleUpdateProcessor):
    """python-telegram-bot's SimpleUpdateProcessor, with room for Driven's hook (no __slots__)."""


class Driven:
    """One application being fed residents' journeys, with what it took.

    With `via_queue`, each update is put on the application's update queue, as the updater and
    the webhook do, and counts as done once its update processor has finished with it (for
    ours, after it is recorded handled, as the resident's next update in that chat waits for).
    """

    def __init__(self, application: Any, request: InstantRequest, first_chat: int, via_queue: bool = True) -> None:
        self.application = application
        self.via_queue = via_queue
        self.done: dict[int, asyncio.Future[None]] = {}
        if via_queue:
            processor = application.update_processor
            process = processor.process_update

            async def process_update(update: object, coroutine: Any) -> None:
                try:
                    await process(update, coroutine)
                finally:
                    if isinstance(update, Update):
                        future = self.done.pop(update.update_id, None)
                        if future is not None and not future.done():
                            future.set_result(None)

            processor.process_update = process_update
        self.stream = Stream(request)
        self.next_chat = first_chat
        self.latencies: list[float] = []
        self.wall = 0.0
        self.cpu = 0.0
        self.rounds: list[float] = []  # updates a second in each round

    async def start(self) -> None:
        await self.application.initialize()
        if self.application.post_init:
            await self.application.post_init(self.application)
        await self.application.start()

    async def stop(self) -> None:
        await self.application.stop()
        if self.application.post_shutdown:
            await self.application.post_shutdown(self.application)
        await self.application.shutdown()

    async def feed(self, residents: int, concurrent: int) -> None:
        """`residents` more residents go through the whole journey; time and CPU are added up."""
        chats = list(range(self.next_chat, self.next_chat + residents))
        self.next_chat += residents
        count = len(self.latencies)
        cpu_before = time.process_time()
        started = time.perf_counter()
        if concurrent:
            # `concurrent` residents in flight at every moment, each one's updates in order: when
            # one finishes, the next begins (residents arrive on their own, not in batches).
            waiting = iter(chats)

            async def one_after_another() -> None:
                for chat in waiting:
                    await self._resident(chat)

            await asyncio.gather(*(one_after_another() for _ in range(concurrent)))
        else:
            for chat in chats:
                await self._resident(chat)
        wall = time.perf_counter() - started
        self.wall += wall
        self.cpu += time.process_time() - cpu_before
        self.rounds.append((len(self.latencies) - count) / wall)

    async def _resident(self, chat_id: int) -> None:
        application = self.application
        for kind, argument in journey():
            stream = self.stream
            raw = stream.text(chat_id, argument) if kind == "text" else stream.tap(chat_id, argument)
            update = Update.de_json(raw, application.bot)
            begun = time.perf_counter()
            if self.via_queue:
                # As the updater and the webhook hand an update over: onto the update queue.
                done = asyncio.get_running_loop().create_future()
                self.done[update.update_id] = done
                queue = application.update_queue
                if hasattr(queue, "put_received"):
                    # As the webhook does (and getUpdates, through the bot): the update as sent.
                    await queue.put_received(update, raw)
                else:
                    await queue.put(update)
                await done
            else:
                await application.update_processor.process_update(update, application.process_update(update))
            self.latencies.append(time.perf_counter() - begun)

    def figures(self) -> dict[str, float]:
        count = len(self.latencies)
        ordered = sorted(self.latencies)
        return {
            "updates": count,
            "per_second": count / self.wall,
            "p50_ms": 1000 * statistics.median(ordered),
            "p95_ms": 1000 * ordered[int(0.95 * count) - 1],
            "p99_ms": 1000 * ordered[int(0.99 * count) - 1],
            "cpu_s_per_1000": 1000 * self.cpu / count,
        }


async def compare(
    residents: int,
    preload: int,
    concurrent: int,
    rounds: int,
    folder: Path,
    latency: float = 0.0,
    via_queue: bool = True,
) -> dict[str, Any]:
    """Both applications in one event loop, fed in alternating rounds.

    Other work on the machine comes and goes; alternating rounds (ours first, then bare first)
    lets it fall on both alike, so the ratio means something even when the machine is busy.
    """
    application, request, database = await ours_application(folder, preload, latency)
    ours = Driven(application, request, first_chat=900_000_000, via_queue=via_queue)
    bare_app, bare_request = bare_application(concurrent, latency)
    bare = Driven(bare_app, bare_request, first_chat=800_000_000, via_queue=via_queue)
    await ours.start()
    await bare.start()
    share = max(1, residents // rounds)
    for number in range(rounds):
        order = (ours, bare) if number % 2 == 0 else (bare, ours)
        for driven in order:
            await driven.feed(share, concurrent)
    await bare.stop()
    await ours.stop()
    ratios = sorted(o / b for o, b in zip(ours.rounds, bare.rounds, strict=True))
    return {
        "ours": ours.figures(),
        "bare": bare.figures(),
        "submitted": await submitted_surveys(database),
        "inbox": await inbox_state(database),
        "residents": share * rounds,
        "ratios": ratios,
    }


def fast_loop_installed() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--preload", type=int, default=0, help="residents already in the database")
    parser.add_argument("--concurrent", type=int, default=0, help="residents whose updates are in flight at once")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds the residents are split into")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop" if fast_loop_installed() else "asyncio",
        help="the event loop both bots run on (`haveyoursay run` uses uvloop where it is installed)",
    )
    parser.add_argument(
        "--bot-limit",
        type=int,
        default=0,
        help="updates the bot lets run at once (default: bot.app.CONCURRENT_UPDATES)",
    )
    parser.add_argument(
        "--api-latency", type=float, default=0.0, help="milliseconds each Bot API call takes (0: answered at once)"
    )
    parser.add_argument(
        "--feed",
        choices=("queue", "direct"),
        default="queue",
        help="queue: onto each application's update_queue, as in `haveyoursay run` (ours stores each"
        " update in the inbox first); direct: straight to the update processor, skipping the queue",
    )
    args = parser.parse_args()
    if args.bot_limit:
        bot.app.CONCURRENT_UPDATES = args.bot_limit
    folder = Path(tempfile.mkdtemp())
    try:
        with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
            result = runner.run(
                compare(
                    args.residents,
                    args.preload,
                    args.concurrent,
                    args.rounds,
                    folder,
                    args.api_latency / 1000,
                    via_queue=args.feed == "queue",
                )
            )
    finally:
        shutil.rmtree(folder)
    ours, bare = result["ours"], result["bare"]
    for name, figures in (("have your say", ours), ("bare PTB bot", bare)):
        print(
            f"{name:14} {figures['updates']:.0f} updates: {figures['per_second']:.0f}/s, "
            f"p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, "
            f"{figures['cpu_s_per_1000']:.2f} CPU s per 1000"
        )
    ratios = result["ratios"]
    print(
        f"ours / bare: {ours['per_second'] / bare['per_second']:.2f} overall; by round: lowest {ratios[0]:.2f},"
        f" median {statistics.median(ratios):.2f}, highest {ratios[-1]:.2f}"
    )
    print(f"surveys submitted in the run: {result['submitted']} of {result['residents']}; {result['inbox']}")
    print(
        f"fed: {args.feed}; event loop: {args.loop}; Bot API answers after {args.api_latency:g} ms;"
        f" the bot runs up to {bot.app.CONCURRENT_UPDATES} updates at once"
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
