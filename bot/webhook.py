"""Webhook mode: Telegram POSTs each update to us; the secret is checked before the body is read.

python-telegram-bot's own webhook server reads the whole body (up to 100 MB) into memory
before it looks at the secret header, so anyone who can reach the port can make the process
grow by the size of what they send. Instead, an Application built with `updater(None)` (its
documented alternative) gets its updates from `UpdateReceiver`, an ASGI app served by the
process's one HTTP server with the workspace and /health (bot/http.py), the body streamed:

- no `X-Telegram-Bot-Api-Secret-Token`, or the wrong one: 403, decided on the headers;
- a `Content-Length` over MAX_BODY: 413 on the headers alone;
- a chunked body is counted as it arrives and cut off with 413 once past MAX_BODY.

A refused body is never kept. When it is larger than MAX_BODY (or of unknown length) the
answer goes out at once and the connection is closed, so the rest is never read; a small
one is read and thrown away first, so that an ordinary client sees the 403 rather than a
reset connection. An update is stored (bot/inbox.py) before Telegram is told 200.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from http import HTTPStatus

from starlette.types import Receive, Scope, Send
from telegram import Update

from bot.inbox import InboxQueue
from bot.settings import Settings
from bot.telegram_io import BotApplication

log = logging.getLogger(__name__)
# A Telegram update is a few kilobytes (a message of 4,096 characters, a few entities).
MAX_BODY = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_HEADER = SECRET_HEADER.lower().encode()


class UpdateReceiver:
    """ASGI: one POST from Telegram, an update put on the application's queue once stored."""

    def __init__(self, application: BotApplication, secret: str) -> None:
        self.application = application
        self.secret = secret.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        small = length is not None and length.isdigit() and int(length) <= MAX_BODY
        if not hmac.compare_digest(headers.get(_SECRET_HEADER, b""), self.secret):
            log.debug("Refused a request without the right secret header")
            if small:
                await _drain(receive)  # read and thrown away, so that the client reads the answer
                await answer(send, HTTPStatus.FORBIDDEN)
            else:
                await answer(send, HTTPStatus.FORBIDDEN, close=True)
            return
        if scope.get("method") != "POST":
            await answer(send, HTTPStatus.METHOD_NOT_ALLOWED, close=True)
            return
        if length is not None and not small:
            await answer(send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close=True)
            return
        body = await _read(receive)
        if body is None:
            await answer(send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close=True)
            return
        await self._take(body, send)

    async def _take(self, body: bytes, send: Send) -> None:
        try:
            data = json.loads(body)
        except ValueError:
            await answer(send, HTTPStatus.BAD_REQUEST)
            return
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception as error:
            # Telegram would send it again and again on an error: one line, and it is dropped.
            log.warning("Dropped an update that could not be read: %s", type(error).__name__)
            update = None
        if update is not None:
            queue = self.application.update_queue
            try:
                if isinstance(queue, InboxQueue) and isinstance(data, dict):
                    await queue.put_received(update, data)  # stored as sent, not rebuilt (bot/inbox.py)
                else:
                    await queue.put(update)
            except Exception as error:  # not stored (the database did not answer): Telegram sends it again
                log.warning("Could not store an update; Telegram will send it again: %s", type(error).__name__)
                await answer(send, HTTPStatus.SERVICE_UNAVAILABLE)
                return
        await answer(send, HTTPStatus.OK)


async def _read(receive: Receive) -> bytes | None:
    """The body, counted as it arrives; None (and nothing kept) once it passes MAX_BODY or the client left."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        if len(body) + len(chunk) > MAX_BODY:
            body.clear()
            return None
        body.extend(chunk)
        if not message.get("more_body", False):
            return bytes(body)


async def _drain(receive: Receive) -> None:
    """Read a small body to its end, keeping none of it."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def answer(send: Send, status: HTTPStatus, *, close: bool = False, body: bytes = b"") -> None:
    """A plain answer; with `close`, the connection is closed after it, so the rest of a body stays unread."""
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": int(status), "headers": headers})
    await send({"type": "http.response.body", "body": body})


def webhook_path(settings: Settings) -> str:
    """The path of HAVEYOURSAY_WEBHOOK_URL, where Telegram's requests come."""
    from urllib.parse import urlsplit

    assert settings.webhook_url is not None
    return "/" + urlsplit(settings.webhook_url).path.strip("/")


async def serve_webhook(application: BotApplication, settings: Settings, allowed_updates: list[str]) -> None:
    """Run the bot in webhook mode until SIGINT or SIGTERM, as `Application.run_webhook` would.

    The HTTP server that receives the updates starts with the bot (bot/app.py, bot/http.py).
    """
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.bot.set_webhook(
            settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=allowed_updates
        )
        await application.start()
        host, port = settings.webhook_listen
        log.info("Listening for Telegram's updates on %s:%s%s", host, port, webhook_path(settings))
        await stop.wait()
    finally:
        if application.running:
            await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
