"""Telegram routing (the edge): which update of a private chat or a group goes to which conversation.

Handlers only translate Telegram updates into calls on the conversations'
logic (onboarding, browsing, answering, help); nothing here decides anything a
resident sees. Buttons and typed text go where the conversations' declared routes
(their BUTTONS and TEXT, conversations/routes.py) say: one callback handler and one
text handler serve them all, as one handler of each kind is faster than one per route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.telegram_io import BotContext, Logic, admitted, callback_data, message_text, reply_in_group, replying
from conversations import (
    about_you,
    answering,
    broadcasting,
    browsing,
    callbacks,
    contact,
    help,
    location,
    menu,
    officers,
    onboarding,
    outcomes,
    pending,
    preview,
    privacy,
    results,
    routes,
    settings,
    team,
    workspace,
)
from conversations.screens import Reply, Screen
from conversations.services import Visit

PRIVATE = filters.ChatType.PRIVATE


async def on_start(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/start, with or without a deep-link payload."""
    payload = context.args[0] if context.args else None
    if payload and payload.startswith(officers.INVITE_PREFIX):
        invited = await officers.redeem_invite(visit, payload[len(officers.INVITE_PREFIX) :])
        await remember_officer_name(visit, update)
        return invited
    if await officers.is_officer(visit):
        await remember_officer_name(visit, update)
        # An officer's menu cannot be set before they first write to the bot.
        await visit.services.refresh_menu(visit.chat_id)
    if visit.resident is not None and visit.resident.unreachable:
        # They had blocked the bot (the delivery worker noted it); writing again unblocks them.
        await visit.services.db.residents.mark_reachable(visit.chat_id)
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


