"""Results, exports, reach and outcomes on a known data set, without Telegram, on a real SQLite file."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from conversations import outcomes, results
from conversations.export import rows_of, write_csv, write_xlsx
from conversations.pseudonyms import response_id_for
from conversations.services import Services, Visit, begin_visit
from tests.offline import Clock, offline_services

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
EXAMPLE = ROOT / "examples" / "gp-opening-hours.yaml"
OFFICER = 555_000_042
BASE = 700_000_000  # realistic Telegram ids, so a search for one in an export means something
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
AFTER_CLOSE = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    """The test once on SQLite, once on PostgreSQL."""
    async with offline_services(database_target, NOW, EXAMPLE, admins=frozenset({OFFICER})) as found:
        yield found


async def respond(
    services: Services,
    chat_id: int,
    answers: dict[str, object],
    *,
    area: str | None = None,
    language: str = "en",
    submit: bool = True,
    stopped_at: str = "good_times",
) -> None:
    """A resident's response as the bot stores it."""
    db = services.db
    await db.residents.acknowledge(chat_id, language, NOW, None)
    await db.residents.set_area(chat_id, area, None)
    rid = response_id_for(db.pseudonym_key, chat_id, "gp-opening-hours")
    state = {"answers": answers, "path": [stopped_at]}
    await db.responses.save_progress(rid, "gp-opening-hours", 1, language, state, NOW)
    await db.participation.started(chat_id, "gp-opening-hours", NOW)
    if submit:
        await db.responses.submit(rid, answers, state, NOW, area_id=area)
        await db.participation.submitted(chat_id, "gp-opening-hours", NOW)


FULL = {
    "last_visit": "week",
    "good_times": ["early", "weekend"],
    "rating": 2,
    "why_hard": "Phones, always",
    "online": "yes",
    "travel_minutes": 15,
    "home_area": "sheerness",
}


async def known_data_set(services: Services) -> None:
    """8 submitted (5 in Sittingbourne, 3 in Sheerness), 2 stopped at question 2."""
    for i in range(5):
        await respond(
            services, BASE + 1000 + i, {**FULL, "last_visit": "week" if i < 3 else "month"}, area="sittingbourne"
        )
    for i in range(3):
        await respond(
            services,
            BASE + 2000 + i,
            {**FULL, "good_times": ["evening"], "rating": 5, "online": "no", "why_hard": None},
            area="sheerness",
            language="cy",
        )
    for i in range(2):
        await respond(services, BASE + 3000 + i, {"last_visit": "longer"}, submit=False)


async def officer(services: Services) -> Visit:
    return await begin_visit(services, OFFICER, "en")


async def test_results_count_and_percent_each_answer(services: Services) -> None:
    await known_data_set(services)
    found = await results.results(await officer(services), "gp-opening-hours")
    assert found is not None
    text = "\n".join(screen.text for screen in found.screens)
    assert "8 submitted of 10 started (80% completed)" in text
    assert "In the last week — 6 (75%)" in text and "In the last month — 2 (25%)" in text
    assert "Before 8am — 5 (63%)" in text and "After 6:30pm — 3 (38%)" in text
    assert "2 — 5 (63%)" in text and "5 Very easy — 3 (38%)" in text
    assert "Yes — 5 (63%)" in text and "No — 3 (38%)" in text
    assert "<b>Where people stopped</b>\n2. Which times suit you best? Choose up to two.: 2" in text
    assert found.chart is not None and found.chart.startswith(b"\x89PNG")


async def test_reach_hides_groups_of_fewer_than_five(services: Services) -> None:
    await known_data_set(services)
    text = (await results.reach(await officer(services), "gp-opening-hours")).screens[0].text
    # 8 people: with Sheerness "fewer than 5" and Faversham 0, Sittingbourne's 5 would give away Sheerness's 3.
    assert "Sittingbourne: not shown" in text
    assert "Sheerness and Sheppey: fewer than 5" in text
    assert "Faversham: 0" in text
    assert "Welsh (Cymraeg): fewer than 5 of fewer than 5 residents using the bot" in text
    assert "English: not shown of not shown residents using the bot" in text
    assert " 3" not in text.replace("fewer than 5", "")


