"""`haveyoursay copy-to postgresql://…`: the command line around `storage.copy_to` (docs/scaling.md).

Exit status: 0 copied and every table's count checked; 2 refused, nothing written (the bot is
running, the SQLite file is from another release, the PostgreSQL database already holds data);
1 the copy failed or a count differed, and was rolled back (the PostgreSQL database as it was).
"""

from __future__ import annotations

import asyncio
import sys

from bot.settings import Settings
from bot.single_instance import AlreadyRunning, InstanceLock
from conversations.deployment import Deployment
from storage.copy_to import CopyFailed, CopyRefused, copy_to_postgres, mask_url
from storage.database import DatabaseRefused, check_existing_database
from storage.sql import is_postgres_url


def _refuse(message: str) -> int:
    print(f"haveyoursay: {message}", file=sys.stderr)
    return 2


def copy_to(settings: Settings, deployment: Deployment, url: str) -> int:
    """Copy the SQLite database HAVEYOURSAY_DB names into the PostgreSQL database at `url`."""
    if not is_postgres_url(url):
        return _refuse("copy-to copies into a PostgreSQL database: give its URL, postgresql://user:password@host/db")
    if settings.database_url is not None:
        return _refuse(
            "HAVEYOURSAY_DB names a PostgreSQL database; copy-to copies an SQLite deployment: set HAVEYOURSAY_DB "
            "to the SQLite file the bot has been running on."
        )
    try:
        check_existing_database(settings.database, deployment.identity)
    except DatabaseRefused as refused:
        return _refuse(str(refused))
    source = settings.database.resolve()
    lock = InstanceLock(settings.database)
    try:
        lock.acquire()  # held while copying: the bot cannot start on the file meanwhile
    except AlreadyRunning as running:
        holder = f" (process {running})" if str(running) else ""
        return _refuse(
            f"the bot is running on {source}{holder}. Stop it first (the copy must see every answer it will "
            "ever get on SQLite), then copy. Nothing was copied."
        )
    try:
        report = asyncio.run(copy_to_postgres(source, url, deployment.identity, print))
    except CopyRefused as refused:
        return _refuse(str(refused))
    except CopyFailed as failed:
        print(
            f"haveyoursay: the copy failed: {failed}. Nothing was committed: the PostgreSQL database "
            f"{mask_url(url)} is as it was before.",
            file=sys.stderr,
        )
        return 1
    finally:
        lock.release()
    width = max(len(count.table) for count in report.counts)
    print(f"Count check: {'table':<{width}}      SQLite  PostgreSQL")
    for count in report.counts:
        verdict = "ok" if count.equal else "DIFFERS"
        print(f"             {count.table:<{width}} {count.source:>11,} {count.target:>11,}  {verdict}")
    different = [count.table for count in report.counts if not count.equal]
    if different:
        print(
            f"haveyoursay: the counts differ for {', '.join(different)}. Nothing was committed: the PostgreSQL "
            f"database {mask_url(url)} is as it was before.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Copied {report.rows:,} rows in {report.seconds:.1f} s into {mask_url(url)}. Next: set HAVEYOURSAY_DB to "
        "that URL and start the bot (docs/scaling.md); keep the SQLite file as it is, as the way back."
    )
    return 0
