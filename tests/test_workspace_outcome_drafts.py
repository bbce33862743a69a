"""Nothing an officer types on the Outcome page is lost: what they typed in "What we did" survives publishing
"What you told us", a reload, and an error; publishing a text ends its draft."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.community import join
from tests.e2e_support import BotProcess, Resident
from tests.fake_telegram import FakeTelegram
from tests.test_workspace_outcome import closed_in_2021, took_part

TOLD = "Most of you want Saturday mornings."
DID = "From April, three practices open on Saturday mornings."
DID_CY = "O fis Ebrill, bydd tair meddygfa ar agor ar fore Sadwrn."
UNSENT = "Not published yet: what you typed here is kept until you publish it."


def test_what_an_officer_typed_in_one_text_survives_publishing_the_other_and_a_reload(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, page: Page, tmp_path: Path
) -> None:
    officer_bot.import_consultations(closed_in_2021(tmp_path))
    officer_bot.start()
    tom = join(fake, "Tom", "en", postcode="ME12 1AA")
    took_part(officer_bot, tom)
    sign_in(page, admin)
    page.goto(workspace(officer_bot, "/consultations/gp-opening-hours/outcome"))
    told = page.get_by_role("region", name="What you told us")
    decided = page.get_by_role("region", name="What we did")

    # Welsh only in "What we did", saved without sending: a reload shows it, marked as not published.
    decided.get_by_label("Welsh (Cymraeg) (What we did)").fill(DID_CY)
    page.get_by_role("button", name="Save without sending").click()
    expect(page.get_by_role("status")).to_have_text("Saved. Nothing has been sent.")
    page.reload()
    expect(decided.get_by_label("Welsh (Cymraeg) (What we did)")).to_have_value(DID_CY)
    expect(decided.get_by_text(UNSENT)).to_be_visible()
    expect(told.get_by_text(UNSENT)).to_have_count(0)
    screenshot(page, "outcome-draft")
    assert serious_accessibility_problems(page) == []

    # Typing in "What we did", then previewing and publishing "What you told us": "What we did" is still there.
    decided.get_by_label("English (What we did)").fill(DID)
    told.get_by_label("English (What you told us)").fill(TOLD)
    told.get_by_role("button", name="Preview “What you told us”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check “What you told us” before it is sent")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Published. Sending to 1 person.")
    decided = page.get_by_role("region", name="What we did")
    expect(decided.get_by_label("English (What we did)")).to_have_value(DID)
    expect(decided.get_by_label("Welsh (Cymraeg) (What we did)")).to_have_value(DID_CY)
    expect(page.get_by_role("region", name="What you told us").get_by_text(UNSENT)).to_have_count(0)

    # An error in "What we did" brings back both texts as typed.
    decided.get_by_label("English (What we did)").fill("")
    told = page.get_by_role("region", name="What you told us")
    told.get_by_label("English (What you told us)").fill(TOLD + " And evenings.")
    decided.get_by_role("button", name="Preview “What we did”").click()
    expect(page.get_by_role("alert")).to_contain_text("Write the text in English.")
    expect(page.get_by_label("Welsh (Cymraeg) (What we did)")).to_have_value(DID_CY)
    expect(page.get_by_label("English (What you told us)")).to_have_value(TOLD + " And evenings.")
    page.reload()  # a reload after the error keeps it too
    expect(page.get_by_label("English (What you told us)")).to_have_value(TOLD + " And evenings.")
    expect(page.get_by_label("Welsh (Cymraeg) (What we did)")).to_have_value(DID_CY)

    # Publishing "What we did" ends its draft; the unsent correction of "What you told us" stays.
    page.get_by_label("English (What we did)").fill(DID)
    page.get_by_role("region", name="What we did").get_by_role("button", name="Preview “What we did”").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Published. Sending to 1 person.")
    expect(page.get_by_role("region", name="What we did").get_by_text(UNSENT)).to_have_count(0)
    expect(page.get_by_role("region", name="What you told us").get_by_text(UNSENT)).to_be_visible()
    expect(page.get_by_label("English (What you told us)")).to_have_value(TOLD + " And evenings.")
    drafts = officer_bot.query("SELECT user_id, kind, data FROM drafts WHERE kind LIKE 'outcome-page:%'")
    assert [(user, kind) for user, kind, _data in drafts] == [(admin.chat_id, "outcome-page:gp-opening-hours")]
    assert "told_us" in drafts[0][2] and "decided" not in drafts[0][2]
    fake.wait_for_message(tom.chat_id, predicate=lambda m: DID in m.text)
    assert "Traceback" not in officer_bot.log()
