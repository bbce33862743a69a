"""The edge where Telegram objects become plain values and screens become messages."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    MaybeInaccessibleMessage,
    Message,
    Update,
    WebAppInfo,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackContext, ExtBot
from telegram.warnings import PTBUserWarning

from bot.guards import Door, Verdict
from conversations.broadcasting import DRAFT as BROADCAST_DRAFT
from conversations.menu import menu_labels
from conversations.outcomes import DRAFT as OUTCOME_DRAFT
from conversations.screens import Attachment, Button, Reply, Rows, Screen
from conversations.services import Services, Visit, begin_visit
from conversations.typed_text import accepted_text

log = logging.getLogger(__name__)
# Screens go out through Bot.do_api_request with plain JSON (see `_markup_json`); the library
# suggests its own methods for known endpoints, which is the point we measured against.
warnings.filterwarnings("ignore", r"Please use 'Bot\.\w+' instead", PTBUserWarning)
MAX_NOTICE = 200
OFFICER_DRAFTS = frozenset({BROADCAST_DRAFT, OUTCOME_DRAFT})


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, with the services every handler needs."""

    @property
    def services(self) -> Services:
        return cast(Services, self.bot_data["services"])


BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any]


async def visit_for(update: Update, context: BotContext) -> Visit:
    """Who is writing, and in which language to answer: decided once per update."""
    user = update.effective_user
    chat = update.effective_chat
    assert chat is not None
    message = update.effective_message
    sent_at = message.date if message is not None and update.callback_query is None else None
    visit = await begin_visit(context.services, chat.id, user.language_code if user else None, sent_at)
    query = update.callback_query
    if query is not None:
        query_id = query.id

        async def acknowledge() -> None:
            await answer_query(context, query_id)

        visit.acknowledge = acknowledge
    return visit


async def answer_query(context: BotContext, query_id: str, notice: str | None = None, alert: bool = False) -> None:
    """Stop a tapped button's spinner (with a notice, if any).

    A tap handled again after a crash was answered before the crash, and Telegram refuses a
    second answer ("query is too old"): the rest of the reply still goes out.
    """
    try:
        await context.bot.answer_callback_query(query_id, text=notice, show_alert=alert if notice else None)
    except BadRequest as error:
        if "query is too old" not in str(error).lower() and "query id is invalid" not in str(error).lower():
            raise
        log.info("A tap was answered already (handled again after a restart, or too late)")


def inline_keyboard(buttons: Rows) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b.label, callback_data=b.data, url=b.url, web_app=WebAppInfo(b.web_app) if b.web_app else None
                )
                for b in row
            ]
            for row in buttons
        ]
    )


def _markup_json(screen: Screen, visit: Visit | None) -> str | None:
    """The reply markup as the Bot API takes it, built as plain JSON.

    Screens are sent with `Bot.do_api_request` and plain JSON rather than python-telegram-bot's
    objects: building those objects (and parsing the Message that comes back) took more time
    than everything else the bot does for a survey answer (bench/README.md).
    """
    if screen.buttons:
        rows = [[_button_json(b) for b in row] for row in screen.buttons]
        return json.dumps({"inline_keyboard": rows}, ensure_ascii=False)
    if screen.menu and visit is not None:
        labels = menu_labels(visit.t)
        keyboard = [[{"text": labels.consultations}], [{"text": labels.language}, {"text": labels.help}]]
        return json.dumps({"keyboard": keyboard, "resize_keyboard": True, "is_persistent": True}, ensure_ascii=False)
    return None


def _button_json(button: Button) -> dict[str, Any]:
    if button.web_app:
        return {"text": button.label, "web_app": {"url": button.web_app}}
    if button.url:
        return {"text": button.label, "url": button.url}
    return {"text": button.label, "callback_data": button.data or ""}


async def send_screen(context: BotContext, chat_id: int, screen: Screen, visit: Visit) -> None:
    kwargs: dict[str, Any] = {"chat_id": chat_id, "text": screen.text, "parse_mode": ParseMode.HTML.value}
    markup = _markup_json(screen, visit)
    if markup is not None:
        kwargs["reply_markup"] = markup
    await context.bot.do_api_request("sendMessage", api_kwargs=kwargs)


async def edit_screen(context: BotContext, message: MaybeInaccessibleMessage, screen: Screen) -> None:
    kwargs: dict[str, Any] = {
        "chat_id": message.chat.id,
        "message_id": message.message_id,
        "text": screen.text,
        "parse_mode": ParseMode.HTML.value,
    }
    markup = _markup_json(screen, None)
    if markup is not None:
        kwargs["reply_markup"] = markup
    try:
        await context.bot.do_api_request("editMessageText", api_kwargs=kwargs)
    except BadRequest as error:
        # A second tap that changes nothing: the message already shows this screen.
        if "not modified" not in str(error).lower():
            raise


