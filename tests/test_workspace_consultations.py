"""The consultations list and a consultation's own page, as an officer sees them in the browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in
from tests.e2e_support import EXAMPLES, BotProcess, Resident


def test_the_list_shows_each_consultation_with_its_state_and_responses(
    officer_bot: BotProcess, admin: Resident, page: Page
) -> None:
    officer_bot.import_consultations(EXAMPLES / "gp-opening-hours.yaml")
    officer_bot.start()
    sign_in(page, admin)
    page.get_by_role("link", name="Consultations", exact=True).click()
    row = page.get_by_role("row").filter(has_text="GP opening hours")
    expect(row).to_contain_text("Open")
    expect(row.get_by_role("cell").last).to_have_text("0")
    row.get_by_role("link", name="GP opening hours").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("GP opening hours")
    expect(page.get_by_role("link", name="Close early")).to_be_visible()
    screenshot(page, "consultation")
    assert serious_accessibility_problems(page) == []
