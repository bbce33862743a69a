"""The Inbox, as an officer uses it in a browser against the real bot: a resident's /contact message
appears, a reply from the page reaches the resident in the chat, a reply from the officers' group
appears on the page, and Close takes the conversation off the open list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import screenshot, serious_accessibility_problems, sign_in, workspace
from tests.community import join, open_for_years
from tests.e2e_support import DATA, EXAMPLES, BotProcess, Resident
from tests.fake_telegram import FakeTelegram

SENT = "Thank you. Your message has been sent to the engagement team. They will reply here."
QUESTION = "Is the <Saturday> clinic & pharmacy open?"
PAGE_REPLY = "Yes, 9 to 12 <b>every</b> Saturday & Sunday."
GROUP_REPLY = "Closed on bank holidays, sorry."


@pytest.fixture
def team(fake: FakeTelegram) -> int:
    return fake.add_group("Engagement team")


@pytest.fixture
def inbox_bot(fake: FakeTelegram, team: int, admin: Resident, tmp_path: Path) -> Iterator[BotProcess]:
    """The real bot with `admin` as its admin and `team` as the officers' group."""
    deployment = tmp_path / "deployment.yaml"
    text = (DATA / "deployment.yaml").read_text(encoding="utf-8")
    deployment.write_text(text + f"\ncivil_hours: '00:00-24:00'\nofficers_chat_id: {team}\n", encoding="utf-8")
    process = BotProcess(fake, tmp_path, HAVEYOURSAY_CONFIG=str(deployment), HAVEYOURSAY_ADMINS=str(admin.chat_id))
    process.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    try:
        yield process.start()
    finally:
        process.stop()


def test_an_officer_answers_a_resident_from_the_inbox_and_sees_the_groups_reply(
    inbox_bot: BotProcess, fake: FakeTelegram, team: int, admin: Resident, page: Page
) -> None:
    amina = join(fake, "Amina", "en-GB")
    amina.say("/contact", expect="Which consultation is your message about?")
    about = amina.tap("GP opening hours", expect="Please type your message and send it.")
    assert "We keep your messages and the team's replies" in about.text
    mark = fake.mark(team)
    assert amina.say(QUESTION).text == SENT
    fake.wait_for_message(team, since=mark, predicate=lambda m: QUESTION in m.text)

    # The dashboard counts it and leads to the inbox's open conversations.
    sign_in(page, admin)
    expect(page.get_by_text("1 conversation is waiting for a reply.")).to_be_visible()
    page.get_by_role("link", name="Answer them in the inbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    expect(page.get_by_role("link", name="Waiting for a reply (1)")).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row").filter(has_text="Conversation #1")
    expect(row).to_contain_text("GP opening hours")
    expect(row).to_contain_text("Waiting for a reply")
    expect(row).to_contain_text("English")
    expect(row).to_contain_text("Not answered yet")
    screenshot(page, "inbox")
    assert serious_accessibility_problems(page) == []

    # The conversation, and a reply from the page.
    row.get_by_role("link", name="Conversation #1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversation #1")
    expect(page.get_by_text(QUESTION)).to_be_visible()
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("alert")).to_contain_text("Write your reply")
    assert serious_accessibility_problems(page) == []
    page.get_by_label("Your reply").fill(PAGE_REPLY)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Your reply was sent to the resident")
    answer = fake.wait_for_message(amina.chat_id, predicate=lambda m: "Reply from the engagement team" in m.text)
    assert answer.text == (
        f"Reply from the engagement team\n\n{PAGE_REPLY}\n\nYou can reply to this message to answer them."
    )
    expect(page.get_by_text(PAGE_REPLY)).to_be_visible()
    told = fake.wait_for_message(team, predicate=lambda m: "Answered from the workspace" in m.text)
    assert told.text == f"Answered from the workspace by Olu (conversation #1):\n\n{PAGE_REPLY}"
    expect(page.locator(".inbox-message-team")).to_contain_text("Olu")

    # The resident answers the reply; an officer answers that in the group: both show on the page.
    mark = fake.mark(team)
    reply_mark = fake.mark(amina.chat_id)
    fake.send_text(amina.user, "And on bank holidays?", reply_to=answer)
    assert fake.wait_for_message(amina.chat_id, since=reply_mark).text == SENT
    follow_up = fake.wait_for_message(team, since=mark, predicate=lambda m: "bank holidays?" in m.text)
    mark = fake.mark(team)
    fake.send_text(admin.user, GROUP_REPLY, chat_id=team, reply_to=follow_up)
    fake.wait_for_message(amina.chat_id, predicate=lambda m: GROUP_REPLY in m.text)
    fake.wait_for_message(team, since=mark, predicate=lambda m: "Sent to the resident by Olu" in m.text)
    page.reload()
    messages = page.locator(".inbox-message-text")
    expect(messages).to_have_text([QUESTION, PAGE_REPLY, "And on bank holidays?", GROUP_REPLY])
    screenshot(page, "inbox-conversation")
    assert serious_accessibility_problems(page) == []

    page.get_by_role("link", name="Back to the inbox").click()
    row = page.get_by_role("row").filter(has_text="Conversation #1")
    expect(row).to_contain_text("Answered")
    expect(row).to_contain_text("Olu")
    expect(row.get_by_role("cell").nth(3)).not_to_have_text("–")

    # Close: it leaves the open list, and is in the audit log with the replies.
    row.get_by_role("link", name="Conversation #1").click()
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "inbox-conversation-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert serious_accessibility_problems(page) == []
    page.get_by_role("button", name="Close conversation").click()
    expect(page.get_by_role("status")).to_contain_text("Conversation #1 is closed.")
    expect(page.get_by_role("link", name="Waiting for a reply (0)")).to_be_visible()
    expect(page.get_by_role("link", name="Closed (1)")).to_be_visible()
    screenshot(page, "inbox-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # only the table scrolls
    assert serious_accessibility_problems(page) == []
    assert inbox_bot.query("SELECT action, detail FROM audit_log WHERE action LIKE 'contact%' ORDER BY id") == [
        ("contact reply", "conversation #1, by Olu"),
        ("contact reply", "conversation #1, by Olu"),
        ("contact close", "conversation #1"),
    ]
    page.goto(workspace(inbox_bot, "/"))
    expect(page.get_by_text("No conversation is waiting for a reply.")).to_be_visible()
    assert "pharmacy" not in inbox_bot.log() and "bank holidays" not in inbox_bot.log()
