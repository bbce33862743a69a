"""End to end: what a resident types goes where they think it goes.

The last screen that asked for typed text owns the next typed text: a step the resident left by a
command, a menu button or another button is over; a reply from the team is answered by typing; a
resident back after a long gap sees their question again before anything typed counts as an answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.community import catalogs, join, open_for_years, translator
from tests.e2e_support import DATA, EXAMPLES, BotProcess, Resident, bot_database
from tests.fake_telegram import BotMessage, FakeTelegram, FakeUser

ANSWER = "The carers change every day"
SENT = "Thank you. Your message has been sent to the engagement team. They will reply here."
ASK = "Is this message for the engagement team, or your answer to the survey question?"


@pytest.fixture
def team(fake: FakeTelegram) -> int:
    return fake.add_group("Engagement team")


@pytest.fixture
def priya(fake: FakeTelegram) -> FakeUser:
    """An officer in the officers' chat: only officers' replies reach residents."""
    return fake.add_user("Priya", language_code="en")


@pytest.fixture
def gp_bot(
    fake: FakeTelegram, team: int, priya: FakeUser, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[BotProcess]:
    """The bot with the GP consultation open and an officers' chat for /contact (on both backends in a test
    that takes `database_target`)."""
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(
        (DATA / "deployment.yaml").read_text(encoding="utf-8") + f"officers_chat_id: {team}\n", encoding="utf-8"
    )
    process = BotProcess(
        fake, tmp_path, bot_database(request), HAVEYOURSAY_CONFIG=str(deployment), HAVEYOURSAY_ADMINS=str(priya.id)
    )
    process.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    try:
        yield process.start()
    finally:
        process.stop()


def to_the_text_question(resident: Resident, listing: BotMessage) -> BotMessage:
    """From a list of consultations to the GP survey's first free-text question (question 4)."""
    resident.tap("GP opening hours", on=listing, expect="Take part")
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("In the last week", expect="Question 2 of 7")
    resident.tap("⬜ Saturday", expect="✅ Saturday")
    resident.tap("Done", expect="Question 3 of 7")
    return resident.tap("1", expect="Question 4 of 7")


def stored_states(bot: BotProcess) -> str:
    return repr(bot.query("SELECT state, answers FROM responses"))


def test_leaving_the_area_question_by_a_command_ends_it(gp_bot: BotProcess, fake: FakeTelegram) -> None:
    amina = Resident(fake, fake.add_user("Amina", language_code="en-GB"))
    amina.say("/start", expect="Your privacy")
    amina.tap("I understand", expect="Which area do you live in?")
    listing = amina.say("/consultations", expect="Open consultations")
    to_the_text_question(amina, listing)
    answered = amina.say(ANSWER)
    assert "Question 5 of 7" in answered.text, "a survey answer, not an area"
    assert "don't know that area" not in answered.text
    assert ANSWER in stored_states(gp_bot)


def test_leaving_change_my_area_by_the_menu_or_a_button_ends_it(gp_bot: BotProcess, fake: FakeTelegram) -> None:
    amina = join(fake, "Amina", "en-GB")
    amina.say("/settings", expect="Change my area")
    amina.tap("Change my area", expect="Which area do you live in?")
    fake.tap_reply_button(amina.user, "📋 Consultations")
    listing = fake.wait_for_message(amina.chat_id, predicate=lambda m: "Open consultations" in m.text)
    to_the_text_question(amina, listing)
    assert "Question 5 of 7" in amina.say(ANSWER).text

    # The same with a button: "Take part" on a card ends the area question.
    tom = join(fake, "Tom", "en-GB")
    listing = tom.say("/consultations", expect="Open consultations")
    tom.tap("GP opening hours", on=listing, expect="Take part")
    card = tom.latest_with_buttons()
    tom.say("/settings", expect="Change my area")
    tom.tap("Change my area", expect="Which area do you live in?")
    tom.tap("Take part", on=card, expect="Question 1 of 7")
    tom.tap("In the last week", expect="Question 2 of 7")
    tom.tap("⬜ Saturday", expect="✅ Saturday")
    tom.tap("Done", expect="Question 3 of 7")
    tom.tap("1", expect="Question 4 of 7")
    assert "Question 5 of 7" in tom.say(ANSWER).text
    assert gp_bot.query("SELECT area_id FROM residents WHERE chat_id = ?", tom.chat_id) == [(None,)]


