"""An officer's whole journey, through the real bot and a real browser: signed in from the chat, a
consultation uploaded, previewed in Welsh and in Arabic, published, and answered by a resident in
the chat. (Writing one by the form, with a question of every type, is
tests/test_workspace_editor.py; an XLSForm upload is tests/test_workspace_files.py.)"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser import screenshot, sign_in, workspace
from tests.e2e_support import EXAMPLES, BotProcess, Resident

HOME_CARE = EXAMPLES / "home-care-changes.yaml"


def test_an_officer_uploads_previews_and_publishes_and_a_resident_answers_in_the_chat(
    officer_bot: BotProcess, admin: Resident, resident: Resident, page: Page
) -> None:
    officer_bot.start()
    resident.say("/start", expect="Your privacy")
    resident.tap("I understand", expect="Which area do you live in?")
    resident.tap("Skip", expect="What would you like to hear about?")
    resident.tap("Done", expect="You're all set")
    assert "There are no open consultations" in resident.say("/consultations").text

    sign_in(page, admin)
    page.get_by_role("link", name="Consultations", exact=True).click()
    page.get_by_role("link", name="Upload a consultation file").click()
    page.get_by_label("File to upload").set_input_files(
        {"name": HOME_CARE.name, "mimeType": "application/yaml", "buffer": HOME_CARE.read_bytes()}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("No problems found: it can be published.")).to_be_visible()
    page.get_by_role("link", name="Open the consultation page").click()
    expect(page.locator(".summary-list")).to_contain_text("Draft")
    # Residents see nothing of a draft.
    assert "There are no open consultations" in resident.say("/consultations").text

    page.get_by_role("link", name="Preview as a resident").click()
    page.get_by_label("Preview in").select_option("cy")
    page.get_by_role("button", name="Show this language").click()
    expect(page.get_by_text("Newidiadau i ofal cartref").first).to_be_visible()
    expect(page.get_by_text("Diolch. Rydym wedi cael eich atebion.")).to_be_visible()  # the Welsh receipt
    page.get_by_label("Preview in").select_option("ar")
    page.get_by_role("button", name="Show this language").click()
    expect(page.locator("[dir=rtl]").first).to_be_visible()
    screenshot(page, "journey-preview-arabic")

    page.goto(workspace(officer_bot, "/consultations/home-care-changes/publish"))
    expect(page.get_by_label("Publish now")).to_be_checked()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Published.")
    expect(page.locator(".summary-list")).to_contain_text("Open")

    resident.say("/consultations", expect="Changes to home care")
    resident.tap("Changes to home care", expect="Take part")
    first = resident.tap("Take part", expect="Question 1 of")
    resident.tap(first.labels[0], expect="Question 2 of")
    assert officer_bot.query("SELECT COUNT(*) FROM responses WHERE consultation_id = 'home-care-changes'") == [(1,)]
