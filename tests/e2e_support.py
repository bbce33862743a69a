"""Running the real `haveyoursay` process against the fake Bot API, and chatting with it as a resident."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
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
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another `haveyoursay` command with the same environment."""
        return subprocess.run(
            [haveyoursay(), *args], env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=60
        )

    def import_consultations(self, *files: Path) -> None:
        if self.database_url or not self.database.exists():  # a new deployment, as its operator sets it up
            made = self.command("init")
            assert made.returncode == 0, made.stdout + made.stderr
        result = self.command("import", *map(str, files))
        assert result.returncode == 0, result.stdout + result.stderr

    def start(self) -> BotProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([haveyoursay(), "run"], env=self.env, cwd=self.workdir, stdout=log, stderr=log)
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
