"""Take-part taps on a real SQLite file: the button says which broadcast or notice it came with, each
resident counts once per message, older buttons keep working, and /delete erases the taps."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from conversations import answering, broadcasting, callbacks, notices, privacy, taps
from conversations.broadcasting import BroadcastDraft, Step
from conversations.pseudonyms import tap_id
from conversations.retention import apply_retention
from conversations.screens import Reply
from conversations.services import Services, begin_visit
from storage.deliveries import PRIORITY_NOTICE, NewDelivery
from storage.personal_data import PERSONAL_BY_PSEUDONYM
from tests.offline import GP_HOURS, offline_services

NOW = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)  # the consultation is open; civil hours in London
OFFICER = 900
GP = "gp-opening-hours"
LONGEST_ID = "a" * 40


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS, admins=frozenset({OFFICER})) as found:
        yield found


async def residents(services: Services, *chat_ids: int) -> None:
    for chat_id in chat_ids:
        await services.db.residents.acknowledge(chat_id, "en", NOW, None)


async def tap(services: Services, chat_id: int, data: str) -> Reply:
    """A resident taps a button with this callback data, as the Telegram edge hands it on."""
    tapped = callbacks.decode(data)
    assert tapped is not None and tapped.kind == callbacks.TAKE_PART
    [route] = [r for r in answering.BUTTONS if r.prefix == callbacks.TAKE_PART]
    return await route.handle(await begin_visit(services, chat_id, "en"), tapped)


async def queued_buttons(services: Services, where: str, *args: object) -> dict[int, str]:
    """The "Take part" button's data in each resident's queued message."""
    rows = await services.db.connection.execute_fetchall(f"SELECT chat_id, buttons FROM deliveries WHERE {where}", args)
    return {int(r[0]): json.loads(r[1])[0][0]["data"] for r in rows}


async def broadcast(services: Services, consultation_id: str | None) -> int:
    draft = BroadcastDraft(step=Step.CONFIRM, texts={"en": "Flu jabs on Saturday"}, consultation_id=consultation_id)
    async with services.db.transaction():
        broadcast_id, _count = await broadcasting.queue(services, OFFICER, draft, NOW, NOW, civil=True)
    return broadcast_id


def test_the_button_names_its_message_within_telegrams_64_bytes() -> None:
    assert callbacks.take_part(GP) == "take:gp-opening-hours", "as before, when it came with nothing"
    assert callbacks.take_part(GP, "library") == "take:gp-opening-hours:library"
    assert callbacks.take_part(GP, message="b12") == "take:gp-opening-hours:-:b12"
    for message in (*taps.NOTICES, taps.broadcast_button(999_999_999_999)):
        data = callbacks.take_part(LONGEST_ID, message=message)
        assert len(data.encode()) <= 64
        decoded = callbacks.decode(data)
        assert decoded is not None and decoded.arg(0) == LONGEST_ID and decoded.arg(1) is None
        assert decoded.arg(2) == message


async def test_a_broadcasts_taps_count_each_resident_once(services: Services) -> None:
    await residents(services, 1, 2, 3)
    broadcast_id = await broadcast(services, GP)
    sent = await queued_buttons(services, "broadcast_id = ?", broadcast_id)
    assert sent == {chat: f"take:{GP}:-:b{broadcast_id}" for chat in (1, 2, 3)}
    without_button = await broadcast(services, None)

    first = await tap(services, 1, sent[1])
    assert "Question 1 of" in first.screens[0].text, "the button still opens the consultation"
    await tap(services, 1, sent[1])  # a second tap by the same resident
    await tap(services, 2, sent[2])
    await tap(services, 2, f"take:{GP}")  # a button sent before taps were counted: works, not counted

    report = {found.broadcast.id: found for found in await broadcasting.progress_report(services, NOW)}
    assert report[broadcast_id].take_part_taps == 2
    assert report[without_button].take_part_taps is None, "no button, nothing to count"
    assert [row[0] for row in await services.db.connection.execute_fetchall("SELECT tapper_id FROM take_part_taps")]
    stored = await services.db.connection.execute_fetchall("SELECT message, tapper_id FROM take_part_taps")
    key = services.db.pseudonym_key
    assert sorted(stored) == sorted(
        (f"broadcast:{broadcast_id}", tap_id(key, chat, f"broadcast:{broadcast_id}")) for chat in (1, 2)
    ), "a pseudonymous id, never the chat id"

    reply = await broadcasting.progress(await begin_visit(services, OFFICER, "en"))
    assert "2 residents tapped Take part" in reply.screens[0].text


async def test_a_button_never_sent_to_the_resident_counts_nothing(services: Services) -> None:
    await residents(services, 1, 2)
    broadcast_id = await broadcast(services, GP)
    await residents(services, 3)  # joined afterwards: the broadcast was not sent to them
    await tap(services, 3, f"take:{GP}:-:b{broadcast_id}")
    await tap(services, 1, f"take:{GP}:-:b{broadcast_id + 1}")  # a broadcast that does not exist
    await tap(services, 1, f"take:{GP}:-:opened")  # no opening notice was sent
    await tap(services, 1, f"take:{GP}:-:nonsense")
    assert await services.db.connection.execute_fetchall("SELECT * FROM take_part_taps") == []


async def test_opening_notices_and_reminders_count_their_taps_and_outcomes_have_no_button(services: Services) -> None:
    await residents(services, 1, 2)
    loaded = await services.consultations.current(GP)
    assert loaded is not None
    opening = notices.opening_notice(services.catalogs.translator("en"), loaded.model)
    assert opening.buttons[0][0].data == f"take:{GP}:-:opened"
    reminder = notices.unfinished_reminder(services.catalogs.translator("en"), loaded.model)
    assert reminder.buttons[0][0].data == f"take:{GP}:-:reminder"
    closing = notices.closing_soon(services.catalogs.translator("en"), loaded.model)
    assert closing.buttons[0][0].data == f"take:{GP}:-:closing"

    def message(chat_id: int, kind: str, key: str) -> NewDelivery:
        return NewDelivery(chat_id, kind, PRIORITY_NOTICE, "text", dedupe_key=key)

    await services.db.deliveries.enqueue(
        [
            message(1, "notice", notices.notice_key("opened", GP, 1)),
            message(2, "notice", notices.notice_key("opened", GP, 2)),
            message(1, "reminder", notices.notice_key("reminder", GP, 1)),
            message(1, "outcome", f"told_us:{GP}:1"),
        ],
        NOW,
    )
    await tap(services, 1, f"take:{GP}:-:opened")
    await tap(services, 1, f"take:{GP}:-:opened")
    await tap(services, 2, f"take:{GP}:-:opened")
    await tap(services, 1, f"take:{GP}:-:reminder")
    await tap(services, 2, f"take:{GP}:-:reminder")  # no reminder was sent to 2
    found = {(x.what, x.consultation_id): x for x in await broadcasting.notice_report(services, "en")}
    assert found["opened", GP].take_part_taps == 2
    assert found["reminder", GP].take_part_taps == 1
    assert found["outcome", GP].take_part_taps is None


@pytest.mark.parametrize("policy", ["delete", "anonymise"])
async def test_my_data_shows_the_taps_and_delete_erases_them(services: Services, policy: str) -> None:
    services.erasure = policy
    await residents(services, 1, 2)
    broadcast_id = await broadcast(services, GP)
    await tap(services, 1, f"take:{GP}:-:b{broadcast_id}")
    await tap(services, 2, f"take:{GP}:-:b{broadcast_id}")
    assert PERSONAL_BY_PSEUDONYM["take_part_taps"] == "tapper_id"
    _reply, data_file = await privacy.my_data(await begin_visit(services, 1, "en"))
    held = json.loads(data_file.content)
    assert held["take_part_taps"] == [
        {
            "message": f"broadcast:{broadcast_id}",
            "tapper_id": tap_id(services.db.pseudonym_key, 1, f"broadcast:{broadcast_id}"),
        }
    ]

    await privacy.confirm_delete(await begin_visit(services, 1, "en"), "yes")
    ids = {row[0] for row in await services.db.connection.execute_fetchall("SELECT tapper_id FROM take_part_taps")}
    assert tap_id(services.db.pseudonym_key, 1, f"broadcast:{broadcast_id}") not in ids
    assert tap_id(services.db.pseudonym_key, 2, f"broadcast:{broadcast_id}") in ids
    (found,) = await broadcasting.progress_report(services, NOW)
    assert found.take_part_taps == (2 if policy == "anonymise" else 1), "kept unlinked, as feedback is"


async def test_a_resident_removed_for_inactivity_takes_their_taps_along(services: Services) -> None:
    await residents(services, 1)
    broadcast_id = await broadcast(services, GP)
    await tap(services, 1, f"take:{GP}:-:b{broadcast_id}")
    assert await services.db.broadcasts.taps([f"broadcast:{broadcast_id}"]) == {f"broadcast:{broadcast_id}": 1}
    told_at = NOW + services.inactive_after + timedelta(days=1)
    assert (await apply_retention(services, told_at))["residents told"] == 1
    assert (await apply_retention(services, told_at + services.removal_grace + timedelta(days=1)))[
        "residents removed"
    ] == 1
    assert await services.db.connection.execute_fetchall("SELECT * FROM take_part_taps") == []
