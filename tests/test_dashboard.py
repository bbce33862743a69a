"""The dashboard's figures, on a real SQLite file: gathered from the rules the other pages and the chat use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conversations import dashboard, results
from conversations.authoring import State
from conversations.deployment import load_deployment
from conversations.pseudonyms import response_id_for
from conversations.services import Services
from storage.deliveries import PRIORITY_BROADCAST, NewDelivery
from tests.offline import GP_HOURS, offline_services

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CID = "gp-opening-hours"
OFFICER = 555_000_042
BASE = 710_000_000


def consultation_file(folder: Path, consultation_id: str, opens: str, closes: str) -> Path:
    """The GP example under another id and dates."""
    text = GP_HOURS.read_text(encoding="utf-8")
    text = text.replace(f"id: {CID}", f"id: {consultation_id}")
    text = text.replace("opens: 2026-11-01T09:00:00Z", f"opens: {opens}")
    text = text.replace("closes: 2027-01-31T23:59:00Z", f"closes: {closes}")
    path = folder / f"{consultation_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def services(tmp_path: Path, database_target: str) -> AsyncIterator[Services]:
    files = (
        GP_HOURS,  # open
        consultation_file(tmp_path, "closed-lately", "2026-10-01T09:00:00Z", "2026-11-20T17:00:00Z"),
        consultation_file(tmp_path, "closed-long-ago", "2026-08-01T09:00:00Z", "2026-10-20T17:00:00Z"),
        consultation_file(tmp_path, "not-open-yet", "2027-01-10T09:00:00Z", "2027-03-01T17:00:00Z"),
    )
    async with offline_services(database_target, NOW, *files, admins=frozenset({OFFICER})) as found:
        found.deployment = load_deployment(ROOT / "haveyoursay.example.yaml")  # areas with their populations
        yield found


async def took_part(
    services: Services, chat: int, consultation_id: str, at: datetime, area: str, language: str = "en"
) -> None:
    """A resident who submitted a response at `at`, as the bot stores it."""
    db = services.db
    await db.residents.acknowledge(chat, language, at, None)
    await db.residents.set_area(chat, area, None)
    rid = response_id_for(db.pseudonym_key, chat, consultation_id)
    state: dict[str, object] = {"answers": {"last_visit": "week"}, "path": ["last_visit"]}
    await db.responses.save_progress(rid, consultation_id, 1, language, state, at)
    await db.participation.started(chat, consultation_id, at)
    await db.responses.submit(rid, {"last_visit": "week"}, state, at, area_id=area)
    await db.participation.submitted(chat, consultation_id, at)


async def test_the_dashboard_gathers_recent_consultations_the_inbox_notices_being_sent_and_whom_we_miss(
    services: Services,
) -> None:
    db = services.db
    chat = BASE
    # GP opening hours: 6 in Sittingbourne and 5 in Sheerness took part, on several days; 2 of them 10 days ago.
    days_ago = [0, 0, 0, 1, 1, 3, 6, 6, 6, 10, 10]
    for i, ago in enumerate(days_ago):
        chat += 1
        area = "sittingbourne" if i < 6 else "sheerness"
        await took_part(services, chat, CID, NOW - timedelta(days=ago, hours=1), area)
    chat += 1
    await took_part(services, chat, "closed-lately", datetime(2026, 11, 19, 23, 30, tzinfo=UTC), "faversham")
    # 5 Welsh speakers in Faversham use the bot and have not taken part.
    for _ in range(5):
        chat += 1
        await db.residents.acknowledge(chat, "cy", NOW, None)
        await db.residents.set_area(chat, "faversham", None)

    # The inbox: two conversations wait (the older since 3 days and 2 hours), one was answered.
    waiting_since = NOW - timedelta(days=3, hours=2)
    await db.contact.open_thread(BASE + 1, CID, waiting_since)
    await db.contact.open_thread(BASE + 2, None, NOW - timedelta(hours=5))
    answered = await db.contact.open_thread(BASE + 3, None, NOW - timedelta(days=9))
    await db.contact.set_state(answered, "answered", NOW - timedelta(days=8))

    # One notice still going out (scheduled for tomorrow), one that has finished.
    going = await db.broadcasts.create(OFFICER, {"en": "The survey closes soon"}, CID, {}, 2, NOW)
    tomorrow = NOW + timedelta(days=1)
    await db.deliveries.enqueue(
        [
            NewDelivery(BASE + 1, "broadcast", PRIORITY_BROADCAST, "x", broadcast_id=going, not_before=tomorrow),
            NewDelivery(BASE + 2, "broadcast", PRIORITY_BROADCAST, "x", broadcast_id=going, not_before=tomorrow),
        ],
        NOW,
    )
    done = await db.broadcasts.create(OFFICER, {"en": "Thank you"}, None, {}, 1, NOW)
    await db.deliveries.enqueue([NewDelivery(BASE + 3, "broadcast", PRIORITY_BROADCAST, "x", broadcast_id=done)], NOW)
    await db.deliveries.settle(max(await db.deliveries.states()), "sent", NOW)  # the last queued: "Thank you"

    t = services.catalogs.translator("en")
    found = await dashboard.dashboard(services, t, NOW)

    assert [(c.id, c.state) for c in found.consultations] == [(CID, State.OPEN), ("closed-lately", State.CLOSED)]
    gp, lately = found.consultations
    assert [d.day.isoformat() for d in gp.days] == [f"2026-11-{n:02d}" for n in range(25, 31)] + ["2026-12-01"]
    assert [d.count for d in gp.days] == [3, 0, 0, 1, 0, 2, 3]
    assert (gp.recent, gp.total) == (9, 11)
    assert (lately.recent, lately.total) == (0, 1)  # it closed 11 days ago: nothing in the last 7 days

    assert (found.inbox.waiting, found.inbox.oldest_since, found.inbox.waited_hours) == (2, waiting_since, 74)

    (sending,) = found.broadcasts
    assert (sending.id, sending.text, sending.going_at) == (going, "The survey closes soon", tomorrow)
    assert (sending.progress.waiting, sending.progress.sent, sending.progress.finished) == (2, 0, False)

    # Under-heard groups of the open consultation only, as its reach page marks them.
    assert [(g.consultation_id, g.kind, g.key, g.label) for g in found.under_heard] == [
        (CID, "area", "faversham", "Faversham"),
        (CID, "language", "cy", "Welsh (Cymraeg)"),
    ]
    reach = await results.reach_report(services, t, CID)
    assert [g.label for g in found.under_heard] == [row.label for row in reach.under_heard]


async def test_a_quiet_deployment_has_an_empty_dashboard_in_the_officers_language(services: Services) -> None:
    t = services.catalogs.translator("cy")
    found = await dashboard.dashboard(services, t, NOW)
    assert [c.id for c in found.consultations] == [CID, "closed-lately"]
    assert all(c.total == 0 and c.recent == 0 for c in found.consultations)
    assert found.consultations[0].title == "Oriau agor meddygfeydd teulu"
    assert (found.inbox.waiting, found.inbox.oldest_since, found.broadcasts, found.under_heard) == (0, None, (), ())
