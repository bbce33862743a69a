"""The one way out: every message the bot sends, edits or answers reaches Telegram through here.

A `Screen` (conversations/screens.py) becomes Bot API calls in this module and nowhere else:
a handler's reply (`bot/telegram_io.deliver`), a message sent at once (`Services.send_now`,
built by `send_now` here), the delivery worker's queued messages (bot/delivery.py), the door's
notice to a resident writing too fast, and a reply in a group. Buttons become Bot API JSON in
`button_json` alone; how Telegram's refusals are read (`failure`) is decided here too, for the
callers that act on them. `tests/test_outbox.py` fails the build on a Bot API call made elsewhere.

Messages go as plain Bot API JSON (`_call`), not python-telegram-bot's objects: building those
(and parsing the Message that comes back) took more time than everything else the bot does for
a survey answer, and a fifth of the delivery worker's time at 300 messages a second
(bench/README.md). Files go through the library's methods, which do the upload.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from dataclasses import dataclass
from enum import Enum
from typing import Any

from telegram import Bot, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter
from telegram.warnings import PTBDeprecationWarning

from conversations.i18n import Translator
from conversations.menu import menu_labels
from conversations.screens import Attachment, Button, Screen
from conversations.services import ChatMoved

log = logging.getLogger(__name__)
HTML = ParseMode.HTML.value
MAX_NOTICE = 200  # characters Telegram shows on a tapped button
# json.dumps with any argument builds a new encoder each call; one made once writes the same.
_JSON = json.JSONEncoder(ensure_ascii=False)


async def _call(bot: Bot, endpoint: str, parameters: dict[str, Any]) -> Any:
    """One Bot API call with plain JSON parameters; Telegram's answer as it sent it.

    The parameters go to the bot's request object as python-telegram-bot's `Bot._do_post` hands
    them over (None left out, each value a `RequestParameter`), without the layers above it,
    which have nothing to do for plain values: defaults to insert (`_insert_defaults` walks every
    parameter), a rate limiter (there is none) and the `do_api_request` warning. 40-48 against
    68-77 us a call on a busy machine (bench/README.md). Errors are python-telegram-bot's, as from
    any of its methods (`BaseRequest.post` raises them). With a rate limiter, the library's path.
    """
    if isinstance(bot, ExtBot) and bot.rate_limiter is not None:
        return await bot._post(endpoint, parameters)
    # Plain values (str, int, bool): `RequestParameter.from_input` would return each as it is.
    data = RequestData([RequestParameter(key, value, None) for key, value in parameters.items() if value is not None])
    return await bot.request.post(f"{bot.base_url}/{endpoint}", data)


# -- encoding ---------------------------------------------------------------------------------


def button_json(button: Button) -> dict[str, Any]:
    """One inline button as the Bot API takes it: a link, a Mini App, or callback data."""
    if button.url:
        return {"text": button.label, "url": button.url}
    if button.web_app:
        return {"text": button.label, "web_app": {"url": button.web_app}}
    return {"text": button.label, "callback_data": button.data or ""}


def markup_json(screen: Screen, t: Translator | None = None) -> str | None:
    """The reply markup: the screen's inline buttons, else the main menu keyboard (in `t`'s language)."""
    if screen.buttons:
        rows = [[button_json(b) for b in row] for row in screen.buttons]
        return _JSON.encode({"inline_keyboard": rows})
    if screen.menu and t is not None:
        labels = menu_labels(t)
        keyboard = [[{"text": labels.consultations}], [{"text": labels.language}, {"text": labels.help}]]
        return _JSON.encode({"keyboard": keyboard, "resize_keyboard": True, "is_persistent": True})
    return None


def message_json(chat_id: int, screen: Screen, t: Translator | None = None) -> dict[str, Any]:
    """sendMessage's parameters for one screen."""
    message: dict[str, Any] = {"chat_id": chat_id, "text": screen.text, "parse_mode": HTML}
    markup = markup_json(screen, t)
    if markup is not None:
        message["reply_markup"] = markup
    return message


# -- sending ----------------------------------------------------------------------------------


async def send(bot: Bot, chat_id: int, screen: Screen, t: Translator | None = None) -> dict[str, Any]:
    """Send one screen; the message Telegram made, as it sent it. `t`: for the main menu's labels."""
    sent = await _call(bot, "sendMessage", message_json(chat_id, screen, t))
    return sent if isinstance(sent, dict) else {}


# A reply waits out a flood wait this short once, rather than leave the resident unanswered.
REPLY_PATIENCE_SECONDS = 5.0


async def send_reply(bot: Bot, chat_id: int, screen: Screen, t: Translator | None = None) -> dict[str, Any]:
    """Send one screen in answer to what a person just did.

    Telegram's limits are the bot's as a whole: while a broadcast goes out at the configured rate
    (from any worker), a reply can meet a 429. What the resident said is already stored; a short
    wait, waited once, keeps the answer to it from being lost. A long one is left to the caller.
    """
    try:
        return await send(bot, chat_id, screen, t)
    except RetryAfter as error:
        wait = _seconds(error)
        if wait > REPLY_PATIENCE_SECONDS:
            raise
        log.info("Telegram asked us to slow down (RetryAfter, %g s); waiting once before a reply", wait)
        await asyncio.sleep(wait)
        return await send(bot, chat_id, screen, t)


