"""End to end: an update in flight at a crash is handled once after the restart, never twice, never lost.

The crash is made deterministic with the fake's holds: the bot has committed a typed answer (or
passed a message to the team) and is stopped while sending its reply. Either its next getUpdates
(the one that would confirm the update to Telegram) is parked too, so after the SIGKILL and a
restart Telegram sends the update again; or that getUpdates went through, so Telegram has
forgotten the update and only the bot's own record of it can finish the work.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e_support import DATA, BotProcess, Resident, haveyoursay
from tests.fake_telegram import FakeTelegram
from tests.test_e2e_resident import onboard
from tests.test_e2e_webhook import SECRET, free_port, post, start_update, wait_until_listening

TWO_TEXT_QUESTIONS = """\
spec_version: 1
id: library-hours
default_language: en
title: {en: "Library hours"}
summary: {en: "When should the library open?"}
organisation: {en: "Swale Health and Care Partnership"}
can_influence: {en: "Opening hours."}
cannot_influence: {en: "Which libraries exist."}
decision_by: {en: "The board, in 2099."}
contact: {en: "engage@swale.example.nhs.uk"}
opens: 2020-01-01T09:00:00Z
closes: 2099-12-31T23:59:00Z
survey:
  - id: best_day
    type: text
    text: {en: "Which day suits you best?"}
  - id: best_time
    type: text
    text: {en: "Which time of day suits you best?"}
