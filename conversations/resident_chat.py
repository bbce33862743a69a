"""The resident's private chat: which update goes to which conversation.

Handlers only translate Telegram updates into calls on the conversations'
logic (onboarding, browsing, answering, help); nothing here decides anything a
resident sees.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.telegram_io import BotContext, callback_data, message_text, replying
from conversations import answering, browsing, callbacks, help, onboarding
from conversations.menu import menu_action
from conversations.screens import Reply
from conversations.services import Visit

PRIVATE = filters.ChatType.PRIVATE


async def on_start(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/start, with or without a deep-link payload."""
    payload = context.args[0] if context.args else None
    return await onboarding.start(visit, payload)


async def on_consultations(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/consultations: the open consultations (after the privacy notice)."""
    if visit.resident is None:
        return await onboarding.start(visit, None)
    return await browsing.open_list(visit)


async def on_language(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/language: choose the language the bot writes in."""
    return await onboarding.language_menu(visit)


async def on_help(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/help."""
    return await help.show_help(visit)


async def on_unknown_command(visit: Visit, update: Update, context: BotContext) -> Reply:
    """Any other command."""
    return await help.unknown_command(visit)


async def on_button(visit: Visit, update: Update, context: BotContext) -> Reply:
    """Any inline button: decoded, then passed to the conversation it belongs to."""
    tapped = callbacks.decode(callback_data(update))
    if tapped is None:
        return Reply(notice=visit.t._("That button is out of date."))
    if tapped.kind == callbacks.WELCOME_LANGUAGE:
        return await onboarding.welcome_in_language(visit, tapped.arg(0) or "", tapped.arg(1))
    if tapped.kind == callbacks.ACKNOWLEDGE:
        return await onboarding.acknowledge(visit, tapped.arg(0) or visit.language, tapped.arg(1))
    if tapped.kind == callbacks.LANGUAGE:
        return await onboarding.choose_language(visit, tapped.arg(0) or "")
    if visit.resident is None:
        # Every other button needs the privacy notice acknowledged first.
        return await onboarding.start(visit, None)
    return await _resident_button(visit, tapped)


async def _resident_button(visit: Visit, tapped: callbacks.Callback) -> Reply:
    kind, first = tapped.kind, tapped.arg(0)
    if kind == callbacks.ONBOARD_AREA:
        return await onboarding.choose_area(visit, first)
    if kind == callbacks.ONBOARD_TOPIC and first:
        return await onboarding.toggle_topic(visit, first)
    if kind == callbacks.ONBOARD_DONE:
        return await onboarding.finish_topics(visit)
    if kind == callbacks.OPEN_CARD and first:
        return await browsing.card(visit, first, edit=True)
    if kind == callbacks.LIST:
        listing = await browsing.open_list(visit)
        return Reply(listing.screens, edit=True)
    if kind == callbacks.TAKE_PART and first:
        return await answering.take_part(visit, first)
    if kind == callbacks.SURVEY:
        return await answering.survey_button(visit, first, tapped.arg(1), tapped.arg(2))
    return Reply(notice=visit.t._("That button is out of date."))


async def on_text(visit: Visit, update: Update, context: BotContext) -> Reply:
    """Typed text: a menu button, an onboarding answer, a survey answer, or a pointer to help."""
    text = message_text(update)
    if visit.resident is None:
        return await onboarding.start(visit, None)
    action = menu_action(visit.services.catalogs, text)
    if action == "consultations":
        return await browsing.open_list(visit)
    if action == "language":
        return await onboarding.language_menu(visit)
    if action == "help":
        return await help.show_help(visit)
    if visit.resident.onboarding_step == onboarding.AREA_STEP:
        return await onboarding.type_area(visit, text)
    session = await answering.active_session(visit)
    if session is not None:
        return await answering.survey_text(session, text)
    return await help.nothing_to_answer(visit)


async def on_unreadable(visit: Visit, update: Update, context: BotContext) -> Reply:
    """A sticker, photo, voice note, file or location: nothing is recorded from it."""
    if visit.resident is None:
        return await onboarding.start(visit, None)
    session = await answering.active_session(visit)
    if session is not None:
        return answering.reminder_for_unreadable(session)
    return await help.unreadable_without_survey(visit)


async def on_group_message(update: Update, context: BotContext) -> None:
    """In a group the bot only says it works in private chats, and records nothing."""
    message = update.effective_message
    if message is None:
        return
    user = update.effective_user
    services = context.services
    language = services.catalogs.resolve(None, user.language_code if user else None)
    visit = Visit(services, message.chat.id, None, services.catalogs.translator(language), None)
    await message.reply_text(help.private_only_text(visit))


def handlers() -> list[BaseHandler[Any, BotContext, Any]]:
    """The resident's handlers, in the order they must be tried."""
    return [
        # Groups first: nothing below may run for a group chat.
        MessageHandler(filters.ChatType.GROUPS & (filters.COMMAND | filters.Entity("mention")), on_group_message),
        CommandHandler("start", replying(on_start), filters=PRIVATE),
        CommandHandler("consultations", replying(on_consultations), filters=PRIVATE),
        CommandHandler("language", replying(on_language), filters=PRIVATE),
        CommandHandler("help", replying(on_help), filters=PRIVATE),
        CallbackQueryHandler(replying(on_button)),
        # Unknown commands before plain text, so "/foo" is never taken as an answer.
        MessageHandler(PRIVATE & filters.COMMAND, replying(on_unknown_command)),
        MessageHandler(PRIVATE & filters.TEXT, replying(on_text)),
        MessageHandler(PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, replying(on_unreadable)),
    ]
