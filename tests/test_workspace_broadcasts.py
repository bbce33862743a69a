"""The Broadcasts pages, as an officer uses them in a browser against the real bot, with residents in the chat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.community import containing, join, open_for_years
from tests.e2e_support import DATA, EXAMPLES, BotProcess, Resident
from tests.fake_telegram import FakeTelegram

LONDON = ZoneInfo("Europe/London")
ENGLISH = "Flu jabs at Milton Road on Saturday <bring your card> & a friend"
WELSH = "Brechlyn ffliw yn Ffordd Milton ddydd Sadwrn"


def civil_hours_and_a_time_outside() -> tuple[str, str]:
    """Civil hours that include now (so "Now" may go) and a time of day outside them."""
    return ("00:00-23:00", "23:30") if datetime.now(LONDON).hour < 22 else ("02:00-24:00", "01:00")


@pytest.fixture
def hours() -> tuple[str, str]:
    return civil_hours_and_a_time_outside()


@pytest.fixture
def officer_bot(fake: FakeTelegram, admin: Resident, tmp_path: Path, hours: tuple[str, str]) -> Iterator[BotProcess]:
    deployment = tmp_path / "civil.yaml"
    text = (DATA / "deployment.yaml").read_text(encoding="utf-8")
    deployment.write_text(text + f"\ncivil_hours: '{hours[0]}'\n", encoding="utf-8")
    process = BotProcess(fake, tmp_path, HAVEYOURSAY_ADMINS=str(admin.chat_id), HAVEYOURSAY_CONFIG=str(deployment))
    try:
        yield process
    finally:
        process.stop()


def test_an_officer_broadcasts_in_two_languages_to_one_area_and_those_who_did_not_take_part(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, page: Page, tmp_path: Path, hours: tuple[str, str]
) -> None:
    officer_bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    officer_bot.start()
    gwen = join(fake, "Gwen", "cy-GB", postcode="ME10 1AB")  # Sittingbourne, Welsh
    sian = join(fake, "Sian", "en-GB", postcode="ME10 3EF")  # Sittingbourne, English
    piotr = join(fake, "Piotr", "pl", postcode="ME9 7XX")  # Sittingbourne, Polish: no version, so English
    tom = join(fake, "Tom", "en", postcode="ME10 2CD")  # Sittingbourne, but taking part already
    tom.tap("GP opening hours", expect="Take part")
    tom.tap("Take part", expect="Question 1 of")
    ann = join(fake, "Ann", "en", postcode="ME12 1AA")  # Sheerness

    sign_in(page, admin)
    page.get_by_role("link", name="Broadcasts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Broadcasts")
    expect(page.get_by_text("No broadcasts have been sent yet.")).to_be_visible()
    assert serious_accessibility_problems(page) == []

    page.get_by_role("link", name="Write a broadcast").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a broadcast")
    labels = page.locator("textarea").evaluate_all("areas => areas.map(a => a.labels[0].textContent.trim())")
    assert labels[0] == "Message in English", "the default language first"
    expect(page.get_by_label("Message in Welsh (Cymraeg)")).to_have_attribute("lang", "cy")
    expect(page.get_by_label("Message in Arabic (العربية)")).to_have_attribute("dir", "rtl")
    screenshot(page, "broadcast-new")
    assert serious_accessibility_problems(page) == []

    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Write the message in English")

    page.get_by_label("Message in English").fill(ENGLISH)
    page.get_by_label("Message in Welsh (Cymraeg)").fill(WELSH)
    page.get_by_label("“Take part” button").select_option(label="GP opening hours")
    page.get_by_label("Sittingbourne").check()
    page.get_by_label("Did not take part in").select_option(label="GP opening hours")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your broadcast")
    expect(page.get_by_text("It will go to 3 residents.")).to_be_visible()
    expect(page.get_by_text("It will go now.")).to_be_visible()
    expect(page.get_by_role("heading", name="For 1 resident in Welsh (Cymraeg)")).to_be_visible()
    english = page.get_by_role("region", name="For 1 resident in English")
    expect(english).to_contain_text(ENGLISH)
    expect(english).to_contain_text("Take part")
    polish_version = page.get_by_role("region", name="For 1 resident in Polish (Polski)")
    expect(polish_version).to_contain_text(ENGLISH)
    expect(polish_version).to_contain_text("Weź udział")  # the bot's own words in the resident's language
    expect(page.get_by_text("Not written in:")).to_contain_text("Polish (Polski)")
    screenshot(page, "broadcast-confirm")
    assert serious_accessibility_problems(page) == []

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Broadcasts")
    expect(page.get_by_role("status")).to_contain_text("Broadcast #1 is on its way.")

    welsh = fake.wait_for_message(gwen.chat_id, predicate=lambda m: "Ffordd Milton" in m.text)
    assert welsh.text == WELSH and welsh.labels == ["Cymryd rhan"]
    english_message = fake.wait_for_message(sian.chat_id, predicate=lambda m: "Milton Road" in m.text)
    assert english_message.text == ENGLISH and english_message.labels == ["Take part"]
    polish = fake.wait_for_message(piotr.chat_id, predicate=lambda m: "Milton Road" in m.text)
    assert polish.text == ENGLISH and polish.labels == ["Weź udział"]
    fake.wait_for_message(admin.chat_id, predicate=lambda m: "has finished" in m.text)
    for resident in (tom, ann):
        assert not containing(fake, resident.chat_id, "Milton"), "taking part already, or another area"
    assert officer_bot.query("SELECT actor_id, detail FROM audit_log WHERE action = 'broadcast'") == [
        (admin.chat_id, "#1 to 3 residents (areas: Sittingbourne; did not take part in: GP opening hours)")
    ]

    page.reload()
    row = page.get_by_role("row").filter(has_text="#1")
    cells = row.get_by_role("cell")
    for column, value in ((1, "3"), (2, "3"), (3, "0"), (4, "0"), (5, "0")):  # recipients, sent, waiting, failed…
        expect(cells.nth(column)).to_have_text(value)
    expect(row).to_contain_text("Finished")
    screenshot(page, "broadcasts")
    assert serious_accessibility_problems(page) == []

    # The Reach page's link pre-fills the audience; a time outside civil hours needs "Urgent".
    page.goto(workspace(officer_bot, "/broadcasts/new?area=sittingbourne&language=cy&not_taken_part=gp-opening-hours"))
    expect(page.get_by_label("Sittingbourne")).to_be_checked()
    expect(page.get_by_label("Residents' language")).to_have_value("cy")
    expect(page.get_by_label("Did not take part in")).to_have_value("gp-opening-hours")
    page.get_by_label("Message in English").fill("Late notice")
    page.get_by_label("At a chosen time").check()
    tomorrow = (datetime.now(LONDON) + timedelta(days=1)).date().isoformat()
    page.get_by_label("Date").fill(tomorrow)
    page.get_by_label("Time", exact=True).fill(hours[1])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a time then, or tick Urgent")
    assert serious_accessibility_problems(page) == []
    page.get_by_label("Urgent: send even outside those hours").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your broadcast")
    expect(page.get_by_text("It will go to 1 resident.")).to_be_visible()
    expect(page.get_by_text("It will go on")).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Broadcast #2 is on its way.")
    expect(page.get_by_role("row").filter(has_text="#2")).to_contain_text("It will go on")
    assert officer_bot.query("SELECT chat_id, state, civil_only FROM deliveries WHERE broadcast_id = 2") == [
        (gwen.chat_id, "waiting", 0)
    ]
    assert "Traceback" not in officer_bot.log()
