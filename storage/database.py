"""The database: opened at start-up, migrated, closed at shutdown; SQLite or PostgreSQL.

HAVEYOURSAY_DB is a file path (SQLite: one aiosqlite connection for the process) or a
postgresql:// URL (PostgreSQL: a pool, `storage.postgres`). The repositories see the same
connection interface either way (`storage.sql.Connection`).

Writes go through one writer (`storage.transactions`, `storage.postgres`): a statement commits
on its own, or several stand or fall together in a unit of work that no other task's statement
can join.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

from storage.broadcasts import BroadcastRepository
from storage.consultations import ConsultationRepository
from storage.contact import ContactRepository
from storage.deliveries import DeliveryRepository
from storage.drafts import DraftRepository
from storage.equality import EqualityRepository
from storage.officers import OfficerRepository
from storage.outcomes import OutcomeRepository
from storage.participation import ParticipationRepository
from storage.private_files import make_private
from storage.residents import ResidentRepository
from storage.responses import ResponseRepository
from storage.results import ResultRepository
from storage.retention import RetentionRepository
from storage.sql import Connection, is_postgres_url
from storage.transactions import connect, transaction
from storage.workspace import WorkspaceRepository

__all__ = [
    "Database",
    "DatabaseRefused",
    "apply_migrations",
    "check_existing_database",
    "is_postgres_url",
    "migration_scripts",
    "open_database",
    "open_existing_database",
    "schema_version_of",
]

BUSY_TIMEOUT_MS = 5000
DEPLOYMENT_KEY = "deployment"


class DatabaseRefused(Exception):
    """A command will not use this database file; the message says why and what to do."""


@dataclass
class Database:
    """The open database and its repositories."""

    connection: Connection
    residents: ResidentRepository
    consultations: ConsultationRepository
    responses: ResponseRepository
    pseudonym_key: bytes
    officers: OfficerRepository
    deliveries: DeliveryRepository
    broadcasts: BroadcastRepository
    participation: ParticipationRepository
    drafts: DraftRepository
    contact: ContactRepository
    results: ResultRepository
    outcomes: OutcomeRepository
    retention: RetentionRepository
    equality: EqualityRepository
    workspace: WorkspaceRepository

    async def deployment(self) -> str | None:
        """The deployment this database belongs to (recorded by `haveyoursay run`); None if not recorded."""
        return await _deployment_of(self.connection)

    async def belong_to(self, deployment: str) -> str | None:
        """Record the deployment this database belongs to; returns the one recorded before, if any."""
        before = await self.deployment()
        await self.connection.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (DEPLOYMENT_KEY, deployment),
        )
        return before

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Several writes that stand or fall together (one transaction at a time on the connection)."""
        async with transaction(self.connection):
            yield


@asynccontextmanager
async def open_database(target: str | Path, *, checkpoint_pages: int | None = None) -> AsyncIterator[Database]:
    """Open (creating and migrating if needed) the database: an SQLite file at `target`, or the
    PostgreSQL database a postgresql:// URL names (`storage.postgres`).

    `checkpoint_pages` (SQLite): how long the WAL may grow (in pages) before one of this
    connection's commits copies it into the database file; SQLite's default is 1,000.
    """
    if is_postgres_url(target):
        async with _open_postgres(str(target)) as db:
            yield db
        return
    path = target
    _make_files_private(path)
    # Autocommit: every statement commits at once unless it is inside a unit of work, so what a
    # resident said is on disk before we reply.
    connection = await connect(path)
    try:
        await _configure(connection)
        if checkpoint_pages is not None:
            await connection.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint_pages)}")
        await apply_migrations(connection)
        yield await _database(connection)
    finally:
        await connection.close()


@asynccontextmanager
async def _open_postgres(url: str) -> AsyncIterator[Database]:
    from storage.postgres import apply_postgres_migrations, connect_postgres

    connection = await connect_postgres(url)
    try:
        await apply_postgres_migrations(connection, migration_scripts("postgresql"), migration_scripts("sqlite"))
        yield await _database(connection)
    finally:
        await connection.close()


