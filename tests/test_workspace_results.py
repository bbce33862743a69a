"""Results and reach in the browser: the figures, a search of the written answers, a CSV download
(audited), and an under-heard group with the button that starts a notice to them."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from conversations.pseudonyms import response_id_for
from storage import open_database
from tests.browser import off_screen, screenshot, serious_accessibility_problems, sign_in, workspace
from tests.e2e_support import EXAMPLES, BotProcess, Resident

ROOT = Path(__file__).resolve().parent.parent
CID = "gp-opening-hours"
WRITTEN = ["Phones, always engaged", "The app logs me out", "Nobody picks up the phone", "<b>Too early</b>"]


def with_populations(bot: BotProcess) -> None:
    """The example deployment (areas with their populations), sending at any hour."""
    text = (ROOT / "haveyoursay.example.yaml").read_text(encoding="utf-8")
    path = bot.workdir / "deployment-populations.yaml"
    path.write_text(text.replace('civil_hours: "09:00-20:00"', "civil_hours: '00:00-24:00'"), encoding="utf-8")
    bot.env["HAVEYOURSAY_CONFIG"] = str(path)


async def answers(database: Path) -> None:
    """11 people took part (6 in Sittingbourne, 5 in Sheerness, all in English); 5 Welsh speakers in
    Faversham use the bot and did not; 1 person stopped at question 2."""
    now = datetime.now(UTC)
    async with open_database(database) as db:
        chat = 900_000_000
        for i in range(11):
            chat += 1
            area = "sittingbourne" if i < 6 else "sheerness"
            await db.residents.acknowledge(chat, "en", now, None)
            await db.residents.set_area(chat, area, None)
            given: dict[str, object] = {
                "last_visit": "week" if i < 8 else "month",
                "good_times": ["early", "weekend"],
                "rating": 2 if i < 4 else 4,
                "why_hard": WRITTEN[i] if i < 4 else None,
                "online": "yes" if i % 2 else "no",
                "travel_minutes": 10 + i,
                "home_area": area,
            }
            rid = response_id_for(db.pseudonym_key, chat, CID)
            state = {"answers": given, "path": ["home_area"]}
            await db.responses.save_progress(rid, CID, 1, "en", state, now)
            await db.participation.started(chat, CID, now)
            await db.responses.submit(rid, given, state, now, area_id=area)
            await db.participation.submitted(chat, CID, now)
        for _ in range(5):
            chat += 1
            await db.residents.acknowledge(chat, "cy", now, None)
            await db.residents.set_area(chat, "faversham", None)
        chat += 1
        await db.residents.acknowledge(chat, "en", now, None)
        rid = response_id_for(db.pseudonym_key, chat, CID)
        await db.responses.save_progress(rid, CID, 1, "en", {"answers": {}, "path": ["good_times"]}, now)


def test_an_officer_reads_results_searches_answers_downloads_and_sees_whom_we_missed(
    officer_bot: BotProcess, admin: Resident, page: Page
) -> None:
    with_populations(officer_bot)
    officer_bot.import_consultations(EXAMPLES / "gp-opening-hours.yaml")
    # Playwright keeps an event loop in this thread: the database is filled from another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, answers(officer_bot.database)).result()
    officer_bot.start()
    sign_in(page, admin)
    page.goto(workspace(officer_bot, f"/consultations/{CID}"))
    page.get_by_role("link", name="Results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results: GP opening hours")
    expect(page.locator(".summary-list").first).to_contain_text("11")

    choices = page.get_by_role("table", name="Answers to question 1")
    expect(choices.get_by_role("row", name="In the last week")).to_contain_text("8")
    expect(choices.get_by_role("row", name="In the last week")).to_contain_text("73%")
    chart = page.get_by_role("img", name=re.compile("Bar chart of the answers to question 1"))
    expect(chart).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=chart.element_handle())
    expect(page.get_by_role("row", name=re.compile("Which times suit you best"))).to_contain_text("1")
    travel = page.locator("section").filter(has=page.get_by_role("heading", name=re.compile("Question 6")))
    expect(travel.locator(".summary-list")).to_contain_text("Median15")
    expect(travel.locator(".summary-list")).to_contain_text("Lowest10")
    written = page.locator("section").filter(has=page.get_by_role("heading", name=re.compile("Question 4")))
    expect(written).to_contain_text("4 people answered")
    expect(written.get_by_text("<b>Too early</b>")).to_be_visible()  # escaped, as written
    page.wait_for_function("() => [...document.images].every(img => img.complete && img.naturalWidth > 0)")
    expect(page.get_by_role("img")).to_have_count(5)  # a chart beside each choice, scale, yes/no and area table
    screenshot(page, "results")
    assert serious_accessibility_problems(page) == []

    page.get_by_label("Search the answers to question 4").fill("PHONE")
    page.get_by_role("button", name="Search").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Answers to question 4")
    expect(page.get_by_role("status")).to_contain_text("2 answers contain “PHONE”.")
    expect(page.get_by_role("main").get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_text("Nobody picks up the phone")).to_be_visible()
    screenshot(page, "results-written-answers")
    assert serious_accessibility_problems(page) == []

    page.get_by_role("link", name="Back to the results").click()
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download as CSV").click()
    download = downloading.value
    assert download.suggested_filename == "gp-opening-hours.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0][4] == "When did you last contact your GP practice?" and len(rows) == 2 + 11
    assert {row[4] for row in rows[2:]} == {"In the last week", "In the last month"}
    assert officer_bot.query("SELECT actor_id, action, detail FROM audit_log WHERE action = 'export'") == [
        (admin.chat_id, "export", "gp-opening-hours as CSV, 11 responses")
    ]

    page.get_by_role("link", name="Who took part, and whom we did not reach").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who took part: GP opening hours")
    faversham = page.get_by_role("row", name=re.compile("^Faversham"))
    expect(faversham).to_contain_text("Under-heard")
    expect(faversham).to_contain_text("32,000")
    expect(page.get_by_role("row", name=re.compile("^Sittingbourne"))).to_contain_text("0.009%")  # 6 of 64,000
    welsh = page.get_by_role("row", name=re.compile("^Welsh"))
    expect(welsh).to_contain_text("Under-heard")
    expect(page.get_by_role("row", name=re.compile("^Sittingbourne"))).not_to_contain_text("Under-heard")
    screenshot(page, "reach")
    assert serious_accessibility_problems(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "reach-phone")
    assert off_screen(page) == []  # on a phone each row is a block: the button is on the screen
    expect(faversham.get_by_role("button", name="Send a notice to them (Faversham)")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="Who took part in any consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who took part: All consultations")
    expect(page.get_by_role("row", name=re.compile("^Sheerness and Sheppey"))).to_contain_text("5")
    assert serious_accessibility_problems(page) == []
    page.goto(workspace(officer_bot, f"/consultations/{CID}/reach"))
    faversham.get_by_role("button", name="Send a notice to them (Faversham)").click()
    expect(page).to_have_url(re.compile(r"/broadcasts/new\?area=faversham&not_taken_part=gp-opening-hours$"))
