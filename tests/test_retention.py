"""Storage limitation with a frozen clock around each boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conversations.deployment import load_deployment
from conversations.i18n import Catalogs
from conversations.pseudonyms import response_id_for
from conversations.retention import apply_retention
from conversations.services import Services
from conversations.survey.loader import load_consultation_file
from storage import open_database

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "gp-opening-hours.yaml"
DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
CLOSES = datetime(2027, 1, 31, 23, 59, tzinfo=UTC)
RETENTION = timedelta(days=730)
SEEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
INACTIVE = timedelta(days=730)
GRACE = timedelta(days=30)
CHAT = 700_123_456


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    """The test once on SQLite, once on PostgreSQL."""
    async with open_database(database_target) as db:
        loaded = load_consultation_file(EXAMPLE)
        assert loaded.consultation is not None and loaded.data is not None
        c = loaded.consultation
        await db.consultations.save(loaded.data, c.structure(), c.opens, c.closes, SEEN)
        await db.residents.acknowledge(CHAT, "en", SEEN, None)
        rid = response_id_for(db.pseudonym_key, CHAT, "gp-opening-hours")
        await db.responses.save_progress(rid, "gp-opening-hours", 1, "en", {"answers": {}}, SEEN)
        await db.responses.submit(rid, {"last_visit": "week"}, {}, SEEN)
        yield Services(
            db=db,
            catalogs=Catalogs.load(),
            deployment=load_deployment(DEPLOYMENT),
            response_retention=RETENTION,
            inactive_after=INACTIVE,
            removal_grace=GRACE,
        )


async def count(services: Services, sql: str) -> int:
    [(n,)] = await services.db.connection.execute_fetchall(sql)
    return int(n)


async def test_responses_are_kept_until_the_retention_time_after_closing(services: Services) -> None:
    done = await apply_retention(services, CLOSES + RETENTION - timedelta(seconds=1))
    assert done["responses purged"] == 0 and await count(services, "SELECT COUNT(*) FROM answers") == 1
    done = await apply_retention(services, CLOSES + RETENTION + timedelta(seconds=1))
    assert done["responses purged"] == 1
    assert await count(services, "SELECT COUNT(*) FROM responses") == 0
    assert await count(services, "SELECT COUNT(*) FROM answers") == 0


async def test_an_inactive_resident_is_told_once_then_removed_after_the_grace_period(services: Services) -> None:
    assert (await apply_retention(services, SEEN + INACTIVE - timedelta(seconds=1)))["residents told"] == 0
    told_at = SEEN + INACTIVE + timedelta(seconds=1)
    assert (await apply_retention(services, told_at))["residents told"] == 1
    assert (await apply_retention(services, told_at + timedelta(hours=1)))["residents told"] == 0, "told once"
    [(text,)] = await services.db.connection.execute_fetchall("SELECT text FROM deliveries WHERE kind = 'retention'")
    assert "we will delete what we hold about you in 30 days" in text
    assert (await apply_retention(services, told_at + GRACE - timedelta(seconds=1)))["residents removed"] == 0
    assert (await apply_retention(services, told_at + GRACE + timedelta(seconds=1)))["residents removed"] == 1
    assert await services.db.residents.get(CHAT) is None


async def test_coming_back_after_the_notice_keeps_the_resident(services: Services) -> None:
    told_at = SEEN + INACTIVE + timedelta(seconds=1)
    await apply_retention(services, told_at)
    await services.db.residents.touch(CHAT, told_at + timedelta(days=3))
    assert (await apply_retention(services, told_at + GRACE + timedelta(days=1)))["residents removed"] == 0
    assert await services.db.residents.get(CHAT) is not None
