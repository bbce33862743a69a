"""End to end: the area a resident gave is offered again, misspellings and shared locations are understood."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e_support import DATA, EXAMPLES, BotProcess, Resident
from tests.fake_telegram import BotMessage, FakeTelegram
from tests.test_e2e_resident import open_for_years

IN_SITTINGBOURNE = (51.3395, 0.7350)
IN_FAVERSHAM = (51.3130, 0.8900)
IN_LONDON = (51.5072, -0.1276)


def share(resident: Resident, fake: FakeTelegram, place: tuple[float, float], expect: str) -> BotMessage:
    latitude, longitude = place
    return resident.send(lambda user: fake.send_location(user, latitude=latitude, longitude=longitude), expect=expect)


def to_the_area_question(resident: Resident) -> BotMessage:
    """From the consultation's card, through the GP survey to its last question, "Which area do you live in?"."""
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("Longer ago", expect="Question 2 of 7")
    resident.tap("⬜ Saturday", expect="✅ Saturday")
    resident.tap("Done", expect="Question 3 of 7")
    resident.tap("5", expect="Question 4 of 6")
    resident.tap("No", expect="Question 5 of 6")
    return resident.tap("Skip", expect="Question 6 of 6")


def test_a_shared_location_gives_the_area_which_the_survey_then_offers_in_one_tap(
    bot: BotProcess, resident: Resident, fake: FakeTelegram, tmp_path: Path, database_target: str
) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    resident.say("/start", expect="Your privacy")
    resident.tap("I understand", expect="Which area do you live in?")
    noted = share(resident, fake, IN_SITTINGBOURNE, expect="Thank you. Your area is Sittingbourne.")
    resident.then(noted, expect="What would you like to hear about?")
    assert bot.query("SELECT area_id FROM residents") == [("sittingbourne",)]
    listing = resident.then(resident.tap("Done", expect="You're all set"), expect="GP opening hours")

    share(resident, fake, IN_SITTINGBOURNE, expect="I only use a location to find your area when I ask")

    resident.tap("GP opening hours", on=listing, expect="Take part")
    question = to_the_area_question(resident)
    assert "You told us you live in Sittingbourne." in question.text
    assert question.labels[0] == "Yes, Sittingbourne"
    assert question.labels.count("Sittingbourne") == 0, "offered once, as the one-tap answer"

    misspelt = resident.say("Sittingborne", expect="Did you mean")
    assert misspelt.labels.count("Sittingbourne") == 1, misspelt.labels
    assert misspelt.labels[0] == "Sittingbourne"

    far = share(resident, fake, IN_LONDON, expect="that location is not in any of our areas")
    assert "Question 6 of 6" in far.text
    moved = share(resident, fake, IN_FAVERSHAM, expect="Please check your answers")
    assert "Thank you. Your area is Faversham." in moved.text
    resident.tap("Submit", expect="We have received your answers")
    [(answers,)] = bot.query("SELECT answers FROM responses WHERE submitted_at IS NOT NULL")
    assert json.loads(answers)["home_area"] == "faversham"
    assert "51.31" not in bot.log() and "51.33" not in bot.log(), "a location is never logged"
    stored = json.dumps(bot.query("SELECT * FROM responses")) + json.dumps(bot.query("SELECT * FROM residents"))
    assert "51.3" not in stored and "0.89" not in stored, "nor stored"


def test_the_one_tap_area_answers_the_area_question(bot: BotProcess, resident: Resident, tmp_path: Path) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    resident.say("/start", expect="Your privacy")
    resident.tap("I understand", expect="Which area do you live in?")
    resident.say("Sheerness", expect="What would you like to hear about?")
    listing = resident.then(resident.tap("Done", expect="You're all set"), expect="GP opening hours")
    resident.tap("GP opening hours", on=listing, expect="Take part")
    to_the_area_question(resident)
    review = resident.tap("Yes, Sheerness and Sheppey", expect="Please check your answers")
    assert "Sheerness and Sheppey" in review.text


def test_where_areas_have_no_centres_a_location_is_plainly_refused_with_what_to_do_instead(
    fake: FakeTelegram, resident: Resident, tmp_path: Path
) -> None:
    deployment = tmp_path / "deployment.yaml"
    lines = (DATA / "deployment.yaml").read_text(encoding="utf-8").splitlines()
    deployment.write_text("\n".join(ln for ln in lines if "centre:" not in ln and "radius_km" not in ln) + "\n")
    bot = BotProcess(fake, tmp_path, HAVEYOURSAY_CONFIG=str(deployment))
    try:
        bot.start()
        resident.say("/start", expect="Your privacy")
        resident.tap("I understand", expect="Which area do you live in?")
        refused = share(resident, fake, IN_SITTINGBOURNE, expect="Which area do you live in?")
        assert "Sorry, I cannot find your area from a location." in refused.text
        assert "type its name or your postcode" in refused.text
        assert "Sittingbourne" in refused.labels
        assert bot.query("SELECT area_id FROM residents") == [(None,)]
    finally:
        bot.stop()
