"""Serving the workspace with uvicorn inside the bot's event loop: one process, one writer.

One uvicorn server per process, on one or more addresses (the workspace's, and in webhook mode
the webhook's when it is another; bot/http.py decides what each address serves).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator, Sequence

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the bot's (python-telegram-bot's) stop the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class WorkspaceServer:
    def __init__(
        self, app: ASGIApp, host: str, port: int, *, also: Sequence[tuple[str, int]] = (), what: str = ""
    ) -> None:
        """Listens on host:port, and on the addresses `also`; `what` names the setting in an error."""
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
        self._addresses = [(host, port), *[a for a in also if a != (host, port)]]
        self._what = what or "HAVEYOURSAY_WEB_LISTEN"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sockets = []
        try:
            for host, port in self._addresses:
                sockets.append(_bind(host, port))
        except OSError as error:
            for bound in sockets:
                bound.close()
            raise RuntimeError(
                f"could not listen on {error.filename} ({self._what}): is the port in use? ({error.strerror})"
            ) from error
        self._task = asyncio.create_task(self._server.serve(sockets), name="http server")
        while not self._server.started:
            if self._task.done():  # uvicorn exits when it cannot serve
                raise RuntimeError(f"could not serve on {self._where()} ({self._what})")
            await asyncio.sleep(0.01)

    def _where(self) -> str:
        return ", ".join(f"{host}:{port}" for host, port in self._addresses)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(Exception):
            await self._task


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, as uvicorn makes its own (SO_REUSEADDR, IPv6 when the host is)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        error.filename = f"{host}:{port}"
        raise
    sock.set_inheritable(True)
    return sock
