"""Every cell of an export passes one function on its way to the file, in both formats.

A text a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return, as OWASP's guidance on CSV injection lists, or their full-width forms) gets a
leading apostrophe, and characters a workbook cannot hold are dropped. In the workbook every
text is written as a text cell: never a formula. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # openpyxl (and the numpy it loads) is imported when a spreadsheet is written, not at start-up
    from openpyxl.cell.cell import Cell as XlsxCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

__all__ = ["CsvRows", "XlsxRows", "safe_cell"]

Cell = str | int | float | datetime | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# What openpyxl refuses (IllegalCharacterError) and what no file in UTF-8 can hold.
_NOT_IN_A_WORKBOOK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def safe_cell(value: Cell) -> Cell:
    """The cell as it may be written to a spreadsheet file."""
    if not isinstance(value, str):
        return value
    text = _NOT_IN_A_WORKBOOK.sub("", value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class CsvRows:
    """A csv.writer through which every cell passes `safe_cell`."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Cell]) -> None:
        self._writer.writerow(["" if cell is None else safe_cell(cell) for cell in row])


class XlsxRows:
    """A write-only sheet through which every cell passes `safe_cell`; texts are text cells."""

    def __init__(self, sheet: WriteOnlyWorksheet, date_format: str = "yyyy-mm-dd hh:mm") -> None:
        self._sheet = sheet
        self._date_format = date_format

    def append(self, row: Iterable[Cell]) -> None:
        self._sheet.append([self._cell(value) for value in row])

    def _cell(self, value: Cell) -> Cell | XlsxCell:
        value = safe_cell(value)
        if isinstance(value, datetime):  # a real date in Excel, shown as one
            from openpyxl.cell import WriteOnlyCell

            dated = WriteOnlyCell(self._sheet, value)
            dated.number_format = self._date_format
            return dated
        if not isinstance(value, str):
            return value
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, value)
        cell.data_type = "s"  # whatever the text looks like
        return cell
