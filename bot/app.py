"""The application factory: settings in, a python-telegram-bot Application with every handler out."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import Any

from telegram import BotCommand, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot.deployment import Deployment
from bot.i18n import Catalogs
from bot.settings import Settings
from bot.telegram_io import BotApplication, BotContext, deliver, visit_for
from conversations import resident_chat
from conversations.screens import Reply, Screen
from conversations.services import Services
from storage import open_database

log = logging.getLogger(__name__)


def build_application(settings: Settings, deployment: Deployment) -> BotApplication:
    """Wire the bot: storage and catalogs open at start-up, every handler in its place."""
    token = settings.require_token()
    application: BotApplication = (
        Application.builder()
        .token(token)
        .base_url(settings.api_url)
        .base_file_url(_file_url(settings.api_url))
        .context_types(ContextTypes(context=BotContext))
        .post_init(_starting(settings, deployment))
        .post_shutdown(_stopping)
        .build()
    )
    for handler in resident_chat.handlers():
        application.add_handler(handler)
    application.add_error_handler(_on_error)
    return application


def _file_url(api_url: str) -> str:
    """Telegram serves files under /file/bot<token>; follow the configured API server."""
    if api_url.endswith("/bot"):
        return api_url[: -len("/bot")] + "/file/bot"
    return api_url


def _starting(settings: Settings, deployment: Deployment) -> Any:
    async def post_init(application: BotApplication) -> None:
        stack = AsyncExitStack()
        db = await stack.enter_async_context(open_database(settings.database))
        catalogs = Catalogs.load(settings.default_language, deployment.timezone)
        services = Services(
            db=db, catalogs=catalogs, deployment=deployment, bot_username=application.bot.username or ""
        )
        application.bot_data["services"] = services
        application.bot_data["exit_stack"] = stack
        await _publish_commands(application, catalogs)
        log.info("Have Your Say is running as @%s with %d languages", services.bot_username, len(catalogs.languages))

    return post_init


async def _stopping(application: BotApplication) -> None:
    stack = application.bot_data.get("exit_stack")
    if isinstance(stack, AsyncExitStack):
        await stack.aclose()


async def _publish_commands(application: BotApplication, catalogs: Catalogs) -> None:
    """The command menu in each language Telegram users may have set."""
    for language in catalogs.languages:
        t = catalogs.translator(language)
        commands = [
            BotCommand("consultations", t._("See open consultations")),
            BotCommand("language", t._("Change language")),
            BotCommand("help", t._("Help and contact")),
        ]
        code = None if language == catalogs.default_language else language
        await application.bot.set_my_commands(commands, language_code=code)


async def _on_error(update: object, context: BotContext) -> None:
    """Log the failure (never the resident's text) and tell the resident kindly."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("A resident has blocked the bot; nothing sent")
        return
    log.error("Error while handling an update: %s", type(error).__name__, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None and update.effective_chat.type == "private":
        try:
            visit = await visit_for(update, context)
            sorry = Screen(visit.t._("Sorry, something went wrong on our side. Please try again in a moment."))
            await deliver(update, context, visit, Reply((sorry,)))
        except TelegramError:
            log.warning("Could not tell the resident about the error")
