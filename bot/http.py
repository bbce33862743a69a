"""One HTTP server per process: Telegram's webhook, /health for a load balancer, and the workspace.

What each request gets is decided on its path and the address it came to, before any of its body
is read:
- the webhook's path (webhook mode): `bot.webhook.UpdateReceiver`, on every address;
- GET /health: 200 and a short JSON when the database answers, 503 when it does not (no sign-in,
  nothing personal), on every address;
- anything else: the workspace on its own address (unless HAVEYOURSAY_WEB=off), and 404 on the
  headers alone, the connection closed, on the webhook's address when it is another.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import AsyncExitStack
from http import HTTPStatus

from starlette.types import ASGIApp, Receive, Scope, Send

from bot.settings import Settings
from bot.telegram_io import BotApplication
from bot.webhook import UpdateReceiver, answer, webhook_path
from conversations.services import Services
from storage import Database

log = logging.getLogger(__name__)
# How long the database has to answer the health check's query before the worker is reported down.
HEALTH_TIMEOUT = 3.0


class Health:
    """GET /health: whether this worker can reach its database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") not in ("GET", "HEAD"):
            await answer(send, HTTPStatus.METHOD_NOT_ALLOWED, close=True)
            return
        try:
            await asyncio.wait_for(self.db.connection.execute_fetchall("SELECT 1"), HEALTH_TIMEOUT)
        except Exception as error:  # a timeout, a closed or broken connection
            log.warning("Health check: the database did not answer (%s)", type(error).__name__)
            status, report = HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unavailable", "database": "no answer"}
        else:
            status, report = HTTPStatus.OK, {"status": "ok", "database": "ok"}
        await answer(send, status, body=json.dumps(report).encode())


class FrontDoor:
    """Sends each request to the webhook, /health or the workspace (see the module)."""

    def __init__(
        self,
        health: ASGIApp,
        *,
        workspace: ASGIApp | None = None,
        workspace_port: int | None = None,
        webhook: ASGIApp | None = None,
        webhook_path: str = "",
    ) -> None:
        self.health = health
        self.workspace = workspace
        self.workspace_port = workspace_port
        self.webhook = webhook
        self.webhook_paths = {webhook_path, webhook_path.rstrip("/") + "/"} if webhook else set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if self.workspace is not None:
                await self.workspace(scope, receive, send)
            return
        path = scope.get("path", "")
        if self.webhook is not None and path in self.webhook_paths and scope.get("method") != "GET":
            await self.webhook(scope, receive, send)
        elif path == "/health":
            await self.health(scope, receive, send)
        elif self.workspace is not None and self._to_workspace(scope):
            await self.workspace(scope, receive, send)
        else:
            await answer(send, HTTPStatus.NOT_FOUND, close=True)

    def _to_workspace(self, scope: Scope) -> bool:
        server = scope.get("server")
        return server is None or self.workspace_port is None or server[1] == self.workspace_port


async def serve_http(
    application: BotApplication, services: Services, settings: Settings, stack: AsyncExitStack
) -> None:
    """Start the process's HTTP server, if it has anything to serve; it stops before the database closes."""
    from bot.web.server import WorkspaceServer

    addresses: list[tuple[str, int]] = []
    workspace: ASGIApp | None = None
    if settings.web_listen is not None:
        from bot.web.app import workspace_app

        workspace = workspace_app(services, settings.require_token(), settings.web_url)
        addresses.append(settings.web_listen)
    webhook: ASGIApp | None = None
    if settings.webhook_url is not None and settings.webhook_secret is not None:
        webhook = UpdateReceiver(application, settings.webhook_secret)
        addresses.append(settings.webhook_listen)
    if not addresses:
        return
    ports = [port for _host, port in addresses]
    if len(set(addresses)) != len(set(ports)):
        raise RuntimeError(
            "HAVEYOURSAY_WEBHOOK_LISTEN and HAVEYOURSAY_WEB_LISTEN share a port on different hosts: "
            "give them the same address, or different ports"
        )
    door = FrontDoor(
        Health(services.db),
        workspace=workspace,
        workspace_port=settings.web_listen[1] if settings.web_listen is not None else None,
        webhook=webhook,
        webhook_path=webhook_path(settings) if webhook is not None else "",
    )
    what = " and ".join(
        name
        for name, on in (("HAVEYOURSAY_WEB_LISTEN", workspace), ("HAVEYOURSAY_WEBHOOK_LISTEN", webhook))
        if on is not None
    )
    server = WorkspaceServer(door, *addresses[0], also=addresses[1:], what=what)
    await server.start()
    stack.push_async_callback(server.stop)  # stopped before the database closes
    if workspace is not None:
        log.info("The workspace is at %s (send /workspace to the bot to sign in)", settings.web_url)
