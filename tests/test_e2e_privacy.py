"""End to end: /mydata sends the file; /delete leaves nothing of the resident in the database or its log."""

from __future__ import annotations

import json
from pathlib import Path

from tests.backends import holds_text
from tests.e2e_support import EXAMPLES, BotProcess, Resident
from tests.fake_telegram import FakeTelegram
from tests.test_e2e_resident import onboard, open_for_years

FREE_TEXT = "The receptionist Mrs Abernathy-Quill never answers before nine"


def answer_the_survey(resident: Resident) -> None:
    resident.tap("GP opening hours", on=onboard(resident), expect="Take part")
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("In the last week", expect="Question 2 of 7")
    resident.tap("⬜ Saturday", expect="✅ Saturday")
    resident.tap("Done", expect="Question 3 of 7")
    resident.tap("1", expect="Question 4 of 7")
    resident.say(FREE_TEXT, expect="Question 5 of 7")
    resident.tap("No", expect="Question 6 of 7")
    resident.tap("Skip", expect="Question 7 of 7")
    resident.tap("Skip", expect="Please check your answers")
    resident.tap("Submit", expect="We have received your answers")


def traces_of(chat_id: int) -> tuple[bytes, bytes]:
    """The chat id as text and as SQLite stores an integer of its size (4 bytes, big-endian)."""
    return str(chat_id).encode(), chat_id.to_bytes(4, "big")


def database_files(bot: BotProcess) -> bytes:
    return b"".join(path.read_bytes() for path in bot.workdir.glob("haveyoursay.db*"))


def still_held(bot: BotProcess, chat_id: int) -> tuple[bool, bool, bool]:
    """Whether the database holds the resident's chat id, their free-text answer, and the name in it: anywhere
    in the SQLite file and its log; on PostgreSQL, in any row (its pages: storage.personal_data.checkpoint)."""
    if bot.database_url:
        url = bot.database_url
        return holds_text(url, str(chat_id)), holds_text(url, FREE_TEXT), holds_text(url, "Abernathy")
    stored = database_files(bot)
    return any(trace in stored for trace in traces_of(chat_id)), FREE_TEXT.encode() in stored, b"Abernathy" in stored


def test_my_data_then_delete_leaves_nothing_behind(
    bot: BotProcess, resident: Resident, fake: FakeTelegram, tmp_path: Path, database_target: str
) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    answer_the_survey(resident)

    summary = resident.say("/mydata", expect="What we hold about you")
    assert "1 survey answered" in summary.text
    document = fake.wait_for_message(resident.chat_id, since=summary.seq, predicate=lambda m: m.document is not None)
    assert document.document is not None
    held = json.loads(document.document.content)
    assert held["responses"][0]["answers"]["why_hard"] == FREE_TEXT
    assert still_held(bot, resident.chat_id) == (True, True, True)

    confirm = resident.say("/delete", expect="Delete everything we hold about you?")
    resident.tap("Yes, delete it all", on=confirm, expect="Everything we held about you has been deleted")
    assert still_held(bot, resident.chat_id) == (False, False, False)
    assert bot.query("SELECT COUNT(*) FROM residents") == [(0,)]
    assert FREE_TEXT not in bot.log(), "answers are never logged"
