"""One HTTP server per process: Telegram's webhook, /health and the workspace, on one port when
configured so, with the webhook's guarantees kept (tests/test_e2e_webhook.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import httpx

from bot.http import Health
from bot.webhook import UpdateReceiver
from storage import open_database
from tests.e2e_support import (
    WEBHOOK_SECRET as SECRET,
)
from tests.e2e_support import (
    BotProcess,
    free_port,
    post,
    start_update,
    webhook_bot,
)
from tests.fake_telegram import FakeTelegram
from tests.test_e2e_webhook import raw_post


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return int(answer.status), dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        return int(error.code), dict(error.headers.items()), error.read()


@contextmanager
def running(fake: FakeTelegram, tmp_path: Path, port: int, **env: str) -> Iterator[BotProcess]:
    bot = webhook_bot(fake, tmp_path, port, **env)
    try:
        yield bot.start()
    finally:
        bot.stop()


def test_one_port_serves_the_webhook_the_workspace_and_the_health_check(fake: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    with running(fake, tmp_path, port, HAVEYOURSAY_WEB_LISTEN=f"127.0.0.1:{port}") as bot:
        status, headers, body = get(port, "/health")
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
        assert headers["content-type"] == "application/json"

        user = fake.add_user("Ada")
        fake.mark_started(user)
        mark = fake.mark(user.id)
        assert post(port, start_update(1, user.id), secret=None) == 403
        assert post(port, start_update(2, user.id), secret=SECRET) == 200
        assert "Your privacy" in fake.wait_for_message(user.id, since=mark).text

        # The workspace, on the same port: its pages carry its security headers.
        status, headers, _body = get(port, "/signin/not-a-token")
        assert "default-src 'self'" in headers.get("content-security-policy", "")
        # The webhook's guarantees hold on the shared port: refused on the headers alone.
        assert raw_post(port, 50 * 1024 * 1024, None)[:2] == (403, True)
        assert raw_post(port, 50 * 1024 * 1024, SECRET)[:2] == (413, True)
    assert fake.token not in bot.log() and "Traceback" not in bot.log()


def test_with_the_workspace_off_the_webhook_still_receives_updates(fake: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    with running(fake, tmp_path, port, HAVEYOURSAY_WEB="off") as bot:
        user = fake.add_user("Ada")
        fake.mark_started(user)
        mark = fake.mark(user.id)
        assert post(port, start_update(1, user.id), secret=SECRET) == 200
        assert "Your privacy" in fake.wait_for_message(user.id, since=mark).text
        assert get(port, "/health")[0] == 200
        assert get(port, "/")[0] == 404  # no workspace
        assert get(port, "/signin/not-a-token")[0] == 404
    assert "Traceback" not in bot.log()


async def test_a_worker_whose_database_does_not_answer_is_reported_unavailable(database_target: str) -> None:
    async with open_database(database_target) as db:
        health = Health(db)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(health), base_url="http://worker") as client:
            up = await client.get("/health")
            await db.connection.close()
            down = await client.get("/health")
    assert (up.status_code, up.json()) == (200, {"status": "ok", "database": "ok"})
    assert (down.status_code, down.json()) == (503, {"status": "unavailable", "database": "no answer"})


class _Queue:
    def __init__(self, fails: bool) -> None:
        self.fails = fails
        self.items: list[object] = []

    async def put(self, item: object) -> None:
        if self.fails:
            raise OSError("disk I/O error")
        self.items.append(item)


async def test_an_update_that_could_not_be_stored_is_not_acknowledged() -> None:
    for fails, status in ((True, 503), (False, 200)):
        queue = _Queue(fails)
        application = SimpleNamespace(bot=None, update_queue=queue)
        receiver = UpdateReceiver(application, SECRET)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(receiver), base_url="http://worker") as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            answer = await client.post("/telegram", json=start_update(7, 42), headers=headers)
            assert (await client.post("/telegram", json=start_update(8, 42))).status_code == 403
        assert answer.status_code == status, "Telegram sends it again until it gets a 200"
        assert len(queue.items) == (0 if fails else 1)
