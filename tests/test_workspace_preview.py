"""Preview as a resident in the browser (Welsh, then Arabic), and "Send this to me" arriving in the
officer's own chat: the real card of an open consultation, and a draft's screens marked Preview."""

from __future__ import annotations

import json
import sqlite3

import yaml
from playwright.sync_api import Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.e2e_support import EXAMPLES, BotProcess, Resident
from tests.fake_telegram import FakeTelegram


def add_draft(bot: BotProcess, consultation_id: str) -> None:
    """A consultation being written, as the workspace keeps it (never seen by residents)."""
    data = yaml.safe_load((EXAMPLES / "gp-opening-hours.yaml").read_text(encoding="utf-8"))
    data["id"] = consultation_id
    data["title"] = {"en": "Pharmacy hours <script>alert('x')</script>", "cy": "Oriau fferyllfa"}
    for key in ("opens", "closes"):
        data[key] = data[key].isoformat()
    data["survey"][4]["type"] = "essay"  # a problem: the preview leaves this question out and says so
    with sqlite3.connect(bot.database) as connection:
        connection.execute(
            "INSERT INTO consultation_drafts(id, definition, updated_at, updated_by) VALUES (?, ?, ?, ?)",
            (consultation_id, json.dumps(data), "2026-11-01T09:00:00+00:00", 1),
        )


def test_an_officer_previews_in_welsh_and_arabic_and_gets_the_card_in_their_chat(
    fake: FakeTelegram, officer_bot: BotProcess, admin: Resident, page: Page
) -> None:
    officer_bot.import_consultations(EXAMPLES / "gp-opening-hours.yaml")
    add_draft(officer_bot, "pharmacy-hours")
    officer_bot.start()
    sign_in(page, admin)
    page.goto(workspace(officer_bot, "/consultations/gp-opening-hours"))
    page.get_by_role("link", name="Preview as a resident").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview of GP opening hours")

    page.get_by_label("Preview in").select_option("cy")
    page.get_by_role("button", name="Show this language").click()
    card = page.locator(".chat-text").first
    expect(card).to_contain_text("Oriau agor meddygfeydd teulu")
    expect(card).to_have_attribute("lang", "cy")
    expect(card).to_have_attribute("dir", "ltr")
    expect(page.locator(".chat-button").filter(has_text="Cymryd rhan")).to_be_visible()
    expect(page.get_by_role("heading", name="Question 7: Where they live")).to_be_visible()
    expect(page.get_by_text("Pwyswch ar un ateb.")).to_be_visible()  # "Tap one answer." from the catalog
    expect(page.get_by_text("Asked only of people who answered question 3 with: 1 (Anodd iawn), 2.")).to_be_visible()
    expect(page.get_by_text("Diolch. Rydym wedi cael eich atebion.")).to_be_visible()  # the receipt
    screenshot(page, "preview-welsh")
    assert serious_accessibility_problems(page) == []

    page.get_by_label("Preview in").select_option("ar")
    page.get_by_role("button", name="Show this language").click()
    card = page.locator(".chat-text").first
    expect(card).to_have_attribute("dir", "rtl")
    expect(card).to_have_attribute("lang", "ar")
    expect(page.locator(".chat-button").filter(has_text="المشاركة")).to_be_visible()  # "Take part"
    expect(page.get_by_text("Some texts are not translated into Arabic")).to_be_visible()
    expect(page.get_by_text("Not translated").first).to_be_visible()
    screenshot(page, "preview-arabic")
    assert serious_accessibility_problems(page) == []

    # Open, and no unpublished changes: the real card, in Arabic, to tap through.
    page.get_by_role("button", name="Send this to me").click()
    expect(page.get_by_role("status")).to_have_text("We have sent 1 message to your chat with the bot.")
    sent = fake.wait_for_message(admin.chat_id, predicate=lambda m: "GP opening hours" in m.text)
    assert "المشاركة" in sent.labels
    welcome = admin.tap("المشاركة")  # the privacy notice comes first for someone new, as for anyone
    assert welcome.text

    # A draft: each screen marked Preview; its buttons only say so.
    page.goto(workspace(officer_bot, "/consultations/pharmacy-hours/preview?lang=cy"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview of Pharmacy hours <script>alert('x')</script>")
    expect(page.locator(".chat-text").first).to_contain_text("Oriau fferyllfa")
    expect(page.get_by_role("heading", name="This consultation has 1 problem")).to_be_visible()
    expect(page.get_by_text("Not shown here, because it has problems: question 5.")).to_be_visible()
    expect(page.get_by_role("link", name="Fix the problems")).to_have_attribute(
        "href", "/consultations/pharmacy-hours/edit"
    )
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "preview-draft-phone")
    assert serious_accessibility_problems(page) == []
    mark = fake.mark(admin.chat_id)
    page.get_by_role("button", name="Send this to me").click()
    expect(page.get_by_role("status")).to_have_text("We have sent 9 messages to your chat with the bot.")
    question = fake.wait_for_message(admin.chat_id, since=mark, predicate=lambda m: "Preview 2 of 9" in m.text)
    admin.tap_and_settle("Yn ystod yr wythnos ddiwethaf", on=question)
    assert admin.last_notice() == "This is only a preview: its buttons do nothing."
    # The delivery queue paces them as Telegram asks: about one a second in a chat.
    last = fake.wait_for_message(admin.chat_id, since=mark, predicate=lambda m: "Preview 9 of 9" in m.text, timeout=30)
    assert "Diolch. Rydym wedi cael eich atebion." in last.text
    assert officer_bot.query("SELECT count(*) FROM audit_log WHERE action = 'preview sent'") == [(2,)]
    assert officer_bot.query("SELECT count(*) FROM responses") == [(0,)]
