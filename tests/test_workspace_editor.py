"""The consultation form and the survey builder, as an officer uses them in the browser."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from playwright.sync_api import Locator, Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in
from tests.e2e_support import BotProcess, Resident

ENGLISH, WELSH = "English", "Welsh"


def group(page: Page | Locator, name: str) -> Locator:
    return page.get_by_role("group", name=name, exact=True)


def fill(page: Page | Locator, name: str, english: str, welsh: str | None = None) -> None:
    """A text in English, and in Welsh when given, in its fieldset of languages side by side."""
    group(page, name).get_by_label(ENGLISH).fill(english)
    if welsh is not None:
        group(page, name).get_by_label(WELSH).fill(welsh)


def save(page: Page) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Saved")


def accessible(page: Page) -> None:
    assert serious_accessibility_problems(page) == []


def add_question(page: Page, kind: str, english: str, welsh: str) -> None:
    if "/questions/" in page.url:
        page.get_by_role("link", name="Back to the questions").first.click()
    page.get_by_label("Type of question").select_option(label=kind)
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Question")
    fill(page, "Question text", english, welsh)


def test_an_officer_creates_a_consultation_with_every_type_of_question(
    officer_bot: BotProcess, admin: Resident, page: Page, tmp_path: Path
) -> None:
    officer_bot.start()
    sign_in(page, admin)
    page.get_by_role("link", name="Consultations", exact=True).click()
    page.get_by_role("link", name="Create a consultation").click()
    accessible(page)
    page.get_by_label("Title").fill("Library opening hours")
    page.get_by_role("button", name="Create the consultation").click()

    # The consultation's own fields, English first, Welsh added beside it; closing before opening is caught.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit the consultation")
    page.get_by_label("Add a language").select_option(label="Welsh (Cymraeg)")
    page.get_by_role("button", name="Add language").click()
    expect(group(page, "Title").get_by_label(WELSH)).to_be_visible()
    expect(group(page, "Title")).to_contain_text("Not translated yet")
    fill(page, "Title", "Library opening hours", "Oriau agor llyfrgelloedd")
    fill(
        page,
        "Summary",
        "We want to know when you use the library.",
        "Rydym am wybod pryd rydych yn defnyddio'r llyfrgell.",
    )
    fill(page, "Organisation", "Swale Council")
    fill(page, "What people can influence", "Which evenings the libraries open late.")
    fill(page, "What people cannot influence", "The library budget.")
    fill(page, "Who decides, and when", "The council's cabinet, in March 2027.")
    fill(page, "Contact", "libraries@swale.example.gov.uk")
    group(page, "Opens").get_by_label("Date").fill("2027-01-10")
    group(page, "Opens").get_by_label("Time").fill("09:00")
    group(page, "Closes").get_by_label("Date").fill("2027-01-05")
    group(page, "Areas").get_by_label("Sittingbourne").check()
    group(page, "Topics").get_by_label("Social care and home care").check()
    page.get_by_label("Ask the optional “About you” questions after the survey").check()
    save(page)
    closes = page.locator(".form-group", has=page.locator("#f-closes"))
    expect(closes).to_contain_text("must be after opens")
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link", name="Closes: closes")).to_have_attribute("href", "#f-closes")
    screenshot(page, "editor-details")
    accessible(page)
    group(page, "Closes").get_by_label("Date").fill("2027-02-28")
    save(page)
    expect(page.locator(".form-group", has=page.locator("#f-closes"))).not_to_contain_text("must be after")
    expect(group(page, "Title").get_by_label(WELSH)).to_have_value("Oriau agor llyfrgelloedd")

    # One question of every type.
    page.get_by_role("link", name="Go to the questions").click()
    accessible(page)
    add_question(
        page, "One choice", "How often do you visit the library?", "Pa mor aml ydych chi'n ymweld â'r llyfrgell?"
    )
    fill(page, "Choice 1", "Every week", "Bob wythnos")
    fill(page, "Choice 2", "Every month", "Bob mis")
    page.get_by_role("button", name="Add a choice").click()
    # A choice without text: the problem is shown beside it, then fixed.
    expect(group(page, "Choice 3")).to_contain_text("missing text in the default language")
    expect(page.get_by_role("alert").get_by_role("link", name="Question 1, choice 3")).to_be_visible()
    screenshot(page, "editor-question")
    accessible(page)
    fill(page, "Choice 3", "Hardly ever", "Prin byth")
    group(page, "Choice 3").get_by_label(WELSH).press("Enter")  # Enter saves; it moves or removes nothing
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(group(page, "Choice 3").get_by_label(ENGLISH)).to_have_value("Hardly ever")
    page.get_by_role("button", name="Move up choice 3").click()
    save(page)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(group(page, "Choice 2").get_by_label(ENGLISH)).to_have_value("Hardly ever")

    add_question(page, "Several choices", "Which days suit you?", "Pa ddiwrnodau sy'n addas i chi?")
    fill(page, "Choice 1", "Weekdays", "Dyddiau'r wythnos")
    fill(page, "Choice 2", "Saturdays", "Dydd Sadwrn")
    page.get_by_label("Most choices a resident can pick (optional)").fill("2")
    save(page)

    add_question(page, "Scale", "How well do the opening hours suit you?", "Pa mor dda mae'r oriau'n addas i chi?")
    fill(page, "Point 1", "Not at all", "Dim o gwbl")
    fill(page, "Point 5", "Very well", "Yn dda iawn")
    save(page)

    add_question(page, "Number", "How many minutes do you travel to the library?", "Sawl munud ydych chi'n teithio?")
    page.get_by_label("Lowest allowed (optional)").fill("0")
    page.get_by_label("Highest allowed (optional)").fill("300")
    page.get_by_label("Optional: residents can skip this question").check()
    save(page)

    # Shown only after an answer to question 1: pick the question, save, then tick the answer.
    add_question(
        page,
        "Yes or no",
        "Would you use the library in the evening?",
        "Fyddech chi'n defnyddio'r llyfrgell gyda'r nos?",
    )
    page.get_by_label("Earlier question").select_option(label="Question 1: How often do you visit the library?")
    save(page)
    expect(page.locator("#f-survey-4-show_if-in").locator("..")).to_contain_text("must be a non-empty list")
    group(page, "Answers that show it").get_by_label("Every week").check()
    save(page)
    expect(page.get_by_role("alert")).to_have_count(0)

    add_question(
        page, "Text", "What would make the library better for you?", "Beth fyddai'n gwneud y llyfrgell yn well?"
    )
    page.get_by_label("Longest answer, in characters").fill("500")
    page.get_by_label("Optional: residents can skip this question").check()
    save(page)

    add_question(page, "Area", "Where do you live?", "Ble ydych chi'n byw?")
    save(page)

    # The list, with reordering and removing (asked first).
    page.get_by_role("link", name="Back to the questions").first.click()
    rows = page.get_by_role("row")
    expect(rows).to_have_count(8)
    expect(rows.nth(5)).to_contain_text("Question 1: Every week")
    page.get_by_role("button", name="Move down question 6").click()
    expect(page.get_by_role("row").nth(7)).to_contain_text("What would make the library better")
    page.get_by_role("button", name="Move up question 7").click()
    expect(page.get_by_role("row").nth(6)).to_contain_text("What would make the library better")
    screenshot(page, "editor-questions")
    accessible(page)
    page.get_by_label("Type of question").select_option(label="Text")
    page.get_by_role("button", name="Add question").click()
    page.get_by_role("link", name="Back to the questions").first.click()
    page.get_by_role("link", name="Remove question 8").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove question 8?")
    accessible(page)
    page.get_by_role("button", name="Remove the question").click()
    expect(page.get_by_role("row")).to_have_count(8)

    page.set_viewport_size({"width": 375, "height": 800})
    page.get_by_role("link", name="How often do you visit the library?").click()
    screenshot(page, "editor-question-phone")
    accessible(page)

    # What is stored is a consultation file `haveyoursay check` accepts.
    stored = officer_bot.query("SELECT definition FROM consultation_drafts")
    assert len(stored) == 1
    data = json.loads(stored[0][0])
    assert [q["type"] for q in data["survey"]] == [
        "single_choice",
        "multiple_choice",
        "scale",
        "number",
        "yes_no",
        "text",
        "area",
    ]
    assert data["survey"][4]["show_if"] == {"question": data["survey"][0]["id"], "in": ["c1"]}
    assert data["survey"][0]["choices"][1]["text"] == {"en": "Hardly ever", "cy": "Prin byth"}
    assert data["opens"] == "2027-01-10T09:00:00+00:00"
    assert data["closes"] == "2027-02-28T23:59:00+00:00"
    path = tmp_path / "library-opening-hours.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    checked = officer_bot.command("check", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
