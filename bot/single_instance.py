"""One `haveyoursay run` per database: a second one refuses to start.

Two bots on one database poll the same token (409 conflicts), handle taps twice, and each one's
start-up recovery marks the other's in-flight deliveries uncertain. The guard is an operating
system advisory lock on `<database>.lock`, held for the life of the process: the kernel releases
it when the process ends, however it ends, so a crash never leaves it stuck. Other commands
(`import`, `export`, `check`) do not take it and work while the bot runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO


class AlreadyRunning(Exception):
    """Another process holds the database's lock."""


class InstanceLock:
    """Holds `<database>.lock` until released or until the process ends."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise AlreadyRunning at once (never waits)."""
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(descriptor, "r+", encoding="utf-8")
        try:
            _lock(handle)
        except OSError:
            holder = _holder(handle)
            handle.close()
            raise AlreadyRunning(holder) from None
        # The holder's process id, for the message a second instance prints (not relied upon).
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the lock
            self._file = None


def _holder(handle: IO[str]) -> str:
    try:
        return handle.read(32).strip()
    except OSError:  # Windows: the holder's locked byte cannot be read
        return ""


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
