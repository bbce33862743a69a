"""Webhook mode: Telegram's secret header is checked before the body is read; a request without it
gets 403 and changes nothing, and a body larger than an update is refused with 413, unread."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_support import (
    WEBHOOK_SECRET,
    BotProcess,
    free_port,
    post,
    raw_post,
    start_update,
    wait_until_listening,
    webhook_bot,
)
from tests.fake_telegram import FakeTelegram

# What other tests import from here (kept while they do).
SECRET = WEBHOOK_SECRET
__all__ = ["SECRET", "free_port", "post", "raw_post", "start_update", "wait_until_listening"]


def test_updates_without_the_secret_are_refused_and_change_nothing(fake: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    bot = webhook_bot(fake, tmp_path, port)
    try:
        bot.start()
        registered = fake.wait_for_call("setWebhook", timeout=30)
        assert registered.params["url"] == "https://bot.example.org/telegram"
        assert registered.params["secret_token"] == SECRET
        user = fake.add_user("Ada")
        fake.mark_started(user)  # she wrote to the bot: the updates below come straight to the webhook

        assert post(port, start_update(1, user.id), secret=None) == 403
        assert post(port, start_update(2, user.id), secret="wrong") == 403
        assert fake.messages(user.id) == []

        mark = fake.mark(user.id)
        assert post(port, start_update(3, user.id), secret=SECRET) == 200
        welcome = fake.wait_for_message(user.id, since=mark)
        assert "Your privacy" in welcome.text
    finally:
        bot.stop()
    assert fake.token not in bot.log()


@pytest.fixture
def running_webhook_bot(
    fake: FakeTelegram, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int, BotProcess]]:
    port = free_port()
    bot = webhook_bot(fake, tmp_path, port)
    try:
        bot.start()
        assert bot.process is not None
        yield bot.process, port, bot
    finally:
        bot.stop()


def peak_memory(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def test_an_unauthenticated_body_is_refused_before_it_is_read(
    running_webhook_bot: tuple[subprocess.Popen[bytes], int, BotProcess], fake: FakeTelegram
) -> None:
    process, port, bot = running_webhook_bot
    before = peak_memory(process.pid)
    for secret in (None, "wrong"):
        status, early, _sent = raw_post(port, 50 * 1024 * 1024, secret)
        assert (status, early) == (403, True), "refused on the headers alone"
    status, early, _sent = raw_post(port, 50 * 1024 * 1024, None, path="/elsewhere")
    assert (status, early) == (404, True), "another path: refused on the headers alone too"
    grown = peak_memory(process.pid) - before
    assert grown < 5 * 1024 * 1024, f"peak memory grew by {grown / 1e6:.1f} MB"

    # A body larger than any update, even with the secret: 413, unread.
    status, early, _sent = raw_post(port, 50 * 1024 * 1024, SECRET)
    assert (status, early) == (413, True)
    # Without a length announced (chunked), counted while read and cut off past the limit.
    status, early, sent = raw_post(port, 50 * 1024 * 1024, SECRET, chunked=True)
    assert status == 413 and sent < 8 * 1024 * 1024, sent
    assert peak_memory(process.pid) - before < 8 * 1024 * 1024

    # The real thing still works after all that.
    user = fake.add_user("Ada")
    fake.mark_started(user)
    mark = fake.mark(user.id)
    assert post(port, start_update(10, user.id), secret=SECRET) == 200
    assert "Your privacy" in fake.wait_for_message(user.id, since=mark).text
    assert "Traceback" not in bot.log()
