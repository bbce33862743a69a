"""Publishing a draft and closing early, by the rules in conversations/publishing.py, on a real SQLite file."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conversations import publishing
from conversations.pseudonyms import response_id_for
from conversations.publishing import OpeningNotices, Published, PublishPlan
from conversations.services import Services
from conversations.survey.loader import load_consultation_file
from storage.deliveries import NewDelivery
from tests.offline import GP_HOURS, offline_services

OFFICER = 555_000_042
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday, at civil hours (09:00-20:00 in London)
GP = "gp-opening-hours"


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS) as found:
        yield found


def gp_data() -> dict[str, Any]:
    loaded = load_consultation_file(GP_HOURS)
    assert loaded.data is not None
    return copy.deepcopy(loaded.data)


async def resident(
    services: Services, chat_id: int, language: str = "en", *, topic: str | None = "primary-care"
) -> None:
    await services.db.residents.acknowledge(chat_id, language, NOW, None)
    if topic:
        await services.db.residents.set_topic(chat_id, topic, True)


async def start(services: Services, chat_id: int, consultation_id: str = GP, *, submit: bool = False) -> None:
    """A resident's survey as the bot stores it: started, and perhaps sent."""
    db = services.db
    rid = response_id_for(db.pseudonym_key, chat_id, consultation_id)
    loaded = await services.consultations.current(consultation_id, fresh=True)
    assert loaded is not None
    state = {"answers": {"last_visit": "week"}, "path": ["last_visit", "good_times"]}
    await db.responses.save_progress(rid, consultation_id, loaded.version, "en", state, NOW)
    await db.participation.started(chat_id, consultation_id, NOW)
    await db.residents.set_active_consultation(chat_id, consultation_id)
    if submit:
        await db.responses.submit(rid, {"last_visit": "week"}, state, NOW)
        await db.participation.submitted(chat_id, consultation_id, NOW)


async def audit(services: Services) -> list[tuple[int, str, str]]:
    return [(e.actor_id, e.action, e.detail) for e in await services.db.officers.audit_entries()]


async def test_publishing_a_new_draft_now_stores_it_as_import_does_and_announces_it(services: Services) -> None:
    data = gp_data() | {"id": "new-surgery", "opens": "2026-10-01T09:00:00+00:00"}
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    for chat_id in (1, 2):
        await resident(services, chat_id)
    await resident(services, 3, topic=None)  # not interested in primary care: no notice

    plan = await publishing.plan_publishing(services, "new-surgery", NOW, opens=NOW)
    assert isinstance(plan, PublishPlan) and plan.errors == []
    assert plan.outcome is not None and plan.outcome.action == "added"
    assert plan.notices == OpeningNotices(2, NOW)
    assert [(c.language, c.missing) for c in plan.languages] == [("en", 0), ("cy", 0)]

    published = await publishing.publish_draft(services, "new-surgery", OFFICER, NOW, opens=NOW)
    assert isinstance(published, Published) and published.outcome.action == "added"
    assert await services.db.workspace.draft("new-surgery") is None
    assert "new-surgery" in [c.id for c in await services.consultations.open_now(NOW)], "residents see it at once"
    assert await audit(services) == [(OFFICER, "publish", "new-surgery: added")]
    stored = await services.db.consultations.get("new-surgery")
    assert stored is not None and stored.definition["opens"] == NOW.isoformat()
    assert [chat for chat, _ in await services.db.deliveries.reached_by("opened:new-surgery:")] == [1, 2]


