"""Typed drafts: each reads what it writes, and what the bot stored before drafts were typed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from conversations import broadcasting, contact, outcomes
from conversations.services import Services, begin_visit
from storage.residents import Audience
from tests.offline import offline_services

NOW = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
OFFICER = 900
RESIDENT = 701


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    """The test once on SQLite, once on PostgreSQL."""
    async with offline_services(database_target, NOW, admins=frozenset({OFFICER})) as found:
        await found.db.residents.acknowledge(RESIDENT, "en", NOW, None)
        yield found


def test_each_draft_reads_back_what_it_wrote() -> None:
    drafts = [
        broadcasting.BroadcastDraft(),
        broadcasting.BroadcastDraft(
            step=broadcasting.Step.CONFIRM,
            texts={"en": "Road works", "cy": "Gwaith ffordd"},
            consultation_id="gp-opening-hours",
            audience=Audience(areas=("sittingbourne", "sheerness")),
            send_at=datetime(2027, 1, 13, 9, 0, tzinfo=UTC),
        ),
        broadcasting.BroadcastDraft(step=broadcasting.Step.LANGUAGE_TEXT, texts={"en": "x"}, pending_language="cy"),
        outcomes.OutcomeDraft("gp-opening-hours"),
        outcomes.OutcomeDraft(
            "gp-opening-hours",
            step=outcomes.Step.MORE,
            kind=outcomes.TOLD_US,
            language="en",
            texts={"en": "Mornings"},
            correcting=1,
            original={"en": "Evenings"},
        ),
        outcomes.FeedbackDraft("gp-opening-hours"),
        contact.ContactDraft(None),
        contact.ContactDraft("gp-opening-hours"),
        contact.AfterAnswer(3, None, NOW),
        contact.AfterAnswer(3, "gp-opening-hours", NOW, text="When does it open?"),
    ]
    for draft in drafts:
        assert type(draft).from_data(draft.to_data()) == draft


async def test_a_broadcast_draft_stored_before_drafts_were_typed_is_finished_and_sent(services: Services) -> None:
    # Exactly what the previous code stored after "No more languages", "No button" and "One or more areas".
    old = {
        "step": "areas",
        "texts": {"en": "Road works on Monday"},
        "consultation_id": None,
        "audience": {"areas": []},
    }
    await services.db.drafts.put(OFFICER, broadcasting.DRAFT, old, NOW)
    visit = await begin_visit(services, OFFICER, "en")
    draft = await broadcasting.draft_of(visit)
    assert draft == broadcasting.BroadcastDraft(step=broadcasting.Step.AREAS, texts={"en": "Road works on Monday"})
    await broadcasting.tapped(visit, "toggle", "sittingbourne")
    confirm = (await broadcasting.tapped(visit, "chosen", None)).screens[-1]
    assert "Send" in [button.label for row in confirm.buttons for button in row]
    sent = await broadcasting.tapped(visit, "send", None)
    assert sent.screens[0].text.startswith("Sending to")
    rows = await services.db.connection.execute_fetchall("SELECT texts, audience FROM broadcasts")
    assert list(rows) == [('{"en": "Road works on Monday"}', '{"areas": ["sittingbourne"]}')]


def test_drafts_in_every_format_the_previous_code_stored_load() -> None:
    confirm = broadcasting.BroadcastDraft.from_data(
        {
            "step": "confirm",
            "texts": {"en": "Clinic closed"},
            "consultation_id": "gp-opening-hours",
            "audience": {"participants_of": "gp-opening-hours"},
            "send_at": "2027-01-13T09:00:00+00:00",
        }
    )
    assert confirm.audience == Audience(participants_of="gp-opening-hours")
    assert confirm.send_at == datetime(2027, 1, 13, 9, 0, tzinfo=UTC)
    assert broadcasting.BroadcastDraft.from_data({"step": "text", "texts": {}}) == broadcasting.BroadcastDraft()

    picked = outcomes.OutcomeDraft.from_data({"consultation_id": "gp-opening-hours", "texts": {}})
    assert picked == outcomes.OutcomeDraft("gp-opening-hours", step=outcomes.Step.KIND)
    correcting = outcomes.OutcomeDraft.from_data(
        {
            "consultation_id": "gp-opening-hours",
            "texts": {"en": "Mornings"},
            "kind": "decided",
            "step": "text",
            "language": "cy",
            "correcting": 2,
            "original": {"en": "Mornings"},
        }
    )
    assert (correcting.step, correcting.kind, correcting.language, correcting.correcting) == (
        outcomes.Step.TEXT,
        outcomes.DECIDED,
        "cy",
        2,
    )
    assert outcomes.FeedbackDraft.from_data({"consultation_id": "gp-opening-hours"}).consultation_id

    assert contact.ContactDraft.from_data({"consultation_id": None}) == contact.ContactDraft(None)
    held = contact.AfterAnswer.from_data(
        {"thread": 3, "consultation_id": None, "at": "2027-01-12T10:00:00+00:00", "text": "Hello"}
    )
    assert held == contact.AfterAnswer(3, None, NOW, "Hello")


async def test_a_draft_that_cannot_be_read_is_dropped_as_if_never_started(services: Services) -> None:
    await services.db.drafts.put(OFFICER, broadcasting.DRAFT, {"step": "no such step", "texts": {}}, NOW)
    visit = await begin_visit(services, OFFICER, "en")
    assert await broadcasting.draft_of(visit) is None
    assert await services.db.drafts.kinds(OFFICER) == set()
    reply = await broadcasting.tapped(visit, "nolang", None)
    assert reply.notice == "That button is out of date."