async def test_reach_across_consultations_counts_people_not_responses(database_target: str) -> None:
    """7 people in Sittingbourne answered both consultations: they are 7 people, not 14 responses."""
    home_care = ROOT / "examples" / "home-care-changes.yaml"
    async with offline_services(database_target, NOW, EXAMPLE, home_care) as services:
        db = services.db
        people = [(BASE + i, "sittingbourne", "en", 2) for i in range(7)]
        people += [(BASE + 100 + i, "sheerness", "cy", 1) for i in range(6)]
        people += [(BASE + 200, "faversham", "en", 1)]
        for chat_id, area, language, taken in people:
            await db.residents.acknowledge(chat_id, language, NOW, None)
            await db.residents.set_area(chat_id, area, None)
            for consultation_id in ("gp-opening-hours", "home-care-changes")[:taken]:
                rid = response_id_for(db.pseudonym_key, chat_id, consultation_id)
                state: dict[str, object] = {"answers": {}, "path": []}
                await db.responses.save_progress(rid, consultation_id, 1, language, state, NOW)
                await db.responses.submit(rid, {}, state, NOW, area_id=area)
                await db.participation.submitted(chat_id, consultation_id, NOW)
        text = (await results.reach(await officer(services), None)).screens[0].text
    assert "Sittingbourne: 7\n" in text
    assert "English: 8 of 8 residents using the bot" in text
    assert "Welsh (Cymraeg): 6 of 6 residents using the bot" in text
    assert "Faversham: fewer than 5" in text
    # 7 + 6 + "fewer than 5" = 14 people (the languages say so): Sheerness must not be shown, or 1 follows.
    assert "Sheerness and Sheppey: not shown" in text
    assert "cannot be worked out" in text


async def test_export_has_a_column_per_question_and_per_choice_and_no_telegram_id(services: Services) -> None:
    await known_data_set(services)
    rows = [row async for row in rows_of(services.db, "gp-opening-hours")]
    header = rows[1]
    assert header == [
        "response_id",
        "submitted_at",
        "language",
        "resident_area",
        "last_visit",
        "good_times:early",
        "good_times:evening",
        "good_times:weekend",
        "rating",
        "why_hard",
        "online",
        "travel_minutes",
        "home_area",
    ]
    assert len(rows) == 2 + 8
    first = next(dict(zip(header, row, strict=True)) for row in rows[2:] if row[3] == "sittingbourne")
    assert first["good_times:early"] == 1 and first["good_times:evening"] == 0 and first["why_hard"] == "Phones, always"
    buffer = io.StringIO()
    assert await write_csv(services.db, "gp-opening-hours", buffer) == 8
    exported = buffer.getvalue()
    for chat_id in (BASE + 1000, BASE + 1001, BASE + 2000, BASE + 3000, OFFICER):
        assert str(chat_id) not in exported
    assert list(csv.reader(io.StringIO(exported)))[1] == header


async def test_exports_read_as_words_with_real_dates_in_excel(services: Services, tmp_path: Path) -> None:
    await known_data_set(services)
    areas = services.deployment.areas
    rows = [row async for row in rows_of(services.db, "gp-opening-hours", services.catalogs, areas)]
    readable, ids = rows[0], rows[1]
    by_id = dict(zip(ids, readable, strict=True))
    assert by_id["last_visit"] == "When did you last contact your GP practice?"
    assert by_id["good_times:early"] == "Which times suit you best? Choose up to two.: Before 8am"
    assert by_id["resident_area"] == "Resident's area (from their settings)", "not to be confused with an area question"
    assert by_id["home_area"] == "Which area do you live in?"
    assert by_id["submitted_at"] == "Submitted (UTC)"
    welsh = next(dict(zip(ids, row, strict=True)) for row in rows[2:] if row[2] == "cy")
    assert welsh["last_visit"] == "In the last week", "the choice's label in the default language, not its id"
    assert welsh["online"] == "No" and welsh["home_area"] == "Sheerness and Sheppey"
    assert welsh["resident_area"] == "Sheerness and Sheppey" and welsh["rating"] == 5

    buffer = io.StringIO()
    await write_csv(services.db, "gp-opening-hours", buffer, services.catalogs, areas)
    in_csv = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert in_csv[0] == readable and in_csv[1] == ids
    assert in_csv[2][1] == "2026-12-01T12:00:00+00:00", "CSV keeps ISO 8601 times"

    path = tmp_path / "out.xlsx"
    assert await write_xlsx(services.db, "gp-opening-hours", path, services.catalogs, areas) == 8
    sheet = load_workbook(path)["responses"]
    assert sheet["E1"].value == "When did you last contact your GP practice?" and sheet["E2"].value == "last_visit"
    submitted = sheet["B3"]
    assert submitted.value == datetime(2026, 12, 1, 12, 0) and submitted.is_date, "a real date, not text"
    assert submitted.number_format == "yyyy-mm-dd hh:mm"