async def _database(connection: Connection) -> Database:
    """The repositories on an open, migrated connection."""
    key = await _pseudonym_key(connection)
    # On PostgreSQL (`connection.shared`) several workers write the database: nothing is remembered.
    remembered = 0 if connection.shared else 100_000
    residents, responses, drafts = (
        ResidentRepository(connection, remembered),
        ResponseRepository(connection, remembered),
        DraftRepository(connection),
    )
    # A unit of work may change these rows in SQL the repositories do not see (an erasure, a
    # purge), or roll back what they remembered: what they remember goes when one ends.
    for forget in (residents.forget_all, responses.forget_all, drafts.forget_all):
        connection.when_unit_ends(forget)
    return Database(
        connection=connection,
        residents=residents,
        consultations=ConsultationRepository(connection),
        responses=responses,
        pseudonym_key=key,
        officers=OfficerRepository(connection),
        deliveries=DeliveryRepository(connection),
        broadcasts=BroadcastRepository(connection),
        participation=ParticipationRepository(connection),
        drafts=drafts,
        contact=ContactRepository(connection),
        results=ResultRepository(connection),
        outcomes=OutcomeRepository(connection),
        retention=RetentionRepository(connection),
        equality=EqualityRepository(connection),
        workspace=WorkspaceRepository(connection),
    )


def check_existing_database(path: str | Path, deployment: str) -> None:
    """Refuse (DatabaseRefused) a database file that does not exist, is not a Have Your Say database,
    or belongs to another deployment than `deployment` (see `Database.belong_to`).

    The command-line tools work on the bot's database: opening a wrong path would otherwise make a
    new empty database that the running bot never sees.
    """
    file = Path(path)
    where = str(file.resolve())
    if not file.is_file():
        raise DatabaseRefused(
            f"there is no database at {where}. Set HAVEYOURSAY_DB to the database the bot uses "
            "(the one `haveyoursay run` opens), or make a new one for this deployment with `haveyoursay init`."
        )
    try:
        with closing(sqlite3.connect(file)) as connection:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            recorded = _recorded_deployment(connection) if version else None
    except sqlite3.Error as error:
        raise DatabaseRefused(f"{where} is not a Have Your Say database ({error})") from error
    if version == 0:
        raise DatabaseRefused(
            f"{where} is not a Have Your Say database (it has no tables). Set HAVEYOURSAY_DB to the database "
            "the bot uses, or make a new one for this deployment with `haveyoursay init`."
        )
    if recorded is not None and recorded != deployment:
        raise DatabaseRefused(
            f"the database {where} belongs to the deployment {recorded!r}, not to {deployment!r} "
            "(the deployment file, HAVEYOURSAY_CONFIG). Use the database and the deployment file the bot runs with."
        )


def _recorded_deployment(connection: sqlite3.Connection) -> str | None:
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (DEPLOYMENT_KEY,)).fetchone()
    return str(row[0]) if row else None


async def _deployment_of(connection: Connection) -> str | None:
    async with connection.execute("SELECT value FROM meta WHERE key = ?", (DEPLOYMENT_KEY,)) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


@asynccontextmanager
async def open_existing_database(target: str | Path, deployment: str) -> AsyncIterator[Database]:
    """Open the database (a file path, or a PostgreSQL URL) for a command-line tool: only an existing
    Have Your Say database of this deployment (`check_existing_database`); never a new one."""
    if is_postgres_url(target):
        await check_existing_postgres(str(target), deployment)
    else:
        check_existing_database(target, deployment)
    async with open_database(target) as db:
        yield db


