"""End to end: what the bot promises a resident is kept (their copy of what they said, the way to Submit)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e_support import DATA, EXAMPLES, BotProcess, Resident, submit_after_saturday
from tests.fake_telegram import FakeTelegram
from tests.test_e2e_resident import onboard, open_for_years

FIVE_LONG_TEXTS = """\
spec_version: 1
id: long-answers
default_language: en
title: {en: "Your care at home"}
summary: {en: "Tell us, in your own words, about the care you get at home."}
organisation: {en: "Swale Council"}
can_influence: {en: "How visits are arranged."}
cannot_influence: {en: "Who is eligible."}
decision_by: {en: "The council's cabinet, in April 2027."}
contact: {en: "care@example.gov.uk"}
opens: 2020-01-01T09:00:00Z
closes: 2099-12-31T23:59:00Z
survey:
"""


def five_long_texts(folder: Path) -> Path:
    questions = "".join(
        f'  - id: story{n}\n    type: text\n    text: {{en: "Question {n}: what would you change about your care?"}}\n'
        for n in range(1, 6)
    )
    path = folder / "long-answers.yaml"
    path.write_text(FIVE_LONG_TEXTS + questions, encoding="utf-8")
    return path


def test_answers_that_fill_more_than_one_message_still_reach_submit(
    bot: BotProcess, resident: Resident, tmp_path: Path, fake: FakeTelegram
) -> None:
    survey = five_long_texts(tmp_path)
    bot.import_consultations(survey)
    bot.start()
    resident.tap("Your care at home", on=onboard(resident), expect="Take part")
    resident.tap("Take part", expect="Question 1 of 5")
    for n in range(1, 6):
        answer = f"Answer {n} begins here. " + "The carers change every day & nobody knows me. " * 30
        answer = answer[:999] + "."
        reply = resident.say(answer, expect="Question" if n < 5 else "Please check your answers")
    summary = reply
    assert len(summary.text) <= 4096
    assert "Long answers are shortened here. We keep them in full." in summary.text
    for n in range(1, 6):
        assert f"Answer {n} begins here." in summary.text
    assert "Submit" in summary.labels
    resident.tap("Submit", expect="We have received your answers")
    [(answers,)] = bot.query("SELECT answers FROM responses WHERE submitted_at IS NOT NULL")
    assert [len(text) for text in json.loads(answers).values()] == [1000] * 5, "kept whole"
    assert "went wrong" not in " ".join(m.text for m in fake.messages(resident.chat_id))

    checked = bot.command("check", str(survey))
    assert checked.returncode == 0, checked.stdout
    assert f"{survey}:13: warning: survey: the answers can fill about 5," in checked.stdout
    assert "more than the 4,096 Telegram allows in one message" in checked.stdout


def test_after_submit_the_resident_keeps_what_they_said_and_learns_who_decides_when(
    bot: BotProcess, resident: Resident, tmp_path: Path, fake: FakeTelegram
) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    resident.tap("GP opening hours", on=onboard(resident), expect="Take part")
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("In the last week", expect="Question 2 of 7")
    resident.tap("⬜ Saturday", expect="✅ Saturday")
    resident.tap("Done", expect="Question 3 of 7")
    resident.tap("1", expect="Question 4 of 7")
    resident.say("Nobody answers the phone before 10", expect="Question 5 of 7")
    resident.tap("No", expect="Question 6 of 7")
    resident.tap("Skip", expect="Question 7 of 7")
    summary = resident.tap("Skip", expect="Please check your answers")

    receipt = resident.tap("Submit", expect="We have received your answers")
    assert receipt.message_id != summary.message_id, "the receipt does not replace the summary"
    kept = next(m for m in fake.messages(resident.chat_id) if m.message_id == summary.message_id)
    assert "Your answers to “GP opening hours”, as you sent them" in kept.text
    assert "Nobody answers the phone before 10" in kept.text and "Saturday" in kept.text
    assert kept.buttons == [], "nothing left to tap on the copy"
    assert "Who decides, and when\nThe partnership board, in March 2027." in receipt.text
    assert "What happens next" not in receipt.text
    assert "we will send you here, in this chat, what was decided" in receipt.text
    assert "/outcomes" in receipt.text


def test_changing_area_or_interests_in_settings_comes_back_to_settings(bot: BotProcess, resident: Resident) -> None:
    bot.start()
    onboard(resident)
    resident.say("/settings", expect="Your settings")
    resident.tap("Change my area", expect="Which area do you live in?")
    tapped = resident.tap("Faversham", expect="Your settings")
    assert "Your area: Faversham" in tapped.text and "You're all set" not in tapped.text

    resident.tap("Change my area", expect="Which area do you live in?")
    noted = resident.say("ME12 1AA", expect="Your area is Sheerness and Sheppey")
    settings = resident.then(noted, expect="Your settings")
    assert "Your area: Sheerness and Sheppey" in settings.text

    resident.tap("Change my interests", on=settings, expect="What would you like to hear about?")
    resident.tap("⬜ Social care and home care", expect="✅ Social care and home care")
    back = resident.tap("Done", expect="Your settings")
    assert "You're all set" not in back.text
    assert bot.query("SELECT area_id, onboarding_step FROM residents") == [("sheerness", None)]
    assert bot.query("SELECT topic_id FROM resident_topics") == [("social-care",)]


def test_my_data_names_the_area_interests_and_consultations(
    bot: BotProcess, resident: Resident, tmp_path: Path
) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    resident.say("/start", expect="Your privacy")
    resident.tap("I understand", expect="Which area do you live in?")
    resident.say("ME10 1AB", expect="What would you like to hear about?")
    resident.tap("⬜ GP and primary care", expect="✅ GP and primary care")
    resident.tap("GP opening hours", on=resident.tap("Done", expect="Open consultations"), expect="Take part")
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("In the last week", expect="Question 2 of 7")

    summary = resident.say("/mydata", expect="What we hold about you")
    assert "Area: Sittingbourne" in summary.text and "sittingbourne" not in summary.text
    assert "Interests: GP and primary care" in summary.text and "primary-care" not in summary.text
    assert "1 survey in progress\n• GP opening hours" in summary.text
    assert "gp-opening-hours" not in summary.text


def test_a_closed_consultation_says_whether_you_took_part_and_where_its_outcome_will_be(
    bot: BotProcess, resident: Resident
) -> None:
    bot.import_consultations(DATA / "closed.yaml")
    bot.start()
    onboard(resident)
    card = resident.say("/start old-pharmacy-hours", expect="Pharmacy opening hours")
    assert "You did not take part in this consultation." in card.text
    assert "The outcome will be published here when it has been decided." in card.text


def test_a_resident_with_notices_off_still_hears_what_came_of_what_they_said(
    fake: FakeTelegram, resident: Resident, tmp_path: Path
) -> None:
    officer = Resident(fake, fake.add_user("Olu", language_code="en"))
    bot = BotProcess(fake, tmp_path, HAVEYOURSAY_ADMINS=str(officer.chat_id))
    try:
        survey = open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path)
        bot.import_consultations(survey)
        bot.start()
        onboard(resident)
        resident.say("/settings", expect="Your settings")
        resident.tap("Turn notices off", expect="Notices about new consultations: off")
        resident.say("/start gp-opening-hours", expect="What you can influence")
        resident.tap("Take part", expect="Question 1 of 7")
        resident.tap("In the last week", expect="Question 2 of 7")
        resident.tap("⬜ Saturday", expect="✅ Saturday")
        submit_after_saturday(resident)

        # The consultation closes: its file now says it closed in 2021.
        survey.write_text(
            survey.read_text(encoding="utf-8").replace("closes: 2099-12-31T23:59:00Z", "closes: 2021-01-01T00:00:00Z"),
            encoding="utf-8",
        )
        bot.import_consultations(survey)
        officer.say("/outcome", expect="Which consultation is the outcome for?")
        officer.tap("GP opening hours", expect="Which do you want to publish?")
        officer.tap("What you told us", expect="Send me “What you told us”")
        ready = officer.say("Most of you want Saturday mornings.", expect="Publish")
        assert "It will go to the 1 person who took part." in ready.text
        mark = fake.mark(resident.chat_id)
        sent = officer.tap("Publish", expect="Published.")
        assert sent.text == "Published. Sending to 1 person."
        told = fake.wait_for_message(resident.chat_id, since=mark, predicate=lambda m: "What you told us" in m.text)
        assert "Most of you want Saturday mornings." in told.text and "Did we get this right?" in told.text
    finally:
        bot.stop()
