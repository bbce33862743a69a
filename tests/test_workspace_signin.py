"""Signing in to the workspace from the chat, through a real browser against the real bot."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, signin_link, workspace
from tests.e2e_support import BotProcess, Resident
from tests.fake_telegram import FakeTelegram


def test_an_officer_signs_in_from_the_chat_and_the_link_works_once(
    officer_bot: BotProcess, admin: Resident, page: Page
) -> None:
    officer_bot.start()
    link = signin_link(admin)
    page.goto(link)
    # Opening the link (as a link preview does) signs nobody in: the button does.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the workspace")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    screenshot(page, "dashboard-empty")
    assert serious_accessibility_problems(page) == []
    cookie = next(c for c in page.context.cookies() if c["name"] == "hys_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    other = page.context.browser.new_page() if page.context.browser else page
    other.goto(link)
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("This sign-in link does not work")
    other.close()


def test_a_resident_who_sends_workspace_gets_the_unknown_command_answer(bot: BotProcess, resident: Resident) -> None:
    bot.start()
    reply = resident.say("/workspace")
    assert "/signin/" not in reply.text
    assert reply.text == resident.say("/nosuchcommand").text


def test_a_removed_officers_next_request_is_refused(
    officer_bot: BotProcess, admin: Resident, fake: FakeTelegram, page: Page
) -> None:
    officer = Resident(fake, fake.add_user("Priya", language_code="en"))
    officer_bot.start()
    admin.say(f"/addofficer {officer.chat_id}", expect=str(officer.chat_id))
    sign_in(page, officer)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    admin.say(f"/removeofficer {officer.chat_id}", expect=str(officer.chat_id))
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in from the chat")


def test_signing_out_ends_the_session(officer_bot: BotProcess, admin: Resident, page: Page) -> None:
    officer_bot.start()
    sign_in(page, admin)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
    page.goto(workspace(officer_bot, "/consultations"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in from the chat")


def test_over_https_the_reply_also_opens_the_workspace_as_a_mini_app(
    fake: FakeTelegram, admin: Resident, tmp_path: Path
) -> None:
    bot = BotProcess(
        fake, tmp_path, HAVEYOURSAY_ADMINS=str(admin.chat_id), HAVEYOURSAY_WEB_URL="https://hys.example.org"
    )
    try:
        bot.start()
        reply = admin.say("/workspace", expect="/signin/")
        assert "https://hys.example.org/signin/" in reply.text
        (button,) = [b for row in reply.reply_markup["inline_keyboard"] for b in row]
        assert button["web_app"] == {"url": "https://hys.example.org/miniapp"}
    finally:
        bot.stop()
