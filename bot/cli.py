"""The `haveyoursay` command line: run, init, migrate, copy-to, check, import, preview, export, translations."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.settings import Settings, SettingsError, load_settings
from bot.single_instance import AlreadyRunning, InstanceLock
from conversations import publishing
from conversations.deployment import Deployment, DeploymentError, load_deployment
from conversations.survey.loader import LoadResult, load_consultation_file
from storage import Database, DatabaseRefused, open_database, open_existing_database
from storage.database import (
    check_existing_database,
    check_existing_postgres,
    postgres_has_schema,
    schema_version_of,
)
from storage.private_files import make_private


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `haveyoursay` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        deployment = load_deployment(settings.config_path, settings.default_language)
    except (SettingsError, DeploymentError) as error:
        print(f"haveyoursay: {error}", file=sys.stderr)
        return 2
    try:
        return _command(parser, args, settings, deployment)
    except DatabaseRefused as error:
        print(f"haveyoursay: {error}", file=sys.stderr)
        return 1


def _command(
    parser: argparse.ArgumentParser, args: argparse.Namespace, settings: Settings, deployment: Deployment
) -> int:
    command = args.command
    if command == "run":
        return _run(settings, deployment)
    if command == "init":
        return asyncio.run(_init(settings, deployment))
    if command == "migrate":
        return asyncio.run(_migrate(settings, deployment))
    if command == "copy-to":
        from bot.copy_to_cli import copy_to

        return copy_to(settings, deployment, args.url)
    if command == "check":
        return _check(args.files, deployment)
    if command == "import":
        return asyncio.run(_import(args.files, settings, deployment))
    if command == "translations":
        from bot.translations_cli import export_translations, import_translations

        if args.action == "export":
            return asyncio.run(export_translations(settings, deployment, args.id, args.lang, args.output))
        return asyncio.run(import_translations(settings, deployment, args.file, args.into))
    if command == "export":
        return asyncio.run(_export(settings, deployment, args.id, args.format, args.output))
    if command == "preview":
        from bot.preview import run_preview

        return run_preview(args.file, args.lang, deployment, settings.default_language)
    parser.print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="haveyoursay", description="Have Your Say: consultations in Telegram.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (needs TELEGRAM_BOT_TOKEN)")
    sub.add_parser("init", help="make the database for this deployment (the bot's first run does it too)")
    sub.add_parser(
        "migrate", help="bring the database's schema up to date, then exit (before starting several workers)"
    )
    copying = sub.add_parser(
        "copy-to", help="copy this deployment's SQLite database into an empty PostgreSQL database (the bot stopped)"
    )
    copying.add_argument("url", help="the PostgreSQL database: postgresql://user:password@host/db")
    check = sub.add_parser("check", help="validate consultation files")
    check.add_argument("files", nargs="+", type=Path)
    importing = sub.add_parser("import", help="add or update consultations from files")
    importing.add_argument("files", nargs="+", type=Path)
    preview = sub.add_parser("preview", help="walk a survey in the terminal, as a resident would")
    preview.add_argument("file", type=Path)
    preview.add_argument("--lang", default=None, help="language code, e.g. cy")
    exporting_responses = sub.add_parser("export", help="export one consultation's responses")
    exporting_responses.add_argument("id", help="the consultation id")
    exporting_responses.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    exporting_responses.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="file to write (default: <id>.<format>; '-' for standard output, csv only)",
    )
    translations = sub.add_parser("translations", help="consultation texts to and from translators' .po files")
    actions = translations.add_subparsers(dest="action", required=True)
    exporting = actions.add_parser("export", help="write a .po file of one consultation's texts")
    exporting.add_argument("id", help="the consultation id")
    exporting.add_argument("--lang", required=True, help="the language to translate into, e.g. pl")
    exporting.add_argument("-o", "--output", type=Path, required=True)
    importing_po = actions.add_parser("import", help="put a translated .po file back into the consultation")
    importing_po.add_argument("file", type=Path)
    importing_po.add_argument(
        "--into", type=Path, default=None, help="also write the translations into this consultation file (YAML)"
    )
    return parser


def _run(settings: Settings, deployment: Deployment) -> int:
    from telegram.error import InvalidToken

    from bot.app import build_application
    from bot.logs import configure_logging

    try:
        settings.require_token()
    except SettingsError as error:
        print(f"haveyoursay: {error}", file=sys.stderr)
        return 2
    # SQLite: one bot process per database file (an OS lock on it). PostgreSQL is where several
    # workers share one database (docs/scaling.md): no file, no such lock; migrating at start-up
    # takes an advisory lock instead (storage/postgres.py).
    lock = InstanceLock(settings.database) if settings.database_url is None else None
    try:
        if lock is not None:
            lock.acquire()
    except AlreadyRunning as running:
        holder = f" (process {running})" if str(running) else ""
        print(
            f"haveyoursay: another `haveyoursay run` is already using the database {settings.database}{holder}. "
            "Only one bot may run on a database: stop the other one first.",
            file=sys.stderr,
        )
        if settings.several_workers:
            # Several workers on SQLite: one at a time (the lock), which is safe but no more than one process.
            print(
                "haveyoursay: several workers need PostgreSQL (HAVEYOURSAY_DB=postgresql://...): on an SQLite "
                "file only one worker runs at a time (docs/scaling.md).",
                file=sys.stderr,
            )
        return 1
    configure_logging(settings.token)
    application = build_application(settings, deployment, webhook=bool(settings.webhook_url))
    allowed = ["message", "callback_query"]
    try:
        if settings.webhook_url:
            from bot.webhook import serve_webhook

            # Our own receiver, not PTB's: it checks the secret header before reading a body (bot/webhook.py).
            with asyncio.Runner(loop_factory=fast_loop_factory()) as runner:
                runner.run(serve_webhook(application, settings, allowed))
        else:
            use_fast_event_loop()
            application.run_polling(allowed_updates=allowed)
    except InvalidToken:
        # 401 (a wrong token) or 404 (a wrong API address): the error's text holds the token, so it is not shown.
        print(
            "haveyoursay: Telegram refused the token: check TELEGRAM_BOT_TOKEN (and TELEGRAM_API_URL, if you set it)",
            file=sys.stderr,
        )
        return 1
    except Exception:
        # Through the log, whose lines are redacted: Python's own report of a crash would not be.
        logging.getLogger("bot.cli").exception("Have Your Say stopped on an error")
        return 1
    finally:
        if lock is not None:
            lock.release()
    return 0


def fast_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (see use_fast_event_loop), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def use_fast_event_loop() -> None:
    """Run on uvloop where it is installed: every answer's trip to SQLite's thread and back is a
    wake-up of the event loop, and uvloop's are cheaper (bench/README.md). python-telegram-bot's
    run_polling and run_webhook take the loop set here."""
    try:
        import uvloop
    except ImportError:  # Windows, or not installed: asyncio's own loop does the same work
        return
    asyncio.set_event_loop(uvloop.new_event_loop())


def validate_files(files: Sequence[Path], deployment: Deployment) -> list[LoadResult]:
    """Load every file, adding a problem for an id used by two files."""
    areas = {a.id for a in deployment.areas} if deployment.areas else None
    topics = {t.id for t in deployment.topics} if deployment.topics else None
    results = [load_consultation_file(f, known_areas=areas, known_topics=topics) for f in files]
    seen: dict[str, Path] = {}
    for path, result in zip(files, results, strict=True):
        if result.consultation is None:
            continue
        other = seen.setdefault(result.consultation.id, path)
        if other != path:
            from conversations.i18n import N_
            from conversations.survey.loader import Problem

            result.problems.append(
                Problem(
                    str(path),
                    None,
                    "id",
                    N_("duplicate consultation id %(id)s (also in %(other)s)"),
                    path=("id",),
                    params={"id": repr(result.consultation.id), "other": str(other)},
                )
            )
            result.consultation = None
    return results


def _check(files: Sequence[Path], deployment: Deployment) -> int:
    results = validate_files(files, deployment)
    failed = False
    for path, result in zip(files, results, strict=True):
        for problem in result.problems:
            print(problem)
        if result.errors or result.consultation is None:
            failed = True
        else:
            print(f"{path}: ok ({len(result.consultation.survey)} questions)")
    return 1 if failed else 0


@asynccontextmanager
async def command_database(settings: Settings, deployment: Deployment) -> AsyncIterator[Database]:
    """The bot's database, for a command: said which, and refused (DatabaseRefused) if it does not
    exist, is not a Have Your Say database, or belongs to another deployment, rather than made anew."""
    print(f"Using the database {settings.database_label}", file=sys.stderr)
    async with open_existing_database(settings.database_target, deployment.identity) as db:
        yield db


async def _init(settings: Settings, deployment: Deployment) -> int:
    """Make the database for this deployment, or say that it is there already."""
    path = settings.database
    print(f"Using the database {settings.database_label}", file=sys.stderr)
    where = str(path) if settings.database_url is None else settings.database_label
    if settings.database_url is not None:
        if await postgres_has_schema(settings.database_url):
            await check_existing_postgres(settings.database_url, deployment.identity)
            print(f"{where}: already set up; nothing to do")
            return 0
    elif path.exists() and path.stat().st_size > 0:
        check_existing_database(path, deployment.identity)
        print(f"{where}: already set up; nothing to do")
        return 0
    async with open_database(settings.database_target) as db:
        await db.belong_to(deployment.identity)
    print(f"{where}: a new database for {deployment.identity or 'this deployment'}")
    return 0


async def _migrate(settings: Settings, deployment: Deployment) -> int:
    """Apply the migrations the database lacks, and exit: `haveyoursay run` does it at start-up too,
    but with several workers an operator migrates once, before starting them (docs/scaling.md)."""
    where = settings.database_label
    if settings.database_url is None:
        check_existing_database(settings.database, deployment.identity)
    else:
        await check_existing_postgres(settings.database_url, deployment.identity)
    before = await schema_version_of(settings.database_target)
    async with command_database(settings, deployment):  # opening it applies what is missing
        pass
    after = await schema_version_of(settings.database_target)
    if after == before:
        print(f"{where}: the schema is up to date (version {after}); nothing to do")
    else:
        print(f"{where}: the schema went from version {before} to {after}")
    return 0


async def _import(files: Sequence[Path], settings: Settings, deployment: Deployment) -> int:
    results = validate_files(files, deployment)
    if any(r.errors or r.consultation is None for r in results):
        for result in results:
            for problem in result.errors:
                print(problem)
        print("Nothing was imported: fix the problems above first.")
        return 1
    now = datetime.now(UTC)
    async with command_database(settings, deployment) as db:
        for path, result in zip(files, results, strict=True):
            c, data = result.consultation, result.data
            assert c is not None and data is not None
            # Publishing is an officer action: the audit log names the command line (actor 0).
            outcome = await publishing.store(db, c, data, publishing.COMMAND_LINE, now)
            print(f"{path}: {c.id}: {publishing.describe(outcome)}")
    return 0


async def _export(
    settings: Settings, deployment: Deployment, consultation_id: str, file_format: str, output: Path | None
) -> int:
    from conversations.export import write_csv, write_xlsx
    from conversations.i18n import Catalogs
    from conversations.results import export_detail

    # Headers and values in words, in the consultation's default language, as in the bot's /export.
    catalogs, areas = Catalogs.load(settings.default_language, deployment.timezone), deployment.areas
    target = output or Path(f"{consultation_id}.{file_format}")
    async with command_database(settings, deployment) as db:
        if await db.consultations.get(consultation_id) is None:
            print(f"haveyoursay: no consultation {consultation_id!r} has been imported", file=sys.stderr)
            return 1
        if str(target) != "-":
            make_private(target)  # personal data: readable by its owner only, from the first byte
        if file_format == "xlsx":
            count = await write_xlsx(db, consultation_id, target, catalogs, areas)
        elif str(target) == "-":
            count = await write_csv(db, consultation_id, sys.stdout, catalogs, areas)
        else:
            with target.open("w", encoding="utf-8", newline="") as handle:
                count = await write_csv(db, consultation_id, handle, catalogs, areas)
        detail = f"{export_detail(consultation_id, file_format, count)}, by OS user {_os_user()}"
        await db.officers.audit(0, "export", detail, datetime.now(UTC))  # actor 0: the command line
    if str(target) != "-":
        print(f"{target}: {count} responses")
    return 0


def _os_user() -> str:
    """Who ran the command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no entry in the password database
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


if __name__ == "__main__":
    sys.exit(main())
