"""The broadcast rules the chat and the workspace share, on a real SQLite file: combined filters,
the count equal to what is queued, the time a broadcast may go, and the progress report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from conversations import broadcasting
from conversations.broadcasting import BroadcastDraft, Step
from conversations.services import Services
from storage.deliveries import PRIORITY_NOTICE, NewDelivery
from storage.residents import Audience
from tests.offline import GP_HOURS, offline_services

NOW = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)  # 10:00 in London: within civil hours
OFFICER = 900
GP = "gp-opening-hours"


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS, admins=frozenset({OFFICER})) as found:
        yield found


async def resident(
    services: Services,
    chat_id: int,
    language: str,
    area: str | None,
    topics: tuple[str, ...] = (),
    *,
    submitted: bool = False,
    started: bool = False,
    notices: bool = True,
) -> None:
    db = services.db
    await db.residents.acknowledge(chat_id, language, NOW, None)
    await db.residents.set_area(chat_id, area, None)
    for topic in topics:
        await db.residents.set_topic(chat_id, topic, True)
    if started:
        await db.participation.started(chat_id, GP, NOW)
    if submitted:
        await db.participation.submitted(chat_id, GP, NOW)
    if not notices:
        await db.residents.set_preferences(chat_id, notices=False)


async def test_filters_combine_and_the_count_is_exactly_who_is_queued(services: Services) -> None:
    care = ("primary-care",)
    await resident(services, 1, "cy", "sittingbourne", care)  # the only one matching every filter
    await resident(services, 2, "en", "sittingbourne", care)  # another language
    await resident(services, 3, "cy", "sittingbourne", care, submitted=True)  # took part
    await resident(services, 4, "cy", "sittingbourne", care, started=True)  # started it: taking part
    await resident(services, 5, "cy", "sittingbourne")  # not following the topic
    await resident(services, 6, "cy", "sheerness", care)  # another area
    await resident(services, 7, "cy", "sittingbourne", care, notices=False)  # wants no notices
    await resident(services, 8, "cy", "sittingbourne", care)
    await services.db.residents.mark_unreachable(8, NOW)  # blocked the bot

    combined = Audience(
        areas=("sittingbourne",), topics=care, language="cy", not_taking_part_in=GP, areas_and_topics=True
    )
    assert await broadcasting.recipients_of(services, combined) == [(1, "cy")]
    either = Audience(areas=("sittingbourne",), topics=care, language="cy", not_taking_part_in=GP)
    assert [chat for chat, _ in await broadcasting.recipients_of(services, either)] == [1, 5, 6], (
        "a consultation's notice: its areas or its topics"
    )
    took_part = Audience(areas=("sittingbourne",), participants_of=GP, areas_and_topics=True)
    assert await broadcasting.recipients_of(services, took_part) == [(3, "cy")]

    draft = BroadcastDraft(
        step=Step.CONFIRM,
        texts={"en": "Flu jabs on Monday", "cy": "Brechlyn ffliw ddydd Llun"},
        consultation_id=GP,
        audience=Audience(areas=("sittingbourne",), not_taking_part_in=GP, areas_and_topics=True),
    )
    counted = await broadcasting.recipients_of(services, draft.audience)
    async with services.db.transaction():
        broadcast_id, count = await broadcasting.queue(services, OFFICER, draft, NOW, NOW, civil=True)
    assert count == len(counted) == 3
    rows = await services.db.connection.execute_fetchall(
        "SELECT chat_id, text FROM deliveries WHERE broadcast_id = ? ORDER BY chat_id", (broadcast_id,)
    )
    assert [(int(r[0]), str(r[1])) for r in rows] == [
        (1, "Brechlyn ffliw ddydd Llun"),
        (2, "Flu jabs on Monday"),
        (5, "Brechlyn ffliw ddydd Llun"),
    ], "one each, in their language; unreachable, unwilling and those taking part left out"
    audit = await services.db.connection.execute_fetchall("SELECT actor_id, action, detail FROM audit_log")
    assert [tuple(r) for r in audit] == [
        (
            OFFICER,
            "broadcast",
            f"#{broadcast_id} to 3 residents (areas: Sittingbourne; did not take part in: GP opening hours)",
        )
    ]


async def test_a_time_outside_civil_hours_is_refused_unless_urgent(services: Services) -> None:
    late = datetime(2027, 1, 12, 22, 30, tzinfo=UTC)  # 22:30 in London
    assert broadcasting.refusal_of_time(services, late, NOW, urgent=False) == "outside civil hours"
    assert broadcasting.refusal_of_time(services, late, NOW, urgent=True) is None
    assert broadcasting.refusal_of_time(services, NOW + timedelta(hours=3), NOW, urgent=False) is None
    assert broadcasting.refusal_of_time(services, NOW - timedelta(hours=1), NOW, urgent=True) == "past"


async def test_the_progress_report_counts_each_state_and_says_why_deliveries_failed(services: Services) -> None:
    for chat_id in (1, 2, 3, 4):
        await resident(services, chat_id, "en", None)
    draft = BroadcastDraft(step=Step.CONFIRM, texts={"en": "Road works"})
    later = NOW + timedelta(days=1)
    async with services.db.transaction():
        broadcast_id, _count = await broadcasting.queue(services, OFFICER, draft, NOW, later, civil=True)
    db = services.db
    ids = [int(r[0]) for r in await db.connection.execute_fetchall("SELECT id FROM deliveries ORDER BY id")]
    await db.deliveries.settle(ids[0], "sent", NOW)
    await db.deliveries.settle(ids[1], "failed", NOW, "Bad Request: chat not found")
    await db.deliveries.settle(ids[2], "unreachable", NOW, "bot was blocked by the user")

    (found,) = await broadcasting.progress_report(services, NOW)
    assert found.broadcast.id == broadcast_id
    assert (found.sent, found.waiting, found.failed, found.unreachable) == (1, 1, 1, 1)
    assert found.failures == {"Bad Request: chat not found": 1}
    assert found.waiting_until == later, "scheduled: when it will go"


async def test_opening_notices_reminders_and_outcomes_have_the_same_report(services: Services) -> None:
    db = services.db

    def message(chat_id: int, kind: str, key: str) -> NewDelivery:
        return NewDelivery(chat_id, kind, PRIORITY_NOTICE, "text", dedupe_key=key)

    await db.deliveries.enqueue(
        [
            message(1, "notice", f"opened:{GP}:1"),
            message(2, "notice", f"opened:{GP}:2"),
            message(3, "notice", f"opened:{GP}:3"),
            message(1, "reminder", f"reminder:{GP}:1"),
            message(1, "outcome", f"did:{GP}:1"),
            message(1, "outcome", f"did:{GP}:1:2"),  # a correction
            message(2, "outcome", f"told:{GP}:2"),
        ],
        NOW,
    )
    ids = [int(r[0]) for r in await db.connection.execute_fetchall("SELECT id FROM deliveries ORDER BY id")]
    await db.deliveries.settle(ids[0], "sent", NOW)
    await db.deliveries.settle(ids[1], "failed", NOW, "Bad Request: chat not found")
    await db.deliveries.settle(ids[2], "unreachable", NOW, "bot was blocked by the user")
    await db.deliveries.settle(ids[4], "sent", NOW)

    found = {(x.what, x.consultation_id): x for x in await broadcasting.notice_report(services, "cy")}
    assert sorted(found) == [("opened", GP), ("outcome", GP), ("reminder", GP)]
    opened = found["opened", GP]
    assert (opened.total, opened.sent, opened.waiting, opened.failed, opened.unreachable) == (3, 1, 0, 1, 1)
    assert opened.failures == {"Bad Request: chat not found": 1}
    assert opened.title == "Oriau agor meddygfeydd teulu", "in the officer's language"
    outcome = found["outcome", GP]
    assert (outcome.total, outcome.sent, outcome.waiting) == (3, 1, 2)
