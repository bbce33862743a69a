"""Reminders before a consultation closes, without Telegram: a frozen clock around every boundary.

What is asserted is what the delivery queue holds (each row is one message to one resident),
and what a resident sees when they tap the reminder's button.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conversations import answering, callbacks, notices
from conversations.deployment import Deployment, load_deployment
from conversations.i18n import Catalogs
from conversations.screens import Screen
from conversations.services import Services, begin_visit
from conversations.survey.loader import load_consultation_file
from storage import Database, open_database

DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
CONSULTATION = "care-visits"
OPENS = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
CLOSES = datetime(2027, 2, 26, 12, 0, tzinfo=UTC)  # noon in London (GMT)
WINDOW = timedelta(hours=48)
REMINDERS_FROM = CLOSES - WINDOW  # Wednesday 24 February 2027, 12:00 in London

CARE_VISITS = """\
spec_version: 1
id: care-visits
default_language: en
title: {en: "Home care visit times", cy: "Amseroedd ymweliadau gofal cartref"}
summary: {en: "When should carers visit?", cy: "Pryd ddylai gofalwyr ymweld?"}
organisation: {en: "Swale Council", cy: "Cyngor Swale"}
can_influence: {en: "The order in which visit times are offered.", cy: "Trefn yr amseroedd."}
cannot_influence: {en: "Who is eligible for care.", cy: "Pwy sy'n gymwys."}
decision_by: {en: "The cabinet, in April 2027.", cy: "Y cabinet, Ebrill 2027."}
contact: {en: "care@swale.example.gov.uk", cy: "care@swale.example.gov.uk"}
opens: 2027-02-01T09:00:00Z
closes: 2027-02-26T12:00:00Z
areas: [sheerness]
topics: [social-care]
survey:
  - id: morning
    type: yes_no
    text: {en: "Would an earlier morning visit suit you?", cy: "A fyddai ymweliad cynharach yn y bore yn addas?"}
  - id: same_carer
    type: yes_no
    text: {en: "Is seeing the same carer important to you?", cy: "Ydy gweld yr un gofalwr yn bwysig i chi?"}
