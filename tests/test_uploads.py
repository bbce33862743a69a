"""An upload becomes a draft and never touches what is published; downloads give the working copy;
both are audited. On a real SQLite file, without Telegram."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import yaml

from conversations import uploads
from conversations.services import Services
from conversations.survey.loader import load_consultation_file, load_consultation_text
from conversations.xlsform import read_xlsform
from tests.offline import GP_HOURS, offline_services

OFFICER = 555_000_042
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS, admins=frozenset({OFFICER})) as found:
        yield found


async def test_an_upload_becomes_the_draft_and_what_residents_see_stays_as_it_is(services: Services) -> None:
    published = load_consultation_file(GP_HOURS).data
    assert published is not None
    changed = yaml.safe_load(GP_HOURS.read_text())
    changed["title"]["en"] = "GP opening hours (new wording)"
    found = uploads.read_upload(
        "gp.yaml", yaml.safe_dump(changed).encode(), catalogs=services.catalogs, timezone=services.catalogs.timezone
    )
    assert found.definition is not None
    result = await uploads.keep_upload(services, OFFICER, found.definition, "gp.yaml", NOW)
    assert result.errors == []
    draft = await services.db.workspace.draft("gp-opening-hours")
    assert draft is not None and draft.definition["title"]["en"] == "GP opening hours (new wording)"
    assert draft.updated_by == OFFICER
    [overview] = await services.db.consultations.overview()
    assert overview.definition["title"]["en"] == "GP opening hours"
    [entry] = await services.db.officers.audit_entries()
    assert (entry.actor_id, entry.action, entry.detail) == (OFFICER, "upload", "gp-opening-hours from gp.yaml")


async def test_downloads_give_the_draft_if_there_is_one_else_what_is_published(services: Services) -> None:
    published = load_consultation_file(GP_HOURS).data
    assert published is not None
    got = await uploads.download(services, OFFICER, "gp-opening-hours", "yaml", NOW)
    assert got is not None and got.filename == "gp-opening-hours.yaml"
    assert load_consultation_text(got.content.decode()).data == published
    draft = {**published, "title": {"en": "Draft title", "cy": "Teitl drafft"}}
    await services.db.workspace.save_draft(draft, OFFICER, NOW)
    got = await uploads.download(services, OFFICER, "gp-opening-hours", "xlsx", NOW)
    assert got is not None and got.filename == "gp-opening-hours.xlsx"
    form = read_xlsform(got.content, timezone=services.catalogs.timezone)
    assert form.definition["title"] == {"en": "Draft title", "cy": "Teitl drafft"}
    assert await uploads.download(services, OFFICER, "no-such-thing", "yaml", NOW) is None
    entries = await services.db.officers.audit_entries()
    assert [(e.action, e.detail) for e in entries] == [
        ("download", "gp-opening-hours.xlsx"),
        ("download", "gp-opening-hours.yaml"),
    ]


async def test_a_draft_with_problems_still_downloads_as_it_is(services: Services) -> None:
    await services.db.workspace.save_draft({"id": "half-done", "survey": [{"id": "q"}]}, OFFICER, NOW)
    got = await uploads.download(services, OFFICER, "half-done", "xlsx", NOW)
    assert got is not None
    form = read_xlsform(io.BytesIO(got.content).getvalue(), timezone=services.catalogs.timezone)
    assert form.definition["id"] == "half-done"
    got = await uploads.download(services, OFFICER, "half-done", "yaml", NOW)
    assert got is not None and yaml.safe_load(got.content) == {"id": "half-done", "survey": [{"id": "q"}]}
