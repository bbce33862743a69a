"""Benchmark: several real `haveyoursay run` workers on one PostgreSQL database, against one on SQLite.

    python bench/workers.py [--residents 160] [--rounds 4] [--concurrent 16] [--balance shuffle|turns]
                            [--workers 1,2,4] [--broadcast 2000] [--broadcast-workers 3]
                            [--skip inbound|broadcast] [--idle 5] [--log-statements] [--profile DIR] [--keep]

Everything runs on this machine: a throw-away PostgreSQL cluster (tests/postgres.py: in /dev/shm,
fsync and synchronous_commit off, autovacuum switched back on for the run), the workers as real
`haveyoursay run` processes in webhook mode, and this process, which plays Telegram.

1. Inbound. Configurations: ONE worker on SQLite (HAVEYOURSAY_WORKERS=one, its file in /dev/shm
   too), and for each count in `--workers` that many workers (HAVEYOURSAY_WORKERS=several) on one
   PostgreSQL database, each configuration with a database and worker processes of its own, all
   started before the first round. This process is the load balancer and the Bot API: it posts
   each update to a worker's webhook (`--balance shuffle`: a worker picked at random for each
   update; `turns`: round robin) and serves the workers' Bot API calls from memory (a lean
   server, not tests/fake_telegram, so that its cost on the shared cores stays small; it checks
   nothing). Each resident does the whole survey journey of `bench/inbound.py` (15 updates:
   /start, privacy notice, area skipped, interests Done, the GP consultation's card, Take part,
   seven answers by the buttons the bot sent: one multiple choice with Done, one typed text, two
   typed answers, Submit), each update sent once the bot's answer to the previous one has
   arrived; `--concurrent` residents are in flight at every moment (when one finishes, the next
   begins). Latency: from posting an update to the webhook to the Bot API call that shows the
   answer (the message or edit the resident needs for the next step).
   `--rounds` rounds; in each, every configuration takes `--residents / --rounds` residents, the
   configurations in a rotated order each round, so the machine's drift falls on all alike.
   Before the first round each configuration gets `--concurrent` residents unmeasured (warm-up).
   CPU: user + system time of the configuration's worker processes, and of the PostgreSQL
   cluster's processes (the postmaster, its children alive at the end of a round, and those that
   ended, through the postmaster's children's times), from /proc, over the configuration's rounds.
   At the end every configuration's database is checked: every resident's survey submitted once
   with its seven answers, nothing left in the inbox, one receipt per resident.

2. Broadcast (`--broadcast N` residents, 0 to skip): the same broadcast, queued as /broadcast
   queues it, sent by `--broadcast-workers` workers on one PostgreSQL database and by one worker
   on another, AT THE SAME TIME, each to a fake Bot API of its own (tests/fake_telegram, in a
   child process each, as Telegram is another machine) with Telegram's strict limits: 30 messages
   a second overall (`--limit`), one a second per chat. Reported: the rate achieved from the first
   message to the last, answers 429 (must be 0), residents reached once / more than once / never,
   the most messages in any one second overall and to one chat, and the workers' CPU.

Prints a Markdown table row per configuration, the load average during the runs, and the checks.
`--idle`: seconds every inbound worker is watched with nothing posted, before the rounds (its CPU
then is background work: leases, sweeps). `--log-statements`: every statement of the first
PostgreSQL configuration is logged by the cluster, and counted per update at the end.
`--profile DIR`: each inbound worker runs under cProfile counting CPU time, one file each in DIR.
`--keep`: the workers' folders and logs are kept. Exit status 1 when a check failed.
With the defaults: 10,560 updates and a broadcast of 67 s at 30/s. At load 13-18 on 2 cores the
run took 17 minutes (12-25 updates a second); on a quiet machine, a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import ClientOSError, ClientSession, ClientTimeout, ServerDisconnectedError, TCPConnector, web  # noqa: E402

from bench.inbound import BOT  # noqa: E402  (the bot getMe describes, as in the inbound benchmark)
from tests.backends import on_disk  # noqa: E402

TOKEN = "123456:BENCH-workers-aaaaaaaaaaaaaaaaaaaa"
SECRET = "bench-workers-secret"
DEPLOYMENT = ROOT / "tests" / "data" / "deployment.yaml"
CONSULTATION = ROOT / "examples" / "gp-opening-hours.yaml"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STEP_TIMEOUT = 60.0  # seconds a resident waits for the bot's answer before the run counts it lost

# One resident's journey: (what they do, with what, the answer that ends the step: a text in the
# message or the label of one of its buttons). As bench/inbound.py's, with the last question
# answered by typing an area rather than skipped; as tests/test_workers_postgres_e2e.py's take_part.
JOURNEY: list[tuple[str, str, str]] = [
    ("say", "/start", "Your privacy"),
    ("tap", "I understand", "Which area do you live in?"),
    ("tap", "Skip", "What would you like to hear about?"),
    ("tap", "Done", "GP opening hours"),
    ("tap", "GP opening hours", "Take part"),
    ("tap", "Take part", "Question 1 of 7"),
    ("tap", "In the last week", "Question 2 of 7"),
    ("tap", "⬜ Before 8am", "✅ Before 8am"),
    ("tap", "Done", "Question 3 of 7"),
    ("tap", "2", "Question 4 of 7"),
    ("say", "The phone line is always busy", "Question 5 of 7"),
    ("tap", "Yes", "Question 6 of 7"),
    ("say", "15", "Question 7 of 7"),
    ("say", "Sheerness", "Please check your answers"),
    ("tap", "Submit", "We have received your answers"),
]
RECEIPT = JOURNEY[-1][2]
QUESTIONS = 7
_TAG = re.compile(r"<[^>]+>")


# ---------------------------------------------------------------------------------------------
# The machine: CPU time of processes, from /proc.


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU of a process (all its threads); with `children`, also of its ended children."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17 of /proc/PID/stat (index 11-14 from the 3rd).
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def cluster_cpu(postmaster: int | None) -> float:
    """The PostgreSQL cluster's CPU so far: the postmaster, its live children, and those ended."""
    if postmaster is None:
        return 0.0
    total = cpu_seconds(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == postmaster:
                total += cpu_seconds(int(entry.name))
    return total


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


# ---------------------------------------------------------------------------------------------
# The PostgreSQL cluster (tests/postgres.py's throw-away cluster).


class Cluster:
    def __init__(self) -> None:
        from tests import postgres

        self._postgres = postgres
        base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.run_dir = Path(tempfile.mkdtemp(prefix="bench-workers-pg-", dir=base))
        if os.geteuid() == 0:
            owner = postgres._owner()
            assert owner is not None
            os.chown(self.run_dir, owner.pw_uid, owner.pw_gid)
        state = postgres.start_cluster(self.run_dir, os.getpid())  # its watchdog stops it if we die
        self.port = int(state["port"])
        self.data = Path(state["data"])
        self.admin("ALTER SYSTEM SET autovacuum = on")  # off in the tests' cluster (templates); on in a real one
        self.admin("SELECT pg_reload_conf()")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(sql.encode())

    def create(self, database: str) -> str:
        self.admin(f'CREATE DATABASE "{database}"')
        return self.url(database)

    @property
    def postmaster(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        self._postgres.stop_cluster(self.run_dir)


# ---------------------------------------------------------------------------------------------
# The workers.


def haveyoursay() -> str:
    beside = Path(sys.executable).parent / "haveyoursay"
    found = str(beside) if beside.exists() else shutil.which("haveyoursay")
    if not found:
        sys.exit("the haveyoursay command is not installed (pip install -e .)")
    return found


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def deployment(folder: Path) -> Path:
    """The tests' deployment, with civil hours all day (a broadcast goes whenever the bench runs)."""
    path = folder / "deployment.yaml"
    path.write_text(DEPLOYMENT.read_text(encoding="utf-8") + "\ncivil_hours: '00:00-24:00'\n", encoding="utf-8")
    return path


def consultation(folder: Path) -> Path:
    """The GP consultation, open from 2020 to 2099."""
    text = CONSULTATION.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^opens: .*$", "opens: 2020-01-01T09:00:00Z", text)
    text = re.sub(r"(?m)^closes: .*$", "closes: 2099-12-31T23:59:00Z", text)
    path = folder / CONSULTATION.name
    path.write_text(text, encoding="utf-8")
    return path


# `haveyoursay run` under cProfile counting CPU time (the process's, all threads), not wall time:
# on a busy machine wall time is mostly waiting for a core.
PROFILED = """
import cProfile, sys, time
from bot.cli import main
profile = cProfile.Profile(time.process_time)
try:
    profile.runcall(main, ["run"])
finally:
    profile.dump_stats(sys.argv[1])
"""


@dataclass
class Configuration:
    """A set of workers on one database (SQLite file or PostgreSQL URL), and what they did."""

    name: str
    database: str
    several: bool
    count: int
    folder: Path
    api_url: str
    token: str = TOKEN
    env_extra: dict[str, str] = field(default_factory=dict)
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    updates: int = 0
    worker_cpu: float = 0.0
    postgres_cpu: float = 0.0
    driver_cpu: float = 0.0
    rounds: list[float] = field(default_factory=list)
    residents: list[int] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    idle_cpu_per_second: float = 0.0
    transactions: int = 0

    def commits(self) -> int:
        """Transactions committed in the configuration's PostgreSQL database so far (0 on SQLite)."""
        if not self.several:
            return 0
        name = self.database.rsplit("/", 1)[-1]
        rows = on_disk(
            self.database.rsplit("/", 1)[0] + "/postgres",
            "SELECT xact_commit FROM pg_stat_database WHERE datname = ?",
            name,
        )
        return int(rows[0][0])  # type: ignore[call-overload]

    def env(self, index: int) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HAVEYOURSAY_", "PG"))}
        return {
            **base,
            "TELEGRAM_BOT_TOKEN": self.token,
            "TELEGRAM_API_URL": self.api_url,
            "HAVEYOURSAY_DB": self.database,
            "HAVEYOURSAY_CONFIG": str(self.folder / "deployment.yaml"),
            "HAVEYOURSAY_WEB": "off",
            "HAVEYOURSAY_WEBHOOK_URL": "https://bot.example.org/telegram",
            "HAVEYOURSAY_WEBHOOK_LISTEN": f"127.0.0.1:{self.ports[index]}",
            "HAVEYOURSAY_WEBHOOK_SECRET": SECRET,
            "HAVEYOURSAY_WORKERS": "several" if self.several else "one",
            **self.env_extra,
        }

    def command(self, *args: str) -> None:
        done = subprocess.run(
            [haveyoursay(), *args], env=self.env(0), cwd=self.folder, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}: haveyoursay {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def prepare(self, with_consultation: bool = True) -> None:
        """The database made ready as an operator does (`haveyoursay init`), the consultation imported."""
        self.folder.mkdir(parents=True)
        deployment(self.folder)
        self.ports = [free_port() for _ in range(self.count)]
        self.command("init")  # a new deployment's database: made and migrated
        if with_consultation:
            self.command("import", str(consultation(self.folder)))

    def start(self, profile: Path | None = None) -> None:
        for index in range(self.count):
            log = (self.folder / f"worker-{index + 1}.log").open("ab")
            command = [haveyoursay(), "run"]
            if profile is not None:  # cProfile on CPU time, around the whole process; written when it stops
                output = profile / f"{self.folder.name}-{index + 1}.prof"
                command = [sys.executable, "-c", PROFILED, str(output)]
            self.processes.append(
                subprocess.Popen(command, env=self.env(index), cwd=self.folder, stdout=log, stderr=log)
            )

    async def wait_until_healthy(self, session: ClientSession, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        for port, process in zip(self.ports, self.processes, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{self.name}: a worker exited at start-up:\n{self.logs()[-3000:]}")
                with contextlib.suppress(OSError, asyncio.TimeoutError):
                    async with session.get(f"http://127.0.0.1:{port}/health") as answer:
                        if answer.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name}: a worker is not healthy after {timeout:.0f} s")
                await asyncio.sleep(0.2)

    def cpu(self) -> float:
        return sum(cpu_seconds(process.pid) for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> str:
        return "".join(
            path.read_text(encoding="utf-8", errors="replace") for path in sorted(self.folder.glob("worker-*.log"))
        )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return on_disk(self.database, sql)

    def figures(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        count = len(ordered)
        return {
            "updates": self.updates,
            "per_second": self.updates / self.wall if self.wall else 0.0,
            "median_round": statistics.median(self.rounds) if self.rounds else 0.0,
            "p50_ms": 1000 * statistics.median(ordered) if ordered else 0.0,
            "p95_ms": 1000 * ordered[max(0, int(0.95 * count) - 1)] if ordered else 0.0,
            "p99_ms": 1000 * ordered[max(0, int(0.99 * count) - 1)] if ordered else 0.0,
            "worker_cpu_ms": 1000 * self.worker_cpu / self.updates if self.updates else 0.0,
            "postgres_cpu_ms": 1000 * self.postgres_cpu / self.updates if self.updates else 0.0,
            "driver_cpu_ms": 1000 * self.driver_cpu / self.updates if self.updates else 0.0,
            "transactions": self.transactions / self.updates if self.updates else 0.0,
        }


# ---------------------------------------------------------------------------------------------
# Telegram, as the workers see it: a lean Bot API answering from memory, and the load balancer.


@dataclass
class Shown:
    """A message the bot showed in a chat: its id and its inline buttons (label, data)."""

    message_id: int
    buttons: list[tuple[str, str]]


class LeanTelegram:
    """The Bot API the workers call: answers every call at once, remembering each chat's buttons.

    A resident waiting for the bot's answer registers what ends the step (`expect`); the call that
    shows it resolves the wait with the moment it arrived.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.message_ids = itertools.count(1)
        self.shown: dict[int, dict[int, Shown]] = defaultdict(dict)  # chat -> message id -> buttons
        self.waiting: dict[int, tuple[str, asyncio.Future[float]]] = {}
        self.receipts: Counter[int] = Counter()
        self.calls: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls[method] += 1
        if request.content_type == "application/json":
            params: dict[str, Any] = await request.json()
        else:
            params = dict(await request.post())
        result = self.result(method, params)
        return web.Response(body=json.dumps({"ok": True, "result": result}), content_type="application/json")

    def result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method not in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            return True
        chat_id = int(params.get("chat_id", 0))
        message_id = int(params["message_id"]) if "message_id" in params else next(self.message_ids)
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        buttons = [
            (b.get("text", ""), b.get("callback_data", ""))
            for row in (markup or {}).get("inline_keyboard", [])
            for b in row
        ]
        chat = self.shown[chat_id]
        if buttons or method != "sendMessage":  # an edit without buttons takes them off
            chat[message_id] = Shown(message_id, buttons)
        text = html.unescape(_TAG.sub("", str(params.get("text", ""))))
        if RECEIPT in text:
            self.receipts[chat_id] += 1
        waiting = self.waiting.get(chat_id)
        if waiting is not None:
            expect, future = waiting
            if (expect in text or any(label == expect for label, _ in buttons)) and not future.done():
                future.set_result(time.perf_counter())
                del self.waiting[chat_id]
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT,
            "text": text or "x",
        }

    def button(self, chat_id: int, label: str) -> tuple[int, str]:
        """The newest message in the chat with a button labelled `label`: (its id, the button's data)."""
        for message_id in sorted(self.shown[chat_id], reverse=True):
            for shown_label, data in self.shown[chat_id][message_id].buttons:
                if shown_label == label:
                    return message_id, data
        raise LookupError(f"no button {label!r} in chat {chat_id}")

    def expect(self, chat_id: int, text: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = (text, future)
        return future


class Balancer:
    """Posts updates to a configuration's workers: a worker at random for each, or in turn."""

    def __init__(self, session: ClientSession, shuffle: bool, seed: int = 16) -> None:
        self.session = session
        self.shuffle = shuffle
        self.random = random.Random(seed)
        self.turn = 0
        self.update_ids = itertools.count(1_000_001)
        self.chat_ids = itertools.count(900_000_001)
        self.retried = 0  # posts sent again after a kept-alive connection was closed

    def port(self, ports: list[int]) -> int:
        if self.shuffle:
            return self.random.choice(ports)
        self.turn += 1
        return ports[self.turn % len(ports)]

    async def post(self, port: int, update: dict[str, Any]) -> None:
        """POST the update; once more if the kept-alive connection was closed under it (as a proxy retries:
        the worker stores an update once by its id, so posting it again is safe)."""
        body = json.dumps(update).encode()
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
        for attempt in (1, 2, 3):
            try:
                async with self.session.post(f"http://127.0.0.1:{port}/telegram", data=body, headers=headers) as answer:
                    if answer.status != 200:
                        raise RuntimeError(f"the webhook answered {answer.status}")
                    await answer.read()
                    return
            except (ClientOSError, ServerDisconnectedError):
                if attempt == 3:
                    raise
                self.retried += 1


def text_update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "R", "language_code": "en"}
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "R"},
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def tap_update(update_id: int, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "R", "language_code": "en"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": user,
            "chat_instance": str(chat_id),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "R"},
                "from": BOT,
                "text": "question",
            },
        },
    }


async def resident(
    config: Configuration, telegram: LeanTelegram, balancer: Balancer, chat_id: int, latencies: list[float]
) -> None:
    """One resident's whole journey through `config`'s workers, each step once the last was answered."""
    config.residents.append(chat_id)
    for kind, argument, expect in JOURNEY:
        update_id = next(balancer.update_ids)
        if kind == "say":
            update = text_update(update_id, chat_id, argument)
        else:
            message_id, data = telegram.button(chat_id, argument)
            update = tap_update(update_id, chat_id, message_id, data)
        answered = telegram.expect(chat_id, expect)
        began = time.perf_counter()
        await balancer.post(balancer.port(config.ports), update)
        try:
            seen = await asyncio.wait_for(answered, STEP_TIMEOUT)
        except TimeoutError:
            telegram.waiting.pop(chat_id, None)
            config.lost.append(f"chat {chat_id}: no {expect!r} within {STEP_TIMEOUT:.0f} s after {argument!r}")
            return
        latencies.append(seen - began)


async def feed(
    config: Configuration, telegram: LeanTelegram, balancer: Balancer, residents: int, concurrent: int
) -> tuple[list[float], float]:
    """`residents` residents through `config`, `concurrent` in flight; their latencies and the wall time."""
    chats = iter([next(balancer.chat_ids) for _ in range(residents)])
    latencies: list[float] = []

    async def one_after_another() -> None:
        for chat_id in chats:
            await resident(config, telegram, balancer, chat_id, latencies)

    began = time.perf_counter()
    await asyncio.gather(*(one_after_another() for _ in range(max(1, concurrent))))
    return latencies, time.perf_counter() - began


async def measured_round(
    config: Configuration,
    telegram: LeanTelegram,
    balancer: Balancer,
    residents: int,
    concurrent: int,
    postmaster: int | None,
) -> None:
    commits = config.commits()
    workers, postgres, driver = config.cpu(), cluster_cpu(postmaster), time.process_time()
    load = load_average()
    latencies, wall = await feed(config, telegram, balancer, residents, concurrent)
    config.worker_cpu += config.cpu() - workers
    config.postgres_cpu += cluster_cpu(postmaster) - postgres
    config.driver_cpu += time.process_time() - driver
    config.transactions += config.commits() - commits
    config.latencies.extend(latencies)
    config.updates += len(latencies)
    config.wall += wall
    config.rounds.append(len(latencies) / wall)
    config.loads.extend((load, load_average()))


async def inbound(
    args: argparse.Namespace, cluster: Cluster, folder: Path
) -> tuple[list[Configuration], dict[str, Any]]:
    telegram = LeanTelegram()
    await telegram.start()
    configs = [
        Configuration(
            "1 worker, SQLite", str(folder / "sqlite" / "haveyoursay.db"), False, 1, folder / "sqlite", telegram.api_url
        )
    ]
    for count in args.workers:
        name = f"w{count}"
        configs.append(
            Configuration(
                f"{count} worker{'s' if count > 1 else ''}, PostgreSQL",
                cluster.create(name),
                True,
                count,
                folder / name,
                telegram.api_url,
            )
        )
    info: dict[str, Any] = {}
    # Idle connections dropped after 2 s: the workers' server (uvicorn) closes them after 5 s, and a
    # post on a connection it is closing meets a reset.
    connector = TCPConnector(limit=0, keepalive_timeout=2.0)
    async with ClientSession(connector=connector, timeout=ClientTimeout(total=STEP_TIMEOUT)) as session:
        balancer = Balancer(session, shuffle=args.balance == "shuffle")
        try:
            for config in configs:
                config.prepare()
            if args.log_statements:  # every statement of the first PostgreSQL configuration, in the cluster's log
                watched = next(config for config in configs if config.several)
                name = watched.database.rsplit("/", 1)[-1]
                cluster.admin(f"ALTER DATABASE \"{name}\" SET log_statement = 'all'")
            for config in configs:
                config.start(args.profile)
            for config in configs:
                await config.wait_until_healthy(session)
            print(f"inbound: {sum(c.count for c in configs)} workers up", flush=True)
            for config in configs:  # warm-up: connections opened, code paths run once
                await feed(config, telegram, balancer, args.concurrent, args.concurrent)
                config.residents.clear()
            # Idle: what the workers and the cluster spend with no update coming (timers, leases, sweeps).
            idle_before = [config.cpu() for config in configs], cluster_cpu(cluster.postmaster)
            idle_began = time.monotonic()
            await asyncio.sleep(args.idle)
            idle_seconds = time.monotonic() - idle_began
            for config, before in zip(configs, idle_before[0], strict=True):
                config.idle_cpu_per_second = (config.cpu() - before) / idle_seconds
            info["idle_postgres_per_second"] = (cluster_cpu(cluster.postmaster) - idle_before[1]) / idle_seconds
            info["load_before"] = load_average()
            share = max(1, args.residents // args.rounds)
            began = time.monotonic()
            for number in range(args.rounds):
                order = configs[number % len(configs) :] + configs[: number % len(configs)]
                for config in order:
                    await measured_round(config, telegram, balancer, share, args.concurrent, cluster.postmaster)
                print(
                    f"inbound round {number + 1}/{args.rounds}: "
                    + ", ".join(f"{c.name} {c.rounds[-1]:.0f}/s" for c in configs),
                    flush=True,
                )
            info["seconds"] = time.monotonic() - began
            info["load_after"] = load_average()
        finally:
            for config in configs:
                config.stop()
            await telegram.stop()
    info["calls"] = dict(telegram.calls)
    info["retried"] = balancer.retried
    if args.log_statements:
        watched = next(config for config in configs if config.several)
        info["statements"] = (watched.name, statements(cluster), (len(watched.residents) + args.concurrent) * 15)
    info["problems"] = {config.name: check_inbound(config, telegram, args.concurrent) for config in configs}
    return configs, info


def statements(cluster: Cluster) -> Counter[str]:
    """The statements in the cluster's log (log_statement = all), by their first words."""
    found: Counter[str] = Counter()
    log = cluster.run_dir / "cluster" / "log"
    for line in log.read_text(errors="replace").splitlines():
        for marker in ("LOG:  statement: ", "LOG:  execute <unnamed>: "):
            if marker in line:
                found[" ".join(line.split(marker, 1)[1].split())[:110]] += 1
    return found


def check_inbound(config: Configuration, telegram: LeanTelegram, warmup: int) -> list[str]:
    """As check_inbound, counting the warm-up's residents (in the database, not in `config.residents`)."""
    measured = list(config.residents)
    problems = list(config.lost)
    expected = len(measured) + warmup
    [(submitted,)] = config.query("SELECT COUNT(*) FROM responses WHERE submitted_at IS NOT NULL")
    if submitted != expected:
        problems.append(f"{submitted} surveys submitted, {expected} residents")
    [(answers,)] = config.query("SELECT COUNT(*) FROM answers WHERE first = 1")
    if answers != expected * QUESTIONS:
        problems.append(f"{answers} answers stored, {expected * QUESTIONS} expected")
    [(left,)] = config.query("SELECT COUNT(*) FROM update_inbox")
    if left:
        problems.append(f"{left} updates left in the inbox")
    receipts = [telegram.receipts[chat] for chat in measured]
    if any(count != 1 for count in receipts):
        problems.append(f"receipts per resident: {sorted(Counter(receipts).items())}")
    log = config.logs()
    for marker in ("Traceback", "ERROR"):
        if marker in log:
            problems.append(f"{marker} in the workers' logs ({config.folder})")
    return problems


# ---------------------------------------------------------------------------------------------
# Broadcast: the fake Bot API with Telegram's strict limits, in a child process of its own.

NOTICE = "The <b>Sheppey</b> drop-in moves to Thursday. Tap below to tell us what you think."


def serve_fake(connection: Connection, residents: int, limit: int) -> None:
    """The child: tests/fake_telegram with strict limits and `residents` + 1 accounts that have written."""
    import gc

    sys.path.insert(0, str(ROOT))
    from tests.fake_telegram import FakeTelegram, RateLimits

    gc.disable()  # as in bench/broadcast.py: the fake keeps everything; the collector would stall it
    fake = FakeTelegram().start()
    users = [fake.add_user(f"Resident {n}") for n in range(residents + 1)]
    for user in users:
        fake.mark_started(user)
    officer, people = users[0], users[1:]
    fake.set_rate_limits(RateLimits(per_chat_per_second=1, per_group_per_minute=20, global_per_second=limit))
    connection.send(
        {"base_url": fake.base_url, "token": fake.token, "officer": officer.id, "chat_ids": [u.id for u in people]}
    )
    timeout = connection.recv()
    finished = True
    try:
        fake.wait_for_message(officer.id, since=0, predicate=lambda m: "has finished" in m.text, timeout=timeout)
    except AssertionError:
        finished = False
    connection.send(summarise(fake, {u.id for u in people}, finished))
    connection.recv()
    fake.stop()


def summarise(fake: Any, residents: set[int], finished: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "bench"))
    from broadcast import most_within

    calls = fake.calls_to("sendMessage")
    sent = sorted((c.at, int(c.params["chat_id"])) for c in calls if c.status == 200)
    to_residents = [(at, chat) for at, chat in sent if chat in residents]
    by_chat: dict[int, list[float]] = defaultdict(list)
    for at, chat in to_residents:
        by_chat[chat].append(at)
    reached = Counter(len(by_chat.get(chat, [])) for chat in residents)
    times = [at for at, _ in to_residents]
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "finished": finished,
        "sent": len(to_residents),
        "rate": (len(times) - 1) / span if span > 0 else 0.0,
        "answers_429": sum(1 for c in calls if c.status == 429),
        "rate_limited": len(fake.rate_limited),
        "reached_once": reached.get(1, 0),
        "reached_more": sum(n for times_, n in reached.items() if times_ > 1),
        "not_reached": reached.get(0, 0),
        "max_overall_per_second": most_within(sorted(at for at, _ in sent), 1.0),
        "max_per_chat_per_second": max((most_within(t, 1.0) for t in by_chat.values()), default=0),
    }


async def seed_broadcast(database: str, officer: int, chat_ids: list[int]) -> None:
    """Residents and one broadcast to all of them, queued as the officer's /broadcast queues it."""
    from storage import open_database
    from storage.deliveries import PRIORITY_BROADCAST, NewDelivery

    now = datetime.now(UTC)
    async with open_database(database) as db:
        async with db.transaction():
            for chat_id in chat_ids:
                await db.residents.acknowledge(chat_id, "en", now, None)
        async with db.transaction():
            broadcast = await db.broadcasts.create(officer, {"en": NOTICE}, None, {}, len(chat_ids), now)
            await db.deliveries.enqueue(
                [NewDelivery(c, "broadcast", PRIORITY_BROADCAST, NOTICE, broadcast_id=broadcast) for c in chat_ids],
                now,
            )


@dataclass
class BroadcastRun:
    config: Configuration
    child: Any
    pipe: Connection
    officer: int
    chat_ids: list[int]
    cpu_before: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)


def broadcast(args: argparse.Namespace, cluster: Cluster, folder: Path) -> tuple[list[BroadcastRun], dict[str, Any]]:
    """The same broadcast sent by `--broadcast-workers` workers and by one, at the same time, to two fakes."""
    context = multiprocessing.get_context("spawn")
    runs: list[BroadcastRun] = []
    info: dict[str, Any] = {}
    for count in (args.broadcast_workers, 1):
        ours, theirs = context.Pipe()
        child = context.Process(target=serve_fake, args=(theirs, args.broadcast, args.limit), daemon=True)
        child.start()
        fake = ours.recv()
        name = f"b{count}"
        config = Configuration(
            f"broadcast, {count} worker{'s' if count > 1 else ''}, PostgreSQL",
            cluster.create(name),
            True,
            count,
            folder / name,
            fake["base_url"],
            token=fake["token"],
            env_extra={"HAVEYOURSAY_SEND_RATE": str(args.limit), "HAVEYOURSAY_ADMINS": str(fake["officer"])},
        )
        config.prepare(with_consultation=False)
        asyncio.run(seed_broadcast(config.database, fake["officer"], fake["chat_ids"]))
        runs.append(BroadcastRun(config, child, ours, fake["officer"], fake["chat_ids"]))
    postmaster = cluster.postmaster
    postgres_before = cluster_cpu(postmaster)
    info["load_before"] = load_average()
    began = time.monotonic()
    try:
        for run in runs:
            run.config.start()
            run.pipe.send(args.broadcast / args.limit * 3 + 120)
        for run in runs:
            run.report = run.pipe.recv()
            run.report["cpu"] = run.config.cpu()  # the workers' CPU since they started
        info["seconds"] = time.monotonic() - began
        info["load_after"] = load_average()
        info["postgres_cpu"] = cluster_cpu(postmaster) - postgres_before
    finally:
        for run in runs:
            run.config.stop()
            run.pipe.send("stop")
            run.child.join(30)
    for run in runs:
        states = run.config.query("SELECT state, COUNT(*) FROM deliveries GROUP BY state ORDER BY state")
        run.report["states"] = {str(state): int(n) for state, n in states}
        run.report["problems"] = [m for m in ("Traceback", "ERROR") if m in run.config.logs()]
    return runs, info


# ---------------------------------------------------------------------------------------------


def inbound_rows(configs: list[Configuration]) -> Iterator[str]:
    yield (
        "| configuration | updates/s (median round) | p50 | p95 | p99 | worker CPU ms / update"
        " | PostgreSQL CPU ms / update | both | driver CPU ms / update | PostgreSQL transactions / update | load |"
    )
    yield "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for config in configs:
        f = config.figures()
        both = f["worker_cpu_ms"] + f["postgres_cpu_ms"]
        loads = f"{min(config.loads):.1f}–{max(config.loads):.1f}" if config.loads else "-"
        yield (
            f"| {config.name} | {f['per_second']:,.0f} ({f['median_round']:,.0f}) | {f['p50_ms']:.1f} ms"
            f" | {f['p95_ms']:.1f} ms | {f['p99_ms']:.1f} ms | {f['worker_cpu_ms']:.2f}"
            f" | {f['postgres_cpu_ms']:.2f} | {both:.2f} | {f['driver_cpu_ms']:.2f}"
            f" | {f['transactions']:.1f} | {loads} |"
        )


def broadcast_rows(runs: list[BroadcastRun], limit: int) -> Iterator[str]:
    yield (
        "| configuration | residents | rate (/s) | of the limit | 429s | reached once | more than once | never"
        " | most in 1 s (overall, one chat) | worker CPU s | states |"
    )
    yield "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    for run in runs:
        r = run.report
        states = ", ".join(f"{k} {v}" for k, v in r["states"].items())
        yield (
            f"| {run.config.name} | {len(run.chat_ids):,} | {r['rate']:.2f} | {r['rate'] / limit:.3f}"
            f" | {r['answers_429']} | {r['reached_once']:,} | {r['reached_more']} | {r['not_reached']}"
            f" | {r['max_overall_per_second']}, {r['max_per_chat_per_second']} | {r['cpu']:.1f} | {states} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=160, help="measured residents per configuration")
    parser.add_argument("--rounds", type=int, default=4, help="rounds the residents are split into")
    parser.add_argument("--concurrent", type=int, default=16, help="residents in flight at every moment")
    parser.add_argument("--balance", choices=("shuffle", "turns"), default="shuffle")
    parser.add_argument("--workers", default="1,2,4", help="worker counts on PostgreSQL, comma-separated")
    parser.add_argument("--broadcast", type=int, default=2000, help="residents the broadcast goes to (0: none)")
    parser.add_argument("--broadcast-workers", type=int, default=3)
    parser.add_argument("--limit", type=int, default=30, help="the fake's (and the bot's) messages a second")
    parser.add_argument("--skip", choices=("inbound", "broadcast"), action="append", default=[])
    parser.add_argument("--idle", type=float, default=5.0, help="seconds all workers are watched idle")
    parser.add_argument("--profile", type=Path, help="run each inbound worker under cProfile, files to this folder")
    parser.add_argument(
        "--log-statements", action="store_true", help="count the statements of the first PostgreSQL configuration"
    )
    parser.add_argument("--keep", action="store_true", help="keep the workers' folders and logs")
    args = parser.parse_args(argv)
    args.workers = [int(n) for n in args.workers.split(",") if n.strip()]
    if args.broadcast == 0:
        args.skip.append("broadcast")

    print(
        f"machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()},"
        f" load average {Path('/proc/loadavg').read_text().split()[:3]} at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None))
    cluster = Cluster()
    print(f"PostgreSQL cluster up on port {cluster.port}", flush=True)
    failed = False
    try:
        if "inbound" not in args.skip:
            loop = asyncio.new_event_loop
            with contextlib.suppress(ImportError):
                import uvloop

                loop = uvloop.new_event_loop
            with asyncio.Runner(loop_factory=loop) as runner:
                configs, info = runner.run(inbound(args, cluster, folder))
            print()
            print(
                f"Inbound: {args.residents} residents x 15 updates per configuration in {args.rounds} rounds"
                f" ({info['seconds']:.0f} s), {args.concurrent} in flight, balanced: {args.balance};"
                f" load average {info['load_before']:.1f} before, {info['load_after']:.1f} after"
            )
            print()
            for row in inbound_rows(configs):
                print(row)
            print()
            for name, problems in info["problems"].items():
                print(f"checks, {name}: {'; '.join(problems) if problems else 'all surveys stored once, in full'}")
                failed |= bool(problems)
            print(
                "idle CPU (ms a second): "
                + ", ".join(f"{c.name} {1000 * c.idle_cpu_per_second:.0f}" for c in configs)
                + f", PostgreSQL (all) {1000 * info['idle_postgres_per_second']:.0f}"
            )
            print(f"Bot API calls: {info['calls']}; posts sent again on a closed connection: {info['retried']}")
            if "statements" in info:
                name, found, updates = info["statements"]
                print(f"Statements in {name}'s database, per update ({updates} updates with the warm-up's):")
                for text, count in found.most_common(40):
                    print(f"  {count / updates:6.2f}  {text}")
                print(f"  {sum(found.values()) / updates:6.2f}  in all")
        if "broadcast" not in args.skip:
            runs, binfo = broadcast(args, cluster, folder)
            print()
            print(
                f"Broadcast: {args.broadcast} residents, fakes' limits {args.limit}/s overall and 1/s per chat,"
                f" both configurations at once ({binfo['seconds']:.0f} s); load average {binfo['load_before']:.1f}"
                f" before, {binfo['load_after']:.1f} after; PostgreSQL CPU {binfo['postgres_cpu']:.1f} s (both)"
            )
            print()
            for row in broadcast_rows(runs, args.limit):
                print(row)
            for run in runs:
                r = run.report
                ok = (
                    r["finished"]
                    and r["answers_429"] == 0
                    and r["reached_once"] == len(run.chat_ids)
                    and r["max_per_chat_per_second"] <= 1
                    and not r["problems"]
                )
                failed |= not ok
                if not ok:
                    print(f"checks, {run.config.name}: FAILED {r}")
    finally:
        cluster.stop()
        if args.keep:
            print(f"workers' folders and logs: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