async def clear_buttons(context: BotContext, message: MaybeInaccessibleMessage) -> None:
    try:
        await context.bot.do_api_request(
            "editMessageReplyMarkup", api_kwargs={"chat_id": message.chat.id, "message_id": message.message_id}
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def deliver(update: Update, context: BotContext, visit: Visit, reply: Reply) -> None:
    """Show a reply: answer the tapped button, edit or clear its message, send the rest."""
    query = update.callback_query
    screens = list(reply.screens)
    if query is not None:
        notice = reply.notice[:MAX_NOTICE] if reply.notice else None
        if visit.acknowledged:
            if notice:
                log.warning("A notice for a tap already answered was not shown")
        else:
            await answer_query(context, query.id, notice, reply.alert)
        message = query.message if isinstance(query.message, Message) else None
        if reply.edit and screens and message is not None and not screens[0].menu:
            await edit_screen(context, message, screens.pop(0))
        elif (reply.clear_buttons or reply.edit) and message is not None:
            # A screen with the main menu cannot replace a message: keep the old text, drop its buttons.
            await clear_buttons(context, message)
    for screen in screens:
        await send_screen(context, visit.chat_id, screen, visit)
    for attachment in reply.attachments:
        await send_attachment(context, visit.chat_id, attachment)


async def send_attachment(context: BotContext, chat_id: int, attachment: Attachment) -> None:
    """A file (a resident's data, an export) or a picture (a chart)."""
    file = InputFile(attachment.content, filename=attachment.filename)
    caption = attachment.caption or None
    if attachment.picture:
        await context.bot.send_photo(chat_id, file, caption=caption, parse_mode=ParseMode.HTML)
    else:
        await context.bot.send_document(chat_id, file, caption=caption, parse_mode=ParseMode.HTML)


async def admitted(update: Update, context: BotContext) -> bool:
    """False for a replayed update or a resident's flood (after one polite notice); nothing is stored.

    Called first by every handler's callback, rather than as a handler group of its own:
    python-telegram-bot's extra group cost 2-4% of updates/s (A/B in one process).
    """
    door = cast(Door, context.bot_data["door"])
    chat = update.effective_chat
    query = update.callback_query
    verdict = door.verdict(
        chat.id if chat else None, chat is not None and chat.type == "private", update.update_id, query is not None
    )
    if verdict is Verdict.ALLOW:
        return True
    if verdict is None:
        log.info("Dropped a replayed or out-of-order update")
        return False
    if query is None and chat is not None and await _officer_drafting(context.services, chat.id):
        # An officer pasting a notice in several languages, or a long text Telegram split, is not
        # a flood: their drafting is not limited (what they send to residents is, by the queue).
        return True
    if query is not None:
        await query.answer()
    if verdict is Verdict.SLOW_DOWN and chat is not None:
        visit = await visit_for(update, context)
        slow = visit.t._("You are sending messages very quickly. Please wait a minute, then try again.")
        await context.bot.send_message(chat.id, slow, parse_mode=ParseMode.HTML)
    return False


async def _officer_drafting(services: Services, chat_id: int) -> bool:
    """An officer with a notice or an outcome being written (asked only of a chat over the limit)."""
    drafting = await services.db.drafts.kinds(chat_id) & OFFICER_DRAFTS
    return bool(drafting) and await services.role_of(chat_id) is not None


async def without_a_chat(update: Update, context: BotContext) -> None:
    """A tap on a button of a message the bot cannot see (sent inline, or too old): no chat to answer in.

    One line in the log, and the tap is answered, so the person's button stops spinning.
    """
    query = update.callback_query
    log.info("Update %d has no chat to answer in; nothing done", update.update_id)
    if query is None:
        return
    catalogs = context.services.catalogs
    t = catalogs.translator(catalogs.resolve(None, query.from_user.language_code))
    await query.answer(t._("That button is out of date."))


async def reply_in_group(update: Update, context: BotContext, text: str) -> None:
    """A reply in a group (HTML, as every translated message is), within the group's budget of replies (Door)."""
    door = cast(Door, context.bot_data["door"])
    message = update.effective_message
    if message is None:
        return
    verdict = door.group_reply(message.chat.id)
    if verdict is Verdict.SLOW_DOWN:
        log.info("A group has had its replies for this minute; the bot is quiet there for a while")
    if verdict is not Verdict.ALLOW:
        return
    await message.reply_text(text, parse_mode=ParseMode.HTML)


Logic = Callable[[Visit, Update, BotContext], Awaitable[Reply]]


def replying(logic: Logic) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A PTB callback that builds the visit, runs `logic`, and shows its reply."""

    async def callback(update: Update, context: BotContext) -> None:
        if update.effective_chat is None:
            await without_a_chat(update, context)
            return
        if not await admitted(update, context):
            return
        visit = await visit_for(update, context)
        reply = await logic(visit, update, context)
        await deliver(update, context, visit, reply)

    callback.__name__ = logic.__name__
    callback.__doc__ = logic.__doc__
    return callback


def callback_data(update: Update) -> str | None:
    query = update.callback_query
    return query.data if query is not None else None


def message_text(update: Update) -> str:
    """What the person typed, as the bot accepts any typed text (conversations/typed_text.py)."""
    message = update.effective_message
    return accepted_text(message.text or "") if message is not None else ""
