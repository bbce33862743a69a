"""Tests of the fake Bot API server, driven through python-telegram-bot's own client.

Each test proves that the fake answers the way Telegram does *as python-telegram-bot sees it*:
the same exception classes, messages and returned objects. If one of these fails after a
library upgrade, the fake (not the bot) needs attention.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser, ManualClock, RateLimits
from tests.fake_telegram.html_entities import HtmlParseError, parse_html

# PTB 22.2+ warns whenever RetryAfter.retry_after is read as an int (it does so itself on raise).
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


# --------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------
@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """A fresh fake with default settings (shadows conftest's, so this file stands alone)."""
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def client(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """python-telegram-bot's own client, pointed at the fake."""
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


@pytest.fixture
def amina(fake: FakeTelegram) -> FakeUser:
    """A resident who has opened the chat, so the bot may write to her."""
    user = fake.add_user("Amina")
    fake.send_text(user, "/start")
    return user


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def seconds(value: int | dtm.timedelta) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB_TIMEDELTA."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def retry_after_of(exc: RetryAfter) -> float:
    return seconds(exc.retry_after)


# --------------------------------------------------------------------------------------------
# sendMessage: shapes and limits
# --------------------------------------------------------------------------------------------
async def test_send_message_returns_a_message_the_library_understands(
    fake: FakeTelegram, client: Bot, amina: FakeUser
) -> None:
    sent = await client.send_message(
        amina.id,
        "😀 <b>Hello</b> &amp; <i>welcome</i>",
        parse_mode="HTML",
        reply_markup=keyboard([("Yes", "consent:yes"), ("No", "consent:no")]),
    )

    assert isinstance(sent, Message)
    assert sent.text == "😀 Hello & welcome"
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.chat.id == amina.id and sent.chat.type == "private"
    # Offsets are UTF-16 code units: the emoji counts twice.
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 3, 5),
        ("italic", 11, 7),
    ]
    assert sent.reply_markup == keyboard([("Yes", "consent:yes"), ("No", "consent:no")])
    held = fake.last_message(amina.id)
    assert held.html == "😀 <b>Hello</b> &amp; <i>welcome</i>"
    assert held.text == sent.text
    assert held.buttons == [[("Yes", "consent:yes"), ("No", "consent:no")]]
    assert held.labels == ["Yes", "No"]


async def test_message_ids_increase_per_chat_and_are_shared_with_the_user(
    fake: FakeTelegram, client: Bot, amina: FakeUser
) -> None:
    first = await client.send_message(amina.id, "one")
    second = await client.send_message(amina.id, "two")
    # The resident's /start took message id 1 in this chat.
    assert (first.message_id, second.message_id) == (2, 3)


