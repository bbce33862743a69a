"""The broadcast conversation and its final report, without Telegram: logic functions on a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conversations import broadcasting
from conversations.screens import Reply
from conversations.services import Services, Visit, begin_visit
from tests.offline import offline_services

DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
NOW = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
OFFICER = 900
RESIDENTS = (701, 702, 703)


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    """The test once on SQLite, once on PostgreSQL."""
    async with offline_services(database_target, NOW, admins=frozenset({OFFICER})) as found:
        for chat_id in RESIDENTS:
            await found.db.residents.acknowledge(chat_id, "en", NOW, None)
        yield found


async def officer(services: Services) -> Visit:
    return await begin_visit(services, OFFICER, "en")


async def write_to_everyone(services: Services, text: str) -> Reply:
    """The officer's steps, up to the preview."""
    await broadcasting.start(await officer(services))
    visit = await officer(services)
    draft = await broadcasting.draft_of(visit)
    assert draft is not None
    await broadcasting.typed(visit, draft, text)
    await broadcasting.tapped(await officer(services), "nolang", None)
    await broadcasting.tapped(await officer(services), "nobutton", None)
    return await broadcasting.tapped(await officer(services), "everyone", None)


async def deliveries(services: Services) -> list[tuple[int, str, str, str]]:
    async with services.db.connection.execute(
        "SELECT id, chat_id, kind, state, text FROM deliveries ORDER BY id"
    ) as cursor:
        return [(int(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in await cursor.fetchall()]


async def test_the_preview_is_the_notice_as_sent_and_sending_queues_one_message_each(services: Services) -> None:
    notice, confirm = (await write_to_everyone(services, "Clinic <closed> on Monday & Tuesday")).screens
    label, _, shown = notice.text.partition("\n\n")
    assert label == "<i>For 3 residents in English:</i>", "who receives this version, above it"
    assert shown == "Clinic &lt;closed&gt; on Monday &amp; Tuesday"
    assert "<b>This notice will go to 3 residents.</b>" in confirm.text
    sent = await broadcasting.tapped(await officer(services), "send", None)
    assert sent.screens[0].text == "Sending to 3 residents. Send /broadcasts to follow it."
    assert await deliveries(services) == [(chat_id, "broadcast", "waiting", shown) for chat_id in RESIDENTS]
    assert await broadcasting.draft_of(await officer(services)) is None

    again = await broadcasting.tapped(await officer(services), "send", None)
    assert again.notice == "That button is out of date.", "a second tap on Send sends nothing more"
    assert len(await deliveries(services)) == 3


async def test_progress_then_one_final_report_when_every_delivery_has_ended(services: Services) -> None:
    await write_to_everyone(services, "Road works")
    await broadcasting.tapped(await officer(services), "send", None)
    progress = (await broadcasting.progress(await officer(services))).screens[0].text
    assert "sent 0, waiting 3, failed 0, unreachable 0" in progress and "finished" not in progress

    await broadcasting.report_finished(services)
    assert [kind for _chat, kind, _state, _text in await deliveries(services)] == ["broadcast"] * 3

    db = services.db
    await db.deliveries.settle(1, "sent", NOW)
    await db.deliveries.settle(2, "unreachable", NOW, "bot was blocked by the user")
    progress = (await broadcasting.progress(await officer(services))).screens[0].text
    assert "sent 1, waiting 1, failed 0, unreachable 1" in progress and "finished" not in progress
    await broadcasting.report_finished(services)
    assert len(await deliveries(services)) == 3, "no report while one is still waiting"

    await db.deliveries.settle(3, "failed", NOW, "chat not found")
    await broadcasting.report_finished(services)
    await broadcasting.report_finished(services)
    report = [d for d in await deliveries(services) if d[1] == "report"]
    assert report == [
        (
            OFFICER,
            "report",
            "waiting",
            "Your notice #1 has finished.\nsent 1, waiting 0, failed 1, unreachable 1 · finished",
        )
    ]


async def test_a_report_queued_just_before_a_crash_is_not_queued_twice(services: Services) -> None:
    await write_to_everyone(services, "Road works")
    await broadcasting.tapped(await officer(services), "send", None)
    for delivery_id in (1, 2, 3):
        await services.db.deliveries.settle(delivery_id, "sent", NOW)
    await broadcasting.report_finished(services)
    # As if the process died after queueing the report and before marking the broadcast reported.
    await services.db.connection.execute("UPDATE broadcasts SET reported_at = NULL")
    await broadcasting.report_finished(services)
    assert len([d for d in await deliveries(services) if d[1] == "report"]) == 1


async def test_a_broadcast_whose_messages_are_still_being_queued_is_not_finished(services: Services) -> None:
    # The worker shares the connection and may look while the sending transaction is half done.
    await services.db.broadcasts.create(OFFICER, {"en": "Hello"}, None, {}, 3, NOW)
    assert await services.db.broadcasts.finished_unreported() == []
    await services.db.broadcasts.create(OFFICER, {"en": "Nobody to send to"}, None, {"language": "so"}, 0, NOW)
    assert [b.texts for b in await services.db.broadcasts.finished_unreported()] == [{"en": "Nobody to send to"}]


async def test_a_notice_too_long_for_one_message_is_refused_with_its_length(services: Services) -> None:
    await broadcasting.start(await officer(services))
    visit = await officer(services)
    draft = await broadcasting.draft_of(visit)
    assert draft is not None
    reply = await broadcasting.typed(visit, draft, "x" * 4001)
    assert reply.screens[0].text.startswith("That is 4001 characters; a notice can have at most 4000.")
    draft = await broadcasting.draft_of(visit)
    assert draft is not None and draft.step is broadcasting.Step.TEXT, "still waiting for the text"


async def test_a_stale_audience_button_changes_nothing(services: Services) -> None:
    await broadcasting.start(await officer(services))
    reply = await broadcasting.tapped(await officer(services), "everyone", None)
    assert reply.notice == "That button is out of date."
    draft = await broadcasting.draft_of(await officer(services))
    assert draft is not None and draft.step is broadcasting.Step.TEXT
