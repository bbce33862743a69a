"""Conversations without Telegram: a frozen clock, and services on a real database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from conversations.deployment import load_deployment
from conversations.i18n import Catalogs
from conversations.services import Services
from conversations.survey.loader import load_consultation_file
from storage import Database, open_database

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
GP_HOURS = ROOT / "examples" / "gp-opening-hours.yaml"
_CATALOGS = Catalogs.load()


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def import_consultation(db: Database, path: Path, now: datetime) -> None:
    """Store a consultation file as `haveyoursay import` does."""
    loaded = load_consultation_file(path)
    assert loaded.consultation is not None and loaded.data is not None, loaded.problems
    c = loaded.consultation
    await db.consultations.save(loaded.data, c.structure(), c.opens, c.closes, now)


@asynccontextmanager
async def offline_services(
    database: str | Path, now: datetime, *consultations: Path, **options: Any
) -> AsyncIterator[Services]:
    """Services on a fresh database (an SQLite file's path, or a PostgreSQL URL) with these consultations
    imported, at a frozen time."""
    async with open_database(database) as db:
        for path in consultations:
            await import_consultation(db, path, now)
        yield Services(db=db, catalogs=_CATALOGS, deployment=load_deployment(DEPLOYMENT), clock=Clock(now), **options)
