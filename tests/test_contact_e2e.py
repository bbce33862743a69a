"""End to end: /contact, a resident's message to the engagement team and the team's reply.

The officers' chat is a group the bot is in, named by `officers_chat_id` in the deployment file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.community import join, open_for_years
from tests.e2e_support import DATA, EXAMPLES, BotProcess, Resident, bot_database
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

SENT = "Thank you. Your message has been sent to the engagement team. They will reply here."
QUESTION = "Is the <Saturday> clinic & pharmacy open?"
ADMIN_ID = 990_000_001


@pytest.fixture
def team(fake: FakeTelegram) -> int:
    return fake.add_group("Engagement team")


@pytest.fixture
def contact_bot(fake: FakeTelegram, team: int, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[BotProcess]:
    """The bot with the officers' group, started (on both backends in a test that takes `database_target`)."""
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(
        (DATA / "deployment.yaml").read_text(encoding="utf-8") + f"officers_chat_id: {team}\n", encoding="utf-8"
    )
    process = BotProcess(
        fake,
        tmp_path,
        bot_database(request),
        HAVEYOURSAY_CONFIG=str(deployment),
        HAVEYOURSAY_ADMINS=str(ADMIN_ID),
    )
    process.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    try:
        yield process.start()
    finally:
        process.stop()


def in_team_chat(fake: FakeTelegram, team: int, mark: int, fragment: str) -> BotMessage:
    return fake.wait_for_message(team, since=mark, predicate=lambda m: fragment in m.text)


def make_officer(bot: BotProcess, user: FakeUser) -> None:
    """What /addofficer does, written straight into the bot's database."""
    bot.query(
        "INSERT INTO officers(user_id, role, added_by, added_at) VALUES (?, 'officer', ?, '2026-01-01T00:00:00+00:00')",
        user.id,
        ADMIN_ID,
    )