def team_answers(
    fake: FakeTelegram, team: int, officer: FakeUser, resident: Resident, question: str, answer: str
) -> BotMessage:
    """The team replies (with Telegram's Reply gesture, in their chat) to the resident's message."""
    to_team = fake.wait_for_message(team, predicate=lambda m: question in m.text)
    fake.send_text(officer, answer, chat_id=team, reply_to=to_team)
    return fake.wait_for_message(resident.chat_id, predicate=lambda m: answer in m.text)


def test_a_plain_reply_to_the_team_reaches_the_team(
    gp_bot: BotProcess, fake: FakeTelegram, team: int, priya: FakeUser
) -> None:
    amina = join(fake, "Amina", "en-GB")
    amina.say("/contact", expect="Which consultation")
    amina.tap("Something else", expect="Please type your message")
    assert amina.say("Is the clinic open on Saturday?").text == SENT
    team_answers(fake, team, priya, amina, "Saturday?", "Yes, 9 to 12.")

    mark = fake.mark(team)
    assert amina.say("And on bank holidays?").text == SENT, "no Reply gesture, and still for the team"
    follow_up = fake.wait_for_message(team, since=mark, predicate=lambda m: "bank holidays" in m.text)
    assert follow_up.text.startswith("Message from a resident (conversation #1, language: English)")

    # Once the resident goes elsewhere, typed text is no longer taken for the team; and the bot never
    # thanks them for a message nobody will read.
    amina.say("/help", expect="How to use Have Your Say")
    mark = fake.mark(team)
    nobody = amina.say("Hello?")
    assert "Thank you" not in nobody.text and "/contact" in nobody.text
    fake.wait_until_idle()
    assert [m for m in fake.messages(team) if m.seq > mark] == []


def test_mid_survey_a_plain_reply_to_the_team_is_never_taken_as_an_answer(
    gp_bot: BotProcess, fake: FakeTelegram, team: int, priya: FakeUser, database_target: str
) -> None:
    amina = join(fake, "Amina", "en-GB")
    to_the_text_question(amina, amina.say("/consultations", expect="Open consultations"))
    amina.say("/contact", expect="Which consultation")
    amina.tap("GP opening hours", expect="Please type your message")
    assert amina.say("What does question 4 mean?").text == SENT
    team_answers(fake, team, priya, amina, "question 4", "Anything about your carers.")

    mark = fake.mark(team)
    asked = amina.say("Is that the home carers?", expect=ASK)
    assert asked.labels == ["Send it to the team", "It is my answer"]
    sent = amina.tap("Send it to the team", expect=SENT)
    assert "Question 4 of 7" in amina.then(sent).text, "the question is shown again"
    fake.wait_for_message(team, since=mark, predicate=lambda m: "home carers" in m.text)
    assert "home carers" not in stored_states(gp_bot)

    amina.say(ANSWER, expect=ASK)
    assert "Question 5 of 7" in amina.tap("It is my answer", expect="Question 5 of 7").text
    assert ANSWER in stored_states(gp_bot)
    # The team's answer is behind them now: what they type answers the survey.
    amina.tap("Yes", expect="Question 6 of 7")
    assert "Question 7 of 7" in amina.say("3").text
    fake.wait_until_idle()
    team_texts = " ".join(m.text for m in fake.messages(team))
    assert ANSWER not in team_texts


