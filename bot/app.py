"""The application factory: settings in, a python-telegram-bot Application with every handler out."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot import heap, outbox, routing
from bot.delivery import DeliveryWorker
from bot.guards import Door
from bot.http import serve_http
from bot.inbox import REMEMBER_HANDLED, InboxQueue, open_inbox
from bot.ordering import PerChatUpdateProcessor
from bot.reading import ForgivingBot
from bot.settings import Settings
from bot.telegram_io import BotApplication, BotContext, deliver, visit_for
from bot.workers import REMEMBER_TICKS, ChatClaims, SenderLease, TickClaims, worker_name
from conversations import broadcasting, help, notices, officers, retention
from conversations.deployment import Deployment
from conversations.i18n import Catalogs, Translator
from conversations.screens import Reply, Screen
from conversations.services import Services
from storage import Database, open_database
from storage.coordination import ChatInbox, FloodCounts, LeaseRepository, TickRepository
from storage.updates import UpdateRepository

log = logging.getLogger(__name__)
# Updates in flight at once (each from a different resident). Most of an update's time is spent
# waiting for Telegram to answer its two API calls, so this bounds throughput at about
# CONCURRENT_UPDATES / (2 x Telegram's latency): with calls answered after 50 ms, 16 allowed
# 146 updates/s and 256 allow 892-1,147/s (bench/inbound.py --api-latency 50; bench/README.md).
CONCURRENT_UPDATES = 256


def build_application(
    settings: Settings, deployment: Deployment, request: BaseRequest | None = None, *, webhook: bool = False
) -> BotApplication:
    """Wire the bot: storage and catalogs open at start-up, every handler in its place.

    `request` replaces the HTTP layer (benchmarks answer every call from memory). With
    `webhook`, there is no updater: bot.webhook receives the updates.
    """
    token = settings.require_token()
    # One TLS context for both clients: each loaded the CA bundle itself, 0.14 s of CPU at every start.
    tls = {"verify": httpx.create_ssl_context()} if request is None else {}
    bot: ExtBot[None] = ForgivingBot(
        token,
        base_url=settings.api_url,
        base_file_url=_file_url(settings.api_url),
        # The pools python-telegram-bot's builder gives: one per update in flight, one for getUpdates.
        request=request or HTTPXRequest(connection_pool_size=CONCURRENT_UPDATES, httpx_kwargs=tls),
        get_updates_request=request or HTTPXRequest(connection_pool_size=1, httpx_kwargs=tls),
    )
    builder = Application.builder()
    if webhook:
        builder = builder.updater(None)
    application: BotApplication = (
        builder.bot(bot)
        .context_types(ContextTypes(context=BotContext))
        # Residents' updates run side by side, each resident's in order (bench/README.md).
        .concurrent_updates(PerChatUpdateProcessor(CONCURRENT_UPDATES))
        # Each update is stored before Telegram is told it arrived, until handled (bot/inbox.py).
        .update_queue(InboxQueue())
        .post_init(_starting(settings, deployment))
        .post_shutdown(_stopping)
        .build()
    )
    # Replays and floods stop at the door, before any conversation (telegram_io.admitted).
    application.bot_data["door"] = Door()
    for handler in routing.handlers():
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
        # The commit that passes the WAL limit copies the WAL into the database file, with an
        # fsync, and that resident's answer waits for it. At 10,000 pages (40 MB) rather than
        # 1,000 that happens a tenth as often, and a page answers rewrote many times is copied
        # once: +3-7% updates/s (A/B in one process, bench/README.md).
        db = await stack.enter_async_context(open_database(settings.database_target, checkpoint_pages=10_000))
        log.info("Using the database %s", settings.database_label)
        await _belong_to(db, deployment)
        catalogs = Catalogs.load(settings.default_language, deployment.timezone)
        services = Services(
            db=db,
            catalogs=catalogs,
            deployment=deployment,
            bot_username=application.bot.username or "",
            admins=settings.admins,
            reminder_window=timedelta(hours=deployment.reminder_hours),
            send_now=_sender(application),
            erasure=settings.erasure,
            response_retention=timedelta(days=round(30.44 * settings.retention_months)),
            inactive_after=timedelta(days=round(30.44 * settings.inactive_months)),
        )
        # Residents last seen before the bot started are back after a gap. Not with several workers:
        # one worker's (re)start is not the bot's, which went on answering meanwhile.
        if not settings.several_workers:
            services.started_at = services.clock().replace(microsecond=0)
        services.officers_chat_id = await db.contact.current_chat(deployment.officers_chat_id)
        application.bot_data["services"] = services
        application.bot_data["exit_stack"] = stack
        if settings.web_listen is not None:
            services.workspace_url = settings.web_url
        # Several workers on one database: one sends, each scheduled check runs once a tick (bot/workers.py).
        ticks, lease, name = None, None, None
        if settings.several_workers:
            name = worker_name()
            ticks = TickClaims(TickRepository(db.connection), name, settings.tick_seconds)
            lease = SenderLease(LeaseRepository(db.connection), name)
            log.info("Running as one of several workers (%s)", name)
            door = application.bot_data["door"]
            if isinstance(door, Door) and db.connection.shared:
                # A resident's floods counted across the workers (bot/guards.py). On SQLite only one
                # process may run on the file (bot/single_instance.py): its memory is the whole count.
                door.share(FloodCounts(db.connection), db.pseudonym_key)
        application.bot_data["ticks"] = ticks
        # The worker shares the one writer: a claim or a "sent" cannot land inside a handler's
        # unit of work (storage/transactions.py), and a resident it marks unreachable is known at once.
        worker = DeliveryWorker(
            application.bot,
            db,
            rate_per_second=settings.send_rate,
            clock=services.clock,
            in_civil_hours=deployment.in_civil_hours,
            after_round=lambda: broadcasting.report_finished(services),
            retry_for=timedelta(hours=settings.delivery_retry_hours),
            lease=lease,
        )
        services.wake_delivery = worker.wake
        application.bot_data["worker"] = worker
        application.bot_data["worker_task"] = asyncio.create_task(worker.run(), name="delivery worker")
        await _publish_commands(application, catalogs)
        services.refresh_menu = _menu_refresher(application, services)
        await _publish_officer_menus(services)
        await _open_inbox(application, services, name)
        # Once the inbox is open: a webhook request is stored before it is answered (bot/webhook.py).
        await serve_http(application, services, settings, stack)
        await scheduled_checks(services, ticks)
        assert application.job_queue is not None
        # With several workers, every worker's timer fires just after each tick starts; one runs it.
        first = settings.tick_seconds if ticks is None else ticks.until_next(services.clock()) + 1
        application.job_queue.run_repeating(_tick, interval=settings.tick_seconds, first=first, name="scheduled checks")
        heap.settle()  # the start-up heap out of the garbage collector's way (bot/heap.py)
        log.info("Have Your Say is running as @%s with %d languages", services.bot_username, len(catalogs.languages))

    return post_init


async def _belong_to(db: Database, deployment: Deployment) -> None:
    """Record the deployment this database belongs to: `import` and `export` refuse another's."""
    before = await db.belong_to(deployment.identity)
    if before is not None and before != deployment.identity:
        log.warning("This database belonged to the deployment %r; it now belongs to %r", before, deployment.identity)