async def postgres_has_schema(url: str) -> bool:
    """Whether the PostgreSQL database at `url` has been migrated (a Have Your Say database);
    DatabaseRefused if it cannot be reached."""
    import psycopg

    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
            found = await (await connection.execute("SELECT to_regclass('schema_version') IS NOT NULL")).fetchone()
    except psycopg.Error as error:
        raise DatabaseRefused(f"cannot open the PostgreSQL database ({_without_password(str(error))})") from error
    return bool(found and found[0])


async def schema_version_of(target: str | Path) -> int:
    """The schema version (the last migration applied) of an existing database, read without migrating it."""
    if not is_postgres_url(target):
        with closing(sqlite3.connect(target)) as connection:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])
    import psycopg

    async with await psycopg.AsyncConnection.connect(str(target), autocommit=True) as connection:
        found = await (await connection.execute("SELECT version FROM schema_version")).fetchone()
    return int(found[0]) if found else 0


async def check_existing_postgres(url: str, deployment: str) -> None:
    """As `check_existing_database`, for a PostgreSQL database (it must exist and be migrated)."""
    if not await postgres_has_schema(url):
        raise DatabaseRefused(
            "the PostgreSQL database in HAVEYOURSAY_DB is not a Have Your Say database (it has no tables). "
            "Set HAVEYOURSAY_DB to the database the bot uses, or make it one with `haveyoursay init`."
        )
    from storage.postgres import connect_postgres

    connection = await connect_postgres(url, max_size=1)
    try:
        recorded = await _deployment_of(connection)
    finally:
        await connection.close()
    if recorded is not None and recorded != deployment:
        raise DatabaseRefused(
            f"the PostgreSQL database in HAVEYOURSAY_DB belongs to the deployment {recorded!r}, not to "
            f"{deployment!r} (the deployment file, HAVEYOURSAY_CONFIG). Use the database and the deployment "
            "file the bot runs with."
        )


def _without_password(text: str) -> str:
    return re.sub(r"password=\S+|://([^:/@]*):[^@]*@", "***", text)


def _make_files_private(path: str | Path) -> None:
    """The database file is created 0600 before SQLite opens it, and SQLite gives its -wal and -shm
    the database file's mode; those left 0644 by an earlier version are made 0600 too."""
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return
    make_private(path)
    for suffix in ("-wal", "-shm"):
        companion = Path(f"{path}{suffix}")
        if companion.exists():
            make_private(companion)


async def _configure(connection: aiosqlite.Connection) -> None:
    # WAL lets the export command read while the bot writes; synchronous=NORMAL in
    # WAL mode keeps every commit across a process crash (not a power cut), at a
    # fraction of the cost of FULL. secure_delete overwrites erased rows.
    for pragma in (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA secure_delete=ON",
    ):
        await connection.execute(pragma)


def migration_scripts(dialect: str = "sqlite") -> list[tuple[int, str]]:
    """(number, SQL) of every migration, in order: storage/migrations/NNNN_name.sql for SQLite,
    their PostgreSQL forms in storage/migrations/postgresql/ (same numbers)."""
    folder = resources.files("storage.migrations")
    if dialect == "postgresql":
        folder = folder / "postgresql"
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            scripts.append((number, entry.read_text(encoding="utf-8")))
    return sorted(scripts)


async def apply_migrations(connection: aiosqlite.Connection) -> int:
    """Bring the schema up to date; return the schema version now in force."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    for number, script in migration_scripts():
        if number <= current:
            continue
        # executescript commits first; the BEGIN inside makes each migration all-or-nothing.
        await connection.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")
        current = number
    return current


async def _pseudonym_key(connection: Connection) -> bytes:
    """The secret behind response ids, made once per database."""
    await connection.execute(
        "INSERT INTO meta(key, value) VALUES ('pseudonym_key', ?) ON CONFLICT(key) DO NOTHING",
        (secrets.token_hex(32),),
    )
    async with connection.execute("SELECT value FROM meta WHERE key = 'pseudonym_key'") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return bytes.fromhex(row[0])
