"""End to end: the real `haveyoursay run` process, a fake Bot API server, a resident tapping buttons."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conversations.i18n import Catalogs
from tests.e2e_support import DATA, EXAMPLES, BotProcess, Resident, submit_after_saturday
from tests.fake_telegram import BotMessage, FakeTelegram

RESIDENT_COMMANDS = [
    "consultations",
    "outcomes",
    "settings",
    "contact",
    "mydata",
    "aboutme",
    "delete",
    "language",
    "help",
]


def open_for_years(example: Path, folder: Path) -> Path:
    """A copy of a consultation file that is open from 2020 to 2099, so tests do not age."""
    text = example.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^opens: .*$", "opens: 2020-01-01T09:00:00Z", text)
    text = re.sub(r"(?m)^closes: .*$", "closes: 2099-12-31T23:59:00Z", text)
    copy = folder / example.name
    copy.write_text(text, encoding="utf-8")
    return copy


def at_the_first_question(bot: BotProcess, resident: Resident, folder: Path) -> BotMessage:
    """The bot running with the GP consultation open, and the resident at its first question."""
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", folder))
    bot.start()
    resident.tap("GP opening hours", on=onboard(resident), expect="Take part")
    return resident.tap("Take part", expect="Question 1 of 7")


def onboard(resident: Resident) -> BotMessage:
    """Acknowledge the privacy notice, skip area and interests; return the list of consultations."""
    resident.say("/start", expect="Your privacy")
    resident.tap("I understand", expect="Which area do you live in?")
    resident.tap("Skip", expect="What would you like to hear about?")
    return resident.then(resident.tap("Done", expect="You're all set"))


@pytest.fixture
def bot_on_each_backend(fake: FakeTelegram, tmp_path: Path, database_target: str) -> Iterator[BotProcess]:
    """The real bot on an SQLite file, then on a PostgreSQL database (HAVEYOURSAY_DB=postgresql://...)."""
    process = BotProcess(fake, tmp_path, database_url=None if database_target.endswith(".db") else database_target)
    try:
        yield process
    finally:
        process.stop()
    if process.database_url:
        assert not process.database.exists(), "the bot used an SQLite file, not PostgreSQL"
        assert "Using the database postgresql://" in process.log()


def test_a_resident_takes_part_from_first_contact_to_receipt(
    bot_on_each_backend: BotProcess, resident: Resident, tmp_path: Path, fake: FakeTelegram
) -> None:
    bot = bot_on_each_backend
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()

    welcome = resident.say("/start", expect="Your privacy")
    assert "Welcome to Have Your Say from Swale Health and Care Partnership." in welcome.text
    assert "Cymraeg" in welcome.labels
    assert bot.query("SELECT COUNT(*) FROM residents") == [(0,)], "nothing is stored before the notice is acknowledged"

    resident.tap("I understand", expect="Which area do you live in?")
    resident.say("ME10 1AB", expect="What would you like to hear about?")
    topics = resident.tap("⬜ GP and primary care", expect="What would you like to hear about?")
    assert "✅ GP and primary care" in topics.labels
    listing = resident.tap("Done", expect="Open consultations")
    assert "GP opening hours" in listing.text and "Closes on 31 December 2099" in listing.text
    assert fake.reply_keyboard(resident.chat_id) == [["📋 Consultations"], ["🌐 Language", "❓ Help"]]

    card = resident.tap("GP opening hours", expect="What you can influence")
    for heading in ("What you cannot influence", "Who decides, and when", "Questions or concerns"):
        assert heading in card.text
    question = resident.tap("Take part", expect="Question 1 of 7")
    assert "When did you last contact your GP practice?" in question.text

    # Odd input gets a kind reminder and the same question; nothing is recorded.
    assert "Question 1 of 7" in resident.send(fake.send_sticker, expect="I can only read text").text
    assert "Question 1 of 7" in resident.say("hello", expect="Please answer by tapping").text

    resident.tap("In the last week", expect="Question 2 of 7")
    resident.tap("⬜ Before 8am", expect="✅ Before 8am")
    resident.tap("⬜ After 6:30pm", expect="Question 2 of 7")
    resident.tap_and_settle("⬜ Saturday")
    assert resident.last_notice() == "You can choose up to 2 answers. Untick one to choose another."
    resident.tap("Done", expect="Question 3 of 7")
    resident.tap("2", expect="Question 4 of 7")

    too_long = resident.say("x" * 1001, expect="Your answer is too long")
    assert "Question 4 of 7" in too_long.text
    resident.say("The phone line is always busy <before> 8am & I give up", expect="Question 5 of 7")
    back = resident.tap("« Back", expect="Question 4 of 7")
    assert "Your answer so far: The phone line is always busy <before> 8am & I give up" in back.text
    resident.tap("Keep this answer", expect="Question 5 of 7")
    resident.tap("Yes", expect="Question 6 of 7")
    assert "Please type a number" in resident.say("lots", expect="Question 6 of 7").text
    resident.say("15", expect="Question 7 of 7")
    review = resident.say("Sheerness", expect="Please check your answers")
    assert "What makes it hard?" in review.text

    # Change the rating so that the follow-up question no longer applies.
    resident.tap("Change an answer", expect="Which answer do you want to change?")
    resident.tap("3. How easy is it to get an appointment?", expect="Question 3 of")
    review = resident.tap("4", expect="Please check your answers")
    assert "What makes it hard?" not in review.text

    receipt = resident.tap("Submit", expect="We have received your answers")
    assert "The partnership board, in March 2027." in receipt.text

    [(answers, language)] = bot.query("SELECT answers, language FROM responses WHERE submitted_at IS NOT NULL")
    assert json.loads(answers) == {
        "last_visit": "week",
        "good_times": ["early", "evening"],
        "rating": 4,
        "online": "yes",
        "travel_minutes": 15,
        "home_area": "sheerness",
    }
    assert language == "en"
    assert bot.query("SELECT area_id FROM residents") == [("sittingbourne",)]
    assert bot.query("SELECT topic_id FROM resident_topics") == [("primary-care",)]
    stored = json.dumps(bot.query("SELECT * FROM responses"))
    assert str(resident.chat_id) not in stored, "responses never carry the Telegram id"

    again = resident.say("/start gp-opening-hours", expect="GP opening hours")
    assert "You have already taken part in this consultation. Thank you!" in again.text
    assert "Take part" not in again.labels

    log = bot.log()
    assert "Application started" in log
    assert fake.token not in log and fake.token.split(":")[1] not in log
    assert "phone line is always busy" not in log, "answers are never logged"


def test_a_welsh_speaker_is_greeted_in_welsh_and_gets_welsh_commands(bot: BotProcess, fake: FakeTelegram) -> None:
    bot.start()
    resident = Resident(fake, fake.add_user("Gwen", language_code="cy-GB"))
    welcome = resident.say("/start", expect="preifatrwydd")
    assert "English" in welcome.labels
    assert [c["command"] for c in fake.commands(language_code="cy")] == RESIDENT_COMMANDS
    english = resident.tap("English", expect="Your privacy")
    assert "Cymraeg" in english.labels


def test_a_survey_survives_sigkill_and_resumes_at_the_same_question(
    bot: BotProcess, resident: Resident, tmp_path: Path
) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    resident.tap("GP opening hours", on=onboard(resident), expect="Take part")
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("Longer ago", expect="Question 2 of 7")
    resident.tap("⬜ Saturday", expect="✅ Saturday")

    bot.kill()
    bot.start()

    resumed = resident.say("/start", expect="Here is where you left off")
    assert "Question 2 of 7" in resumed.text
    assert "✅ Saturday" in resumed.labels, "a ticked choice is remembered across the crash"
    submit_after_saturday(resident)

    [(answers,)] = bot.query("SELECT answers FROM responses WHERE submitted_at IS NOT NULL")
    assert json.loads(answers) == {
        "last_visit": "longer",
        "good_times": ["weekend"],
        "rating": 5,
        "online": "no",
        "travel_minutes": None,
        "home_area": None,
    }


def test_a_deep_link_opens_the_consultation_after_the_privacy_notice(
    bot: BotProcess, resident: Resident, tmp_path: Path, fake: FakeTelegram
) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    # A QR code printed, or a link typed, in capitals still finds the consultation.
    welcome = resident.say("/start GP-Opening-Hours", expect="Your privacy")
    assert "Tap “I understand” to see “GP opening hours” and take part." in welcome.text
    card = resident.tap("I understand", expect="What you can influence")
    assert card.text.startswith("GP opening hours") and "Take part" in card.labels
    assert "Which area do you live in?" not in " ".join(m.text for m in fake.messages(resident.chat_id))
    assert fake.reply_keyboard(resident.chat_id) == [["📋 Consultations"], ["🌐 Language", "❓ Help"]]

    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("Longer ago", expect="Question 2 of 7")
    resident.tap("⬜ Saturday", expect="✅ Saturday")
    receipt = submit_after_saturday(resident)
    # Now that they have what they came for, the area and interests are asked, once.
    later = resident.then(receipt, expect="Tell us your area and interests.")
    resident.tap("Choose my area and interests", on=later, expect="Which area do you live in?")
    resident.tap("Faversham", expect="What would you like to hear about?")
    resident.tap("Done", expect="You're all set")
    assert bot.query("SELECT area_id, onboarding_step FROM residents") == [("faversham", None)]


def test_a_button_from_an_old_message_records_nothing(
    bot: BotProcess, resident: Resident, tmp_path: Path, fake: FakeTelegram
) -> None:
    first = at_the_first_question(bot, resident, tmp_path)
    old_week = first.button_data("In the last week")
    resident.tap("Longer ago", expect="Question 2 of 7")

    current = resident.send(lambda user: fake.press_stale_button(user, first, old_week), expect="Question 2 of 7")
    assert resident.last_notice() == "That button is out of date. Here is where you are now."
    assert "Which times suit you best?" in current.text
    [(state,)] = bot.query("SELECT state FROM responses")
    assert json.loads(state)["answers"] == {"last_visit": "longer"}


def test_a_closed_consultation_says_so_with_its_closing_date(bot: BotProcess, resident: Resident) -> None:
    bot.import_consultations(DATA / "closed.yaml")
    bot.start()
    onboard(resident)
    card = resident.say("/start old-pharmacy-hours", expect="Pharmacy opening hours")
    assert "This consultation closed on 28 February 2025. Thank you for your interest." in card.text
    assert "Take part" not in card.labels


def test_in_a_group_the_bot_only_points_to_a_private_chat(bot: BotProcess, fake: FakeTelegram) -> None:
    bot.start()
    group = fake.add_group("Sheppey residents")
    member = fake.add_user("Tom")
    mark = fake.mark(group)
    fake.send_text(member, "/start", chat_id=group)
    reply = fake.wait_for_message(group, since=mark)
    assert reply.text == "I only work in private chats. Please send me a private message: @HaveYourSayTestBot"
    assert reply.reply_to_message_id is not None  # it answers the message, as a reply in a busy group should
    assert bot.query("SELECT COUNT(*) FROM residents") == [(0,)]
    assert bot.query("SELECT COUNT(*) FROM responses") == [(0,)]


def test_run_without_a_token_says_where_to_get_one(tmp_path: Path, fake: FakeTelegram) -> None:
    process = BotProcess(fake, tmp_path)
    del process.env["TELEGRAM_BOT_TOKEN"]
    result = process.command("run")
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr and "@BotFather" in result.stderr


def test_two_quick_taps_on_the_same_button_record_one_answer(
    bot: BotProcess, resident: Resident, tmp_path: Path, fake: FakeTelegram
) -> None:
    first = at_the_first_question(bot, resident, tmp_path)
    # Both taps leave before the bot has answered either, as a double tap on a slow phone does.
    fake.press_button(resident.user, first, "Longer ago")
    fake.press_button(resident.user, first, "Longer ago")
    fake.wait_until_idle()
    [(state,)] = bot.query("SELECT state FROM responses")
    assert json.loads(state)["path"] == ["last_visit", "good_times"], "one step forward, not two"
    notices = [a.text for a in fake.callback_answers(resident.user)]
    assert notices.count("That button is out of date. Here is where you are now.") == 1


def test_answers_typed_as_people_write_them_are_taken_like_taps(
    bot: BotProcess, fake: FakeTelegram, tmp_path: Path
) -> None:
    """A Bengali speaker types every answer: a label, a scale point and a number in Bengali digits, হ্যাঁ."""
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    t = Catalogs.load().translator("bn")
    resident = Resident(fake, fake.add_user("Rahima", language_code="bn"))
    resident.say("/start", expect=t._("Your privacy"))
    resident.tap(t._("I understand"), expect=t._("Skip"))
    resident.tap(t._("Skip"), expect=t._("Done"))
    listing = resident.then(resident.tap(t._("Done")), expect="GP opening hours")
    resident.tap("GP opening hours", on=listing, expect=t._("Take part"))
    resident.tap(t._("Take part"), expect="When did you last contact your GP practice?")

    resident.say("in the last WEEK", expect="Which times suit you best?")  # the label, in the survey's language
    ticked = resident.say("saturday", expect="✅ Saturday")
    assert "Which times suit you best?" in ticked.text
    resident.tap(t._("Done"), expect="How easy is it to get an appointment?")
    resident.say("৪", expect="Would you book appointments online")  # 4, in Bengali digits
    resident.say("হ্যাঁ", expect="How many minutes")  # the bot's own Yes, in Bengali
    refused = resident.say("-5", expect="How many minutes")
    assert t._("Please type a number.") not in refused.text
    assert t._("That number is too small.") in refused.text
    resident.say("১৫", expect="Which area do you live in?")  # 15
    resident.tap("Sheerness and Sheppey", expect=t._("Submit"))
    resident.tap(t._("Submit"), expect=t._("Thank you. We have received your answers."))

    [(answers,)] = bot.query("SELECT answers FROM responses WHERE submitted_at IS NOT NULL")
    assert json.loads(answers) == {
        "last_visit": "week",
        "good_times": ["weekend"],
        "rating": 4,
        "online": "yes",
        "travel_minutes": 15,
        "home_area": "sheerness",
    }


def test_a_resident_finds_their_rights_and_past_outcomes_in_help_the_menu_and_the_privacy_notice(
    bot: BotProcess, resident: Resident, fake: FakeTelegram
) -> None:
    bot.start()
    welcome = resident.say("/start", expect="Your privacy")
    assert "send /mydata" in welcome.text and "send /delete" in welcome.text
    for language_code in ("", "cy"):
        assert [c["command"] for c in fake.commands(language_code=language_code)] == RESIDENT_COMMANDS
    english = {c["command"]: c["description"] for c in fake.commands()}
    assert english["mydata"] == "see everything we hold about you"
    assert english["outcomes"] == "past consultations and what came of them"
    shown = resident.say("/help", expect="How to use Have Your Say")
    for command in RESIDENT_COMMANDS:
        assert f"/{command} — " in shown.text
    assert "/delete — delete everything we hold about you" in shown.text