"""

# Residents, by what they did.
STARTED = 701  # started, answered question 1, did not submit (Welsh, no area)
SUBMITTED = 702  # started and submitted
AREA_SUBSCRIBER = 703  # lives in Sheerness, has not taken part
TOPIC_SUBSCRIBER = 704  # interested in social care, has not taken part
REMINDERS_OFF = 705  # lives in Sheerness, turned reminders off
ELSEWHERE = 706  # lives in Sittingbourne, no interests
STARTED_SUBSCRIBER = 707  # lives in Sheerness, started, did not submit
STARTED_REMINDERS_OFF = 708  # started, did not submit, turned reminders off
UNREACHABLE = 709  # lives in Sheerness, blocked the bot


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Queued:
    chat_id: int
    kind: str
    text: str
    buttons: list[list[dict[str, str]]]
    civil_only: bool
    expires_at: str | None
    dedupe_key: str | None


async def queued(db: Database) -> list[Queued]:
    async with db.connection.execute(
        "SELECT chat_id, kind, text, buttons, civil_only, expires_at, dedupe_key FROM deliveries ORDER BY chat_id, kind"
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        Queued(int(r[0]), str(r[1]), str(r[2]), json.loads(r[3]) if r[3] else [], bool(r[4]), r[5], r[6]) for r in rows
    ]


def make_services(db: Database, now: datetime, deployment: Deployment | None = None) -> Services:
    return Services(
        db=db,
        catalogs=Catalogs.load(),
        deployment=deployment or load_deployment(DEPLOYMENT),
        clock=Clock(now),
        reminder_window=WINDOW,
    )


def set_clock(services: Services, now: datetime) -> None:
    assert isinstance(services.clock, Clock)
    services.clock.now = now


def button_data(screen: Screen, label: str) -> str:
    for row in screen.buttons:
        for button in row:
            if button.label == label and button.data:
                return button.data
    raise AssertionError(f"no button {label!r} in {[b.label for row in screen.buttons for b in row]}")


async def tap_survey(services: Services, chat_id: int, screen: Screen, label: str) -> Screen:
    tapped = callbacks.decode(button_data(screen, label))
    assert tapped is not None and tapped.kind == callbacks.SURVEY
    visit = await begin_visit(services, chat_id, None)
    reply = await answering.survey_button(visit, tapped.arg(0), tapped.arg(1), tapped.arg(2))
    return reply.screens[0]


async def add_resident(
    services: Services,
    chat_id: int,
    *,
    language: str = "en",
    area: str | None = None,
    topics: tuple[str, ...] = (),
    reminders: bool = True,
) -> None:
    db = services.db
    await db.residents.acknowledge(chat_id, language, OPENS, None)
    await db.residents.set_area(chat_id, area, None)
    for topic in topics:
        await db.residents.toggle_topic(chat_id, topic)
    await db.residents.set_preferences(chat_id, reminders=reminders)


async def start_survey(services: Services, chat_id: int, *, submit: bool = False) -> None:
    """Take part through the conversation, answer the first question, and submit if asked."""
    visit = await begin_visit(services, chat_id, None)
    t = visit.t
    first = (await answering.take_part(visit, CONSULTATION)).screens[0]
    second = await tap_survey(services, chat_id, first, t._("Yes"))
    assert t._("Question %(number)d of %(total)d", number=2, total=2) in second.text
    if submit:
        review = await tap_survey(services, chat_id, second, t._("No"))
        copy = await tap_survey(services, chat_id, review, t._("Submit"))  # the summary stays; the receipt follows
        assert t._("Your answers to “%(title)s”, as you sent them", title="Home care visit times") in copy.text


async def import_consultation(db: Database, folder: Path, closes: str = "2027-02-26T12:00:00Z") -> None:
    source = folder / "care-visits.yaml"
    source.write_text(CARE_VISITS.replace("closes: 2027-02-26T12:00:00Z", f"closes: {closes}"), encoding="utf-8")
    loaded = load_consultation_file(source)
    assert loaded.consultation is not None and loaded.data is not None, loaded
    c = loaded.consultation
    await db.consultations.save(loaded.data, c.structure(), c.opens, c.closes, OPENS)


@pytest.fixture
async def database(database_target: str) -> AsyncIterator[Database]:
    async with open_database(database_target) as db:
        yield db


@pytest.fixture
async def services(database: Database, tmp_path: Path) -> Services:
    """The consultation, open, and one resident of each kind, each having done what their name says."""
    services = make_services(database, OPENS + timedelta(days=1))
    await import_consultation(database, tmp_path)

    await add_resident(services, STARTED, language="cy")
    await add_resident(services, SUBMITTED, area="sheerness")
    await add_resident(services, AREA_SUBSCRIBER, area="sheerness")
    await add_resident(services, TOPIC_SUBSCRIBER, area="faversham", topics=("social-care",))
    await add_resident(services, REMINDERS_OFF, area="sheerness", reminders=False)
    await add_resident(services, ELSEWHERE, area="sittingbourne", topics=("primary-care",))
    await add_resident(services, STARTED_SUBSCRIBER, area="sheerness")
    await add_resident(services, STARTED_REMINDERS_OFF, reminders=False)
    await add_resident(services, UNREACHABLE, area="sheerness")
    await database.residents.mark_unreachable(UNREACHABLE, OPENS)
    for chat_id in (STARTED, STARTED_SUBSCRIBER, STARTED_REMINDERS_OFF):
        await start_survey(services, chat_id)
    await start_survey(services, SUBMITTED, submit=True)
    return services


async def run_checks(services: Services, now: datetime) -> int:
    set_clock(services, now)
    return await notices.queue_reminders(services, now, WINDOW)


async def test_taking_part_and_submitting_are_recorded_as_participation(services: Services) -> None:
    async with services.db.connection.execute(
        "SELECT chat_id, submitted_at IS NOT NULL FROM participation WHERE consultation_id = ? ORDER BY chat_id",
        (CONSULTATION,),
    ) as cursor:
        rows = [(int(r[0]), bool(r[1])) for r in await cursor.fetchall()]
    assert rows == [(STARTED, False), (SUBMITTED, True), (STARTED_SUBSCRIBER, False), (STARTED_REMINDERS_OFF, False)]


async def test_nothing_is_queued_a_second_before_the_window(services: Services) -> None:
    assert await run_checks(services, REMINDERS_FROM - timedelta(seconds=1)) == 0
    assert await queued(services.db) == []


async def test_from_the_start_of_the_window_each_resident_gets_the_right_reminder_once(services: Services) -> None:
    assert await run_checks(services, REMINDERS_FROM) == 4
    assert [(q.chat_id, q.kind) for q in await queued(services.db)] == [
        (STARTED, "reminder"),
        (AREA_SUBSCRIBER, "closing"),
        (TOPIC_SUBSCRIBER, "closing"),
        (STARTED_SUBSCRIBER, "reminder"),
    ], "not the one who submitted, not another area, not with reminders off, not an unreachable resident"

    # Later runs, and a run after a restart (a new process on the same database), add nothing.
    assert await run_checks(services, REMINDERS_FROM + timedelta(minutes=1)) == 0
    assert await run_checks(services, CLOSES - timedelta(hours=1)) == 0
    restarted = make_services(services.db, CLOSES - timedelta(minutes=30))
    assert await notices.queue_reminders(restarted, restarted.clock(), WINDOW) == 0
    assert len(await queued(services.db)) == 4


async def test_a_reminder_survives_reopening_the_database(services: Services, database_target: str) -> None:
    await run_checks(services, REMINDERS_FROM)
    # The fixture's database is still open; a second connection to the same database is a second process.
    async with open_database(database_target) as again:
        restarted = make_services(again, REMINDERS_FROM + timedelta(hours=3))
        assert await notices.queue_reminders(restarted, restarted.clock(), WINDOW) == 0
        assert len(await queued(again)) == 4


async def test_the_reminder_is_in_the_residents_language_and_resumes_at_their_question(services: Services) -> None:
    await run_checks(services, REMINDERS_FROM)
    [reminder] = [q for q in await queued(services.db) if q.chat_id == STARTED]
    assert "<b>Amseroedd ymweliadau gofal cartref</b>" in reminder.text
    [[button]] = reminder.buttons
    assert button == {"label": "Parhau o ble roeddech chi", "data": f"take:{CONSULTATION}:-:reminder"}

    tapped = callbacks.decode(button["data"])
    assert tapped is not None and tapped.kind == callbacks.TAKE_PART
    visit = await begin_visit(services, STARTED, "cy")
    resumed = (await answering.take_part(visit, tapped.arg(0) or "")).screens[0]
    assert resumed.text.startswith("📋 <i>Amseroedd ymweliadau gofal cartref</i>\n<b>Cwestiwn 2 o 2</b>")
    assert "Ydy gweld yr un gofalwr yn bwysig i chi?" in resumed.text


async def test_closing_soon_invites_subscribers_to_take_part(services: Services) -> None:
    await run_checks(services, REMINDERS_FROM)
    [closing] = [q for q in await queued(services.db) if q.chat_id == AREA_SUBSCRIBER]
    assert closing.text.startswith("<b>Home care visit times</b>")
    assert "closes on 26 Feb 2027, 12:00:00" in closing.text
    assert closing.buttons == [[{"label": "Take part", "data": f"take:{CONSULTATION}:-:closing"}]]


async def test_reminders_are_civil_hours_only_and_expire_at_closing(services: Services) -> None:
    await run_checks(services, REMINDERS_FROM)
    for q in await queued(services.db):
        assert q.civil_only, q
        assert q.expires_at == "2027-02-26T12:00:00+00:00", q
        assert q.dedupe_key == f"{q.kind}:{CONSULTATION}:{q.chat_id}"
    # The worker asks for civil-hours deliveries only when it is civil hours.
    night = datetime(2027, 2, 24, 22, 0, tzinfo=UTC)
    assert await services.db.deliveries.due(night, 100, civil=False) == []
    assert len(await services.db.deliveries.due(night, 100, civil=True)) == 4


async def test_a_resident_who_submits_before_the_window_gets_no_reminder(services: Services) -> None:
    visit = await begin_visit(services, STARTED, None)
    second = (await answering.take_part(visit, CONSULTATION)).screens[0]
    review = await tap_survey(services, STARTED, second, "Ie")
    await tap_survey(services, STARTED, review, "Cyflwyno")
    await run_checks(services, REMINDERS_FROM)
    assert STARTED not in {q.chat_id for q in await queued(services.db)}


async def test_turning_reminders_off_stops_the_closing_soon_notice(services: Services) -> None:
    await services.db.residents.set_preferences(AREA_SUBSCRIBER, reminders=False)
    await run_checks(services, REMINDERS_FROM)
    assert AREA_SUBSCRIBER not in {q.chat_id for q in await queued(services.db)}


async def test_a_window_that_starts_at_night_is_computed_at_nine_in_the_morning(
    services: Services, tmp_path: Path
) -> None:
    # The officer moves closing to 23:00: the window now opens at 23:00 two days before.
    await import_consultation(services.db, tmp_path, closes="2027-02-26T23:00:00Z")
    window_opens = datetime(2027, 2, 24, 23, 0, tzinfo=UTC)
    assert await run_checks(services, window_opens) == 0
    assert await run_checks(services, datetime(2027, 2, 25, 8, 59, 59, tzinfo=UTC)) == 0
    assert await run_checks(services, datetime(2027, 2, 25, 9, 0, tzinfo=UTC)) == 4


async def test_a_closed_consultation_gets_no_reminders(services: Services) -> None:
    assert await run_checks(services, CLOSES) == 0
    assert await queued(services.db) == []


@pytest.mark.parametrize(
    ("moment", "civil"),
    [
        (datetime(2027, 1, 15, 8, 59, 59, tzinfo=UTC), False),  # winter: London is UTC
        (datetime(2027, 1, 15, 9, 0, tzinfo=UTC), True),
        (datetime(2027, 1, 15, 19, 59, 59, tzinfo=UTC), True),
        (datetime(2027, 1, 15, 20, 0, tzinfo=UTC), False),
        (datetime(2027, 7, 15, 8, 0, tzinfo=UTC), True),  # summer: 09:00 BST
        (datetime(2027, 7, 15, 7, 59, 59, tzinfo=UTC), False),
        (datetime(2027, 7, 15, 19, 0, tzinfo=UTC), False),  # 20:00 BST
        (datetime(2027, 3, 27, 8, 30, tzinfo=UTC), False),  # Saturday before the clocks go forward: 08:30 GMT
        (datetime(2027, 3, 28, 8, 30, tzinfo=UTC), True),  # the Sunday they do: 09:30 BST
        (datetime(2026, 10, 24, 19, 30, tzinfo=UTC), False),  # Saturday before they go back: 20:30 BST
        (datetime(2026, 10, 25, 19, 30, tzinfo=UTC), True),  # the Sunday they do: 19:30 GMT
    ],
)
def test_civil_hours_are_nine_to_eight_in_london_across_the_clock_change(moment: datetime, civil: bool) -> None:
    assert Deployment().in_civil_hours(moment) is civil
    assert load_deployment(DEPLOYMENT).in_civil_hours(moment) is civil


def test_civil_hours_time_zone_and_window_come_from_the_deployment_file(tmp_path: Path) -> None:
    path = tmp_path / "deployment.yaml"
    path.write_text("timezone: Europe/Warsaw\ncivil_hours: '08:00-21:30'\nreminder_hours: 24\n", encoding="utf-8")
    deployment = load_deployment(path)
    assert deployment.reminder_hours == 24
    assert not deployment.in_civil_hours(datetime(2027, 1, 15, 6, 59, tzinfo=UTC))  # 07:59 in Warsaw
    assert deployment.in_civil_hours(datetime(2027, 1, 15, 7, 0, tzinfo=UTC))
    assert deployment.in_civil_hours(datetime(2027, 1, 15, 20, 29, tzinfo=UTC))
    assert not deployment.in_civil_hours(datetime(2027, 1, 15, 20, 30, tzinfo=UTC))
