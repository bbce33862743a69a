"""The edge where Telegram objects become plain values and screens become messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackContext, ExtBot

from conversations.menu import menu_labels
from conversations.screens import Attachment, Reply, Rows, Screen
from conversations.services import Services, Visit, begin_visit

log = logging.getLogger(__name__)
MAX_NOTICE = 200


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
    return await begin_visit(context.services, chat.id, user.language_code if user else None)


def inline_keyboard(buttons: Rows) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data, url=b.url) for b in row] for row in buttons]
    )


def main_menu(visit: Visit) -> ReplyKeyboardMarkup:
    labels = menu_labels(visit.t)
    return ReplyKeyboardMarkup(
        [[KeyboardButton(labels.consultations)], [KeyboardButton(labels.language), KeyboardButton(labels.help)]],
        resize_keyboard=True,
        is_persistent=True,
    )


async def send_screen(context: BotContext, chat_id: int, screen: Screen, visit: Visit) -> Message:
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = inline_keyboard(screen.buttons)
    if markup is None and screen.menu:
        markup = main_menu(visit)
    return await context.bot.send_message(chat_id, screen.text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def edit_screen(query: CallbackQuery, screen: Screen) -> None:
    try:
        await query.edit_message_text(
            screen.text, parse_mode=ParseMode.HTML, reply_markup=inline_keyboard(screen.buttons)
        )
    except BadRequest as error:
        # A second tap that changes nothing: the message already shows this screen.
        if "not modified" not in str(error).lower():
            raise


async def clear_buttons(query: CallbackQuery) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def deliver(update: Update, context: BotContext, visit: Visit, reply: Reply) -> None:
    """Show a reply: answer the tapped button, edit or clear its message, send the rest."""
    query = update.callback_query
    screens = list(reply.screens)
    if query is not None:
        notice = reply.notice[:MAX_NOTICE] if reply.notice else None
        await query.answer(notice, show_alert=reply.alert)
        can_edit = isinstance(query.message, Message)
        if reply.edit and screens and can_edit and not screens[0].menu:
            await edit_screen(query, screens.pop(0))
        elif (reply.clear_buttons or reply.edit) and can_edit:
            # A screen with the main menu cannot replace a message: keep the old text, drop its buttons.
            await clear_buttons(query)
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


Logic = Callable[[Visit, Update, BotContext], Awaitable[Reply]]


def replying(logic: Logic) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A PTB callback that builds the visit, runs `logic`, and shows its reply."""

    async def callback(update: Update, context: BotContext) -> None:
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
    message = update.effective_message
    return message.text or "" if message is not None else ""
