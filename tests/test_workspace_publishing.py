"""Publish a draft and close it early in the browser, with residents in the chat on the other side."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.e2e_support import BotProcess, Resident
from tests.fake_telegram import FakeTelegram

TEXTS = {
    "summary": {"en": "We want to know which bus routes you use, so that the timetable suits local people."},
    "organisation": {"en": "Swale Health and Care Partnership"},
    "can_influence": {"en": "Evening bus times."},
    "cannot_influence": {"en": "Fares."},
    "decision_by": {"en": "The transport board, in 2027."},
    "contact": {"en": "engage@swale.example.nhs.uk"},
}


def draft(consultation_id: str, title: str, **changes: Any) -> dict[str, Any]:
    """A consultation being written in the workspace: the data of a consultation file."""
    data: dict[str, Any] = {
        "spec_version": 1,
        "id": consultation_id,
        "default_language": "en",
        "title": {"en": title, "cy": "Llwybrau bysiau"},
        **TEXTS,
        "opens": "2020-01-01T09:00:00+00:00",
        "closes": "2099-12-31T23:00:00+00:00",
        "areas": [],
        "topics": [],
        "survey": [
            {"id": "weekly", "type": "yes_no", "text": {"en": "Do you take the bus every week?"}},
            {"id": "later", "type": "yes_no", "text": {"en": "Would you use a later bus?"}},
        ],
    }
    return data | changes


def save_drafts(bot: BotProcess, *drafts: dict[str, Any]) -> None:
    """Drafts written before the bot starts, as the workspace's editor stores them."""
    made = bot.command("init")
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(bot.database) as connection:
        connection.executemany(
            "INSERT INTO consultation_drafts(id, definition, updated_at, updated_by) VALUES (?, ?, ?, ?)",
            [(d["id"], json.dumps(d), "2026-11-01T09:00:00+00:00", 1) for d in drafts],
        )
    connection.close()


def onboard(resident: Resident) -> None:
    resident.say("/start", expect="Your privacy")
    resident.tap("I understand", expect="Which area do you live in?")
    resident.tap("Skip", expect="What would you like to hear about?")
    resident.tap("Done", expect="You're all set")


