"""End to end: /contact, a resident's message to the engagement team and the team's reply.

The officers' chat is a group the bot is in, named by `officers_chat_id` in the deployment file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.community import join, open_for_years
from tests.e2e_support import DATA, EXAMPLES, BotProcess
from tests.fake_telegram import BotMessage, FakeTelegram

SENT = "Thank you. Your message has been sent to the engagement team. They will reply here."
QUESTION = "Is the <Saturday> clinic & pharmacy open?"


@pytest.fixture
def team(fake: FakeTelegram) -> int:
    return fake.add_group("Engagement team")


@pytest.fixture
def contact_bot(fake: FakeTelegram, team: int, tmp_path: Path) -> Iterator[BotProcess]:
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(
        (DATA / "deployment.yaml").read_text(encoding="utf-8") + f"officers_chat_id: {team}\n", encoding="utf-8"
    )
    process = BotProcess(fake, tmp_path, HAVEYOURSAY_CONFIG=str(deployment))
    process.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    try:
        yield process.start()
    finally:
        process.stop()


def in_team_chat(fake: FakeTelegram, team: int, mark: int, fragment: str) -> BotMessage:
    return fake.wait_for_message(team, since=mark, predicate=lambda m: fragment in m.text)


def test_a_message_reaches_the_team_and_the_conversation_goes_both_ways(
    contact_bot: BotProcess, fake: FakeTelegram, team: int
) -> None:
    amina = join(fake, "Amina", "en-GB")
    officer = fake.add_user("Priya", language_code="en")

    choose = amina.say("/contact", expect="Which consultation is your message about?")
    assert choose.labels == ["GP opening hours", "Something else", "Cancel"]
    amina.tap("GP opening hours", expect="Please type your message and send it.")
    mark = fake.mark(team)
    assert amina.say(QUESTION).text == SENT

    to_team = in_team_chat(fake, team, mark, QUESTION)
    assert to_team.text == (
        "Message from a resident (conversation #1, language: English)\n"
        "About: GP opening hours\n\n"
        f"{QUESTION}\n\n"
        "Reply to this message to answer the resident."
    )
    assert str(amina.chat_id) not in to_team.text, "the team sees a conversation number, not who it is"

    mark = fake.mark(team)
    fake.send_text(officer, "Yes, 9 to 12 <b>every</b> Saturday & Sunday", chat_id=team, reply_to=to_team)
    answer = fake.wait_for_message(amina.chat_id, predicate=lambda m: "Reply from the engagement team" in m.text)
    assert answer.text == (
        "Reply from the engagement team\n\n"
        "Yes, 9 to 12 <b>every</b> Saturday & Sunday\n\n"
        "You can reply to this message to answer them."
    )
    in_team_chat(fake, team, mark, "Sent to the resident.")

    mark = fake.mark(team)
    reply_mark = fake.mark(amina.chat_id)
    fake.send_text(amina.user, "Thank you! And on bank holidays?", reply_to=answer)
    assert fake.wait_for_message(amina.chat_id, since=reply_mark).text == SENT
    follow_up = in_team_chat(fake, team, mark, "bank holidays")
    assert follow_up.text.startswith("Message from a resident (conversation #1, language: English)")

    mark = fake.mark(team)
    fake.send_text(officer, "x" * 3600, chat_id=team, reply_to=follow_up)
    assert in_team_chat(fake, team, mark, "too long").text == (
        "Your message is too long. Please keep it under 3500 characters."
    )
    fake.send_text(officer, "Closed on bank holidays.", chat_id=team, reply_to=follow_up)
    fake.wait_for_message(amina.chat_id, predicate=lambda m: "Closed on bank holidays." in m.text)
    assert not [m for m in fake.messages(amina.chat_id) if "x" * 100 in m.text]

    # Only which message belongs to which conversation is stored, never what was said.
    assert contact_bot.query("SELECT chat_id, consultation_id FROM contact_threads") == [
        (amina.chat_id, "gp-opening-hours")
    ]
    for table in ("contact_threads", "contact_messages", "drafts", "deliveries", "audit_log"):
        stored = repr(contact_bot.query(f"SELECT * FROM {table}"))
        assert "Saturday" not in stored and "bank holidays" not in stored, table
    assert "pharmacy" not in contact_bot.log() and "bank holidays" not in contact_bot.log()


def test_cancel_or_going_elsewhere_sends_nothing_to_the_team(
    contact_bot: BotProcess, fake: FakeTelegram, team: int
) -> None:
    amina = join(fake, "Amina", "en-GB")
    amina.say("/contact", expect="Which consultation")
    assert amina.tap("Cancel").text == "Cancelled. Nothing was sent."

    amina.say("/contact", expect="Which consultation")
    amina.tap("Something else", expect="Please type your message")
    listing = amina.say("/consultations", expect="Open consultations")
    amina.tap("GP opening hours", on=listing, expect="Take part")
    amina.tap("Take part", expect="Question 1 of 7")
    amina.tap("In the last week", expect="Question 2 of 7")
    amina.tap("⬜ Saturday", expect="✅ Saturday")
    amina.tap("Done", expect="Question 3 of 7")
    amina.tap("1", expect="Question 4 of 7")
    assert "Question 5 of 7" in amina.say("Nobody answers the phone").text, "a survey answer, not a message"

    amina.say("/contact", expect="Which consultation")
    amina.tap("Something else", expect="Please type your message")
    fake.tap_reply_button(amina.user, "📋 Consultations")
    fake.wait_for_message(amina.chat_id, predicate=lambda m: "Open consultations" in m.text)
    fake.wait_until_idle()
    assert fake.messages(team) == [], "nothing reached the team"
    assert contact_bot.query("SELECT COUNT(*) FROM contact_threads") == [(0,)]


def test_a_resident_in_the_middle_of_a_survey_can_ask_a_question_about_it(
    contact_bot: BotProcess, fake: FakeTelegram, team: int
) -> None:
    amina = join(fake, "Amina", "en-GB")
    listing = amina.say("/consultations", expect="Open consultations")
    amina.tap("GP opening hours", on=listing, expect="Take part")
    amina.tap("Take part", expect="Question 1 of 7")
    amina.say("/contact", expect="Which consultation")
    amina.tap("GP opening hours", expect="Please type your message")
    mark = fake.mark(team)
    assert amina.say("What does 'contact' mean here?").text == SENT
    assert "About: GP opening hours" in in_team_chat(fake, team, mark, "What does").text
    resumed = amina.say("/start", expect="Here is where you left off")
    assert "Question 1 of 7" in resumed.text


def test_without_an_officers_chat_the_resident_is_given_the_contact_details(
    bot: BotProcess, fake: FakeTelegram
) -> None:
    bot.start()
    amina = join(fake, "Amina", "en-GB")
    answer = amina.say("/contact")
    assert answer.text == "You can contact the engagement team at: engage@swale.example.nhs.uk"
    assert answer.labels == []
