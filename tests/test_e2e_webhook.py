"""Webhook mode: Telegram's secret header is checked; a request without it gets 403 and changes nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.e2e_support import BotProcess, haveyoursay
from tests.fake_telegram import FakeTelegram

SECRET = "s3cret_Token-for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", json.dumps(update).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def start_update(update_id: int, chat_id: int) -> dict[str, object]:
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


def test_updates_without_the_secret_are_refused_and_change_nothing(fake: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    bot = BotProcess(
        fake,
        tmp_path,
        HAVEYOURSAY_WEBHOOK_URL="https://bot.example.org/telegram",
        HAVEYOURSAY_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        HAVEYOURSAY_WEBHOOK_SECRET=SECRET,
    )
    log = bot.log_path.open("ab")
    process = subprocess.Popen([haveyoursay(), "run"], env=bot.env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        registered = fake.wait_for_call("setWebhook", timeout=30)
        assert registered.params["url"] == "https://bot.example.org/telegram"
        assert registered.params["secret_token"] == SECRET
        user = fake.add_user("Ada")
        fake.mark_started(user)  # she wrote to the bot: the updates below come straight to the webhook
        wait_until_listening(port)

        assert post(port, start_update(1, user.id), secret=None) == 403
        assert post(port, start_update(2, user.id), secret="wrong") == 403
        assert fake.messages(user.id) == []

        mark = fake.mark(user.id)
        assert post(port, start_update(3, user.id), secret=SECRET) == 200
        welcome = fake.wait_for_message(user.id, since=mark)
        assert "Your privacy" in welcome.text
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert fake.token not in bot.log()
