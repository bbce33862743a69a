"""Reach that can be traced, in the browser against the real bot: a resident who comes by a poster's link
is counted under its source on the results page, and a resident who taps a broadcast's "Take part"
(twice) is one tap in its report."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.community import join
from tests.e2e_support import EXAMPLES, BotProcess, Resident, submit_after_saturday
from tests.fake_telegram import FakeTelegram
from tests.test_e2e_resident import open_for_years

CID = "gp-opening-hours"


def answer_every_question(resident: Resident) -> None:
    resident.tap("Longer ago", expect="Question 2 of 7")
    resident.tap("⬜ Saturday", expect="✅ Saturday")
    submit_after_saturday(resident)


def test_a_posters_source_and_a_broadcasts_take_part_taps_reach_the_officers_reports(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, resident: Resident, page: Page, tmp_path: Path
) -> None:
    officer_bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    officer_bot.start()
    sign_in(page, admin)

    # The officer makes a poster for the library; a resident scans it and answers.
    page.goto(workspace(officer_bot, f"/consultations/{CID}/poster"))
    page.get_by_label("Source tag").fill("library")
    page.get_by_role("button", name="Make the poster").click()
    link = page.locator(".poster-link").inner_text()
    resident.say("/start " + link.partition("?start=")[2], expect="Your privacy")
    resident.tap("I understand", expect="What you can influence")
    resident.tap("Take part", expect="Question 1 of 7")
    answer_every_question(resident)

    # A broadcast with a "Take part" button; Sian taps it twice.
    sian = join(fake, "Sian", "en-GB", postcode="ME10 3EF")
    page.goto(workspace(officer_bot, "/broadcasts/new"))
    page.get_by_label("Message in English").fill("Have you had your say on GP opening hours?")
    page.get_by_label("“Take part” button").select_option(label="GP opening hours")
    page.get_by_label("Did not take part in").select_option(label="GP opening hours")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("It will go to 1 resident.")).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Broadcast #1 is on its way.")
    notice = fake.wait_for_message(sian.chat_id, predicate=lambda m: "Have you had your say" in m.text)
    data = notice.button_data("Take part")
    assert data == f"take:{CID}:-:b1", "the button says which broadcast it came with"
    sian.tap("Take part", on=notice, expect="Question 1 of 7")
    # The button goes once tapped; a second quick tap (sent before it went) still reaches the bot.
    fake.press_stale_button(sian.user, notice, data)
    fake.wait_until_idle()
    assert officer_bot.query("SELECT COUNT(*) FROM take_part_taps") == [(1,)]
    fake.wait_for_message(admin.chat_id, predicate=lambda m: "has finished" in m.text)

    page.reload()
    broadcast = page.get_by_role("row").filter(has_text="#1")
    expect(page.get_by_role("columnheader", name="Take part taps").first).to_be_visible()
    expect(broadcast.get_by_role("cell").nth(6)).to_have_text("1")  # after created, recipients, sent…
    expect(broadcast).to_contain_text("Finished")
    screenshot(page, "broadcasts-take-part-taps")
    assert serious_accessibility_problems(page) == []

    # The results: the library's poster brought one response; Sian came by no tagged link.
    page.goto(workspace(officer_bot, f"/consultations/{CID}/results"))
    sources = page.get_by_role("table", name=re.compile("by the poster or link they came by"))
    rows = sources.get_by_role("row")
    expect(rows).to_have_count(3)  # the heading and two sources
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text("library")
    expect(rows.nth(1).get_by_role("cell")).to_have_text(["1", "1"])  # started, responses
    expect(rows.nth(2).get_by_role("rowheader")).to_have_text("No poster or tagged link")
    expect(rows.nth(2).get_by_role("cell")).to_have_text(["1", "0"])
    assert officer_bot.query("SELECT source, COUNT(*), COUNT(submitted_at) FROM responses GROUP BY 1 ORDER BY 1") == [
        (None, 1, 0),
        ("library", 1, 1),
    ]
    page.get_by_role("heading", name="Where people came from").scroll_into_view_if_needed()
    screenshot(page, "results-sources")
    assert serious_accessibility_problems(page) == []
    assert "Traceback" not in officer_bot.log()
