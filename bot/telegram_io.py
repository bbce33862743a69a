"""The edge where Telegram objects become plain values, and a handler's reply is shown (through bot/outbox.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from telegram import Message, Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot import outbox
from bot.guards import Door, Verdict
from conversations.broadcasting import DRAFT as BROADCAST_DRAFT
from conversations.outcomes import DRAFT as OUTCOME_DRAFT
from conversations.screens import Reply, Screen
from conversations.services import Services, Visit, begin_visit
from conversations.typed_text import accepted_text

log = logging.getLogger(__name__)
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
            await outbox.answer_tap(context.bot, query_id)

        visit.acknowledge = acknowledge
    return visit


async def deliver(update: Update, context: BotContext, visit: Visit, reply: Reply) -> None:
    """Show a reply: answer the tapped button, edit or clear its message, send the rest."""
    query = update.callback_query
    screens = list(reply.screens)
    bot = context.bot
    if query is not None:
        if visit.acknowledged:
            if reply.notice:
                log.warning("A notice for a tap already answered was not shown")
        else:
            await outbox.answer_tap(bot, query.id, reply.notice, reply.alert)
        message = query.message if isinstance(query.message, Message) else None
        if reply.edit and screens and message is not None and not screens[0].menu:
            await outbox.edit(bot, message.chat.id, message.message_id, screens.pop(0))
        elif (reply.clear_buttons or reply.edit) and message is not None:
            # A screen with the main menu cannot replace a message: keep the old text, drop its buttons.
            await outbox.clear_buttons(bot, message.chat.id, message.message_id)
    for screen in screens:
        await outbox.send_reply(bot, visit.chat_id, screen, visit.t)
    for attachment in reply.attachments:
        await outbox.attach(bot, visit.chat_id, attachment)


async def admitted(update: Update, context: BotContext) -> bool:
    """False for a replayed update or a resident's flood (after one polite notice); nothing is stored.

    Called first by every handler's callback, rather than as a handler group of its own:
    python-telegram-bot's extra group cost 2-4% of updates/s (A/B in one process).
    """
    door = cast(Door, context.bot_data["door"])
    chat = update.effective_chat
    query = update.callback_query
    chat_id, private, tap = chat.id if chat else None, chat is not None and chat.type == "private", query is not None
    if door.shared is None:
        verdict = door.verdict(chat_id, private, update.update_id, tap)
    else:  # several workers: floods counted in the database (bot/guards.py)
        verdict = await door.shared_verdict(chat_id, private, update.update_id, tap)
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
        await outbox.answer_tap(context.bot, query.id)
    if verdict is Verdict.SLOW_DOWN and chat is not None:
        visit = await visit_for(update, context)
        slow = visit.t._("You are sending messages very quickly. Please wait a minute, then try again.")
        await outbox.send(context.bot, chat.id, Screen(slow))
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
    await outbox.answer_tap(context.bot, query.id, t._("That button is out of date."))


async def reply_in_group(update: Update, context: BotContext, text: str) -> None:
    """A reply in a group (HTML, as every translated message is), within the group's budget of replies (Door)."""
    door = cast(Door, context.bot_data["door"])
    message = update.effective_message
    if message is None:
        return
    verdict = await door.shared_group_reply(message.chat.id)  # in the database with several workers
    if verdict is Verdict.SLOW_DOWN:
        log.info("A group has had its replies for this minute; the bot is quiet there for a while")
    if verdict is not Verdict.ALLOW:
        return
    # As python-telegram-bot's reply_text did: quoting the message, in its forum topic if it has one.
    thread = message.message_thread_id if message.is_topic_message else None
    await outbox.reply(context.bot, message.chat.id, text, message.message_id, thread)


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