async def test_a_scheduled_consultation_is_announced_when_it_opens_at_civil_hours(services: Services) -> None:
    opens = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)  # before civil hours: notices at 09:00
    closes = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    await services.db.workspace.save_draft(gp_data() | {"id": "later"}, OFFICER, NOW)
    await resident(services, 1)
    published = await publishing.publish_draft(services, "later", OFFICER, NOW, opens=opens, closes=closes)
    assert isinstance(published, Published)
    assert published.notices == OpeningNotices(1, datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    assert "later" not in [c.id for c in await services.consultations.open_now(NOW)]
    assert await services.db.deliveries.reached_by("opened:later:") == [], "not before it opens"


async def test_wording_changes_to_a_consultation_with_answers_update_it_in_place(services: Services) -> None:
    await resident(services, 1)
    await start(services, 1, submit=True)
    data = gp_data()
    data["title"]["en"] = "GP opening hours in Swale"
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    plan = await publishing.plan_publishing(services, GP, NOW)
    assert plan is not None and plan.outcome is not None
    assert (plan.outcome.action, plan.outcome.version) == ("updated", 1)
    assert plan.notices == OpeningNotices(1, NOW), "imported, never announced: the bot announces it now"
    published = await publishing.publish_draft(services, GP, OFFICER, NOW)
    assert isinstance(published, Published) and published.outcome.action == "updated"
    loaded = await services.consultations.current(GP, fresh=True)
    assert loaded is not None and loaded.version == 1 and loaded.model.title["en"] == "GP opening hours in Swale"


async def test_a_change_of_meaning_after_answers_is_a_new_version_and_says_so_before(services: Services) -> None:
    for chat_id in (1, 2):
        await resident(services, chat_id)
        await start(services, chat_id, submit=True)
    data = gp_data()
    data["survey"][0]["choices"].pop()  # "Longer ago" goes: what answers mean changes
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    plan = await publishing.plan_publishing(services, GP, NOW)
    assert plan is not None and plan.outcome is not None
    assert (plan.outcome.action, plan.outcome.version, plan.outcome.responses_on_old_version) == ("new_version", 2, 2)
    assert (await services.db.consultations.revision(GP)) == (1, 1), "a plan saves nothing"
    published = await publishing.publish_draft(services, GP, OFFICER, NOW)
    assert isinstance(published, Published)
    assert (published.outcome.action, published.outcome.version) == ("new_version", 2)


async def test_problems_block_publishing_and_nothing_is_stored(services: Services) -> None:
    data = gp_data() | {"id": "broken"}
    data["survey"][0]["type"] = "slider"
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    result = await publishing.publish_draft(services, "broken", OFFICER, NOW)
    assert isinstance(result, PublishPlan)
    assert next(p.path for p in result.errors)[:3] == ("survey", 0, "type")
    assert result.outcome is None
    assert await services.db.consultations.get("broken") is None
    assert await services.db.workspace.draft("broken") is not None
    assert await audit(services) == []


async def test_a_consultation_published_from_the_workspace_must_close_in_the_future(services: Services) -> None:
    await services.db.workspace.save_draft(gp_data() | {"id": "past"}, OFFICER, NOW)
    closes = NOW - timedelta(days=1)
    plan = await publishing.plan_publishing(services, "past", NOW, opens=NOW - timedelta(days=9), closes=closes)
    assert plan is not None and [p.path for p in plan.errors] == [("closes",)]


async def test_closing_early_tells_only_the_people_mid_survey_in_their_language(services: Services) -> None:
    await resident(services, 1, "cy")
    await start(services, 1)  # mid-survey
    await resident(services, 2)
    await start(services, 2, submit=True)  # sent their answers
    await resident(services, 3)  # never started
    await services.db.deliveries.enqueue(  # a reminder queued before the officer closed it
        [NewDelivery(3, "reminder", 10, "closes soon", dedupe_key=f"reminder:{GP}:3")], NOW
    )
    assert await publishing.people_mid_survey(services, GP) == 1

    told = await publishing.close_early(services, GP, OFFICER, NOW)
    assert told == 1
    assert [chat for chat, _ in await services.db.deliveries.reached_by(f"closed-early:{GP}:")] == [1]
    text = await services.db.connection.execute_fetchall("SELECT text, state FROM deliveries WHERE chat_id = 1")
    assert "Oriau agor meddygfeydd teulu" in str(next(iter(text))[0]), "in Welsh, with the Welsh title"
    assert await services.db.deliveries.reached_by(f"reminder:{GP}:") == [], "the reminder is withdrawn"
    assert await services.consultations.open_now(NOW) == []
    loaded = await services.consultations.current(GP)
    assert loaded is not None and loaded.version == 1 and loaded.model.closes == NOW
    assert (await audit(services))[0] == (OFFICER, "close early", f"{GP}: 1 mid-survey told")
    assert await publishing.close_early(services, GP, OFFICER, NOW) is None, "closed already"


async def test_closing_early_closes_it_for_those_answering_an_earlier_version_too(services: Services) -> None:
    await resident(services, 1)
    await start(services, 1, submit=True)
    await resident(services, 2)
    await start(services, 2)  # on version 1
    data = gp_data()
    data["survey"][0]["choices"].pop()
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    assert isinstance(await publishing.publish_draft(services, GP, OFFICER, NOW), Published)
    assert await publishing.close_early(services, GP, OFFICER, NOW) == 1
    old = await services.consultations.at_version(GP, 1)
    assert old is not None and old.model.closes == NOW and not old.model.is_open_at(NOW)


async def test_a_closed_consultation_keeps_its_closing_time_when_its_wording_is_corrected(services: Services) -> None:
    later = NOW + timedelta(days=100)  # after the GP consultation closed
    data = gp_data()
    data["title"]["en"] = "GP opening hours (corrected)"
    await services.db.workspace.save_draft(data, OFFICER, NOW)
    plan = await publishing.plan_publishing(services, GP, later)
    assert plan is not None and plan.errors == [] and plan.outcome is not None
    assert plan.outcome.action == "updated" and plan.notices == OpeningNotices(0, None)
    moved = await publishing.plan_publishing(services, GP, later, closes=later - timedelta(days=1))
    assert moved is not None and [p.path for p in moved.errors] == [("closes",)]
