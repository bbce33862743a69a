"""The Outcome page in a browser: both texts written in English and Welsh side by side, previewed in
each language, confirmed with the exact count and published; residents who took part get them in
their language; then a correction reaches those whose text changed, marked as a correction."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.community import containing, join, translator, with_dates
from tests.e2e_support import EXAMPLES, BotProcess, Resident
from tests.fake_telegram import FakeTelegram

TOLD = "Most of you want Saturday mornings."
TOLD_CY = "Mae'r rhan fwyaf ohonoch eisiau boreau Sadwrn."
DID = "From April, three practices open on Saturday mornings <all year>."
DID_CY = "O fis Ebrill, bydd tair meddygfa ar agor ar fore Sadwrn."
CORRECTED = "Most of you want Saturday mornings and weekday evenings."


def closed_in_2021(tmp_path: Path) -> Path:
    """The GP consultation, open through 2020 and closed since: ready for its outcome."""
    return with_dates(
        EXAMPLES / "gp-opening-hours.yaml", tmp_path, opens="2020-01-01T09:00:00Z", closes="2021-01-01T00:00:00Z"
    )


def took_part(bot: BotProcess, *residents: Resident) -> None:
    """These residents took part while it was open."""
    for resident in residents:
        bot.query(
            "INSERT INTO participation(chat_id, consultation_id, started_at, submitted_at)"
            " VALUES (?, 'gp-opening-hours', '2020-06-01T10:00:00+00:00', '2020-06-01T10:05:00+00:00')",
            resident.chat_id,
        )


def test_an_officer_writes_previews_publishes_and_corrects_the_outcome(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, page: Page, tmp_path: Path
) -> None:
    officer_bot.import_consultations(closed_in_2021(tmp_path))
    officer_bot.start()
    gwen = join(fake, "Gwen", "cy-GB", postcode="ME10 1AB")
    piotr = join(fake, "Piotr", "pl", postcode="ME9 7XX")
    tom = join(fake, "Tom", "en", postcode="ME12 1AA")
    took_part(officer_bot, gwen, piotr, tom)

    sign_in(page, admin)
    page.goto(workspace(officer_bot, "/consultations/gp-opening-hours"))
    page.get_by_role("link", name="Publish the outcome: what you heard and what you did").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcome of GP opening hours")
    told = page.get_by_role("region", name="What you told us")
    expect(told.get_by_text("“Did we get this right?”")).to_be_visible()
    # Side by side, the consultation's own language first; an empty Welsh box is marked, not required.
    boxes = told.get_by_role("textbox")
    expect(boxes.nth(0)).to_have_attribute("lang", "en")
    expect(boxes.nth(1)).to_have_attribute("lang", "cy")
    expect(told.get_by_text("Missing: people who use Welsh (Cymraeg) get the English text.")).to_be_visible()
    screenshot(page, "outcome-empty")
    assert serious_accessibility_problems(page) == []

    # Nothing written in English: the page says what is wrong, beside the box.
    told.get_by_label("Welsh (Cymraeg) (What you told us)").fill(TOLD_CY)
    told.get_by_role("button", name="Preview “What you told us”").click()
    expect(page.get_by_role("alert")).to_contain_text("Write the text in English.")
    expect(page.get_by_label("Welsh (Cymraeg) (What you told us)")).to_have_value(TOLD_CY)

    page.get_by_label("English (What you told us)").fill(TOLD)
    page.get_by_role("button", name="Preview “What you told us”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check “What you told us” before it is sent")
    cy = translator("cy")
    welsh = page.locator(".chat-text[lang=cy]")
    expect(welsh).to_contain_text(TOLD_CY)
    expect(welsh).to_contain_text(cy._("Did we get this right?"))
    expect(page.locator(".chat-buttons[lang=cy] .chat-button").filter(has_text=cy._("Partly"))).to_be_visible()
    expect(page.locator(".chat-text[lang=en]")).to_contain_text("What you told us: GP opening hours\n\n" + TOLD)
    expect(page.get_by_text("It will go to the 3 people who took part.")).to_be_visible()
    expect(page.get_by_text("Publish “What you told us” to 3 people?")).to_be_visible()
    screenshot(page, "outcome-check")
    assert serious_accessibility_problems(page) == []
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Published. Sending to 3 people.")

    decided = page.get_by_role("region", name="What we did")
    decided.get_by_label("English (What we did)").fill(DID)
    decided.get_by_label("Welsh (Cymraeg) (What we did)").fill(DID_CY)
    decided.get_by_role("button", name="Preview “What we did”").click()
    expect(page.locator(".chat-text[lang=en]")).to_contain_text(DID)  # escaped, shown as written
    expect(page.locator(".chat-text[lang=cy]")).to_contain_text(DID_CY)
    expect(page.get_by_text("Publish “What we did” to 3 people?")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Published. Sending to 3 people.")

    fake.wait_for_message(gwen.chat_id, predicate=lambda m: TOLD_CY in m.text)
    fake.wait_for_message(gwen.chat_id, predicate=lambda m: DID_CY in m.text)
    fake.wait_for_message(tom.chat_id, predicate=lambda m: TOLD in m.text)
    fake.wait_for_message(tom.chat_id, predicate=lambda m: DID in m.text)
    first = fake.wait_for_message(piotr.chat_id, predicate=lambda m: TOLD in m.text)  # no Polish: the English
    assert translator("pl")._("Did we get this right?") in first.text
    fake.wait_until_idle()

    # Published: shown with when and by whom; changing the English sends a correction.
    told = page.get_by_role("region", name="What you told us")
    expect(told.get_by_text("Published on")).to_contain_text("by Olu")
    expect(told.get_by_label("English (What you told us)")).to_have_value(TOLD)
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "outcome-published-phone")
    assert serious_accessibility_problems(page) == []
    told.get_by_label("English (What you told us)").fill(CORRECTED)
    told.get_by_role("button", name="Preview “What you told us”").click()
    expect(page.locator(".chat-text[lang=en]")).to_contain_text("Correction: What you told us: GP opening hours")
    expect(page.get_by_text("Send the correction of “What you told us” to 2 people?")).to_be_visible()
    expect(page.get_by_text("Not corrected yet: Welsh (Cymraeg).")).to_be_visible()
    screenshot(page, "outcome-correction-phone")
    assert serious_accessibility_problems(page) == []
    page.get_by_role("button", name="Send the correction").click()
    expect(page.get_by_role("status")).to_have_text("Correction published. Sending to 2 people.")
    expect(page.get_by_role("region", name="What you told us").get_by_text("Corrected on")).to_be_visible()

    correction = fake.wait_for_message(tom.chat_id, predicate=lambda m: CORRECTED in m.text)
    assert correction.text.startswith("Correction: What you told us: GP opening hours")
    assert "This corrects the message we sent you before" in correction.text
    fake.wait_for_message(piotr.chat_id, predicate=lambda m: CORRECTED in m.text)
    fake.wait_until_idle()
    assert not containing(fake, gwen.chat_id, CORRECTED), "her Welsh did not change"
    audit = officer_bot.query("SELECT actor_id, action, detail FROM audit_log WHERE action LIKE '%outcome' ORDER BY id")
    assert audit == [
        (admin.chat_id, "publish outcome", "told_us for gp-opening-hours to 3 people"),
        (admin.chat_id, "publish outcome", "decided for gp-opening-hours to 3 people"),
        (admin.chat_id, "correct outcome", "told_us for gp-opening-hours, version 2 replacing 1, to 2 people"),
    ]
    assert "Traceback" not in officer_bot.log()
