"""Running the real `haveyoursay` process against the fake Bot API, and chatting with it as a resident."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage.sql import is_postgres_url
from tests.backends import on_disk
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"


def haveyoursay() -> str:
    found = shutil.which("haveyoursay")
    assert found, "the haveyoursay command is not installed: run the README's test command"
    return found


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Webhook mode: the secret Telegram is told to send with every update.
WEBHOOK_SECRET = "s3cret_Token-for-tests"


def wait_until_listening(port: int, timeout: float = 30.0) -> None:
    """The webhook server starts after setWebhook; it gives no other sign, so probe the port."""
    ready = threading.Event()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            ready.wait(0.05)
    raise AssertionError(f"nothing listens on port {port} after {timeout}s")


def post(port: int, update: dict[str, object], secret: str | None) -> int:
    """Deliver an update to a webhook as Telegram does (with `secret` in its header); the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", json.dumps(update).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def raw_post(
    port: int, size: int, secret: str | None, *, chunked: bool = False, path: str = "/telegram"
) -> tuple[int, bool, int]:
    """POST a body of `size` bytes the way an attacker would, watching for an early answer.

    Returns (HTTP status, whether the answer came before any of the body was sent, bytes of body sent);
    status 0 when the connection was refused or cut without an answer.
    """
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    if secret is not None:
        head.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
    piece, sent, early = b"x" * 65_536, 0, False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            # A server that decides on the headers answers now; give it a few seconds (a loaded machine).
            early = bool(select.select([connection], [], [], 5.0)[0])
            try:
                while not early and sent < size and not select.select([connection], [], [], 0)[0]:
                    data = piece[: size - sent]
                    connection.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                    sent += len(data)
                if chunked and sent >= size:
                    connection.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server hung up rather than read the rest
            answer = connection.recv(4096)
    except OSError:
        return 0, early, sent
    parts = answer.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), early, sent


def start_update(update_id: int, chat_id: int) -> dict[str, object]:
    """The update Telegram sends when Ada types /start."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "text": "/start",
            "chat": {"id": chat_id, "type": "private", "first_name": "Ada"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ada", "language_code": "en"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def _sending_at_any_hour(workdir: Path) -> Path:
    """The tests' deployment, with civil hours all day: tests run at any hour, and expect what they send to go."""
    path = workdir / "deployment-any-hour.yaml"
    text = (DATA / "deployment.yaml").read_text(encoding="utf-8")
    path.write_text(text + "\ncivil_hours: '00:00-24:00'\n", encoding="utf-8")
    return path


def bot_database(request: pytest.FixtureRequest) -> str | None:
    """The database for a test's bot: on a test that takes `database_target` (it runs on both backends),
    its PostgreSQL URL on the PostgreSQL run; else None, the SQLite file in the test's folder."""
    if "database_target" not in request.fixturenames:
        return None
    target = request.getfixturevalue("database_target")
    return target if is_postgres_url(target) else None


# Runs `haveyoursay` commands one after another in one process (a JSON list of argument lists); stops at a failure.
_COMMANDS_IN_ONE_PROCESS = """
import json, sys
from bot.cli import main
for arguments in json.loads(sys.argv[1]):
    status = main(arguments)
    if status:
        sys.exit(status)
"""


class BotProcess:
    """The real bot, started with `haveyoursay run` and pointed at the fake server."""

    def __init__(self, fake: FakeTelegram, workdir: Path, database_url: str | None = None, **extra_env: str) -> None:
        """`database_url`: a PostgreSQL database for the bot (HAVEYOURSAY_DB); None: an SQLite file in `workdir`."""
        self.fake = fake
        self.workdir = workdir
        self.database = workdir / "haveyoursay.db"
        self.database_url = database_url
        self.log_path = workdir / "bot.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HAVEYOURSAY_"))},
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.base_url,
            "HAVEYOURSAY_DB": database_url or str(self.database),
            "HAVEYOURSAY_CONFIG": str(_sending_at_any_hour(workdir)),
            # Each bot's workspace on a port of its own: tests run side by side.
            "HAVEYOURSAY_WEB_LISTEN": f"127.0.0.1:{free_port()}",
            **extra_env,
        }
        self.web_url = "http://" + self.env["HAVEYOURSAY_WEB_LISTEN"]
        listen = self.env.get("HAVEYOURSAY_WEBHOOK_LISTEN")
        self.webhook_port = int(listen.rsplit(":", 1)[1]) if listen else None
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another `haveyoursay` command with the same environment."""
        return subprocess.run(
            [haveyoursay(), *args], env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=60
        )

    def import_consultations(self, *files: Path) -> None:
        """`haveyoursay init` (a new deployment, as its operator sets it up), then `haveyoursay import`.

        Both commands run in one process, each as its own `main`: starting Python and importing the bot twice
        cost 0.3 s of CPU more, in most of the end-to-end tests.
        """
        steps: list[list[str]] = [["init"]] if self.database_url or not self.database.exists() else []
        steps.append(["import", *map(str, files)])
        result = subprocess.run(
            [sys.executable, "-c", _COMMANDS_IN_ONE_PROCESS, json.dumps(steps)],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def start(self) -> BotProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([haveyoursay(), "run"], env=self.env, cwd=self.workdir, stdout=log, stderr=log)
        if self.webhook_port is not None:
            wait_until_listening(self.webhook_port)
        else:
            self.fake.wait_for_polling(timeout=30)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the bot's database as it is on disk."""
        if self.database_url:
            return on_disk(self.database_url, sql, *params)
        with sqlite3.connect(self.database) as connection:
            return connection.execute(sql, params).fetchall()