async def _open_inbox(application: BotApplication, services: Services, worker: str | None = None) -> None:
    """Updates are kept from arrival until handled; those a crash interrupted are handled now.

    `worker`: this worker's name, one of several: each chat's updates are applied by the worker
    that claims the chat (bot/workers.py)."""
    updates = UpdateRepository(services.db.connection)
    processor = application.update_processor
    claims = _chat_claims(application, services, updates, worker) if worker is not None else None
    if isinstance(processor, PerChatUpdateProcessor):

        async def handled(update: Update) -> None:
            chat = update.effective_chat
            updates.handled_soon(update.update_id, chat.id if chat else None, services.clock())
            if claims is not None and chat is not None:
                await claims.handled(chat.id, update.update_id)

        processor.after = handled
        processor.before = updates.settled
    application.bot_data["updates"] = updates
    queue = application.update_queue
    door = application.bot_data["door"]
    if isinstance(queue, InboxQueue) and isinstance(application.bot, ForgivingBot):
        queue.as_sent = application.bot.as_sent
    if isinstance(queue, InboxQueue) and isinstance(door, Door):
        application.bot_data["replayed"] = await open_inbox(
            queue, updates, door, services.clock, application.bot, several_workers=claims is not None
        )
        if claims is not None:
            queue.arrived = claims.arrived
            application.bot_data["claims_task"] = asyncio.create_task(claims.keep_sweeping(), name="chat claims")
        if isinstance(application.bot, ForgivingBot):
            application.bot.keep_batches_with(queue.keep_batch)  # each getUpdates batch stored in one trip


def _chat_claims(application: BotApplication, services: Services, updates: UpdateRepository, worker: str) -> ChatClaims:
    queue = application.update_queue
    door = application.bot_data["door"]

    async def enqueue(data: str) -> None:
        await asyncio.Queue.put(queue, Update.de_json(json.loads(data), application.bot))  # stored already

    claims = ChatClaims(
        LeaseRepository(services.db.connection),
        ChatInbox(services.db.connection),
        worker,
        enqueue=enqueue,
        settled=updates.settled,
        remember=door.replays.remember if isinstance(door, Door) else lambda _chat, _update: None,
        key=services.db.pseudonym_key,
    )
    application.bot_data["claims"] = claims
    return claims


async def scheduled_checks(services: Services, ticks: TickClaims | None = None) -> list[str]:
    """Computed from the database each time, so downtime or a restart neither loses nor repeats a notice.

    With `ticks` (several workers), each check runs only if this worker is the first to claim
    it for the current tick. Returns the checks run.
    """
    now = services.clock()
    queued = 0
    ran: list[str] = []

    async def openings() -> None:
        nonlocal queued
        queued += await notices.queue_opening_notices(services, now)

    async def reminders() -> None:
        nonlocal queued
        queued += await notices.queue_reminders(services, now, services.reminder_window)

    async def apply_retention() -> None:
        done = await retention.apply_retention(services, now)
        if any(done.values()):
            log.info("Retention: %s", ", ".join(f"{count} {what}" for what, count in done.items()))

    for job, check in (("openings", openings), ("reminders", reminders), ("retention", apply_retention)):
        if ticks is None:
            await check()
        elif not await ticks.run_once(job, now, check):
            continue
        ran.append(job)
    if queued:
        log.info("Queued %d notices and reminders", queued)
        services.wake_delivery()
    return ran