async def test_text_limit_counts_characters_after_parsing(client: Bot, amina: FakeUser) -> None:
    await client.send_message(amina.id, f"<b>{'a' * 4096}</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await client.send_message(amina.id, "a" * 4097)
    sent = await client.send_message(amina.id, "short")
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await client.edit_message_text("a" * 4097, amina.id, sent.message_id)


async def test_empty_or_blank_text_is_refused(client: Bot, amina: FakeUser) -> None:
    with pytest.raises(BadRequest, match="Message text is empty"):
        await client.send_message(amina.id, "")
    with pytest.raises(BadRequest, match="Message must be non-empty"):
        await client.send_message(amina.id, "<b> </b>", parse_mode="HTML")


async def test_callback_data_limit_is_64_bytes_not_characters(client: Bot, amina: FakeUser) -> None:
    await client.send_message(amina.id, "ok", reply_markup=keyboard([("é", "é" * 32)]))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await client.send_message(amina.id, "too long", reply_markup=keyboard([("é", "é" * 33)]))


async def test_inline_keyboard_shape_is_enforced(client: Bot, amina: FakeUser) -> None:
    nine_in_a_row = keyboard([(str(i), str(i)) for i in range(9)])
    with pytest.raises(BadRequest, match="Reply markup is too long"):
        await client.send_message(amina.id, "x", reply_markup=nine_in_a_row)
    hundred_and_one = keyboard(*[[(str(i), str(i))] for i in range(101)])
    with pytest.raises(BadRequest, match="Reply markup is too long"):
        await client.send_message(amina.id, "x", reply_markup=hundred_and_one)
    text_only = InlineKeyboardMarkup([[InlineKeyboardButton("bare")]])
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        await client.send_message(amina.id, "x", reply_markup=text_only)
    bad_url = InlineKeyboardMarkup([[InlineKeyboardButton("site", url="not a url")]])
    with pytest.raises(BadRequest, match=r"(?i)button_url_invalid"):
        await client.send_message(amina.id, "x", reply_markup=bad_url)


async def test_bad_html_is_refused_with_telegrams_reason(client: Bot, amina: FakeUser) -> None:
    with pytest.raises(BadRequest, match=r"Can't parse entities: unsupported start tag \"foo\""):
        await client.send_message(amina.id, "a <foo>b</foo>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await client.send_message(amina.id, "Tea & cake", parse_mode="HTML")


async def test_reply_keyboards_and_force_reply_are_accepted(fake: FakeTelegram, client: Bot, amina: FakeUser) -> None:
    markup = ReplyKeyboardMarkup([["Yes", "No"], ["Skip"]], resize_keyboard=True, input_field_placeholder="Pick one")
    sent = await client.send_message(amina.id, "Agree?", reply_markup=markup)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    assert fake.last_message(amina.id).reply_keyboard == [["Yes", "No"], ["Skip"]]
    await client.send_message(amina.id, "Your postcode?", reply_markup=ForceReply())
    with pytest.raises(BadRequest):
        await client.send_message(
            amina.id, "x", reply_markup=ReplyKeyboardMarkup([["a"]], input_field_placeholder="p" * 65)
        )


async def test_reply_to_a_missing_message_is_refused(client: Bot, amina: FakeUser) -> None:
    reply = await client.send_message(amina.id, "re", reply_to_message_id=1)
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "/start"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await client.send_message(amina.id, "re", reply_to_message_id=999)


# --------------------------------------------------------------------------------------------
# Chats, users and injected failures
# --------------------------------------------------------------------------------------------
async def test_unknown_chat_is_not_found(client: Bot) -> None:
    with pytest.raises(BadRequest) as caught:
        await client.send_message(424242, "hello")
    assert str(caught.value) == "Chat not found"


async def test_bot_cannot_write_first(fake: FakeTelegram, client: Bot) -> None:
    stranger = fake.add_user("Bea")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await client.send_message(stranger.id, "hello")


async def test_blocked_and_deactivated_residents_are_forbidden(
    fake: FakeTelegram, client: Bot, amina: FakeUser
) -> None:
    fake.block(amina)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await client.send_message(amina.id, "hello")
    updates = await client.get_updates()
    assert updates[-1].my_chat_member is not None
    assert updates[-1].my_chat_member.new_chat_member.status == "kicked"

    fake.unblock(amina)
    await client.send_message(amina.id, "welcome back")
    fake.deactivate(amina)
    with pytest.raises(Forbidden, match="user is deactivated"):
        await client.send_message(amina.id, "hello")


async def test_injected_429_raises_retry_after(fake: FakeTelegram, client: Bot, amina: FakeUser) -> None:
    fake.fail_next("sendMessage", chat_id=amina.id, error_code=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await client.send_message(amina.id, "hello")
    assert retry_after_of(caught.value) == 7
    await client.send_message(amina.id, "hello")  # only the next call failed
    assert [c.status for c in fake.calls_to("sendMessage")] == [429, 200]


async def test_injected_faults_match_chat_and_map_to_library_errors(
    fake: FakeTelegram, client: Bot, amina: FakeUser
) -> None:
    group = fake.add_group("Carers")
    fake.fail_next("sendmessage", chat_id=group, migrate_to_chat_id=-1001234567890)
    await client.send_message(amina.id, "other chats are unaffected")
    with pytest.raises(ChatMigrated) as migrated:
        await client.send_message(group, "hello")
    assert migrated.value.new_chat_id == -1001234567890

    fake.fail_next("sendMessage", error_code=502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await client.send_message(amina.id, "hello")
    await client.send_message(amina.id, "recovered")


# --------------------------------------------------------------------------------------------
# Edits, deletes and callback queries
# --------------------------------------------------------------------------------------------
async def test_edit_without_change_is_not_modified(client: Bot, amina: FakeUser) -> None:
    sent = await client.send_message(amina.id, "Q1", reply_markup=keyboard([("A", "a")]))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await client.edit_message_text("Q1", amina.id, sent.message_id, reply_markup=keyboard([("A", "a")]))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await client.edit_message_reply_markup(amina.id, sent.message_id, reply_markup=keyboard([("A", "a")]))


async def test_edit_text_without_markup_removes_the_inline_keyboard(
    fake: FakeTelegram, client: Bot, amina: FakeUser
) -> None:
    sent = await client.send_message(amina.id, "Q1", reply_markup=keyboard([("A", "a")]))
    # Same text, but dropping the keyboard is a change.
    edited = await client.edit_message_text("Q1", amina.id, sent.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None
    held = fake.last_message(amina.id)
    assert held.buttons == [] and held.edited == 1


async def test_editing_or_deleting_unknown_messages_fails(client: Bot, amina: FakeUser) -> None:
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await client.edit_message_text("x", amina.id, 999)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await client.edit_message_text("x", amina.id, 1)  # the resident's own /start
    sent = await client.send_message(amina.id, "bye")
    assert await client.delete_message(amina.id, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await client.delete_message(amina.id, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await client.edit_message_text("x", amina.id, sent.message_id)


async def test_press_button_sends_a_callback_query_answered_once(
    fake: FakeTelegram, client: Bot, amina: FakeUser
) -> None:
    sent = await client.send_message(amina.id, "Agree?", reply_markup=keyboard([("Yes", "y")]))
    stale = await client.get_updates()
    fake.press_button(amina, fake.last_message(amina.id), "Yes")
    updates = await client.get_updates(offset=stale[-1].update_id + 1)
    query = updates[-1].callback_query
    assert query is not None and query.data == "y"
    assert query.from_user.id == amina.id
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id

    with pytest.raises(BadRequest, match="Message_too_long"):
        await query.answer("x" * 201)
    assert await query.answer("Thanks!", show_alert=True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("again")
    [answer] = fake.callback_answers(amina)
    assert (answer.text, answer.show_alert, answer.data) == ("Thanks!", True, "y")


async def test_press_button_only_finds_buttons_on_the_current_markup(
    fake: FakeTelegram, client: Bot, amina: FakeUser
) -> None:
    sent = await client.send_message(amina.id, "Agree?", reply_markup=keyboard([("Yes", "y"), ("No", "n")]))
    shown = fake.last_message(amina.id)
    with pytest.raises(AssertionError, match=r"no button 'Maybe'.*'Yes'.*'No'"):
        fake.press_button(amina, shown, "Maybe")

    await client.edit_message_reply_markup(amina.id, sent.message_id, reply_markup=keyboard([("No", "n")]))
    with pytest.raises(AssertionError, match="no button 'Yes'"):
        fake.press_button(amina, shown, "Yes")  # the snapshot is stale; the fake is not
    fake.press_button(amina, shown, callback_data="n")
    fake.press_stale_button(amina, shown, "y")  # an old client can still send it
    kinds = [u["callback_query"]["data"] for u in fake.pending_updates if "callback_query" in u]
    assert kinds == ["n", "y"]


async def test_unknown_callback_query_id_is_refused(client: Bot) -> None:
    with pytest.raises(BadRequest, match="Query is too old"):
        await client.answer_callback_query("123")


async def test_tap_reply_button_checks_the_keyboard_shown(fake: FakeTelegram, client: Bot, amina: FakeUser) -> None:
    await client.send_message(amina.id, "Agree?", reply_markup=ReplyKeyboardMarkup([["Yes", "No"]]))
    fake.tap_reply_button(amina, "Yes")
    with pytest.raises(AssertionError, match="no reply-keyboard button 'Maybe'"):
        fake.tap_reply_button(amina, "Maybe")
    await client.send_message(amina.id, "Thanks", reply_markup=ReplyKeyboardRemove())
    with pytest.raises(AssertionError):
        fake.tap_reply_button(amina, "No")


# --------------------------------------------------------------------------------------------
# Files, commands, webhooks, raw HTTP
# --------------------------------------------------------------------------------------------
async def test_send_document_keeps_name_and_bytes(fake: FakeTelegram, client: Bot, amina: FakeUser) -> None:
    sent = await client.send_document(
        amina.id, b"id,answer\n1,yes\n", filename="answers.csv", caption="<b>Export</b>",
        parse_mode="HTML",
    )  # fmt: skip
    assert sent.document is not None and sent.document.file_name == "answers.csv"
    assert sent.caption == "Export"
    held = fake.last_message(amina.id)
    assert held.document == ("answers.csv", b"id,answer\n1,yes\n")
    # Re-sending by file_id reuses the upload, as Telegram does.
    await client.send_document(amina.id, sent.document.file_id)
    assert fake.last_message(amina.id).document == held.document
    photo = await client.send_photo(amina.id, b"\x89PNG fake", filename="chart.png")
    assert photo.photo and fake.last_message(amina.id).photo == ("chart.png", b"\x89PNG fake")


async def test_commands_are_validated_and_stored_per_scope_and_language(fake: FakeTelegram, client: Bot) -> None:
    await client.set_my_commands([("start", "Begin"), ("help", "Get help")])
    await client.set_my_commands([("start", "Commencer")], language_code="fr")
    assert [c.command for c in await client.get_my_commands()] == ["start", "help"]
    assert fake.commands(language_code="fr") == [{"command": "start", "description": "Commencer"}]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await client.set_my_commands([("Start", "Capitals are not allowed")])
    with pytest.raises(BadRequest, match=r"(?i)bot_command_description_invalid"):
        await client.set_my_commands([("start", "")])
    assert await client.delete_my_commands(language_code="fr")
    assert fake.commands(language_code="fr") == []


@pytest.mark.filterwarnings("ignore:Please use 'Bot.setMyCommands'")
async def test_command_scopes_are_checked_and_a_menu_follows_telegrams_scope_order(
    fake: FakeTelegram, client: Bot
) -> None:
    amina, tom = fake.add_user("Amina", language_code="cy-GB"), fake.add_user("Tom", language_code="en")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):  # Amina has never written to the bot
        await client.set_my_commands([("officer", "Officer commands")], scope=BotCommandScopeChat(amina.id))
    fake.mark_started(amina)
    fake.mark_started(tom)
    await client.set_my_commands([("help", "Help")])
    await client.set_my_commands([("help", "Cymorth")], language_code="cy")
    assert fake.menu(amina) == ["help"] and fake.commands(language_code="cy")[0]["description"] == "Cymorth"
    await client.set_my_commands([("help", "Help"), ("officer", "Officer")], scope=BotCommandScopeChat(amina.id))
    assert fake.menu(amina) == ["help", "officer"], "the chat's own scope comes before any language"
    assert fake.menu(tom) == ["help"]
    assert fake.commands({"type": "chat", "chat_id": amina.id}) == [
        {"command": "help", "description": "Help"},
        {"command": "officer", "description": "Officer"},
    ]
    assert [c.command for c in await client.get_my_commands(scope=BotCommandScopeChat(amina.id))] == ["help", "officer"]
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await client.set_my_commands([("help", "Help")], scope=BotCommandScopeChat(123))
    with pytest.raises(BadRequest, match=r"(?i)private chat"):
        await client.set_my_commands([("help", "Help")], scope=BotCommandScopeChatAdministrators(amina.id))
    with pytest.raises(BadRequest, match=r"(?i)BotCommandScope"):
        await client.do_api_request(
            "setMyCommands", api_kwargs={"commands": '[{"command":"a","description":"b"}]', "scope": '{"type":"x"}'}
        )
    with pytest.raises(BadRequest, match=r"(?i)LANG_CODE_INVALID"):
        await client.set_my_commands([("help", "Help")], language_code="cym")
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMANDS_TOO_MUCH"):
        await client.set_my_commands([(f"c{n}", "x") for n in range(101)], scope=BotCommandScopeChat(tom.id))
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await client.set_my_commands([("a" * 33, "Too long")])
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_DESCRIPTION_INVALID"):
        await client.set_my_commands([("help", "x" * 257)])
    await client.set_my_commands([("help", "x" * 256)], scope=BotCommandScopeChat(tom.id))
    assert await client.delete_my_commands(scope=BotCommandScopeChat(amina.id))
    assert fake.menu(amina) == ["help"], "back to the default menu"
    assert fake.commands({"type": "chat", "chat_id": amina.id}) == []


async def test_webhook_blocks_get_updates_until_deleted(fake: FakeTelegram, client: Bot) -> None:
    await client.set_webhook("https://example.org/hook", secret_token="s3cret")
    assert (await client.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await client.get_updates()
    await client.delete_webhook()
    assert await client.get_updates() == ()


async def test_token_and_method_errors(fake: FakeTelegram, client: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=fake.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await client.do_api_request("sendTelepathy")
    async with httpx.AsyncClient() as http:
        wrong = await http.post(f"{fake.base_url}999:wrong/getMe")
        missing = await http.post(f"{fake.base_url}{fake.token}/sendTelepathy")
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert missing.status_code == 404
    assert missing.json()["description"] == "Not Found: method not found"


async def test_json_bodies_query_strings_and_method_case_are_accepted(fake: FakeTelegram, amina: FakeUser) -> None:
    url = f"{fake.base_url}{fake.token}"
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with httpx.AsyncClient() as http:
        by_json = await http.post(f"{url}/SENDMESSAGE", json={"chat_id": amina.id, "text": "j", "reply_markup": markup})
        by_query = await http.get(f"{url}/sendMessage", params={"chat_id": amina.id, "text": "q"})
    assert by_json.json()["result"]["reply_markup"] == markup
    assert by_query.json()["ok"] is True
    assert [m.text for m in fake.messages(amina.id)] == ["j", "q"]
    assert fake.calls_to("sendMessage")[0].method == "sendMessage"


# --------------------------------------------------------------------------------------------
# getUpdates
# --------------------------------------------------------------------------------------------
async def test_get_updates_confirms_only_with_a_higher_offset(fake: FakeTelegram, client: Bot) -> None:
    user = fake.add_user("Chen")
    ids = [fake.send_text(user, text) for text in ("one", "two", "three")]

    assert [u.update_id for u in await client.get_updates()] == ids
    assert [u.update_id for u in await client.get_updates()] == ids  # nothing confirmed yet
    assert [u.update_id for u in await client.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await client.get_updates()] == ids[1:]  # ids[0] is gone for good
    assert [u.update_id for u in await client.get_updates(limit=1)] == ids[1:2]
    assert [u.update_id for u in await client.get_updates(offset=-1)] == ids[2:]
    assert await client.get_updates(offset=ids[2] + 1) == ()
    assert fake.pending_updates == []


async def test_get_updates_long_polls_and_wakes_on_a_new_update(fake: FakeTelegram, client: Bot) -> None:
    user = fake.add_user("Chen")
    started = time.monotonic()
    poll = asyncio.create_task(client.get_updates(timeout=5))
    await asyncio.to_thread(fake.wait_for_polling)
    update_id = fake.send_text(user, "hello")
    updates = await poll
    assert [u.update_id for u in updates] == [update_id]
    assert time.monotonic() - started < 4  # woken by the update, not by the timeout


async def test_a_second_get_updates_terminates_the_first(fake: FakeTelegram) -> None:
    async with (
        Bot(fake.token, base_url=fake.base_url) as first,
        Bot(fake.token, base_url=fake.base_url) as second,
    ):
        poll = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.to_thread(fake.wait_for_polling)
        assert await second.get_updates() == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await poll


async def test_allowed_updates_filters_updates_created_afterwards(fake: FakeTelegram, client: Bot) -> None:
    user = fake.add_user("Chen")
    fake.send_text(user, "before")
    await client.get_updates(allowed_updates=["callback_query"])
    fake.send_text(user, "after")
    assert [u.message.text for u in await client.get_updates() if u.message] == ["before"]
    assert [u["message"]["text"] for u in fake.dropped_updates] == ["after"]


async def test_incoming_messages_have_the_shapes_handlers_expect(fake: FakeTelegram, client: Bot) -> None:
    user = fake.add_user("Dara", language_code="cy")
    group = fake.add_group("Residents' panel")
    fake.send_text(user, "/start@HaveYourSayTestBot panel-7", chat_id=group)
    fake.send_sticker(user)
    fake.send_photo(user, caption="my street")
    fake.send_voice(user)
    fake.send_location(user)
    updates = await client.get_updates()

    command = updates[0]
    assert command.effective_chat is not None and command.effective_chat.type == "group"
    handler: CommandHandler[Any, Any] = CommandHandler("start", lambda *_: None)
    assert handler.check_update(command)
    assert command.message is not None and command.message.from_user is not None
    assert command.message.from_user.language_code == "cy"
    sticker, photo, voice, location = (u.message for u in updates[1:])
    assert sticker is not None and sticker.sticker is not None
    assert photo is not None and photo.photo and photo.caption == "my street"
    assert voice is not None and voice.voice is not None
    assert location is not None and location.location is not None


# --------------------------------------------------------------------------------------------
# Rate limits (the clock is injected: no test sleeps)
# --------------------------------------------------------------------------------------------
@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def limited(clock: ManualClock) -> Iterator[FakeTelegram]:
    """A fake with Telegram's flood limits switched on and a hand-driven clock."""
    with FakeTelegram(clock=clock, rate_limits=RateLimits()) as server:
        yield server


async def test_private_chat_window_allows_one_message_per_second(limited: FakeTelegram, clock: ManualClock) -> None:
    amina = limited.add_user("Amina")
    limited.send_text(amina, "/start")
    async with Bot(limited.token, base_url=limited.base_url) as client:
        await client.send_message(amina.id, "first")
        clock.advance(0.4)
        with pytest.raises(RetryAfter) as caught:
            await client.send_message(amina.id, "second")
        assert retry_after_of(caught.value) == 1
        clock.advance(0.6)  # exactly one second after the first send: the window has moved
        await client.send_message(amina.id, "second")
    [hit] = limited.rate_limited
    assert (hit.chat_id, hit.retry_after) == (amina.id, 1)


async def test_group_window_allows_twenty_messages_per_minute(limited: FakeTelegram, clock: ManualClock) -> None:
    group = limited.add_group("Carers")
    async with Bot(limited.token, base_url=limited.base_url) as client:
        for _ in range(20):
            await client.send_message(group, "update")
            clock.advance(1)
        with pytest.raises(RetryAfter) as caught:
            await client.send_message(group, "one too many")
    assert retry_after_of(caught.value) == 40  # the first send leaves the window at t=60


async def test_global_window_counts_every_chat(limited: FakeTelegram) -> None:
    limited.set_rate_limits(RateLimits(per_chat_per_second=None, global_per_second=2))
    users = [limited.add_user(name) for name in ("Ann", "Ben", "Cal")]
    for user in users:
        limited.send_text(user, "/start")
    async with Bot(limited.token, base_url=limited.base_url) as client:
        await client.send_message(users[0].id, "hi")
        await client.send_message(users[1].id, "hi")
        with pytest.raises(RetryAfter):
            await client.send_message(users[2].id, "hi")


# --------------------------------------------------------------------------------------------
# Waiting helpers
# --------------------------------------------------------------------------------------------
async def test_wait_for_message_sees_sends_and_edits_in_order(fake: FakeTelegram, client: Bot, amina: FakeUser) -> None:
    mark = fake.mark(amina.id)
    waiting = asyncio.create_task(asyncio.to_thread(fake.wait_for_message, amina.id, timeout=5))
    sent = await client.send_message(amina.id, "Q1", reply_markup=keyboard([("A", "a")]))
    first = await waiting
    assert isinstance(first, BotMessage) and first.text == "Q1"

    await client.edit_message_text("Q1 (answered)", amina.id, sent.message_id)
    edit = fake.wait_for_message(amina.id, timeout=1)
    assert (edit.message_id, edit.text, edit.edited, edit.buttons) == (
        sent.message_id,
        "Q1 (answered)",
        1,
        [],
    )
    again = fake.wait_for_message(amina.id, since=mark, predicate=lambda m: m.edited > 0)
    assert again.text == "Q1 (answered)"


async def test_wait_for_message_timeout_explains_what_happened(
    fake: FakeTelegram, client: Bot, amina: FakeUser
) -> None:
    await client.send_message(amina.id, "Welcome")
    with pytest.raises(BadRequest):
        await client.send_message(amina.id, "<oops>", parse_mode="HTML")
    with pytest.raises(AssertionError) as caught:
        fake.wait_for_message(amina.id, predicate=lambda m: "Goodbye" in m.text, timeout=0.05)
    report = str(caught.value)
    assert "'Welcome'" in report and 'Unsupported start tag "oops"' in report


async def test_driving_a_real_application_end_to_end(fake: FakeTelegram) -> None:
    """A tiny python-telegram-bot Application polls the fake like the real bot will."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html("Hello <b>there</b>", reply_markup=keyboard([("Join", "join")]))

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Welcome aboard")
        await query.edit_message_text("You joined")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        await update.effective_message.reply_text(update.effective_message.text.upper())

    app = Application.builder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    user = fake.add_user("Efe")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1)
        try:
            fake.send_text(user, "/start")
            greeting = await asyncio.to_thread(fake.wait_for_message, user.id, timeout=5)
            assert (greeting.text, greeting.labels) == ("Hello there", ["Join"])

            fake.press_button(user, greeting, "Join")
            edited = await asyncio.to_thread(fake.wait_for_message, user.id, timeout=5)
            assert (edited.message_id, edited.text, edited.buttons) == (
                greeting.message_id,
                "You joined",
                [],
            )
            fake.send_text(user, "shout")
            assert (await asyncio.to_thread(fake.wait_for_message, user.id)).text == "SHOUT"
            await asyncio.to_thread(fake.wait_until_idle, 5)
        finally:
            await app.updater.stop()
            await app.stop()
    assert [a.text for a in fake.callback_answers(user)] == ["Welcome aboard"]
    assert fake.pending_updates == []
    assert not [c for c in fake.errors if c.method != "getUpdates"]


# --------------------------------------------------------------------------------------------
# The HTML parser on its own
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("é</b>", "Unexpected end tag at byte offset 2"),  # offsets count UTF-8 bytes
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href=x"y>z</a>', "Unexpected end of name token at byte offset 8"),
        ("R&D", 'Unescaped "&" at byte offset 1'),
    ],
)
def test_parse_html_errors(html: str, reason: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(html)
    assert caught.value.reason.startswith(reason)


def test_parse_html_entities_and_tags() -> None:
    parsed = parse_html(
        '<blockquote expandable>q</blockquote><span class="tg-spoiler">s</span>'
        '<pre><code class="language-python">x=1</code></pre><code class="language-x">y</code>'
        '<a href="https://nhs.uk">link</a>&lt;&#65;&#x42;&quot;&gt;'
    )
    assert parsed.text == 'qsx=1ylink<AB">'
    assert parsed.entities == [
        {"type": "expandable_blockquote", "offset": 0, "length": 1},
        {"type": "spoiler", "offset": 1, "length": 1},
        {"type": "pre", "offset": 2, "length": 3, "language": "python"},
        {"type": "code", "offset": 5, "length": 1},
        {"type": "text_link", "offset": 6, "length": 4, "url": "https://nhs.uk"},
    ]
    assert parse_html("R&D", strict_ampersand=False).text == "R&D"  # what Telegram itself does