def webhook_bot(
    fake: FakeTelegram, workdir: Path, port: int, database_url: str | None = None, **env: str
) -> BotProcess:
    """The bot in webhook mode, receiving updates on `port` with WEBHOOK_SECRET checked (not started yet)."""
    return BotProcess(
        fake,
        workdir,
        database_url,
        HAVEYOURSAY_WEBHOOK_URL="https://bot.example.org/telegram",
        HAVEYOURSAY_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        HAVEYOURSAY_WEBHOOK_SECRET=WEBHOOK_SECRET,
        **env,
    )


class Resident:
    """A resident in a private chat with the bot, doing what a person does: type and tap."""

    def __init__(self, fake: FakeTelegram, user: FakeUser) -> None:
        self.fake = fake
        self.user = user

    @property
    def chat_id(self) -> int:
        return self.user.id

    def say(self, text: str, expect: str | None = None) -> BotMessage:
        """Send a message; return the bot's next message (the one containing `expect`, if given)."""
        mark = self.fake.mark(self.chat_id)
        self.fake.send_text(self.user, text)
        return self._wait(mark, expect)

    def send(self, action: Callable[[FakeUser], int], expect: str | None = None) -> BotMessage:
        """Send a sticker, photo, voice note... (e.g. `fake.send_sticker`) and return the reply."""
        mark = self.fake.mark(self.chat_id)
        action(self.user)
        return self._wait(mark, expect)

    def tap(self, label: str, on: BotMessage | None = None, expect: str | None = None) -> BotMessage:
        """Tap a button on a message (the latest one with buttons by default); return the bot's answer."""
        message = on or self.latest_with_buttons()
        mark = self.fake.mark(self.chat_id)
        self.fake.press_button(self.user, message, label)
        return self._wait(mark, expect)

    def then(self, previous: BotMessage, expect: str | None = None) -> BotMessage:
        """The bot's next message after `previous` (when one action brings several messages)."""
        return self._wait(previous.seq, expect)

    def tap_and_settle(self, label: str, on: BotMessage | None = None) -> None:
        """Tap a button whose answer may be only a note on the button; wait until the bot is done."""
        message = on or self.latest_with_buttons()
        self.fake.press_button(self.user, message, label)
        self.fake.wait_until_idle()

    def latest_with_buttons(self) -> BotMessage:
        for message in reversed(self.fake.messages(self.chat_id)):
            if message.buttons:
                return message
        raise AssertionError("the bot has shown no buttons in this chat")

    def last_notice(self) -> str | None:
        answers = self.fake.callback_answers(self.user)
        return answers[-1].text if answers else None

    def _wait(self, mark: int, expect: str | None) -> BotMessage:
        def predicate(message: BotMessage) -> bool:
            if expect is None:
                return bool(message.text)
            return expect in message.text or expect in message.labels

        return self.fake.wait_for_message(self.chat_id, since=mark, predicate=predicate, timeout=15)


def submit_after_saturday(resident: Resident) -> BotMessage:
    """The rest of the GP opening hours survey once "Saturday" is ticked at question 2 (Done, a 5, No, two
    Skips, Submit); the receipt."""
    resident.tap("Done", expect="Question 3 of 7")
    resident.tap("5", expect="Question 4 of 6")
    resident.tap("No", expect="Question 5 of 6")
    resident.tap("Skip", expect="Question 6 of 6")
    resident.tap("Skip", expect="Please check your answers")
    return resident.tap("Submit", expect="We have received your answers")
