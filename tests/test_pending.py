"""Steps that wait for typed text end when the resident goes elsewhere; a long gap is noticed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from conversations import broadcasting, callbacks, contact, onboarding, outcomes, pending
from conversations.services import Services, Visit, begin_visit
from tests.offline import Clock, offline_services

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHAT = 700000001


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW) as found:
        yield found


async def resident_with_every_step_open(services: Services) -> Visit:
    visit = await begin_visit(services, CHAT, "en")
    await onboarding.acknowledge(visit, "en", None)  # the area question is now waiting
    for kind in pending.DRAFTS:
        await services.db.drafts.put(CHAT, kind, {"step": "text", "texts": {}}, NOW)
    return await begin_visit(services, CHAT, "en")


async def test_a_command_ends_every_step_waiting_for_typed_text(services: Services) -> None:
    visit = await resident_with_every_step_open(services)
    assert visit.resident is not None and visit.resident.onboarding_step == onboarding.AREA_STEP
    await pending.leave(visit)
    assert await services.db.drafts.kinds(CHAT) == set()
    resident = await services.db.residents.get(CHAT)
    assert resident is not None and resident.onboarding_step is None
    assert visit.resident is not None and visit.resident.onboarding_step is None


@pytest.mark.parametrize(
    ("button", "kept"),
    [
        (contact.PREFIX, {contact.DRAFT, contact.REPLY}),
        (outcomes.FEEDBACK, {outcomes.FEEDBACK_DRAFT}),
        (broadcasting.PREFIX, {broadcasting.DRAFT}),
        (outcomes.PREFIX, {outcomes.DRAFT}),
        (callbacks.SURVEY, set()),
        (callbacks.TAKE_PART, set()),
    ],
)
async def test_a_button_continues_only_its_own_step(services: Services, button: str, kept: set[str]) -> None:
    visit = await resident_with_every_step_open(services)
    await pending.leave(visit, button)
    assert await services.db.drafts.kinds(CHAT) == kept
    resident = await services.db.residents.get(CHAT)
    assert resident is not None and resident.onboarding_step is None


async def test_the_area_buttons_keep_the_area_question(services: Services) -> None:
    visit = await resident_with_every_step_open(services)
    await pending.leave(visit, callbacks.ONBOARD_AREA)
    resident = await services.db.residents.get(CHAT)
    assert resident is not None and resident.onboarding_step == onboarding.AREA_STEP
    assert await services.db.drafts.kinds(CHAT) == set()


async def test_a_resident_back_after_hours_away_or_after_a_restart_is_returning_once(services: Services) -> None:
    clock = services.clock
    assert isinstance(clock, Clock)
    await onboarding.acknowledge(await begin_visit(services, CHAT, "en"), "en", None)
    clock.now = NOW + timedelta(minutes=30)
    assert not (await begin_visit(services, CHAT, "en")).returning
    clock.now = NOW + timedelta(minutes=30, seconds=20)
    assert not (await begin_visit(services, CHAT, "en")).returning
    clock.now = NOW + timedelta(hours=4)
    assert (await begin_visit(services, CHAT, "en")).returning
    assert not (await begin_visit(services, CHAT, "en")).returning, "the gap is over once they are back"
    resident = await services.db.residents.get(CHAT)
    assert resident is not None and resident.last_seen == NOW + timedelta(hours=4)

    clock.now = NOW + timedelta(hours=4, seconds=30)
    services.started_at = clock.now  # the bot restarted: they were last seen before it
    clock.now += timedelta(seconds=10)
    assert (await begin_visit(services, CHAT, "en")).returning
    assert not (await begin_visit(services, CHAT, "en")).returning
    written_while_down = services.started_at - timedelta(seconds=5)
    assert (await begin_visit(services, CHAT, "en", written_while_down)).returning
    assert (await begin_visit(services, CHAT, "en", written_while_down)).returning, "each message sent while down"
