"""`haveyoursay copy-to postgresql://…`: an SQLite deployment's database copied into PostgreSQL.

For an operator moving from one process on SQLite to several workers on PostgreSQL
(docs/scaling.md, "Copying an SQLite deployment into PostgreSQL"). The bot is stopped first: the
command line holds the SQLite file's single-instance lock while it copies.

What it does, in order:
1. The SQLite file must be this release's schema (PRAGMA user_version = the last migration): an
   older file is refused, and the operator runs `haveyoursay migrate` on it first. The copy never
   changes the SQLite file, which stays the way back if anything about the move goes wrong.
2. The PostgreSQL database must hold no data: every table empty but `schema_version`, and in
   `meta` only what `haveyoursay init` writes (the deployment, which must be this one, and a
   pseudonym key, replaced by the SQLite file's). Anything else is refused, naming the tables
   and their row counts; there is no option to overwrite.
3. The target is migrated as at start-up (`storage.postgres.apply_postgres_migrations`).
4. One transaction: every table's rows, ids included, by COPY, read from one SQLite read
   transaction in batches; the sequences behind the identity columns set past the largest id
   copied; `answer_counts` rebuilt from the copied answers; a count per table compared with the
   SQLite file's. A failure anywhere, or a count that differs, rolls everything back: the
   PostgreSQL database is left as it was (migrated, empty).

How the load is fast (bench/copy_to.py; 100,000 responses, 1.1 million answer rows): during the
transaction the foreign keys and the secondary indexes are dropped and made again at the end (as
pg_restore does: one validating join and one sorted build each, instead of a lookup and an index
insertion per row), and the triggers are disabled. The answer-count trigger fired row by row made
each of the 200,000 answers of the measurement update the same few count rows again, and took 190 s
of the server's CPU against 1 s with it disabled and the counts made by one GROUP BY (the same
statement as migration 0022's), which is what the triggers would have left.

Never printed: residents' answers (a failing row's values are in PostgreSQL's error message and
context, so only the table, the SQLSTATE and the constraint's name are shown) and the URL's
password (`mask_url`).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

__all__ = ["CopyFailed", "CopyRefused", "TableCount", "copy_to_postgres", "mask_url"]

BATCH = 10_000
# What `haveyoursay init` (and opening the database) writes into `meta` of a new database.
BOOKKEEPING_META = ("deployment", "pseudonym_key")
# Tables whose rows triggers derive from other tables: made again from the copied rows, not copied.
DERIVED = {
    "answer_counts": (
        "INSERT INTO answer_counts(consultation_id, question_id, value, given, answered) "
        "SELECT consultation_id, question_id, value, COUNT(*), SUM(first) FROM answers WHERE value IS NOT NULL "
        "GROUP BY consultation_id, question_id, value"
    )
}
# The triggers of the schema, and why the copy may disable them: a trigger not listed here is one
# this module has not been taught about (it might derive rows, as answers_counted does).
KNOWN_TRIGGERS = {
    "responses_submitted": "fires on UPDATE of submitted_at only: a copy inserts",
    "answers_counted": "keeps answer_counts, which the copy rebuilds (DERIVED)",
}
# What a PostgreSQL column's type accepts of SQLite's storage classes (typeof), beyond NULL.
ACCEPTED = {
    "text": ("text",),
    "bigint": ("integer",),
    "integer": ("integer",),
    "smallint": ("integer",),
    "bytea": ("blob",),
    "double precision": ("integer", "real"),
    "real": ("integer", "real"),
}


class CopyRefused(Exception):
    """Nothing was written: the message says why and what to do (exit status 2)."""


class CopyFailed(Exception):
    """The copy started and was rolled back: the PostgreSQL database is as it was (exit status 1)."""


@dataclass
class TableCount:
    table: str
    source: int
    target: int

    @property
    def equal(self) -> bool:
        return self.source == self.target


@dataclass
class CopyReport:
    counts: list[TableCount] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(count.target for count in self.counts)


def mask_url(url: str) -> str:
    """The URL without its password: postgresql://user:***@host/db."""
    return re.sub(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@", r"\1:***@", url)


def latest_version() -> int:
    from storage.database import migration_scripts

    return max(number for number, _ in migration_scripts("sqlite"))


def check_source(path: Path) -> int:
    """The SQLite file's schema version; CopyRefused unless it is this release's."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source:
        version = int(source.execute("PRAGMA user_version").fetchone()[0])
    latest = latest_version()
    if version < latest:
        raise CopyRefused(
            f"the SQLite database {path} has schema version {version}, older than this release's {latest}. "
            "Bring it up to date first with `haveyoursay migrate` (HAVEYOURSAY_DB set to the file, the bot stopped), "
            "then copy it. Nothing was copied."
        )
    if version > latest:
        raise CopyRefused(
            f"the SQLite database {path} has schema version {version}, newer than this release's {latest}: "
            "it was used by a newer Have Your Say. Copy it with that release. Nothing was copied."
        )
    return version


async def copy_to_postgres(source: Path, url: str, deployment: str, say: Callable[[str], None]) -> CopyReport:
    """Copy the SQLite database at `source` into the PostgreSQL database at `url` (see the module).

    CopyRefused before anything is written; CopyFailed when the copy was rolled back."""
    import asyncio

    from storage.database import migration_scripts
    from storage.postgres import apply_postgres_migrations, connect_postgres

    version = check_source(source)
    where = mask_url(url)
    found = await asyncio.to_thread(_data_in_target, url, deployment)
    if found:
        raise CopyRefused(
            f"the PostgreSQL database {where} already holds data: {found}. copy-to copies into an empty "
            "database only and never overwrites: make a new, empty database (createdb) and copy into that. "
            "Nothing was copied."
        )
    say(f"Copying {source} (schema version {version}) into {where}")
    connection = await connect_postgres(url, max_size=1)
    try:
        migrated = await apply_postgres_migrations(
            connection, migration_scripts("postgresql"), migration_scripts("sqlite")
        )
    finally:
        await connection.close()
    if migrated != version:
        raise CopyRefused(
            f"the PostgreSQL database {where} has schema version {migrated}, not {version}: it was "
            "migrated by another release of Have Your Say. Nothing was copied."
        )
    return await asyncio.to_thread(_copy, source, url, deployment, say)


def _connect(url: str, **options: Any) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, prepare_threshold=None, **options)
    except psycopg.Error as error:
        raise CopyRefused(f"cannot open the PostgreSQL database {mask_url(url)} ({_safe(error, url)})") from error


def _safe(error: psycopg.Error, url: str) -> str:
    """A connection error's text (the server's, or libpq's), without the URL's password."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return re.sub(r"password=\S+", "password=***", text.replace(url, mask_url(url)))


def _tables(connection: psycopg.Connection[Any]) -> list[str]:
    rows = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        " AND table_type = 'BASE TABLE' AND table_name <> 'schema_version' ORDER BY table_name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _found_data(connection: psycopg.Connection[Any], tables: Sequence[str], deployment: str) -> str:
    """What the target holds beyond a new database's bookkeeping, for a person to read ('' if nothing)."""
    found = []
    for table in tables:
        query = sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))
        if table == "meta":
            query = sql.SQL("SELECT COUNT(*) FROM meta WHERE key NOT IN ({})").format(
                sql.SQL(", ").join(map(sql.Literal, BOOKKEEPING_META))
            )
        row = connection.execute(query).fetchone()
        count = int(row[0]) if row else 0
        if count:
            found.append(f"{table} ({count:,} row{'s' if count != 1 else ''})")
    if "meta" in tables:
        recorded = connection.execute("SELECT value FROM meta WHERE key = 'deployment'").fetchone()
        if recorded is not None and recorded[0] != deployment:
            found.append(f"it belongs to the deployment {recorded[0]!r}, not to {deployment!r}")
    return ", ".join(found)


