"""The inbound path's speed-ups keep what they replaced: the same Bot API call, random tokens, a settled heap."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from typing import Any

import pytest
from telegram import Bot
from telegram.request import BaseRequest, RequestData

from bot import heap, outbox
from conversations.survey.engine import new_token

TOKEN = "123456:TEST-token-aaaaaaaaaaaaaaaaaaaaaaaaaaa"


class Recording(BaseRequest):
    """Answers every call with True, keeping what was posted (url, JSON parameters)."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, dict[str, Any]]] = []

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
        self.posted.append((url, dict(request_data.json_parameters) if request_data else {}))
        return 200, b'{"ok": true, "result": true}'


@pytest.mark.parametrize(
    "parameters",
    [
        {"chat_id": 5, "message_id": 7, "text": "<b>Q</b> é", "parse_mode": "HTML", "reply_markup": '{"a": 1}'},
        {"callback_query_id": "42", "text": None, "show_alert": None},
        {"callback_query_id": "42", "text": "Saved", "show_alert": True},
    ],
)
async def test_the_outbox_posts_what_the_librarys_post_would(parameters: dict[str, Any]) -> None:
    request = Recording()
    bot = Bot(TOKEN, request=request, get_updates_request=request)
    await outbox._call(bot, "sendMessage", dict(parameters))
    await bot._post("sendMessage", dict(parameters))
    ours, library = request.posted
    assert ours == library
    assert "None" not in str(ours[1]) and all(value is not None for value in ours[1].values())


def test_step_tokens_are_short_random_and_not_repeated() -> None:
    tokens = [new_token() for _ in range(5000)]  # more than one batch of random bytes
    assert all(re.fullmatch(r"[0-9a-f]{6}", token) for token in tokens)
    assert len(set(tokens)) > 4990  # 16.7 million values: a handful of collisions at most


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_once_started_the_heap_is_frozen_and_young_collections_are_rarer(restored_gc: None) -> None:
    middle, old = gc.get_threshold()[1:]
    heap.settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, middle, old)
