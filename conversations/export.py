"""Exports of one consultation's responses: one row per response, no Telegram id, streamed.

Columns: a pseudonymous response id, submitted time, language, area, then one column
per question (a multiple-choice question gives one 0/1 column per choice), with free
text in full. Questions of earlier survey versions get their own columns too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TextIO

from openpyxl import Workbook

from conversations.spreadsheet import CsvRows, XlsxRows
from conversations.survey.loader import consultation_from_data
from conversations.survey.model import Question, QuestionType
from storage import Database
from storage.results import ExportRow

FIXED = ["response_id", "submitted_at", "language", "area"]
Cell = str | int | float | None


def columns(definitions: list[dict[str, Any]]) -> list[tuple[str, Callable[[dict[str, Any]], Cell]]]:
    """(header, value from an answers dict) for every question of every version, newest version first."""
    found: list[tuple[str, Callable[[dict[str, Any]], Cell]]] = []
    seen: set[str] = set()
    for definition in definitions:
        for question in consultation_from_data(definition).survey:
            for header, pick in _question_columns(question):
                if header not in seen:
                    seen.add(header)
                    found.append((header, pick))
    return found


def _question_columns(q: Question) -> list[tuple[str, Callable[[dict[str, Any]], Cell]]]:
    if q.type is QuestionType.MULTIPLE_CHOICE:
        return [(f"{q.id}:{c.id}", _ticked(q.id, c.id)) for c in q.choices]
    return [(q.id, _plain(q.id))]


def _ticked(question_id: str, choice_id: str) -> Callable[[dict[str, Any]], Cell]:
    def pick(answers: dict[str, Any]) -> Cell:
        value = answers.get(question_id)
        if not isinstance(value, list):
            return None  # not shown, or skipped
        return 1 if choice_id in value else 0

    return pick


def _plain(question_id: str) -> Callable[[dict[str, Any]], Cell]:
    def pick(answers: dict[str, Any]) -> Cell:
        value = answers.get(question_id)
        return value if isinstance(value, str | int | float) or value is None else str(value)

    return pick


def row_cells(row: ExportRow, cols: list[tuple[str, Callable[[dict[str, Any]], Cell]]]) -> list[Cell]:
    return [row.response_id, row.submitted_at, row.language, row.area_id, *(pick(row.answers) for _, pick in cols)]


async def write_csv(db: Database, consultation_id: str, out: TextIO) -> int:
    """Write the CSV; returns the number of responses."""
    cols = columns(await db.consultations.all_versions(consultation_id))
    writer = CsvRows(out)
    writer.writerow(FIXED + [header for header, _ in cols])
    count = 0
    async for row in db.results.export_rows(consultation_id):
        writer.writerow(["" if cell is None else cell for cell in row_cells(row, cols)])
        count += 1
    return count


async def write_xlsx(db: Database, consultation_id: str, path: Path) -> int:
    """Write an Excel workbook in write-only mode, which streams rows to disk."""
    cols = columns(await db.consultations.all_versions(consultation_id))
    workbook = Workbook(write_only=True)
    sheet = XlsxRows(workbook.create_sheet("responses"))
    sheet.append(FIXED + [header for header, _ in cols])
    count = 0
    async for row in db.results.export_rows(consultation_id):
        sheet.append(row_cells(row, cols))
        count += 1
    workbook.save(path)
    return count


async def rows_of(db: Database, consultation_id: str) -> AsyncIterator[list[Cell]]:
    """The export's rows (header first), for tests and other formats."""
    cols = columns(await db.consultations.all_versions(consultation_id))
    yield [*FIXED, *(header for header, _ in cols)]
    async for row in db.results.export_rows(consultation_id):
        yield row_cells(row, cols)
