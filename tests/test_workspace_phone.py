"""Every workspace page with a table or a form, on a 375-pixel phone: nothing to press is off-screen
(a table of figures may scroll sideways; a button in it may not)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import Page, expect

from tests.browser import off_screen, screenshot, sign_in, workspace
from tests.e2e_support import EXAMPLES, BotProcess, Resident
from tests.test_workspace_dashboard import waiting_and_sending
from tests.test_workspace_results import CID, answers, with_populations

PAGES = [
    ("/", "dashboard"),
    ("/consultations", "consultations"),
    (f"/consultations/{CID}", "consultation"),
    (f"/consultations/{CID}/questions", "questions"),
    (f"/consultations/{CID}/results", "results"),
    (f"/consultations/{CID}/reach", "reach"),
    ("/reach", "reach-all"),
    (f"/consultations/{CID}/outcome", "outcome"),
    (f"/consultations/{CID}/publish", "publish"),
    ("/broadcasts", "broadcasts"),
    ("/broadcasts/new", "broadcast-new"),
    ("/team", "team"),
    ("/audit", "audit"),
]


def test_nothing_to_press_is_off_screen_on_a_phone(officer_bot: BotProcess, admin: Resident, page: Page) -> None:
    with_populations(officer_bot)
    officer_bot.import_consultations(EXAMPLES / "gp-opening-hours.yaml")
    # Playwright keeps an event loop in this thread: the database is filled from another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, answers(officer_bot.database)).result()
        pool.submit(asyncio.run, waiting_and_sending(officer_bot.database, admin.chat_id)).result()
    officer_bot.start()
    sign_in(page, admin)
    page.set_viewport_size({"width": 375, "height": 800})
    found = {}
    for path, name in PAGES:
        page.goto(workspace(officer_bot, path))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        screenshot(page, f"phone-{name}")
        if problems := off_screen(page):
            found[path] = problems
    assert found == {}