async def test_haveyoursay_export_writes_the_same_words(
    services: Services, tmp_path: Path, database_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await known_data_set(services)
    monkeypatch.setenv("HAVEYOURSAY_DB", database_target)
    monkeypatch.setenv("HAVEYOURSAY_CONFIG", str(DEPLOYMENT))
    target = tmp_path / "cli.csv"
    assert await asyncio.to_thread(main, ["export", "gp-opening-hours", "--output", str(target)]) == 0
    exported = list(csv.reader(target.open(encoding="utf-8")))
    assert exported[0][4] == "When did you last contact your GP practice?" and exported[1][4] == "last_visit"
    assert {row[3] for row in exported[2:]} == {"Sittingbourne", "Sheerness and Sheppey"}
    xlsx = ["export", "gp-opening-hours", "--format", "xlsx", "--output", str(tmp_path / "cli.xlsx")]
    assert await asyncio.to_thread(main, xlsx) == 0
    assert load_workbook(tmp_path / "cli.xlsx")["responses"]["B3"].is_date


async def test_told_us_reaches_exactly_the_participants_once_and_feedback_shows_in_results(
    services: Services,
) -> None:
    await known_data_set(services)
    await services.db.residents.acknowledge(BASE + 9000, "en", NOW, None)  # never took part
    assert isinstance(services.clock, Clock)
    services.clock.now = AFTER_CLOSE
    visit = await officer(services)
    await outcomes.tapped(visit, "pick", "gp-opening-hours")
    await outcomes.tapped(visit, "kind", outcomes.TOLD_US)
    await outcomes.typed(visit, "Most of you want Saturday mornings.")
    reply = await outcomes.tapped(visit, "publish", None)
    assert reply.screens[0].text == "Published. Sending to 8 people."
    queued = await services.db.connection.execute_fetchall("SELECT chat_id, text, buttons FROM deliveries")
    assert sorted(row[0] - BASE for row in queued) == [1000, 1001, 1002, 1003, 1004, 2000, 2001, 2002]
    welsh = next(row for row in queued if row[0] == BASE + 2000)
    assert "Most of you want Saturday mornings." in welsh[1]
    assert [b["data"] for b in json.loads(welsh[2])[0]] == [
        "fb:gp-opening-hours:yes",
        "fb:gp-opening-hours:partly",
        "fb:gp-opening-hours:no",
    ]

    resident = await begin_visit(services, BASE + 1000, "en")
    await outcomes.rate(resident, "gp-opening-hours", "partly")
    await outcomes.comment(resident, "Evenings too, please")
    found = await results.results(visit, "gp-opening-hours")
    assert found is not None
    text = found.screens[-1].text
    assert "Yes: 0 · Partly: 1 · No: 0" in text and "Evenings too, please" in text


async def test_what_we_did_also_reaches_subscribers_and_is_never_queued_twice(services: Services) -> None:
    await known_data_set(services)
    db = services.db
    await db.residents.acknowledge(BASE + 9001, "pl", NOW, None)
    await db.residents.toggle_topic(BASE + 9001, "primary-care")  # the consultation's topic
    await db.residents.acknowledge(BASE + 9002, "en", NOW, None)
    await db.residents.toggle_topic(BASE + 9002, "social-care")
    await db.residents.acknowledge(BASE + 9003, "en", NOW, None)
    await db.residents.toggle_topic(BASE + 9003, "primary-care")
    await db.residents.set_preferences(BASE + 9003, notices=False)
    assert isinstance(services.clock, Clock)
    services.clock.now = AFTER_CLOSE
    visit = await officer(services)
    done = []
    for _attempt in range(2):
        await outcomes.tapped(visit, "pick", "gp-opening-hours")
        await outcomes.tapped(visit, "kind", outcomes.DECIDED)
        await outcomes.typed(visit, "Saturday clinics start in May.")
        done.append((await outcomes.tapped(visit, "publish", None)).screens[0].text)
    assert done == ["Published. Sending to 9 people.", "Nothing was changed, so nothing was sent."]
    chats = [row[0] - BASE for row in await db.connection.execute_fetchall("SELECT chat_id FROM deliveries")]
    assert sorted(chats) == [1000, 1001, 1002, 1003, 1004, 2000, 2001, 2002, 9001]

    listing = (await outcomes.past_and_present(await begin_visit(services, BASE + 9002, "en"))).screens[0]
    assert "GP opening hours — outcome published" in listing.text


async def test_past_consultations_show_their_status(services: Services) -> None:
    visit = await begin_visit(services, 1, "en")
    assert "GP opening hours — open until 31 January 2027" in (await outcomes.past_and_present(visit)).screens[0].text
    assert isinstance(services.clock, Clock)
    services.clock.now = AFTER_CLOSE + timedelta(days=1)
    text = (await outcomes.past_and_present(visit)).screens[0].text
    assert "GP opening hours — closed, being considered" in text


async def test_results_show_number_area_and_written_answers_and_the_chart_says_what_it_counts(
    services: Services,
) -> None:
    minutes = [5, 10, 15, 40]
    homes = ["sheerness", "sheerness", "faversham", "sittingbourne"]
    written = ["Phones, always", "The app\nlogs me out", None, "Nobody answers"]
    for i, (travel, home, why) in enumerate(zip(minutes, homes, written, strict=True)):
        await respond(
            services,
            BASE + 4000 + i,
            {**FULL, "travel_minutes": travel, "home_area": home, "why_hard": why},
            area="sittingbourne",
        )
    visit = await officer(services)
    found = await results.results(visit, "gp-opening-hours")
    assert found is not None
    text = "\n".join(screen.text for screen in found.screens)
    assert "<b>6. How many minutes does it take you to get to your practice?</b>\n" in text
    assert "Median 12.5 · lowest 5 · highest 40\n<i>4 people answered</i>" in text
    assert "<b>7. Which area do you live in?</b>" in text
    # Where people live are groups of people: under 5 is "fewer than 5", with no share that would tell it.
    assert "Sheerness and Sheppey — fewer than 5\n" in text and "Faversham — fewer than 5\n" in text
    assert "(50%)" not in text.split("<b>7.")[1] and "(25%)" not in text.split("<b>7.")[1]
    assert "<b>4. What makes it hard?</b>\n<i>3 written answers</i>" in text

    button = next(b for row in found.screens[-1].buttons for b in row if b.label == "Read the written answers")
    assert button.data == "r:texts:gp-opening-hours"
    tapped = await results.tapped(visit, "texts", "gp-opening-hours")
    (file,) = tapped.attachments
    assert file.filename == "gp-opening-hours-written-answers.txt" and file.caption == "3 written answers"
    assert file.content.decode() == (
        "GP opening hours\n\n4. What makes it hard?\n\n"
        "- Phones, always\n\n- The app\n  logs me out\n\n- Nobody answers\n"
    )

    shown = await results.tapped(visit, "show", "gp-opening-hours")
    (chart,) = shown.attachments
    assert chart.picture and chart.content.startswith(b"\x89PNG")
    assert chart.caption == "GP opening hours · 1 December 2026 · 4 responses"


async def test_people_who_took_part_hear_the_outcome_even_with_notices_of_new_consultations_off(
    services: Services,
) -> None:
    """Notices are about new consultations; the outcome was promised to everyone who took part."""
    await known_data_set(services)
    db = services.db
    await db.residents.set_preferences(BASE + 1000, notices=False)
    await db.residents.set_preferences(BASE + 2000, notices=False, reminders=False)
    await db.residents.acknowledge(BASE + 9001, "en", NOW, None)
    await db.residents.toggle_topic(BASE + 9001, "primary-care")  # follows the topic, did not take part
    await db.residents.acknowledge(BASE + 9002, "en", NOW, None)
    await db.residents.toggle_topic(BASE + 9002, "primary-care")
    await db.residents.set_preferences(BASE + 9002, notices=False)  # ... and wants no notices
    assert isinstance(services.clock, Clock)
    services.clock.now = AFTER_CLOSE
    visit = await officer(services)
    for kind, expected, count in (
        (outcomes.TOLD_US, 8, "It will go to the 8 people who took part."),
        (
            outcomes.DECIDED,
            9,
            "It will go to the 8 people who took part. "
            "And to 1 other person who asked for notices about its areas or topics.",
        ),
    ):
        await db.connection.execute("DELETE FROM deliveries")
        await outcomes.tapped(visit, "pick", "gp-opening-hours")
        await outcomes.tapped(visit, "kind", kind)
        preview = await outcomes.typed(visit, "Saturday clinics start in May.")
        assert count in preview.screens[0].text
        reply = await outcomes.tapped(visit, "publish", None)
        assert reply.screens[0].text == f"Published. Sending to {expected} people."
        chats = sorted(row[0] - BASE for row in await db.connection.execute_fetchall("SELECT chat_id FROM deliveries"))
        assert 1000 in chats and 2000 in chats and 9002 not in chats and len(chats) == expected


async def test_a_closed_consultations_card_says_you_took_part_and_leads_to_its_outcome(services: Services) -> None:
    from conversations import browsing

    await known_data_set(services)
    await services.db.residents.acknowledge(BASE + 9000, "en", NOW, None)  # never took part
    assert isinstance(services.clock, Clock)
    services.clock.now = AFTER_CLOSE
    took_part = await begin_visit(services, BASE + 1000, "en")
    before = (await browsing.card(took_part, "gp-opening-hours")).screens[0]
    assert "You took part in this consultation. Thank you!" in before.text
    assert "The outcome will be published here when it has been decided." in before.text
    assert "Read the outcome" not in [b.label for row in before.buttons for b in row]

    visit = await officer(services)
    await outcomes.tapped(visit, "pick", "gp-opening-hours")
    await outcomes.tapped(visit, "kind", outcomes.DECIDED)
    await outcomes.typed(visit, "Saturday clinics start in May.")
    await outcomes.tapped(visit, "publish", None)
    for chat, line in ((BASE + 1000, "You took part"), (BASE + 9000, "You did not take part")):
        card = (await browsing.card(await begin_visit(services, chat, "en"), "gp-opening-hours")).screens[0]
        assert line in card.text and "The outcome has been published" in card.text
        [button] = [b for row in card.buttons for b in row if b.label == "Read the outcome"]
        assert button.data == "rd:gp-opening-hours"
    read = await outcomes.read(took_part, "gp-opening-hours")
    assert "Saturday clinics start in May." in read.screens[0].text


async def test_two_officers_publishing_the_same_outcome_send_it_once(database_target: str) -> None:
    async with offline_services(
        database_target, AFTER_CLOSE, EXAMPLE, admins=frozenset({OFFICER, OFFICER + 1})
    ) as services:
        await known_data_set(services)
        first, second = await officer(services), await begin_visit(services, OFFICER + 1, "en")
        for visit in (first, second):
            await outcomes.tapped(visit, "pick", "gp-opening-hours")
            await outcomes.tapped(visit, "kind", outcomes.TOLD_US)
            await outcomes.typed(visit, "Most of you want Saturday mornings.")
        assert (await outcomes.tapped(first, "publish", None)).screens[0].text == "Published. Sending to 8 people."
        late = await outcomes.tapped(second, "publish", None)
        assert late.screens[0].text == "It was published meanwhile. Nothing was sent; please start again."
        assert await services.db.connection.execute_fetchall("SELECT COUNT(*) FROM deliveries") == [(8,)]
