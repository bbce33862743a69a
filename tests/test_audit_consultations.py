"""The audit log tells what was done with a consultation: every audited action about one names it,
so that the log filtered by that consultation shows outcomes, notices aimed by it and downloads of
its file (on real SQLite, through the functions the chat and the workspace share); and every action
has a name on the page, not its code."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conversations import broadcasting, outcomes, uploads
from conversations.broadcasting import BroadcastDraft, Step
from conversations.services import Services
from storage.officers import AuditQuery
from storage.residents import Audience
from tests.offline import GP_HOURS, offline_services

NOW = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)  # after it closed, within civil hours
OFFICER = 5001
GP = "gp-opening-hours"


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS, admins=frozenset({OFFICER})) as found:
        await found.db.residents.acknowledge(7001, "en", NOW, None)
        await found.db.participation.started(7001, GP, NOW)
        await found.db.participation.submitted(7001, GP, NOW)
        await found.db.residents.acknowledge(7002, "cy", NOW, None)
        yield found


async def about(services: Services, consultation_id: str) -> list[tuple[str, str]]:
    entries = await services.db.officers.audit_entries(query=AuditQuery(consultation_id=consultation_id))
    return [(entry.action, entry.detail) for entry in reversed(entries)]


async def test_outcomes_and_their_corrections_are_filed_under_their_consultation(services: Services) -> None:
    told = {"en": "Most of you want Saturdays."}
    await outcomes.publish_outcome(services, GP, outcomes.TOLD_US, told, OFFICER, NOW, correcting=None)
    decided = {"en": "Open on Saturdays."}
    await outcomes.publish_outcome(services, GP, outcomes.DECIDED, decided, OFFICER, NOW, correcting=None)
    corrected = {"en": "Saturdays, mostly."}
    await outcomes.publish_outcome(services, GP, outcomes.TOLD_US, corrected, OFFICER, NOW, correcting=1)
    assert await about(services, GP) == [
        ("publish outcome", f"told_us for {GP} to 1 people"),
        ("publish outcome", f"decided for {GP} to 1 people"),
        ("correct outcome", f"told_us for {GP}, version 2 replacing 1, to 1 people"),
    ]


@pytest.mark.parametrize(
    ("draft", "why"),
    [
        (BroadcastDraft(consultation_id=GP), "its Take part button"),
        (BroadcastDraft(audience=Audience(not_taking_part_in=GP)), "to those who did not take part in it"),
        (BroadcastDraft(audience=Audience(participants_of=GP)), "to those who took part in it"),
    ],
)
async def test_a_notice_aimed_by_a_consultation_is_filed_under_it(
    services: Services, draft: BroadcastDraft, why: str
) -> None:
    draft = BroadcastDraft(Step.CONFIRM, {"en": "Have your say"}, None, draft.consultation_id, draft.audience)
    async with services.db.transaction():
        await broadcasting.queue(services, OFFICER, draft, NOW, NOW, civil=True)
    assert [action for action, _detail in await about(services, GP)] == ["broadcast"], why


async def test_a_notice_to_everyone_is_about_no_consultation(services: Services) -> None:
    draft = BroadcastDraft(Step.CONFIRM, {"en": "The bot is changing"})
    async with services.db.transaction():
        await broadcasting.queue(services, OFFICER, draft, NOW, NOW, civil=True)
    assert await about(services, GP) == []
    assert [entry.consultation_id for entry in await services.db.officers.audit_entries()] == [None]


async def test_downloading_a_consultations_file_is_filed_under_it(services: Services) -> None:
    for kind in ("yaml", "xlsx"):
        assert await uploads.download(services, OFFICER, GP, kind, NOW) is not None
    assert await about(services, GP) == [("download", f"{GP}.yaml"), ("download", f"{GP}.xlsx")]


def test_the_audit_page_names_every_action_the_code_records() -> None:
    """An action shown by its code ("close early") on the audit page is untranslated jargon: every
    action recorded anywhere has a name in the officer's language there."""
    root = Path(__file__).resolve().parent.parent
    recorded = {
        match.group(1)
        for folder in ("bot", "conversations")
        for path in (root / folder).rglob("*.py")
        for match in re.finditer(r"\.audit\(\s*[\w.]+,\s*\"([^\"]+)\"", path.read_text(encoding="utf-8"))
    }
    assert {"publish", "close early", "publish outcome", "broadcast"} <= recorded  # the search finds them
    page = (root / "bot" / "web" / "templates" / "audit.html").read_text(encoding="utf-8")
    named = set(re.findall(r"\"([^\"]+)\": _\(", page))
    assert sorted(recorded - named) == []