def _data_in_target(url: str, deployment: str) -> str:
    with closing(_connect(url, autocommit=True)) as connection:
        return _found_data(connection, _tables(connection), deployment)


def _source_columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in source.execute(f'PRAGMA table_info("{table}")')]


def _target_columns(connection: psycopg.Connection[Any], table: str) -> list[tuple[str, str]]:
    rows = connection.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def _plan(source: sqlite3.Connection, connection: psycopg.Connection[Any]) -> dict[str, list[tuple[str, str]]]:
    """Each table's columns as PostgreSQL has them; CopyFailed if the two schemas do not match."""
    in_source = [
        str(row[0])
        for row in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
    ]
    in_target = set(_tables(connection))
    if set(in_source) != in_target:
        only_source, only_target = sorted(set(in_source) - in_target), sorted(in_target - set(in_source))
        raise CopyFailed(
            f"the two schemas differ (tables only in SQLite: {only_source or 'none'}; "
            f"only in PostgreSQL: {only_target or 'none'})"
        )
    plan = {}
    for table in in_source:
        columns = _target_columns(connection, table)
        names = {name for name, _ in columns}
        mine = _source_columns(source, table)
        # PostgreSQL's `rowid` column stands for SQLite's implicit row id (migration 0003, answers).
        if set(mine) - names or names - set(mine) - {"rowid"}:
            raise CopyFailed(f"the two schemas differ in the columns of {table}")
        plan[table] = columns
    return plan