def test_a_resident_back_after_a_long_gap_sees_the_question_before_typing_counts(
    gp_bot: BotProcess, fake: FakeTelegram
) -> None:
    amina = join(fake, "Amina", "en-GB")
    to_the_text_question(amina, amina.say("/consultations", expect="Open consultations"))
    gp_bot.stop()
    gp_bot.query("UPDATE residents SET last_seen_at = '2026-01-01T09:00:00+00:00'")  # a day away (and a restart)
    gp_bot.start()

    again = amina.say("hi")
    assert again.text.startswith("Welcome back. Here is where you left off:")
    assert "Question 4 of 7" in again.text
    assert "'hi'" not in stored_states(gp_bot) and '"hi"' not in stored_states(gp_bot)
    assert "Question 5 of 7" in amina.say(ANSWER).text, "once the question is on screen, typing answers it"
    assert ANSWER in stored_states(gp_bot)


def test_an_officer_pasting_a_notice_in_every_language_is_not_stopped_as_a_flood(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """Officers' own drafting is not flood-limited (residents are; what is sent goes through the queue)."""
    admin = Resident(fake, fake.add_user("Olu", language_code="en"))
    process = BotProcess(fake, tmp_path, HAVEYOURSAY_ADMINS=str(admin.chat_id))
    t = translator("en")
    others = [code for code in catalogs().languages if code != "en"]
    assert len(others) >= 10
    try:
        process.start()
        for attempt in ("a first try, cancelled", "the notice"):
            admin.say("/broadcast", expect="Send me the notice, in English.")
            admin.say(f"Flu jabs on Saturday: {attempt}", expect="The notice is ready in: English.")
            for code in others:
                admin.tap(t.language_label(code), expect=f"Send me the notice in {t.language_label(code)}.")
                ready = admin.say(f"Flu jabs on Saturday ({code})", expect="The notice is ready in:")
                assert t.language_label(code) in ready.text
            if attempt.startswith("a first"):
                admin.say("/cancel", expect="Cancelled. Nothing was sent.")
        assert "No more languages" in ready.labels
        assert not [m for m in fake.messages(admin.chat_id) if "very quickly" in m.text]
    finally:
        process.stop()


def test_after_a_restart_a_greeting_or_a_message_sent_while_the_bot_was_down_is_not_an_answer(
    gp_bot: BotProcess, fake: FakeTelegram
) -> None:
    amina = join(fake, "Amina", "en-GB")
    to_the_text_question(amina, amina.say("/consultations", expect="Open consultations"))
    gp_bot.stop()
    mark = fake.mark(amina.chat_id)
    fake.send_text(amina.user, "hello?")  # while the bot is down
    gp_bot.start()
    again = fake.wait_for_message(amina.chat_id, since=mark, predicate=lambda m: "Welcome back" in m.text)
    assert "Question 4 of 7" in again.text
    assert "hello" not in stored_states(gp_bot)
    assert "Question 5 of 7" in amina.say(ANSWER).text, "once the question is on screen, typing answers it"


def test_an_officer_who_leaves_a_notice_half_written_answers_a_survey_as_anyone_else(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    admin = Resident(fake, fake.add_user("Olu", language_code="en"))
    process = BotProcess(fake, tmp_path, HAVEYOURSAY_ADMINS=str(admin.chat_id))
    process.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    try:
        process.start()
        admin.say("/start", expect="Your privacy")
        admin.tap("I understand", expect="Which area do you live in?")
        admin.tap("Skip", expect="What would you like to hear about?")
        admin.then(admin.tap("Done", expect="You're all set"))
        admin.say("/broadcast", expect="Send me the notice, in English.")
        to_the_text_question(admin, admin.say("/consultations", expect="Open consultations"))
        assert "Question 5 of 7" in admin.say(ANSWER).text, "a survey answer, not the notice"
        assert process.query("SELECT COUNT(*) FROM drafts") == [(0,)]
        assert ANSWER in stored_states(process)
    finally:
        process.stop()
