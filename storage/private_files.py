"""Files that hold personal data (the database, its -wal and -shm, exports) are readable by their owner only."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["PRIVATE_MODE", "make_private"]

PRIVATE_MODE = 0o600


def make_private(path: str | Path) -> None:
    """Create `path` empty with mode 0600 if it is missing (whatever the umask); make an existing file 0600.

    Called before a file is written or opened, so it is never readable by others, not even for a moment.
    An existing file is changed by name, never opened: closing any descriptor of a database file would
    drop the locks SQLite holds on it in this process.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        # Another account's file (PermissionError) keeps the mode that account chose.
        with contextlib.suppress(PermissionError):
            os.chmod(path, PRIVATE_MODE)
        return
    os.close(descriptor)
    os.chmod(path, PRIVATE_MODE)  # exactly 0600, whatever the umask took away
