"""What the workspace's results and reach pages show, from the same rules as the chat's /results and /reach."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.web.charts import chart_svg
from conversations import results
from conversations.deployment import load_deployment
from conversations.i18n import Translator
from conversations.pseudonyms import response_id_for
from conversations.services import Services, Visit
from conversations.small_numbers import Shown
from conversations.survey.model import QuestionType
from tests.test_results import BASE, FULL, NOW, OFFICER, ROOT, known_data_set, respond, services

__all__ = ["services"]  # the fixture, shared with tests/test_results.py
CID = "gp-opening-hours"


def english(services: Services) -> Translator:
    return services.catalogs.translator("en")


async def test_every_question_type_has_its_figures(services: Services) -> None:
    await known_data_set(services)
    report = await results.results_report(services, english(services), CID, NOW)
    assert report is not None
    assert (report.title, report.started, report.submitted, report.completed) == ("GP opening hours", 10, 8, "80%")
    assert [(s.number, s.count) for s in report.stopped] == [(2, 2)]
    by_id = {q.id: q for q in report.questions}
    assert [(a.label, a.count, a.percent) for a in by_id["last_visit"].answers] == [
        ("In the last week", 6, "75%"),
        ("In the last month", 2, "25%"),
        ("Longer ago", 0, "0%"),
    ]
    assert [(a.label, a.count) for a in by_id["good_times"].answers] == [
        ("Before 8am", 5),
        ("After 6:30pm", 3),
        ("Saturday", 5),
    ]
    rating = by_id["rating"]
    assert [a.count for a in rating.answers] == [0, 5, 0, 0, 3] and rating.answers[4].label == "5 Very easy"
    assert (rating.median, rating.lowest, rating.highest) == ("2", "2", "5")
    assert by_id["why_hard"].type is QuestionType.TEXT and by_id["why_hard"].answered == 5
    assert not by_id["why_hard"].answers and not by_id["why_hard"].charted
    assert [(a.label, a.count) for a in by_id["online"].answers] == [("Yes", 5), ("No", 3)]
    assert (by_id["travel_minutes"].median, by_id["travel_minutes"].answered) == ("15", 8)
    assert [(a.label, a.count) for a in by_id["home_area"].answers] == [
        ("Sittingbourne", 0),
        ("Sheerness and Sheppey", 8),
        ("Faversham", 0),
    ]
    assert all(by_id[q].charted for q in ("last_visit", "good_times", "rating", "online", "home_area"))
    assert [(d.day.isoformat(), d.count) for d in report.days] == [("2026-12-01", 8)]
    online = by_id["online"]  # the page's chart is drawn from the figures of its table
    chart = chart_svg(online, report.chart_title, [str(answer.count) for answer in online.answers])
    assert chart.startswith("<svg") and all(f">{answer.label}<" in chart for answer in online.answers)
    assert report.chart_title == "GP opening hours · 1 December 2026 · 8 responses"


async def test_responses_over_time_are_days_in_the_deployments_time_zone(services: Services) -> None:
    db = services.db
    # 23:30 UTC on 30 June is already 1 July in London (BST); a day with nothing in between shows as 0.
    for i, moment in enumerate((datetime(2026, 6, 30, 23, 30, tzinfo=UTC), datetime(2026, 7, 3, 9, 0, tzinfo=UTC))):
        chat = BASE + 5000 + i
        await db.residents.acknowledge(chat, "en", moment, None)
        rid = response_id_for(db.pseudonym_key, chat, CID)
        state: dict[str, object] = {"answers": {}, "path": []}
        await db.responses.save_progress(rid, CID, 1, "en", state, moment)
        await db.responses.submit(rid, {}, state, moment, area_id=None)
    report = await results.results_report(services, english(services), CID, NOW)
    assert report is not None
    assert [(d.day.isoformat(), d.count) for d in report.days] == [
        ("2026-07-01", 1),
        ("2026-07-02", 0),
        ("2026-07-03", 1),
    ]


async def test_written_answers_are_paged_newest_first_and_searched_literally(services: Services) -> None:
    written = ["Phones, always", "the PHONE line is busy", "100% booked", "Nobody answers", "under_score"]
    for i, why in enumerate(written):
        await respond(services, BASE + 4000 + i, {**FULL, "why_hard": why}, area="sittingbourne")
    total, first = await results.written_answers_page(services, CID, "why_hard", "", 1, per_page=2)
    assert (total, first) == (5, ["under_score", "Nobody answers"])
    assert await results.written_answers_page(services, CID, "why_hard", "", 3, per_page=2) == (5, ["Phones, always"])
    assert await results.written_answers_page(services, CID, "why_hard", " phone ", 1) == (
        2,
        ["the PHONE line is busy", "Phones, always"],
    )
    assert await results.written_answers_page(services, CID, "why_hard", "%", 1) == (1, ["100% booked"])
    assert await results.written_answers_page(services, CID, "why_hard", "_", 1) == (1, ["under_score"])


async def test_an_export_from_the_workspace_is_audited_as_the_chats_is(services: Services) -> None:
    await known_data_set(services)
    name, content, count = await results.export_download(services, OFFICER, CID, "csv", NOW)
    assert (name, count) == ("gp-opening-hours.csv", 8)
    assert content.decode("utf-8").splitlines()[0].startswith("Response (anonymous id),")
    (entry,) = await services.db.officers.audit_entries()
    assert (entry.actor_id, entry.action, entry.detail) == (OFFICER, "export", "gp-opening-hours as CSV, 8 responses")


async def people(services: Services, spread: dict[tuple[str, str], int], took_part: bool = True) -> None:
    """Residents by (area, language); those who took part submitted a response to the consultation."""
    chat = BASE + (6000 if took_part else 7000)
    for (area, language), n in spread.items():
        for _ in range(n):
            chat += 1
            if took_part:
                await respond(services, chat, FULL, area=area, language=language)
            else:
                await services.db.residents.acknowledge(chat, language, NOW, None)
                await services.db.residents.set_area(chat, area, None)


async def test_reach_marks_under_heard_groups_against_population_and_residents_using_the_bot(
    services: Services,
) -> None:
    services.deployment = load_deployment(ROOT / "haveyoursay.example.yaml")  # areas with populations
    await people(services, {("sittingbourne", "en"): 6, ("sheerness", "en"): 5})
    await people(services, {("faversham", "cy"): 5}, took_part=False)
    report = await results.reach_report(services, english(services), CID)
    assert report.people == 11
    areas = {row.key: row for row in report.areas}
    assert [row.key for row in report.areas] == ["sittingbourne", "sheerness", "faversham"]
    assert (areas["faversham"].people, areas["faversham"].base) == (results.Count(0), results.Count(32000))
    assert [row.label for row in report.under_heard] == ["Faversham", "Welsh (Cymraeg)"]
    welsh = next(row for row in report.languages if row.key == "cy")
    assert (welsh.people, welsh.base, welsh.rate) == (results.Count(0), results.Count(5), 0.0)
    assert areas["sittingbourne"].rate == 6 / 64000 and not areas["sheerness"].under_heard
    # The chat says the same, from the same report.
    text = (await results.reach(await _officer_visit(services), CID)).screens[0].text
    assert "Lowest participation: Faversham, Welsh (Cymraeg)" in text


async def test_the_under_heard_mark_never_gives_away_a_hidden_count(services: Services) -> None:
    services.deployment = load_deployment(ROOT / "haveyoursay.example.yaml")
    # Sheerness has 3 people (fewer than 5), Faversham 4: one more count must hide, and no rate may show.
    await people(services, {("sittingbourne", "en"): 20, ("sheerness", "en"): 3, ("faversham", "en"): 4})
    report = await results.reach_report(services, english(services), CID)
    shown = {row.key: row.people.shown for row in report.areas}
    assert shown == {"sittingbourne": Shown.EXACT, "sheerness": Shown.FEWER, "faversham": Shown.FEWER}
    assert all(row.rate is None for row in report.areas if row.people.shown is not Shown.EXACT)
    # The mark is read from what is shown: "fewer than 5" counts as 4. Even 4 of 41,000 is under half
    # of 27 of 137,000, so Sheerness is marked whatever its count; 4 of 32,000 is not, so Faversham is not.
    assert [row.key for row in report.areas if row.under_heard] == ["sheerness"]
    assert not results.is_under_heard(results.Count(3, Shown.HIDDEN), results.Count(1000), 0.5)
    assert results.is_under_heard(results.Count(3, Shown.FEWER), results.Count(1000), 0.5)


async def test_reach_counts_about_you_answers_with_small_numbers_hidden(services: Services) -> None:
    await people(services, {("sittingbourne", "en"): 8})
    for i in range(8):
        await services.db.equality.record(f"e{i}", CID, "age", "25_34" if i < 6 else "75_plus", NOW)
    report = await results.reach_report(services, english(services), CID)
    (age,) = report.equality
    cells = {row.label: row.people for row in age.rows}
    assert cells["25–34"] == results.Count(6, Shown.HIDDEN) and cells["75 or over"] == results.Count(2, Shown.FEWER)
    assert report.hidden


async def _officer_visit(services: Services) -> Visit:
    from conversations.services import begin_visit

    return await begin_visit(services, OFFICER, "en")


async def test_did_we_get_this_right_ratings_come_with_their_comments(services: Services) -> None:
    db = services.db
    for i, (rating, comment) in enumerate((("yes", None), ("partly", "Evenings too, please"), ("no", "<i>No</i>"))):
        await db.outcomes.rate(f"f{i}", CID, rating, NOW)
        if comment:
            await db.outcomes.comment(f"f{i}", comment)
    report = await results.results_report(services, english(services), CID, NOW)
    assert report is not None
    assert report.feedback == {"yes": 1, "partly": 1, "no": 1}
    assert set(report.comments) == {"Evenings too, please", "<i>No</i>"}  # as written: the page escapes them