"""


def crash_while_replying(bot: BotProcess, fake: FakeTelegram, resident: Resident, text: str, confirmed: bool) -> None:
    """The resident sends `text`; the bot is killed while sending its reply (the update `confirmed` or not)."""
    fake.wait_for_polling()  # the poll that will bring the update is parked: a hold takes the next one
    if not confirmed:
        fake.hold_next("getUpdates")
    fake.hold_next("sendMessage", chat_id=resident.chat_id)
    fake.send_text(resident.user, text)
    fake.wait_for_held(1 if confirmed else 2, timeout=15)
    if confirmed:
        fake.wait_for_polling()  # the next long poll is parked: it confirmed the update first
    bot.kill()
    fake.release_held()
    if confirmed:
        assert not fake.pending_updates, "Telegram has forgotten the update"
    else:
        assert fake.pending_updates, "Telegram still holds the update: it will send it again"


CONFIRMED = pytest.mark.parametrize("confirmed", [False, True], ids=["unconfirmed", "confirmed"])


# And on PostgreSQL: the update recorded in its inbox before it was confirmed is applied once after the crash.
@pytest.mark.parametrize(
    ("database_target", "confirmed"),
    [("sqlite", False), ("sqlite", True), ("postgresql", True)],
    ids=["sqlite-unconfirmed", "sqlite-confirmed", "postgresql-confirmed"],
    indirect=["database_target"],
)
def test_a_typed_answer_in_flight_at_a_crash_is_applied_once_to_its_question(
    bot: BotProcess, fake: FakeTelegram, resident: Resident, tmp_path: Path, confirmed: bool, database_target: str
) -> None:
    consultation = tmp_path / "library.yaml"
    consultation.write_text(TWO_TEXT_QUESTIONS, encoding="utf-8")
    bot.import_consultations(consultation)
    bot.start()
    resident.tap("Library hours", on=onboard(resident), expect="Take part")
    resident.tap("Take part", expect="Which day suits you best?")

    mark = fake.mark(resident.chat_id)
    crash_while_replying(bot, fake, resident, "Saturday", confirmed)
    bot.start()

    # The question after the answer comes (the reply the crash stopped), and no second answer is taken.
    fake.wait_for_message(resident.chat_id, since=mark, predicate=lambda m: "Which time of day" in m.text)
    resident.say("Morning", expect="Please check your answers")
    fake.wait_until_idle()
    state = bot.query("SELECT state FROM responses")[0][0]
    assert '"best_day": "Saturday"' in state and '"best_time": "Morning"' in state, state
    assert bot.query("SELECT COUNT(*) FROM update_inbox") == [(0,)], "every update handled"


@CONFIRMED
def test_a_message_to_the_team_in_flight_at_a_crash_is_passed_on_once_and_confirmed(
    fake: FakeTelegram, resident: Resident, tmp_path: Path, confirmed: bool
) -> None:
    team = fake.add_group("Engagement team")
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(
        (DATA / "deployment.yaml").read_text(encoding="utf-8") + f"officers_chat_id: {team}\n", encoding="utf-8"
    )
    bot = BotProcess(fake, tmp_path, HAVEYOURSAY_CONFIG=str(deployment))
    try:
        bot.start()
        onboard(resident)
        resident.say("/contact", expect="Which consultation is your message about?")
        resident.tap("Something else", expect="Please type your message")

        mark = fake.mark(resident.chat_id)
        crash_while_replying(bot, fake, resident, "Is the Saturday clinic open?", confirmed)
        assert len(fake.messages(team)) == 1, "the team had the message before the crash"
        bot.start()

        fake.wait_for_message(resident.chat_id, since=mark, predicate=lambda m: "has been sent" in m.text)
        fake.wait_until_idle()
        assert [m.text.count("Saturday clinic") for m in fake.messages(team)] == [1], "passed on once"
        assert bot.query("SELECT COUNT(*) FROM contact_threads") == [(1,)]
        assert bot.query("SELECT text FROM contact_texts") == [("Is the Saturday clinic open?",)], "kept once"
        # What the resident types next is not taken as another message to the team.
        assert "Sorry" not in resident.say("/help").text
    finally:
        bot.stop()


def test_a_settings_tap_in_flight_at_a_crash_is_applied_once(
    bot: BotProcess, fake: FakeTelegram, resident: Resident
) -> None:
    bot.start()
    onboard(resident)
    settings = resident.say("/settings", expect="Turn notices off")

    fake.wait_for_polling()  # the poll that will bring the tap is parked: the hold takes the next one
    fake.hold_next("getUpdates")
    fake.hold_next("editMessageText", chat_id=resident.chat_id)
    mark = fake.mark(resident.chat_id)
    fake.press_button(resident.user, settings, "Turn notices off")
    fake.wait_for_held(2, timeout=15)
    bot.kill()
    fake.release_held()
    assert fake.pending_updates
    bot.start()

    # The tap is handled again: it sets notices off once more, not back on.
    fake.wait_for_message(resident.chat_id, since=mark, predicate=lambda m: "Turn notices on" in m.labels)
    fake.wait_until_idle()
    assert bot.query("SELECT notices FROM residents") == [(0,)]
    assert "Sorry" not in fake.last_message(resident.chat_id).text


def test_a_webhook_update_replayed_after_a_restart_changes_nothing(fake: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    bot = BotProcess(
        fake,
        tmp_path,
        HAVEYOURSAY_WEBHOOK_URL="https://bot.example.org/telegram",
        HAVEYOURSAY_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        HAVEYOURSAY_WEBHOOK_SECRET=SECRET,
    )
    user = fake.add_user("Ada")
    fake.mark_started(user)

    def start() -> subprocess.Popen[bytes]:
        log = bot.log_path.open("ab")
        process = subprocess.Popen([haveyoursay(), "run"], env=bot.env, cwd=tmp_path, stdout=log, stderr=log)
        wait_until_listening(port)
        return process

    process = start()
    try:
        assert post(port, start_update(10, user.id), secret=SECRET) == 200
        fake.wait_for_message(user.id, predicate=lambda m: "Your privacy" in m.text)
        fake.wait_until_idle()
        process.kill()
        process.wait(timeout=10)

        process = start()
        assert post(port, start_update(10, user.id), secret=SECRET) == 200  # Telegram's retry, or an attacker's
        help_update = start_update(11, user.id)
        help_update["message"] = {**help_update["message"], "message_id": 11, "text": "/help"}  # type: ignore[dict-item]
        assert post(port, help_update, secret=SECRET) == 200
        fake.wait_for_message(user.id, predicate=lambda m: "/contact" in m.text or "help" in m.text.lower())
        fake.wait_until_idle()
        assert sum("Your privacy" in m.text for m in fake.messages(user.id)) == 1, "the replay was dropped"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
