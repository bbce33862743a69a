"""Exports of one consultation's responses: one row per response, no Telegram id, streamed.

Two header rows: the readable one (question texts and choice labels in the consultation's
default language), then the ids. Columns: a pseudonymous response id, submitted time (UTC;
a real date in Excel), language, the resident's area from their settings, then one column
per question (a multiple-choice question gives one 0/1 column per choice), with choices,
yes/no and areas as words and free text in full. Questions of earlier survey versions get
their own columns too.
"""

from __future__ import annotations

import gettext
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from conversations.i18n import Catalogs, Translator
from conversations.spreadsheet import CsvRows, XlsxRows
from conversations.survey.areas import Area
from conversations.survey.loader import consultation_from_data
from conversations.survey.model import Consultation, Question, QuestionType, pick_text
from storage import Database
from storage.results import ExportRow

# The id header row. `resident_area` is the area in the resident's settings when they submitted;
# an `area` question has a column of its own, under its question id.
FIXED = ["response_id", "submitted_at", "language", "resident_area"]
HEADER_ROWS = 2  # the readable titles, then the ids (rows_of)
Cell = str | int | float | datetime | None
Pick = Callable[[dict[str, Any]], Cell]
DATE_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Labels:
    """What turns ids into words in an export: the bot's own words (yes, no, the headers of the
    fixed columns) in the consultation's default language, and the deployment's area names."""

    t: Translator
    areas: Sequence[Area] = ()

    def area(self, area_id: Any) -> Cell:
        if not isinstance(area_id, str):
            return None if area_id is None else str(area_id)
        found = next((a for a in self.areas if a.id == area_id), None)
        return found.display_name(self.t.language, self.t.language) if found else area_id


@dataclass(frozen=True)
class Column:
    """One question column: its id header, its readable header, and its value from an answers dict."""

    id: str
    title: str
    pick: Pick


async def labels_for(
    db: Database, consultation_id: str, catalogs: Catalogs | None = None, areas: Sequence[Area] = ()
) -> Labels:
    """The labels for one consultation, in its default language (English words without catalogs)."""
    versions = await db.consultations.all_versions(consultation_id)
    language = consultation_from_data(versions[0]).default_language if versions else "en"
    if catalogs is None:
        return Labels(Translator("en", gettext.NullTranslations(), ZoneInfo("UTC")), areas)
    return Labels(catalogs.translator(language), areas)


def fixed_titles(labels: Labels) -> list[str]:
    """The readable headers of the fixed columns."""
    t = labels.t
    return [
        t._("Response (anonymous id)"),
        t._("Submitted (UTC)"),
        t._("Language"),
        t._("Resident's area (from their settings)"),
    ]


def columns(definitions: list[dict[str, Any]], labels: Labels | None = None) -> list[Column]:
    """A column for every question of every version, newest version first."""
    found: list[Column] = []
    seen: set[str] = set()
    for definition in definitions:
        c = consultation_from_data(definition)
        for question in c.survey:
            for column in _question_columns(c, question, labels):
                if column.id not in seen:
                    seen.add(column.id)
                    found.append(column)
    return found


def _question_columns(c: Consultation, q: Question, labels: Labels | None) -> list[Column]:
    title = pick_text(q.text, c.default_language, c.default_language)[0]
    if q.type is QuestionType.MULTIPLE_CHOICE:
        return [
            Column(
                f"{q.id}:{choice.id}",
                f"{title}: {pick_text(choice.text, c.default_language, c.default_language)[0]}",
                _ticked(q.id, choice.id),
            )
            for choice in q.choices
        ]
    return [Column(q.id, title, _plain(q.id, _words(c, q, labels)))]


def _words(c: Consultation, q: Question, labels: Labels | None) -> dict[str, str] | Callable[[Any], Cell] | None:
    """How a stored value reads: a choice's label, yes or no, an area's name."""
    if labels is None:
        return None
    if q.type is QuestionType.SINGLE_CHOICE:
        return {choice.id: pick_text(choice.text, c.default_language, c.default_language)[0] for choice in q.choices}
    if q.type is QuestionType.YES_NO:
        return {"yes": labels.t._("Yes"), "no": labels.t._("No")}
    if q.type is QuestionType.AREA:
        return labels.area
    return None


def _ticked(question_id: str, choice_id: str) -> Pick:
    def pick(answers: dict[str, Any]) -> Cell:
        value = answers.get(question_id)
        if not isinstance(value, list):
            return None  # not shown, or skipped
        return 1 if choice_id in value else 0

    return pick


def _plain(question_id: str, words: dict[str, str] | Callable[[Any], Cell] | None = None) -> Pick:
    def pick(answers: dict[str, Any]) -> Cell:
        value = answers.get(question_id)
        if callable(words):
            return words(value)
        if isinstance(words, dict) and isinstance(value, str):
            return words.get(value, value)
        return value if isinstance(value, str | int | float) or value is None else str(value)

    return pick


def row_cells(row: ExportRow, cols: list[Column], labels: Labels | None = None) -> list[Cell]:
    """One response's cells; the submitted time as a datetime (UTC, as Excel takes it: no zone)."""
    area = labels.area(row.area_id) if labels is not None else row.area_id
    return [row.response_id, _when(row.submitted_at), row.language, area, *(col.pick(row.answers) for col in cols)]


def _when(stored: str) -> datetime | str:
    try:
        return datetime.fromisoformat(stored).astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        return stored


def _text(cell: Cell) -> Cell:
    """A cell for CSV: a time as ISO 8601 in UTC, as before; nothing as an empty field."""
    if isinstance(cell, datetime):
        return cell.replace(tzinfo=UTC).isoformat(timespec="seconds")
    return "" if cell is None else cell


async def write_csv(
    db: Database, consultation_id: str, out: TextIO, catalogs: Catalogs | None = None, areas: Sequence[Area] = ()
) -> int:
    """Write the CSV (a readable header row, then the id header row); returns the number of responses."""
    writer = CsvRows(out)
    written = 0
    async for cells in rows_of(db, consultation_id, catalogs, areas):
        writer.writerow([_text(cell) for cell in cells])
        written += 1
    return written - HEADER_ROWS


async def write_xlsx(
    db: Database, consultation_id: str, path: Path, catalogs: Catalogs | None = None, areas: Sequence[Area] = ()
) -> int:
    """Write an Excel workbook in write-only mode, which streams rows to disk; times are real dates."""
    from openpyxl import Workbook  # here, not at start-up: it loads numpy

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("responses")
    sheet.freeze_panes = "A3"
    rows = XlsxRows(sheet, DATE_FORMAT)
    written = 0
    async for cells in rows_of(db, consultation_id, catalogs, areas):
        rows.append(cells)
        written += 1
    workbook.save(path)
    return written - HEADER_ROWS


async def rows_of(
    db: Database, consultation_id: str, catalogs: Catalogs | None = None, areas: Sequence[Area] = ()
) -> AsyncIterator[list[Cell]]:
    """The export's rows, as both formats write them: the readable header, the id header, then one per response."""
    labels = await labels_for(db, consultation_id, catalogs, areas)
    cols = columns(await db.consultations.all_versions(consultation_id), labels)
    yield [*fixed_titles(labels), *(col.title for col in cols)]
    yield [*FIXED, *(col.id for col in cols)]
    async for row in db.results.export_rows(consultation_id):
        yield row_cells(row, cols, labels)
