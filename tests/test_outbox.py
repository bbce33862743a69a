"""One way out: screens become Bot API calls in bot/outbox.py and nowhere else.

Every module of the three floors is read (as tests/test_floors.py reads imports), so a message
sent, edited or answered elsewhere, or a keyboard built elsewhere, fails the build.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import cast

import pytest
import telegram
import telegram.error

from bot import outbox
from conversations.i18n import Catalogs
from conversations.screens import Button, Screen, buttons_from_data, buttons_to_data, rows

ROOT = Path(__file__).resolve().parent.parent
# Telegram's keyboards and the Bot API's raw door, by name.
KEYBOARD_NAMES = frozenset(
    {"InlineKeyboardMarkup", "InlineKeyboardButton", "ReplyKeyboardMarkup", "KeyboardButton", "WebAppInfo"}
)
MESSAGE_VERBS = re.compile(
    r"^(send_|sendMessage|edit_message|editMessage|answer_callback_query|answerCallbackQuery|copy_message|forward_message"
    r"|reply_|edit_text$|edit_reply_markup$|edit_caption$|do_api_request$)"
)


def _message_methods() -> frozenset[str]:
    """The names python-telegram-bot sends, edits or answers messages by (bot, message and tap shortcuts)."""
    names = set()
    for kind in (telegram.Bot, telegram.Message, telegram.CallbackQuery):
        names |= {name for name in dir(kind) if MESSAGE_VERBS.match(name) and callable(getattr(kind, name))}
    return frozenset(names)


def calls_outside_the_outbox(root: Path = ROOT) -> list[str]:
    methods = _message_methods()
    found = []
    for floor in ("bot", "conversations", "storage"):
        for path in sorted((root / floor).rglob("*.py")):
            if path == root / "bot" / "outbox.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.Attribute) and node.attr in methods:
                    found.append(f"{where} uses .{node.attr}")
                elif isinstance(node, ast.Attribute) and node.attr == "answer" and _is_a_query(node.value):
                    found.append(f"{where} answers a tap")
                elif isinstance(node, ast.Name | ast.alias) and _name(node) in KEYBOARD_NAMES:
                    found.append(f"{where} builds a {_name(node)}")
    return found


def _name(node: ast.Name | ast.alias) -> str:
    return node.id if isinstance(node, ast.Name) else node.name


def _is_a_query(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return "query" in name.lower()


def test_the_check_knows_the_librarys_ways_of_sending() -> None:
    methods = _message_methods()
    assert {"send_message", "sendMessage", "reply_text", "edit_message_text", "answer_callback_query"} <= methods
    assert {"send_document", "send_photo", "edit_text", "do_api_request"} <= methods
    assert "send_now" not in methods  # Services.send_now is the outbox's, reached by conversations


@pytest.mark.slow
def test_only_the_outbox_sends_edits_answers_or_builds_keyboards() -> None:
    found = calls_outside_the_outbox()
    assert not found, "Bot API messages made outside bot/outbox.py:\n" + "\n".join(found)


def test_the_check_sees_each_way_round_it() -> None:
    source = (
        "from telegram import InlineKeyboardMarkup\n"
        "async def f(bot, update, context):\n"
        "    await bot.send_message(1, 'x')\n"
        "    await update.effective_message.reply_text('x')\n"
        "    await update.callback_query.answer()\n"
        "    await context.bot.do_api_request('sendMessage')\n"
    )
    methods = _message_methods()
    tree = ast.parse(source)
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert {"send_message", "reply_text", "do_api_request"} <= attributes & methods
    assert any(isinstance(n, ast.Attribute) and n.attr == "answer" and _is_a_query(n.value) for n in ast.walk(tree))
    assert any(isinstance(n, ast.alias) and n.name in KEYBOARD_NAMES for n in ast.walk(tree))


def test_buttons_are_encoded_as_the_bot_api_takes_them() -> None:
    assert outbox.button_json(Button("Take part", "tp:gp")) == {"text": "Take part", "callback_data": "tp:gp"}
    assert outbox.button_json(Button("Read", url="https://example.org")) == {
        "text": "Read",
        "url": "https://example.org",
    }
    assert outbox.button_json(Button("Open", web_app="https://example.org/app")) == {
        "text": "Open",
        "web_app": {"url": "https://example.org/app"},
    }
    screen = Screen("Hello", rows(Button("A", "a"), Button("B", "b"), per_row=2))
    message = outbox.message_json(5, screen)
    assert message["chat_id"] == 5 and message["text"] == "Hello" and message["parse_mode"] == "HTML"
    assert json.loads(message["reply_markup"]) == {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}, {"text": "B", "callback_data": "b"}]]
    }
    assert "reply_markup" not in outbox.message_json(5, Screen("Plain"))


def test_the_main_menu_keyboard_goes_with_a_menu_screen_in_the_residents_language() -> None:
    t = Catalogs.load("en", "Europe/London").translator("en")
    markup = json.loads(outbox.markup_json(Screen("Hi", menu=True), t) or "{}")
    assert markup["keyboard"] == [[{"text": "📋 Consultations"}], [{"text": "🌐 Language"}, {"text": "❓ Help"}]]
    assert markup["is_persistent"] is True
    assert outbox.markup_json(Screen("Hi", menu=True)) is None  # an edit cannot carry it


def test_queued_buttons_keep_what_the_queue_stored_before() -> None:
    buttons = rows(
        Button("Take part", "tp:gp"),
        Button("Read", url="https://example.org"),
        Button("App", web_app="https://a.example"),
    )
    stored = buttons_to_data(buttons)
    assert stored == [
        [{"label": "Take part", "data": "tp:gp"}],
        [{"label": "Read", "url": "https://example.org"}],
        [{"label": "App", "web_app": "https://a.example"}],
    ]
    assert buttons_from_data(json.loads(json.dumps(stored))) == buttons


async def test_a_reply_that_meets_a_short_flood_wait_is_sent_after_it_and_a_long_one_is_not_waited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """During a broadcast at the bot's full rate a reply can meet a 429: what the resident said is
    stored, and the answer to it still goes out once the short wait is over."""
    tries: list[int] = []

    async def crowded(bot: object, chat_id: int, screen: Screen, t: object = None) -> dict[str, object]:
        tries.append(chat_id)
        if len(tries) == 1:
            raise telegram.error.RetryAfter(0)
        return {"message_id": 7}

    monkeypatch.setattr(outbox, "send", crowded)
    assert await outbox.send_reply(cast(telegram.Bot, None), 42, Screen("Question 2 of 5")) == {"message_id": 7}
    assert tries == [42, 42]

    async def flooded(bot: object, chat_id: int, screen: Screen, t: object = None) -> dict[str, object]:
        tries.append(chat_id)
        raise telegram.error.RetryAfter(int(outbox.REPLY_PATIENCE_SECONDS) + 30)

    monkeypatch.setattr(outbox, "send", flooded)
    tries.clear()
    with pytest.raises(telegram.error.RetryAfter):
        await outbox.send_reply(cast(telegram.Bot, None), 42, Screen("Question 2 of 5"))
    assert tries == [42], "a long wait is not waited: the caller logs it as before"