def test_a_message_reaches_the_team_and_the_conversation_goes_both_ways(
    contact_bot: BotProcess, fake: FakeTelegram, team: int, database_target: str
) -> None:
    amina = join(fake, "Amina", "en-GB")
    officer = fake.add_user("Priya", language_code="en")
    make_officer(contact_bot, officer)

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
    in_team_chat(fake, team, mark, "Sent to the resident by Priya.")

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
    mark = fake.mark(team)
    fake.send_text(officer, "Closed on bank holidays.", chat_id=team, reply_to=follow_up)
    fake.wait_for_message(amina.chat_id, predicate=lambda m: "Closed on bank holidays." in m.text)
    in_team_chat(fake, team, mark, "Sent to the resident by Priya.")  # told once the reply is kept
    assert not [m for m in fake.messages(amina.chat_id) if "x" * 100 in m.text]

    # What was said is kept with the conversation (the workspace's inbox shows it), and nowhere else.
    assert contact_bot.query("SELECT chat_id, consultation_id FROM contact_threads") == [
        (amina.chat_id, "gp-opening-hours")
    ]
    assert contact_bot.query("SELECT chat_id, from_team, officer_id, text FROM contact_texts ORDER BY id") == [
        (amina.chat_id, 0, None, QUESTION),
        (amina.chat_id, 1, officer.id, "Yes, 9 to 12 <b>every</b> Saturday & Sunday"),
        (amina.chat_id, 0, None, "Thank you! And on bank holidays?"),
        (amina.chat_id, 1, officer.id, "Closed on bank holidays."),
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


def test_only_officers_replies_reach_the_resident_and_each_is_attributed(
    contact_bot: BotProcess, fake: FakeTelegram, team: int
) -> None:
    amina = join(fake, "Amina", "en-GB")
    officer = fake.add_user("Priya", language_code="en", last_name="Shah & <Co>")
    make_officer(contact_bot, officer)
    stranger = fake.add_user("Mallory", language_code="en")
    admin = fake.add_user("Olu", language_code="en", user_id=ADMIN_ID)

    amina.say("/contact", expect="Which consultation")
    amina.tap("GP opening hours", expect="Please type your message")
    mark = fake.mark(team)
    amina.say(QUESTION, expect=SENT)
    to_team = in_team_chat(fake, team, mark, QUESTION)
    assert contact_bot.query("SELECT state FROM contact_threads") == [("open",)]

    # Someone in the group who is not an officer: a short note there, nothing to the resident.
    mark = fake.mark(team)
    fake.send_text(stranger, "Click http://evil.example to claim your refund", chat_id=team, reply_to=to_team)
    note = in_team_chat(fake, team, mark, "Only officers")
    assert note.text == "Only officers can reply to residents. Nothing was sent."
    fake.wait_until_idle()
    assert not [m for m in fake.messages(amina.chat_id) if "evil.example" in m.text]
    assert contact_bot.query("SELECT state FROM contact_threads") == [("open",)]

    # An officer: it reaches the resident, and the thread says who answered.
    mark = fake.mark(team)
    fake.send_text(officer, "Yes, 9 to 12.", chat_id=team, reply_to=to_team)
    fake.wait_for_message(amina.chat_id, predicate=lambda m: "Yes, 9 to 12." in m.text)
    assert in_team_chat(fake, team, mark, "Sent to the resident").text == (
        "Sent to the resident by Priya Shah & <Co>. Conversation #1 is answered."
    )
    assert contact_bot.query("SELECT state FROM contact_threads") == [("answered",)]

    # An admin (set in HAVEYOURSAY_ADMINS) may reply too.
    mark = fake.mark(team)
    fake.send_text(admin, "And 2 to 5 on Sundays.", chat_id=team, reply_to=to_team)
    fake.wait_for_message(amina.chat_id, predicate=lambda m: "2 to 5 on Sundays" in m.text)
    in_team_chat(fake, team, mark, "Sent to the resident by Olu.")

    audited = contact_bot.query("SELECT actor_id, action, detail FROM audit_log WHERE action = 'contact reply'")
    assert audited == [
        (officer.id, "contact reply", "conversation #1, by Priya Shah & <Co>"),
        (ADMIN_ID, "contact reply", "conversation #1, by Olu"),
    ]
    for table in ("audit_log", "contact_threads"):
        assert "9 to 12" not in repr(contact_bot.query(f"SELECT * FROM {table}")), "never what was said"

    # The resident answers back: the thread is open again, and /audit lists the replies.
    mark = fake.mark(amina.chat_id)
    fake.send_text(amina.user, "Thanks!", reply_to=fake.last_message(amina.chat_id))
    assert fake.wait_for_message(amina.chat_id, since=mark).text == SENT
    assert contact_bot.query("SELECT state FROM contact_threads") == [("open",)]
    audit = Resident(fake, admin).say("/audit", expect="Recent officer actions")
    # The officer by the name Telegram gives (escaped), as the workspace's audit page shows them.
    assert "Priya Shah & <Co> · contact reply · conversation #1, by Priya Shah & <Co>" in audit.text


def test_a_group_upgraded_to_a_supergroup_is_followed_and_the_admins_are_told(
    fake: FakeTelegram, team: int, tmp_path: Path
) -> None:
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(
        (DATA / "deployment.yaml").read_text(encoding="utf-8") + f"officers_chat_id: {team}\n", encoding="utf-8"
    )
    bot = BotProcess(fake, tmp_path, HAVEYOURSAY_CONFIG=str(deployment), HAVEYOURSAY_ADMINS=str(ADMIN_ID))
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    admin = fake.add_user("Olu", language_code="en", user_id=ADMIN_ID)
    fake.mark_started(admin)
    officer = fake.add_user("Priya", language_code="en")
    make_officer(bot, officer)
    # Telegram upgrades the group while the bot is down: its service messages are not seen.
    supergroup = fake.migrate_group(team, announce=False)
    bot.start()
    try:
        amina = join(fake, "Amina", "en-GB")
        amina.say("/contact", expect="Which consultation")
        amina.tap("Something else", expect="Please type your message")
        assert amina.say("Is parking free?").text == SENT
        to_team = fake.wait_for_message(supergroup, predicate=lambda m: "Is parking free?" in m.text)
        told = fake.wait_for_message(admin.id, predicate=lambda m: "supergroup" in m.text)
        assert told.text == (
            "Telegram upgraded the officers' group to a supergroup with a new id, "
            f"{supergroup}. Messages to the team now go there. "
            f"Please put officers_chat_id: {supergroup} in the deployment file."
        )
        assert bot.query("SELECT COUNT(*) FROM contact_threads") == [(1,)]
        assert bot.query("SELECT value FROM meta WHERE key = ?", f"officers_chat_moved:{team}") == [(str(supergroup),)]

        # Replies in the new group reach the resident.
        fake.send_text(officer, "Yes, after 6pm.", chat_id=supergroup, reply_to=to_team)
        fake.wait_for_message(amina.chat_id, predicate=lambda m: "Yes, after 6pm." in m.text)

        # After a restart the new id is used straight away (stored in the database).
        bot.stop()
        bot.start()
        failed = len(fake.errors)
        amina.say("/contact", expect="Which consultation")
        amina.tap("Something else", expect="Please type your message")
        assert amina.say("And on Sundays?").text == SENT
        fake.wait_for_message(supergroup, predicate=lambda m: "And on Sundays?" in m.text)
        assert fake.errors[failed:] == []
        assert len([m for m in fake.messages(admin.id) if "supergroup" in m.text]) == 1
    finally:
        bot.stop()
    assert "Traceback" not in bot.log()


def test_a_message_the_team_cannot_be_sent_leaves_no_thread_behind(
    contact_bot: BotProcess, fake: FakeTelegram, team: int
) -> None:
    amina = join(fake, "Amina", "en-GB")
    amina.say("/contact", expect="Which consultation")
    amina.tap("Something else", expect="Please type your message")
    kicked = "Forbidden: bot was kicked from the group chat"
    fake.fail_next("sendMessage", chat_id=team, error_code=403, description=kicked)
    amina.say("Is parking free?", expect="Sorry")
    fake.wait_until_idle()
    assert contact_bot.query("SELECT COUNT(*) FROM contact_threads") == [(0,)]
    # The message was not lost: sent again, it goes through.
    assert amina.say("Is parking free?").text == SENT
    assert contact_bot.query("SELECT COUNT(*) FROM contact_threads") == [(1,)]


def test_telegrams_notice_of_the_upgrade_is_followed_at_once(
    contact_bot: BotProcess, fake: FakeTelegram, team: int
) -> None:
    admin = fake.add_user("Olu", language_code="en", user_id=ADMIN_ID)
    fake.mark_started(admin)
    supergroup = fake.migrate_group(team)
    fake.wait_for_message(admin.id, predicate=lambda m: str(supergroup) in m.text)
    amina = join(fake, "Amina", "en-GB")
    amina.say("/contact", expect="Which consultation")
    amina.tap("Something else", expect="Please type your message")
    assert amina.say("Is parking free?").text == SENT
    fake.wait_for_message(supergroup, predicate=lambda m: "Is parking free?" in m.text)
    assert not [c for c in fake.errors if c.method == "sendMessage"], "nothing was sent to the old id"