async def on_settings(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/settings: notices, reminders, area and interests."""
    if visit.resident is None:
        return await onboarding.start(visit, None)
    return await settings.show(visit)


async def on_contact(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/contact: write to the engagement team."""
    if visit.resident is None:
        return await onboarding.start(visit, None)
    return await contact.start(visit)


async def on_my_id(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/myid: the Telegram user id, for an admin to make someone an officer."""
    return await officers.my_id(visit)


def leaving(logic: Logic) -> Logic:
    """A command that takes the resident elsewhere: every step waiting for typed text ends (a message
    to the team begun, the area question...), so that what they type next is read by where they went."""

    async def leave(visit: Visit, update: Update, context: BotContext) -> Reply:
        await pending.leave(visit)
        return await logic(visit, update, context)

    leave.__name__ = logic.__name__
    leave.__doc__ = logic.__doc__
    return leave


OfficerLogic = Callable[[Visit, str | None], Awaitable[Reply]]


async def remember_officer_name(visit: Visit, update: Update) -> None:
    """An officer's name as Telegram gives it, for the workspace's Team and Audit pages (a resident's never)."""
    user = update.effective_user
    if user is not None:
        await team.remember_name(visit.services, user.id, user.first_name, user.last_name, user.username)


def officer_only(
    logic: OfficerLogic, *, admin: bool = False
) -> Callable[[Visit, Update, BotContext], Awaitable[Reply]]:
    """An officer command; anyone else gets the answer for an unknown command. Checked every time."""

    async def guarded(visit: Visit, update: Update, context: BotContext) -> Reply:
        allowed = await (officers.is_admin(visit) if admin else officers.is_officer(visit))
        if not allowed:
            return await help.unknown_command(visit)
        await remember_officer_name(visit, update)
        await pending.leave(visit)
        argument = " ".join(context.args) if context.args else None
        return await logic(visit, argument)

    guarded.__name__ = logic.__name__
    guarded.__doc__ = logic.__doc__
    return guarded


async def officer_menu(visit: Visit, argument: str | None) -> Reply:
    """/officer: what officers can do."""
    return await officers.officer_help(visit)


async def broadcast_start(visit: Visit, argument: str | None) -> Reply:
    """/broadcast: write a notice to residents."""
    return await broadcasting.start(visit)


async def broadcast_progress(visit: Visit, argument: str | None) -> Reply:
    """/broadcasts: how recent notices are being delivered."""
    return await broadcasting.progress(visit)


async def list_officers(visit: Visit, argument: str | None) -> Reply:
    """/officers (admins)."""
    return await officers.list_officers(visit)


async def make_invite(visit: Visit, argument: str | None) -> Reply:
    """/invite (admins)."""
    return await officers.invite(visit)


async def add_officer(visit: Visit, argument: str | None) -> Reply:
    """/addofficer ID (admins)."""
    return await officers.add_officer(visit, argument)


async def remove_officer(visit: Visit, argument: str | None) -> Reply:
    """/removeofficer ID (admins)."""
    return await officers.remove_officer(visit, argument)


async def show_audit(visit: Visit, argument: str | None) -> Reply:
    """/audit (admins)."""
    return await officers.audit_log(visit)


async def on_my_data(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/mydata: everything we hold about the resident, as a file."""
    if visit.resident is None:
        return await onboarding.start(visit, None)
    return await privacy.my_data_reply(visit)


async def on_delete(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/delete: erase everything, after a confirmation."""
    return await privacy.ask_to_delete(visit)


async def on_about_me(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/aboutme: the resident's "About you" answers, withdrawable."""
    return await about_you.mine(visit)


async def on_outcomes(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/outcomes: past consultations and what came of them."""
    return await outcomes.past_and_present(visit)


async def show_results(visit: Visit, argument: str | None) -> Reply:
    """/results: pick a consultation to see its results."""
    return await results.choose_consultation(visit, "show")


async def export_responses(visit: Visit, argument: str | None) -> Reply:
    """/export [csv|xlsx] or /export ID [csv|xlsx]: a consultation's responses as a file."""
    return await results.export_command(visit, argument)


async def show_reach(visit: Visit, argument: str | None) -> Reply:
    """/reach: who took part against who could have."""
    return await results.choose_consultation(visit, "reach")


async def publish_outcome(visit: Visit, argument: str | None) -> Reply:
    """/outcome: publish "What you told us" or "What we did"."""
    return await outcomes.start(visit)


async def cancel(visit: Visit, update: Update, context: BotContext) -> Reply:
    """/cancel: leave a broadcast or a message to the team half-written (every step waiting for text ends)."""
    await pending.leave(visit)
    return Reply((Screen(visit.t._("Cancelled. Nothing was sent.")),))


async def on_unknown_command(visit: Visit, update: Update, context: BotContext) -> Reply:
    """Any other command."""
    return await help.unknown_command(visit)


# Every button and every reading of typed text, as the conversations declare them.
BUTTONS = routes.button_table(
    onboarding.BUTTONS,
    browsing.BUTTONS,
    answering.BUTTONS,
    settings.BUTTONS,
    contact.BUTTONS,
    outcomes.BUTTONS,
    broadcasting.BUTTONS,
    results.BUTTONS,
    privacy.BUTTONS,
    about_you.BUTTONS,
    preview.BUTTONS,
)
TEXT = routes.text_order(
    menu.TEXT,
    broadcasting.TEXT,
    outcomes.TEXT,
    contact.TEXT,
    onboarding.TEXT,
    settings.TEXT,
    answering.TEXT,
)


async def on_button(visit: Visit, update: Update, context: BotContext) -> Reply:
    """Any inline button: decoded, then passed to the conversation that declared its prefix."""
    tapped = callbacks.decode(callback_data(update))
    if tapped is None:
        return routes.out_of_date(visit)
    await pending.leave(visit, tapped.kind)
    route = BUTTONS.get(tapped.kind)
    if route is not None and route.officers_only and not await officers.is_officer(visit):
        return routes.out_of_date(visit)
    if (route is None or route.needs_resident) and visit.resident is None:
        # Every other button needs the privacy notice acknowledged first.
        return await onboarding.start(visit, None)
    if route is None:
        return routes.out_of_date(visit)
    return await route.handle(visit, tapped)


async def on_text(visit: Visit, update: Update, context: BotContext) -> Reply:
    """Typed text: read by the first declared route it is for (a menu button, the step on screen,
    a survey answer), or a pointer to help."""
    typed = _typed(update, context)
    for route in TEXT:
        if route.needs_resident and visit.resident is None:
            return await onboarding.start(visit, None)
        reply = await route.answer(visit, typed)
        if reply is not None:
            return reply
    return await help.nothing_to_answer(visit)


def _typed(update: Update, context: BotContext) -> routes.Typed:
    message = update.effective_message
    message_id = message.message_id if message is not None else None
    replied = message.reply_to_message if message is not None else None
    # bot/inbox.py names the updates it hands over again after a crash.
    replayed = message_id is not None and update.update_id in context.bot_data.get("replayed", ())
    return routes.Typed(message_text(update), message_id, replied.message_id if replied else None, replayed)


async def on_unreadable(visit: Visit, update: Update, context: BotContext) -> Reply:
    """A sticker, photo, voice note, file or location: nothing is recorded from it."""
    if await officers.is_officer(visit):
        draft = await broadcasting.draft_of(visit)
        if draft is not None:
            return broadcasting.not_text(visit, draft)
    if visit.resident is None:
        return await onboarding.start(visit, None)
    shared = update.effective_message.location if update.effective_message is not None else None
    if shared is not None:
        return await location.shared(visit, shared.latitude, shared.longitude)
    session = await answering.active_session(visit)
    if session is not None:
        return answering.reminder_for_unreadable(session)
    return await help.unreadable_without_survey(visit)


async def on_group_message(update: Update, context: BotContext) -> None:
    """In a group the bot only says it works in private chats, and records nothing.

    The officers' chat is the exception: a reply there to a resident's message goes to that resident.
    """
    message = update.effective_message
    if message is None or not await admitted(update, context):
        return
    services = context.services
    if await contact.is_officers_chat(services, message.chat.id):
        sender = update.effective_user
        if message.reply_to_message is not None and message.text and sender is not None:
            await team.remember_name(services, sender.id, sender.first_name, sender.last_name, sender.username)
            replied_to = message.reply_to_message.message_id
            note = await contact.officer_replied(
                services, message.chat.id, replied_to, message.text, sender.id, sender.full_name
            )
            if note is not None:
                await reply_in_group(update, context, note)
        return
    if not (message.text or "").startswith("/") and not _mentions_bot(message.text or "", services.bot_username):
        return
    user = update.effective_user
    language = services.catalogs.resolve(None, user.language_code if user else None)
    visit = Visit(services, message.chat.id, None, services.catalogs.translator(language), None)
    await reply_in_group(update, context, help.private_only_text(visit))


async def on_group_migrated(update: Update, context: BotContext) -> None:
    """Telegram's notice that a group became a supergroup: if it is the officers' chat, follow it."""
    message = update.effective_message
    if message is None or not await admitted(update, context):
        return
    services = context.services
    if message.migrate_to_chat_id is not None and message.chat.id == services.officers_chat_id:
        await contact.officers_chat_moved(services, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id is not None and message.migrate_from_chat_id == services.officers_chat_id:
        await contact.officers_chat_moved(services, message.chat.id)


def _mentions_bot(text: str, username: str) -> bool:
    return bool(username) and f"@{username}".lower() in text.lower()


# What each officer command does; who may use it, and the help and menu, come from officers.COMMANDS.
OFFICER_LOGIC: dict[str, OfficerLogic] = {
    "officer": officer_menu,
    "broadcast": broadcast_start,
    "broadcasts": broadcast_progress,
    "officers": list_officers,
    "invite": make_invite,
    "addofficer": add_officer,
    "removeofficer": remove_officer,
    "audit": show_audit,
    "results": show_results,
    "export": export_responses,
    "reach": show_reach,
    "outcome": publish_outcome,
    "workspace": workspace.open_workspace,
}
assert set(OFFICER_LOGIC) == {command.name for command in officers.COMMANDS}, "officers.COMMANDS and the logic differ"
OFFICER_COMMANDS = {command.name: (OFFICER_LOGIC[command.name], command.admin) for command in officers.COMMANDS}


def handlers() -> list[BaseHandler[Any, BotContext, Any]]:
    """The resident's handlers, in the order they must be tried."""
    return [
        # Button taps first: they are most updates, and no message handler below matches one.
        CallbackQueryHandler(replying(on_button)),
        # Groups next: nothing below may run for a group chat.
        MessageHandler(filters.ChatType.GROUPS & filters.TEXT, on_group_message),
        MessageHandler(filters.StatusUpdate.MIGRATE, on_group_migrated),
        CommandHandler("start", replying(leaving(on_start)), filters=PRIVATE),
        CommandHandler("consultations", replying(leaving(on_consultations)), filters=PRIVATE),
        CommandHandler("language", replying(leaving(on_language)), filters=PRIVATE),
        CommandHandler("help", replying(leaving(on_help)), filters=PRIVATE),
        CommandHandler("settings", replying(leaving(on_settings)), filters=PRIVATE),
        CommandHandler("contact", replying(leaving(on_contact)), filters=PRIVATE),
        CommandHandler("cancel", replying(cancel), filters=PRIVATE),
        CommandHandler("myid", replying(on_my_id), filters=PRIVATE),
        CommandHandler("mydata", replying(leaving(on_my_data)), filters=PRIVATE),
        CommandHandler("delete", replying(leaving(on_delete)), filters=PRIVATE),
        CommandHandler("aboutme", replying(leaving(on_about_me)), filters=PRIVATE),
        CommandHandler("outcomes", replying(leaving(on_outcomes)), filters=PRIVATE),
        *(
            CommandHandler(name, replying(officer_only(logic, admin=admin)), filters=PRIVATE)
            for name, (logic, admin) in OFFICER_COMMANDS.items()
        ),
        # Unknown commands before plain text, so "/foo" is never taken as an answer.
        MessageHandler(PRIVATE & filters.COMMAND, replying(on_unknown_command)),
        MessageHandler(PRIVATE & filters.TEXT, replying(on_text)),
        MessageHandler(PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, replying(on_unreadable)),
    ]
