"""Serving the workspace with uvicorn inside the bot's event loop: one process, one writer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the bot's (python-telegram-bot's) stop the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class WorkspaceServer:
    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,  # a request line may carry a sign-in token
            lifespan="off",
            server_header=False,
            proxy_headers=True,
        )
        self._server = _QuietServer(config)
        self._where = f"{host}:{port}"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="workspace")
        while not self._server.started:
            if self._task.done():  # uvicorn exits when the port is taken or the address is wrong
                raise RuntimeError(
                    f"the workspace could not listen on {self._where} (HAVEYOURSAY_WEB_LISTEN): is the port in use?"
                )
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(Exception):
            await self._task