async def send_now(bot: Bot, chat_id: int, screen: Screen) -> int:
    """`Services.send_now`: send one screen at once, return its message id.

    PermissionError when the chat cannot be reached (blocked the bot, left the group), ChatMoved
    when a group became a supergroup: the two refusals conversations act on.
    """
    try:
        sent = await send(bot, chat_id, screen)
    except Forbidden as error:
        raise PermissionError(str(error)) from error
    except ChatMigrated as error:
        raise ChatMoved(error.new_chat_id) from error
    return int(sent["message_id"])


async def edit(bot: Bot, chat_id: int, message_id: int, screen: Screen) -> None:
    """Replace a message's text and inline buttons (a second tap that changes nothing is no error)."""
    message: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "text": screen.text, "parse_mode": HTML}
    markup = markup_json(screen)
    if markup is not None:
        message["reply_markup"] = markup
    try:
        await _call(bot, "editMessageText", message)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def clear_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """A message keeps its text and loses its inline buttons."""
    try:
        await _call(bot, "editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id})
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def answer_tap(bot: Bot, query_id: str, notice: str | None = None, alert: bool = False) -> None:
    """Stop a tapped button's spinner, with a short notice if any.

    A tap handled again after a crash was answered before the crash, and Telegram refuses a
    second answer ("query is too old"): logged, and the rest of the reply still goes out.
    """
    notice = notice[:MAX_NOTICE] if notice else None
    try:
        await _call(
            bot,
            "answerCallbackQuery",
            {"callback_query_id": query_id, "text": notice, "show_alert": alert if notice else None},
        )
    except BadRequest as error:
        if "query is too old" not in str(error).lower() and "query id is invalid" not in str(error).lower():
            raise
        log.info("A tap was answered already (handled again after a restart, or too late)")


async def attach(bot: Bot, chat_id: int, attachment: Attachment) -> None:
    """A file (a resident's data, an export) or a picture (a chart)."""
    file = InputFile(attachment.content, filename=attachment.filename)
    caption = attachment.caption or None
    if attachment.picture:
        await bot.send_photo(chat_id, file, caption=caption, parse_mode=HTML)
    else:
        await bot.send_document(chat_id, file, caption=caption, parse_mode=HTML)


async def reply(bot: Bot, chat_id: int, text: str, reply_to: int, thread_id: int | None = None) -> None:
    """A reply in a group, quoting the message it answers (and in its forum topic, if any)."""
    message: dict[str, Any] = {
        "chat_id": chat_id,
        "text": text,
        "parse_mode": HTML,
        "reply_parameters": json.dumps({"message_id": reply_to}),
    }
    if thread_id is not None:
        message["message_thread_id"] = thread_id
    await _call(bot, "sendMessage", message)


# -- Telegram's refusals ----------------------------------------------------------------------


class Failed(Enum):
    """What a failed request means for the message, as the callers act on it."""

    FLOOD_WAIT = "flood wait"  # 429: nothing may be sent for `retry_after` seconds; not delivered
    UNREACHABLE = "unreachable"  # 403: the chat blocked the bot or is gone
    MOVED = "moved"  # the group became a supergroup: `new_chat_id`
    TIMED_OUT = "timed out"  # no answer in time: it may have been delivered (`maybe_delivered`)
    OUTAGE = "outage"  # no connection, a 5xx: not delivered, worth trying again later
    REFUSED = "refused"  # Telegram refused this message (400 and the like): trying again will not help
    BROKEN = "broken"  # not Telegram's answer at all: a fault on our side (`error` has it)


@dataclass(frozen=True)
class Failure:
    kind: Failed
    reason: str
    error: Exception
    retry_after: float = 0.0
    new_chat_id: int | None = None
    maybe_delivered: bool = False


def failure(error: Exception) -> Failure:
    """What a request's exception means. TimedOut and BadRequest are NetworkErrors in
    python-telegram-bot, so the order of these checks matters."""
    if isinstance(error, RetryAfter):
        return Failure(Failed.FLOOD_WAIT, "flood wait", error, retry_after=_seconds(error))
    if isinstance(error, Forbidden):
        return Failure(Failed.UNREACHABLE, error.message, error)
    if isinstance(error, ChatMigrated):
        return Failure(Failed.MOVED, f"the group moved to {error.new_chat_id}", error, new_chat_id=error.new_chat_id)
    if isinstance(error, TimedOut):
        return Failure(Failed.TIMED_OUT, error.message, error, maybe_delivered=not _never_sent(error))
    if isinstance(error, BadRequest):
        return Failure(Failed.REFUSED, error.message, error)
    if isinstance(error, NetworkError):
        return Failure(Failed.OUTAGE, error.message, error)
    if isinstance(error, TelegramError):
        return Failure(Failed.REFUSED, error.message, error)
    return Failure(Failed.BROKEN, f"{type(error).__name__}: {error}", error)


def _seconds(error: RetryAfter) -> float:
    # python-telegram-bot 22.2+ warns that the int will become a timedelta; both are handled here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after = error.retry_after
    return float(retry_after) if isinstance(retry_after, int | float) else retry_after.total_seconds()


def _never_sent(error: TimedOut) -> bool:
    """python-telegram-bot's pool timeout: no connection was free, so the request never left."""
    return error.message.startswith("Pool timeout")