def _check_types(source: sqlite3.Connection, table: str, columns: Sequence[tuple[str, str]]) -> None:
    """CopyFailed if a value would not arrive exactly as it is (text where a number belongs, bytes in a
    text column): counted per column, no value shown."""
    checks = [(name, ACCEPTED[kind]) for name, kind in columns if kind in ACCEPTED and name != "rowid"]
    if not checks:
        return
    tests = ", ".join(
        f"""SUM(typeof("{name}") NOT IN ('null', {", ".join(f"'{k}'" for k in kinds)}))""" for name, kinds in checks
    )
    row = source.execute(f'SELECT {tests} FROM "{table}"').fetchone()
    wrong = [(name, int(n)) for (name, _), n in zip(checks, row, strict=True) if n]
    if wrong:
        detail = ", ".join(f"{table}.{name}: {n:,}" for name, n in wrong)
        raise CopyFailed(f"values of the wrong type for PostgreSQL's columns ({detail})")


def _copy(source_path: Path, url: str, deployment: str, say: Callable[[str], None]) -> CopyReport:
    began = time.monotonic()
    report = CopyReport()
    current = "the schema"
    with (
        closing(sqlite3.connect(f"file:{source_path}?mode=rw", uri=True)) as source,
        closing(_connect(url)) as connection,
    ):
        source.execute("BEGIN")  # one snapshot of the file for every table
        try:
            with connection.transaction():
                plan = _plan(source, connection)
                tables = list(plan)
                connection.execute(
                    sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                        sql.SQL(", ").join(map(sql.Identifier, tables))
                    )
                )
                found = _found_data(connection, tables, deployment)
                if found:
                    raise CopyRefused(f"the PostgreSQL database {mask_url(url)} already holds data: {found}")
                _check_triggers(connection)
                for table, columns in plan.items():
                    _check_types(source, table, columns)
                rebuild = _set_aside(connection, tables)
                connection.execute("DELETE FROM meta")  # a new database's key: the file's is the one its data uses
                for table, columns in plan.items():
                    current = table
                    if table in DERIVED:
                        continue
                    started = time.monotonic()
                    copied = _copy_table(source, connection, table, [name for name, _ in columns])
                    say(f"  {table}: {copied:,} rows ({time.monotonic() - started:.1f} s)")
                current = "the indexes and constraints"
                started = time.monotonic()
                for statement in rebuild:
                    connection.execute(statement.encode())
                for table, statement in DERIVED.items():
                    current = table
                    connection.execute(statement)
                    say(f"  {table}: made from the copied rows ({time.monotonic() - started:.1f} s with the indexes)")
                current = "the identity columns"
                _move_sequences(connection)
                current = "the count check"
                report.counts = _counts(source, connection, tables)
                if not all(count.equal for count in report.counts):
                    raise _Mismatch
        except _Mismatch:
            report.seconds = time.monotonic() - began
            return report
        except psycopg.Error as error:
            raise CopyFailed(_describe(error, current)) from None
        finally:
            source.rollback()
    report.seconds = time.monotonic() - began
    return report