async def _tick(context: BotContext) -> None:
    ticks = context.bot_data.get("ticks")
    ticks = ticks if isinstance(ticks, TickClaims) else None
    services = context.services
    await scheduled_checks(services, ticks)
    now = services.clock()
    if ticks is not None and not await ticks.claim("forget", now):
        return
    # Handled update ids are remembered only as long as Telegram could send one again.
    await UpdateRepository(services.db.connection).forget_before(now - REMEMBER_HANDLED)
    if ticks is not None:
        await ticks.forget_before(now - REMEMBER_TICKS)
        await ChatInbox(services.db.connection).forget_expired_claims(now)
        await FloodCounts(services.db.connection).forget_before(int(now.timestamp() // 60))


def _sender(application: BotApplication) -> Callable[[int, Screen], Awaitable[int]]:
    """Send one message now (a reply in a conversation with the team), returning its id."""

    async def send_now(chat_id: int, screen: Screen) -> int:
        return await outbox.send_now(application.bot, chat_id, screen)

    return send_now


async def _stopping(application: BotApplication) -> None:
    worker = application.bot_data.get("worker")
    task = application.bot_data.get("worker_task")
    if isinstance(worker, DeliveryWorker) and isinstance(task, asyncio.Task):
        worker.stop()
        await task
    claims, sweeping = application.bot_data.get("claims"), application.bot_data.get("claims_task")
    if isinstance(claims, ChatClaims) and isinstance(sweeping, asyncio.Task):
        claims.stop()
        await sweeping
    updates = application.bot_data.get("updates")
    if isinstance(updates, UpdateRepository):
        await updates.flush()  # the last updates' "handled" records, before the database closes
    stack = application.bot_data.get("exit_stack")
    if isinstance(stack, AsyncExitStack):
        await stack.aclose()


def _resident_commands(t: Translator) -> list[BotCommand]:
    """Everyone's command menu, in one language."""
    return [BotCommand(command, description) for command, description in help.resident_commands(t)]


async def _publish_commands(application: BotApplication, catalogs: Catalogs) -> None:
    """The command menu in each language Telegram users may have set."""
    for language in catalogs.languages:
        commands = _resident_commands(catalogs.translator(language))
        code = None if language == catalogs.default_language else language
        await application.bot.set_my_commands(commands, language_code=code)


def _menu_refresher(application: BotApplication, services: Services) -> Callable[[int], Awaitable[None]]:
    """Sets one person's own menu: everyone's commands and those their role allows, in their language.

    Telegram shows the menu of the narrowest scope, so an officer's chat gets the residents'
    commands too; someone who is no longer an officer gets Telegram's default menu back.
    """

    async def refresh_menu(user_id: int) -> None:
        scope = BotCommandScopeChat(user_id)
        role = await services.role_of(user_id)
        try:
            if role is None:
                await application.bot.delete_my_commands(scope=scope)
                return
            resident = await services.db.residents.get(user_id)
            t = services.catalogs.translator(resident.language if resident else services.catalogs.default_language)
            officer = [BotCommand(name, description) for name, description in officers.menu_commands(t, role)]
            await application.bot.set_my_commands(_resident_commands(t) + officer, scope=scope)
        except TelegramError as error:
            # Most often a person who has not opened the bot yet: Telegram knows no chat with them.
            log.info("Could not set an officer's command menu: %s", error)

    return refresh_menu


async def _publish_officer_menus(services: Services) -> None:
    """Each known officer's and admin's own menu, at start-up (roles may have changed meanwhile)."""
    people = {user_id for user_id, _role in await services.db.officers.all()} | set(services.admins)
    for user_id in sorted(people):
        await services.refresh_menu(user_id)


async def _on_error(update: object, context: BotContext) -> None:
    """Log the failure (never the resident's text) and tell the resident kindly."""
    error = context.error
    refused = outbox.failure(error) if isinstance(error, Exception) else None
    if refused is not None and refused.kind is outbox.Failed.UNREACHABLE:
        log.info("A resident has blocked the bot; nothing sent")
        return
    if refused is not None and refused.kind is outbox.Failed.FLOOD_WAIT:
        # Expected under a flood: one line, and no apology (which would draw another 429).
        log.warning("Telegram asked us to slow down (RetryAfter, %g s); a reply was not sent", refused.retry_after)
        return
    log.error("Error while handling an update: %s", type(error).__name__, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None and update.effective_chat.type == "private":
        try:
            visit = await visit_for(update, context)
            sorry = Screen(visit.t._("Sorry, something went wrong on our side. Please try again in a moment."))
            await deliver(update, context, visit, Reply((sorry,)))
        except TelegramError:
            log.warning("Could not tell the resident about the error")
