"""Webhook mode: Telegram POSTs each update to us; the secret is checked before the body is read.

python-telegram-bot's own webhook server reads the whole body (up to 100 MB) into memory
before it looks at the secret header, so anyone who can reach the port can make the process
grow by the size of what they send. This server is python-telegram-bot's documented
alternative (an Application built with `updater(None)`, updates put on its queue), on the
same tornado it would use, with the body streamed:

- no `X-Telegram-Bot-Api-Secret-Token`, or the wrong one: 403, decided on the headers;
- a `Content-Length` over MAX_BODY: 413 on the headers alone;
- a chunked body is counted as it arrives and cut off with 413 once past MAX_BODY.

A refused body is never kept. When it is larger than MAX_BODY (or of unknown length) the
answer goes out at once and the connection is closed, so the rest is never read; a small
one is read and thrown away first, so that an ordinary client sees the 403 rather than a
reset connection.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Update
from tornado.httpserver import HTTPServer

from bot.inbox import InboxQueue
from bot.settings import Settings
from bot.telegram_io import BotApplication

log = logging.getLogger(__name__)
# A Telegram update is a few kilobytes (a message of 4,096 characters, a few entities).
MAX_BODY = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@tornado.web.stream_request_body
class UpdateReceiver(tornado.web.RequestHandler):
    """One POST from Telegram: an update, put on the application's queue."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot_application: BotApplication, secret: str) -> None:
        self.bot_application = bot_application
        self.secret = secret
        self.body = bytearray()
        self.refused = False
        self.refusal: HTTPStatus | None = None

    def prepare(self) -> None:
        """Decided on the headers alone, before any of the body is read."""
        length = self.request.headers.get("Content-Length")
        small = length is not None and length.isdigit() and int(length) <= MAX_BODY
        sent = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(sent.encode(), self.secret.encode()):
            log.debug("Refused a request without the right secret header")
            if small:
                self.refusal = HTTPStatus.FORBIDDEN  # answered once the little body has been drained
            else:
                self._refuse(HTTPStatus.FORBIDDEN)
        elif length is not None and not small:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    def data_received(self, chunk: bytes) -> None:
        if self.refused or self.refusal is not None:
            return
        if len(self.body) + len(chunk) > MAX_BODY:
            self.body.clear()
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        self.body.extend(chunk)

    async def post(self) -> None:
        if self.refused:
            return
        if self.refusal is not None:
            self._refuse(self.refusal)
            return
        try:
            data = json.loads(self.body)
        except ValueError:
            self._refuse(HTTPStatus.BAD_REQUEST)
            return
        try:
            update = Update.de_json(data, self.bot_application.bot)
        except Exception as error:
            # Telegram would send it again and again on an error: one line, and it is dropped.
            log.warning("Dropped an update that could not be read: %s", type(error).__name__)
            update = None
        if update is not None:
            queue = self.bot_application.update_queue
            if isinstance(queue, InboxQueue) and isinstance(data, dict):
                await queue.put_received(update, data)  # stored as sent, not rebuilt (bot/inbox.py)
            else:
                await queue.put(update)
        self.set_status(HTTPStatus.OK)
        self.finish()

    def _refuse(self, status: HTTPStatus) -> None:
        self.refused = True
        self.set_status(status)
        # Closing after the answer is how the rest of the body is left unread.
        self.set_header("Connection", "close")
        self.finish()

    def on_connection_close(self) -> None:
        self.body.clear()


@tornado.web.stream_request_body
class NotHere(tornado.web.RequestHandler):
    """Any other path: 404 on the headers (tornado's own 404 would read the whole body first)."""

    def prepare(self) -> None:
        self.set_status(HTTPStatus.NOT_FOUND)
        self.set_header("Connection", "close")
        self.finish()


class _Quiet(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No line per request: a flood of refused requests must not become a flood of log lines."""


async def serve_webhook(application: BotApplication, settings: Settings, allowed_updates: list[str]) -> None:
    """Run the bot in webhook mode until SIGINT or SIGTERM, as `Application.run_webhook` would."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    from urllib.parse import urlsplit

    path = "/" + urlsplit(settings.webhook_url).path.lstrip("/")
    host, port = settings.webhook_listen
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    await application.initialize()
    server: HTTPServer | None = None
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.bot.set_webhook(
            settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=allowed_updates
        )
        receiver = {"bot_application": application, "secret": settings.webhook_secret}
        routes: list[Any] = [(rf"{path}/?", UpdateReceiver, receiver), (r".*", NotHere)]
        # Tornado's own size check would answer a second time on a connection we have already
        # answered 413 and closed; the receiver above enforces MAX_BODY, so it stays out of the way.
        server = HTTPServer(_Quiet(routes), max_body_size=2**62, body_timeout=60, idle_connection_timeout=120)
        server.listen(port, address=host)
        await application.start()
        log.info("Listening for Telegram's updates on %s:%s%s", host, port, path)
        await stop.wait()
    finally:
        if server is not None:
            server.stop()
            await server.close_all_connections()
        if application.running:
            await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