class _Mismatch(Exception):
    """A count differs: the transaction is rolled back and the report says which."""


def _describe(error: psycopg.Error, where: str) -> str:
    """A PostgreSQL error without its message and context, which may quote a resident's answer."""
    parts = [f"PostgreSQL refused {where}: {type(error).__name__}"]
    if error.sqlstate:
        parts.append(f"SQLSTATE {error.sqlstate}")
    if error.diag.constraint_name:
        parts.append(f"constraint {error.diag.constraint_name}")
    if error.diag.column_name:
        parts.append(f"column {error.diag.column_name}")
    return ", ".join(parts)


def _check_triggers(connection: psycopg.Connection[Any]) -> None:
    rows = connection.execute(
        "SELECT t.tgname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid"
        " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
    ).fetchall()
    unknown = sorted({str(name) for (name,) in rows} - set(KNOWN_TRIGGERS))
    if unknown:
        raise CopyFailed(
            f"the schema has triggers copy-to does not know ({', '.join(unknown)}): "
            "storage/copy_to.py must say what each one derives"
        )


def _set_aside(connection: psycopg.Connection[Any], tables: Sequence[str]) -> list[str]:
    """Drop the foreign keys and the secondary indexes, disable the triggers; the statements that
    put them back, in order (indexes, then foreign keys, then triggers)."""
    indexes = connection.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index AS i"
        " JOIN pg_class AS c ON c.oid = i.indrelid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)"
    ).fetchall()
    foreign = connection.execute(
        "SELECT k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint AS k"
        " WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace"
    ).fetchall()
    for name, _definition in indexes:
        connection.execute(f"DROP INDEX {name}".encode())
    for table, name, _definition in foreign:
        connection.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.SQL(table), sql.Identifier(name)))
    for table in tables:
        connection.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(table)))
    return (
        [str(definition) for _name, definition in indexes]
        + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in foreign]
        + [f'ALTER TABLE "{table}" ENABLE TRIGGER USER' for table in tables]
    )


def _copy_table(source: sqlite3.Connection, connection: psycopg.Connection[Any], table: str, columns: list[str]) -> int:
    names = ", ".join(f'"{name}"' for name in columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    cursor = source.execute(f'SELECT {names} FROM "{table}"')
    copied = 0
    with connection.cursor() as writing, writing.copy(statement) as copy:
        while rows := cursor.fetchmany(BATCH):
            for row in rows:
                copy.write_row(row)
            copied += len(rows)
    return copied


def _move_sequences(connection: psycopg.Connection[Any]) -> None:
    """Each identity column's next value past the largest id copied, so the next insert does not collide."""
    identities = connection.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ).fetchall()
    for table, column in identities:
        connection.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({}, {}), COALESCE(MAX({}), 0) + 1, false) FROM {}").format(
                sql.Literal(f'"{table}"'), sql.Literal(column), sql.Identifier(column), sql.Identifier(table)
            )
        )


def _counts(source: sqlite3.Connection, connection: psycopg.Connection[Any], tables: Sequence[str]) -> list[TableCount]:
    counts = []
    for table in tables:
        (mine,) = source.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
        row = connection.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))).fetchone()
        counts.append(TableCount(table, int(mine), int(row[0]) if row else 0))
    return counts
