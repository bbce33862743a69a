"""The Team and Audit pages, as an admin uses them in a browser against the real bot."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Browser, Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.e2e_support import EXAMPLES, BotProcess, Resident
from tests.fake_telegram import FakeTelegram

UNKNOWN_COMMAND_START = "Sorry, I don't know that command"


def invited(admin: Resident, person: Resident) -> None:
    """The admin makes an invite link in the chat and the person opens it."""
    reply = admin.say("/invite", expect="Send this link to the new officer")
    found = re.search(r"start=(inv_[A-Za-z0-9]+)", reply.text)
    assert found, reply.text
    person.say(f"/start {found.group(1)}", expect="You are now an officer.")


def test_an_admin_sees_the_team_by_name_and_removes_an_officer_who_is_signed_in(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, page: Page, browser: Browser
) -> None:
    officer_bot.start()
    priya = Resident(fake, fake.add_user("Priya", "en", last_name="Shah", username="priya_s"))
    sam = Resident(fake, fake.add_user("Sam", "en"))
    invited(admin, priya)
    admin.say(f"/addofficer {sam.chat_id}", expect="is now an officer")

    # Priya signs in in her own browser; as an officer, not an admin, the team is not hers to see.
    other = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    priyas = other.new_page()
    sign_in(priyas, priya)
    expect(priyas.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(priyas.get_by_role("link", name="Team")).to_have_count(0)
    priyas.goto(workspace(officer_bot, "/team"))
    expect(priyas.get_by_text("Only admins can open this page.")).to_be_visible()
    priyas.goto(workspace(officer_bot, "/audit"))
    expect(priyas.get_by_text("Only admins can open this page.")).to_be_visible()

    sign_in(page, admin)
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    rows = page.get_by_role("row")
    olu = rows.filter(has_text="Olu")
    expect(olu).to_contain_text("Admin")
    expect(olu).to_contain_text("Set in the bot's configuration")
    expect(olu.get_by_role("link")).to_have_count(0)
    priya_row = rows.filter(has_text="Priya Shah (@priya_s)")
    expect(priya_row).to_contain_text("Officer")
    expect(priya_row.get_by_role("cell").nth(2)).not_to_have_text("Never")
    sam_row = rows.filter(has_text=f"Telegram user {sam.chat_id}")
    expect(sam_row).to_contain_text("Name not known yet")
    expect(sam_row.get_by_role("cell").nth(2)).to_have_text("Never")
    screenshot(page, "team")
    assert serious_accessibility_problems(page) == []

    # The page's invite link is the chat's: it makes whoever opens it an officer.
    page.get_by_role("button", name="Make an invite link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite link")
    link = page.get_by_label("Invite link").input_value()
    assert link.startswith("https://t.me/HaveYourSayTestBot?start=inv_"), link
    screenshot(page, "team-invite")
    assert serious_accessibility_problems(page) == []
    nia = Resident(fake, fake.add_user("Nia", "en"))
    nia.say(f"/start {link.split('start=', 1)[1]}", expect="You are now an officer.")

    # An admin cannot remove themself by accident.
    page.goto(workspace(officer_bot, f"/team/{admin.chat_id}/remove"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot remove yourself")
    expect(page.get_by_role("button", name="Remove officer")).to_have_count(0)

    page.goto(workspace(officer_bot, "/team"))
    page.get_by_role("link", name="Remove Priya Shah (@priya_s)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove Priya Shah (@priya_s)?")
    screenshot(page, "team-remove")
    assert serious_accessibility_problems(page) == []
    page.get_by_role("button", name="Remove officer").click()
    expect(page.get_by_role("status")).to_contain_text("Priya Shah (@priya_s) is no longer an officer.")
    expect(page.get_by_role("row").filter(has_text="Priya Shah")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="Nia")).to_have_count(1)

    # Her next request is refused; her session is gone from the database, her commands from the chat.
    priyas.goto(workspace(officer_bot, "/consultations"))
    expect(priyas.get_by_role("heading", level=1)).to_have_text("Sign in from the chat")
    assert officer_bot.query("SELECT COUNT(*) FROM web_sessions WHERE officer_id = ?", priya.chat_id) == [(0,)]
    assert priya.say("/broadcast").text.startswith(UNKNOWN_COMMAND_START)
    other.close()
    listing = admin.say("/officers", expect="Officers").text
    assert f"Nia · {nia.chat_id} — officer" in listing and "Priya" not in listing


def test_the_audit_log_filters_by_officer_and_consultation_and_downloads_as_csv(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, page: Page
) -> None:
    officer_bot.import_consultations(EXAMPLES / "gp-opening-hours.yaml")
    officer_bot.start()
    priya = Resident(fake, fake.add_user("Priya", "en", last_name="Shah"))
    invited(admin, priya)
    priya.say("/workspace", expect="/signin/")

    sign_in(page, admin)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    table = page.get_by_role("table", name="Audit log")
    expect(table).to_contain_text("Published a consultation")
    expect(table).to_contain_text("Added an officer")
    expect(table.get_by_role("row").nth(1)).to_contain_text("Signed in to the workspace")
    screenshot(page, "audit")
    assert serious_accessibility_problems(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "audit-phone")
    page.set_viewport_size({"width": 1280, "height": 720})

    page.get_by_label("Officer").select_option(label="Olu")
    page.get_by_role("button", name="Show entries").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("3 entries")
    for row in table.get_by_role("row").all()[1:]:
        expect(row.get_by_role("cell").nth(1)).to_have_text("Olu")
    expect(table).not_to_contain_text("Published a consultation")

    page.get_by_label("Officer").select_option(label="Everyone")
    page.get_by_label("Consultation").select_option(label="GP opening hours")
    page.get_by_role("button", name="Show entries").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("1 entry")
    expect(table.get_by_role("row").nth(1)).to_contain_text("Command line")
    expect(table.get_by_role("link", name="GP opening hours")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download as CSV").click()
    assert download.value.suggested_filename == "audit-log.csv"
    path = download.value.path()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["When", "Officer", "Telegram user id", "Action", "Consultation", "Detail"]
    assert [(row[1], row[3], row[4]) for row in rows[1:]] == [("command line", "publish", "gp-opening-hours")]

    # A date that is not one is named beside its field.
    page.goto(workspace(officer_bot, "/audit?since=2026-02-30"))
    expect(page.get_by_role("alert")).to_contain_text("Enter a date like 2026-11-30")

    page.goto(workspace(officer_bot, "/audit"))
    latest = table.get_by_role("row").nth(1)
    expect(latest).to_contain_text("Downloaded the audit log")
    expect(latest).to_contain_text("Olu")
    expect(latest).to_contain_text("GP opening hours")
