"""The dashboard in the browser: the workspace's first page, on a laptop and on a phone."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from storage import open_database
from storage.deliveries import PRIORITY_BROADCAST, NewDelivery
from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.e2e_support import EXAMPLES, BotProcess, Resident
from tests.test_workspace_results import CID, answers, with_populations

FIRST_RESIDENT = 900_000_001  # one of the people `answers` adds


async def waiting_and_sending(database: Path, officer_id: int) -> None:
    """A resident's message to the team waiting for 3 hours, and a notice to 2 people due tomorrow."""
    now = datetime.now(UTC)
    async with open_database(database) as db:
        await db.contact.open_thread(FIRST_RESIDENT, CID, now - timedelta(hours=3, minutes=5))
        tomorrow = now + timedelta(days=1)
        notice = await db.broadcasts.create(officer_id, {"en": "Only a week left <to> have your say"}, CID, {}, 2, now)
        await db.deliveries.enqueue(
            [
                NewDelivery(chat, "broadcast", PRIORITY_BROADCAST, "x", broadcast_id=notice, not_before=tomorrow)
                for chat in (FIRST_RESIDENT, FIRST_RESIDENT + 1)
            ],
            now,
        )


def test_the_dashboard_shows_responses_by_day_the_inbox_notices_being_sent_and_whom_we_miss(
    officer_bot: BotProcess, admin: Resident, page: Page
) -> None:
    with_populations(officer_bot)
    officer_bot.import_consultations(EXAMPLES / "gp-opening-hours.yaml")
    # Playwright keeps an event loop in this thread: the database is filled from another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, answers(officer_bot.database)).result()
        pool.submit(asyncio.run, waiting_and_sending(officer_bot.database, admin.chat_id)).result()
    officer_bot.start()
    sign_in(page, admin)

    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    days = page.get_by_role("table", name="Responses submitted on each of the last 7 days")
    gp = days.get_by_role("row", name=re.compile("^GP opening hours"))
    expect(gp.get_by_role("cell")).to_have_text(["0", "0", "0", "0", "0", "0", "11", "11"])  # 7 days, then the total
    expect(gp).to_contain_text("Open")
    expect(page.get_by_text("1 conversation is waiting for a reply.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"The oldest has waited 3 hours, since"))).to_be_visible()
    notice = page.get_by_role("table", name="Notices being sent").get_by_role("row", name=re.compile("^Notice #1"))
    expect(notice).to_contain_text("Only a week left <to> have your say")  # escaped, as written
    expect(notice).to_contain_text("It will go on")
    expect(notice.get_by_role("cell")).to_have_text(["0", "2", "0", "0"])
    groups = page.locator(".dashboard-groups li")
    expect(groups).to_have_count(2)
    expect(groups.first).to_contain_text("Area: Faversham")
    expect(groups.last).to_contain_text("Language: Welsh (Cymraeg)")
    screenshot(page, "dashboard")
    assert serious_accessibility_problems(page) == []

    page.set_viewport_size({"width": 375, "height": 800})
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "dashboard-phone")
    assert serious_accessibility_problems(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # only the tables scroll, not the page

    page.get_by_role("link", name="Send a notice to them (Welsh (Cymraeg), GP opening hours)").click()
    expect(page).to_have_url(re.compile(r"/broadcasts/new\?language=cy&not_taken_part=gp-opening-hours$"))
    page.goto(workspace(officer_bot, "/"))
    page.get_by_role("link", name="GP opening hours", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("GP opening hours")