def test_an_officer_publishes_a_draft_residents_answer_and_the_officer_closes_it_early(
    officer_bot: BotProcess, admin: Resident, resident: Resident, fake: FakeTelegram, page: Page
) -> None:
    broken = draft("broken", "Broken survey")
    broken["survey"][0]["type"] = "slider"
    save_drafts(officer_bot, draft("bus-routes", "Bus routes"), draft("later-buses", "Later buses"), broken)
    officer_bot.start()
    assert officer_bot.query("SELECT value FROM meta WHERE key = 'deployment'") == [
        ("Swale Health and Care Partnership",)
    ], "run records which deployment the database belongs to"
    latecomer = Resident(fake, fake.add_user("Bryn", language_code="en"))
    for person in (resident, latecomer):
        onboard(person)
    sign_in(page, admin)

    # A draft with problems: they are listed, each linking to the editor, and nothing can be published.
    page.goto(workspace(officer_bot, "/consultations/broken/publish"))
    expect(page.get_by_role("heading", name="This consultation cannot be published yet")).to_be_visible()
    problem = page.get_by_role("link", name=re.compile("unknown question type 'slider'"))
    expect(problem).to_have_attribute("href", "/consultations/broken/edit#f-survey-0-type")
    expect(page.get_by_role("definition").filter(has_text="Welsh")).to_contain_text("texts missing")
    expect(page.get_by_role("button", name=re.compile("Continue|Publish|Schedule"))).to_have_count(0)
    assert serious_accessibility_problems(page) == []
    screenshot(page, "publish-problems")

    # Scheduling, on a phone: an opening time in the past is refused beside the field; a future one schedules it.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(workspace(officer_bot, "/consultations/later-buses/publish"))
    page.get_by_label("Schedule", exact=True).check()
    page.get_by_label("Opens (if scheduled)").fill("2020-01-01T09:00")
    page.get_by_role("button", name="Continue").click()
    refused = page.get_by_role("link", name="The opening time must be in the future, or choose to publish now")
    expect(refused).to_have_attribute("href", "#opens")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "publish-schedule-error-375")
    page.get_by_label("Opens (if scheduled)").fill("2099-06-01T10:00")
    page.get_by_label("Closes").fill("2099-05-01T10:00")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name=re.compile("must be after opens"))).to_have_attribute("href", "#closes")
    page.get_by_label("Closes").fill("2099-12-31T23:00")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule the consultation")
    expect(page.locator(".confirmation-count")).to_have_text(
        "An opening notice will go to 2 residents on 1 Jun 2099, 10:00:00."
    )
    screenshot(page, "publish-schedule-confirm-375")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Scheduled: it opens on 1 Jun 2099, 10:00:00.")
    expect(page.locator(".summary-list")).to_contain_text("Scheduled")
    page.set_viewport_size({"width": 1280, "height": 720})

    # Check your answers: languages with what is missing, and when it opens (now: its date has passed).
    page.goto(workspace(officer_bot, "/consultations/bus-routes/publish"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before publishing")
    languages = page.get_by_role("definition").filter(has_text="Welsh")
    expect(languages).to_contain_text("every text written")
    expect(languages).to_contain_text(re.compile(r"Welsh \(Cymraeg\):\s+\d+ texts missing"))
    expect(page.get_by_label("Publish now")).to_be_checked()
    expect(page.get_by_label("Closes")).to_have_value("2099-12-31T23:00")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "publish-check")
    page.get_by_role("button", name="Continue").click()

    # The confirmation: who is told and when (both residents asked for news of every consultation).
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish the consultation")
    expect(page.locator(".confirmation-count")).to_have_text(
        "An opening notice will go to 2 residents as soon as it is published."
    )
    assert serious_accessibility_problems(page) == []
    screenshot(page, "publish-confirm")
    page.get_by_role("button", name="Publish", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("Published.")
    expect(page.get_by_role("status")).to_contain_text("Opening notices are going to 2 residents now.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bus routes")
    screenshot(page, "published")
    page.reload()
    expect(page.get_by_role("status")).to_have_count(0)  # said once
    assert officer_bot.query("SELECT COUNT(*) FROM consultation_drafts WHERE id = 'bus-routes'") == [(0,)]
    page.goto(workspace(officer_bot, "/consultations/bus-routes/publish"))  # published: no changes left
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing to publish")
    assert serious_accessibility_problems(page) == []

    # The residents hear of it, see it in /consultations, and answer.
    resident.fake.wait_for_message(
        resident.chat_id, predicate=lambda m: "A new consultation is open: Bus routes" in m.text, timeout=15
    )
    listing = resident.say("/consultations", expect="Bus routes")
    assert "Later buses" not in listing.text, "scheduled: residents do not see it yet"
    resident.tap("Bus routes", expect="Take part")
    resident.tap("Take part", expect="Question 1 of 2")
    resident.tap("Yes", expect="Question 2 of 2")
    resident.tap("No", expect="Please check your answers")
    resident.tap("Submit", expect="Thank you. We have received your answers.")
    latecomer.say("/consultations", expect="Bus routes")
    latecomer.tap("Bus routes", expect="Take part")
    latecomer.tap("Take part", expect="Question 1 of 2")
    second_question = latecomer.tap("Yes", expect="Question 2 of 2")

    # Close early: one person is part-way through, and only they get the polite message.
    page.goto(workspace(officer_bot, "/consultations/bus-routes/close"))
    expect(page.locator(".confirmation-count")).to_have_text(
        "1 person has started answering and not yet sent their answers."
    )
    assert serious_accessibility_problems(page) == []
    screenshot(page, "close-early")
    page.get_by_role("button", name="Close early").click()
    expect(page.get_by_role("status")).to_contain_text(
        "1 person who had started will get a short message saying that it has closed."
    )
    expect(page.locator(".summary-list")).to_contain_text("Closed")
    screenshot(page, "closed-early")
    page.goto(workspace(officer_bot, "/consultations/bus-routes/close"))
    expect(page.get_by_text("This consultation is not open, so there is nothing to close.")).to_be_visible()
    expect(page.get_by_role("button", name="Close early")).to_have_count(0)
    assert serious_accessibility_problems(page) == []

    told = latecomer.fake.wait_for_message(latecomer.chat_id, predicate=lambda m: "closed early" in m.text, timeout=15)
    assert "Bus routes" in told.text and "thank you for the time you gave it" in told.text
    assert latecomer.tap("No", on=second_question, expect="closed").text.startswith("This consultation closed on")
    assert not [m for m in fake.messages(resident.chat_id) if "closed early" in m.text]
    assert officer_bot.query(
        "SELECT action, detail FROM audit_log WHERE actor_id = ? AND action <> 'workspace' ORDER BY id", admin.chat_id
    ) == [
        ("publish", "later-buses: added"),
        ("publish", "bus-routes: added"),
        ("close early", "bus-routes: 1 mid-survey told"),
    ]
