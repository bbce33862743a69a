"""XLSForm spreadsheets (the ODK/KoboToolbox convention) read into a consultation's data, and written from it.

Reading: a workbook with `survey`, `choices` and `settings` sheets becomes the data of a consultation
file (the format `haveyoursay check` reads), and everything that cannot be mapped becomes a `Note`
naming its sheet, row and column: nothing is dropped silently. The workbook is read as data only
(openpyxl in read-only mode, formulas kept as written): a cell holding a formula is never worked
out, it is listed and left out. docs/xlsform.md says what is accepted.

Writing: the same data as an XLSForm that reading maps back to the same consultation. Every cell
goes through `conversations.spreadsheet.safe_cell`; the apostrophe it puts before a text that
starts like a formula is taken off again when such a file is read back.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any, BinaryIO

from babel import Locale, UnknownLocaleError

from conversations.spreadsheet import FORMULA_STARTS, XlsxRows
from conversations.survey.loader import CONSULTATION_TEXT_FIELDS, SPEC_VERSION

__all__ = ["NOTE_KINDS", "NotAnXlsForm", "Note", "XlsForm", "read_xlsform", "write_xlsform"]

# A consultation has a few dozen rows; a sheet far larger is not one, and is not read to its end.
MAX_ROWS = 2000
MAX_COLUMNS = 200
# XLSForm's own defaults for a range question.
RANGE_DEFAULTS = {"start": 1, "end": 10, "step": 1}
TRUE_WORDS = frozenset({"yes", "true", "true()", "1"})
FALSE_WORDS = frozenset({"", "no", "false", "false()", "0"})
# XLSForm types with no counterpart in the chat: the row is listed and left out.
GROUP_TYPES = frozenset({"begin_group", "end_group", "begin_repeat", "end_repeat"})
# Survey columns that are read; any other column with something in it is listed once.
SURVEY_COLUMNS = frozenset(
    {"type", "name", "label", "hint", "required", "relevant", "constraint", "parameters", "appearance"}
)
CHOICES_COLUMNS = frozenset({"list_name", "name", "label"})
# Settings: XLSForm's own, then the consultation file's fields that XLSForm has no column for.
SETTINGS_COLUMNS = frozenset(
    {"form_id", "id_string", "form_title", "default_language", "opens", "closes", "areas", "topics", "about_you"}
    | set(CONSULTATION_TEXT_FIELDS)
)
YES_NO = ("yes", "no")

# What the workspace says about each kind of note (bot/web/templates/upload_done.html words them).
NOTE_KINDS = frozenset(
    {
        "formula",  # a cell holds a formula: never worked out, left out
        "hint",  # a hint column: the chat has no hints
        "unused_column",  # a column the bot has no use for
        "unknown_language",  # a label::... column whose language is not known
        "unknown_type",  # params: type
        "group",  # begin/end group or repeat: the questions inside are kept
        "group_relevant",  # params: condition
        "no_type",  # a row with text but no type
        "no_name",  # params: name (the name given instead)
        "or_other",  # select_one list or_other
        "relevant",  # params: condition
        "required",  # params: value
        "constraint",  # params: constraint
        "integer",  # whole numbers only is not checked
        "appearance",  # params: appearance
        "range_step",  # params: step
        "parameters",  # params: parameters
        "missing_list",  # params: list
        "unused_list",  # params: list
        "choice_incomplete",  # a choice with no list_name or name
        "yes_no_labels",  # params: list
        "too_many_rows",  # params: rows
        "no_id",  # params: id (taken from the file's name)
        "id_changed",  # params: old, new
        "settings_rows",  # settings beyond its first row
    }
)


@dataclass(frozen=True)
class Note:
    """Something in the file that could not be used as it is, and where it is."""

    sheet: str  # "survey", "choices", "settings"; "" for a consultation file (YAML)
    row: int | None  # the spreadsheet's row number (1 is the header), or the YAML line
    column: str | None  # the column's header as written, or the YAML field
    kind: str  # one of NOTE_KINDS
    params: Mapping[str, str] = field(default_factory=dict)


class NotAnXlsForm(Exception):
    """The file is not a workbook, or has no survey sheet."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "not_a_workbook" or "no_survey_sheet"


@dataclass
class XlsForm:
    """What a workbook maps to: a consultation's data (its id may be missing) and the notes."""

    definition: dict[str, Any]
    notes: list[Note]


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    index: int
    header: str  # as written, e.g. "label::Welsh (cy)"
    base: str  # lower case, e.g. "label"
    language: str | None  # the suffix after "::", as written


@dataclass
class _Row:
    number: int
    cells: dict[int, Any]


@dataclass
class _Sheet:
    name: str
    columns: list[_Column]
    rows: list[_Row]

    def column(self, base: str) -> _Column | None:
        return next((c for c in self.columns if c.base == base and c.language is None), None)

    def value(self, row: _Row, base: str) -> str:
        column = self.column(base)
        return _text(row.cells.get(column.index)) if column else ""


def read_xlsform(
    data: bytes,
    *,
    timezone: tzinfo,
    yes_no_words: Callable[[str], tuple[str, str]] | None = None,
) -> XlsForm:
    """A workbook's consultation data and notes; raises NotAnXlsForm for a file that is not one.

    `timezone` places a date typed into a settings cell (a spreadsheet's dates have none);
    `yes_no_words(language)` gives the bot's own words for yes and no, so that a yes/no list
    saying something else is noted (the chat always uses its own words)."""
    try:
        from openpyxl import load_workbook  # here, not at start-up: it loads numpy

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # not a zip, a damaged one, bad XML: whatever the parser raises
        raise NotAnXlsForm("not_a_workbook") from error
    notes: list[Note] = []
    try:
        names = {name.strip().lower(): name for name in workbook.sheetnames}
        if "survey" not in names:
            raise NotAnXlsForm("no_survey_sheet")
        sheets: dict[str, _Sheet] = {
            wanted: _read_sheet(workbook[names[wanted]], wanted, notes)
            for wanted in ("survey", "choices", "settings")
            if wanted in names
        }
    except NotAnXlsForm:
        raise
    except Exception as error:  # a sheet's XML that cannot be read
        raise NotAnXlsForm("not_a_workbook") from error
    finally:
        workbook.close()
    return _Mapper(sheets, notes, timezone, yes_no_words).consultation()


def _read_sheet(worksheet: Any, name: str, notes: list[Note]) -> _Sheet:
    """A sheet's header and rows, every formula listed and left out, blank rows skipped."""
    columns: list[_Column] = []
    rows: list[_Row] = []
    for number, cells in enumerate(worksheet.iter_rows(max_col=MAX_COLUMNS), start=1):
        if number > MAX_ROWS + 1:
            notes.append(Note(name, number, None, "too_many_rows", {"rows": str(MAX_ROWS + 1)}))
            break
        values: dict[int, Any] = {}
        for index, cell in enumerate(cells):
            value = getattr(cell, "value", None)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.lstrip().startswith("=")):
                header = columns[index].header if number > 1 and index < len(columns) else None
                notes.append(Note(name, number, header, "formula"))
                continue
            values[index] = _unguarded(value)
        if number == 1:
            for index, value in sorted(values.items()):
                header = _text(value)
                base, _, language = header.partition("::")
                columns.append(_Column(index, header, base.strip().lower(), language.strip() or None))
            # Columns may skip an index (an empty header): keep them addressable by position.
            columns = _by_index(columns)
        elif values:
            rows.append(_Row(number, values))
    return _Sheet(name, [c for c in columns if c.header], rows)


def _by_index(columns: list[_Column]) -> list[_Column]:
    """Columns in a list where the one at position i has index i (empty headers fill the gaps)."""
    if not columns:
        return []
    filled = [_Column(i, "", "", None) for i in range(max(c.index for c in columns) + 1)]
    for column in columns:
        filled[column.index] = column
    return filled


def _unguarded(value: Any) -> Any:
    """A text written by `safe_cell` ("'=..." for "=...") back as it was."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _text(value: Any) -> str:
    """A cell as text: 3.0 as "3", a date in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _number(text: str) -> int | float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


_LANGUAGE_IN_BRACKETS = re.compile(r"\(\s*([A-Za-z]{2,3})\s*\)\s*$")
_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}$")


def language_code(suffix: str) -> str | None:
    """The language of a column suffix: "Welsh (cy)", "cy" or "Welsh" -> "cy"; None if unknown."""
    suffix = suffix.strip()
    found = _LANGUAGE_IN_BRACKETS.search(suffix)
    if found:
        return found.group(1).lower()
    if _LANGUAGE_CODE.match(suffix):
        return suffix.lower()
    return _english_names().get(suffix.lower())


@functools.cache
def _english_names() -> dict[str, str]:
    """Languages by their English names ("welsh" -> "cy"), as XLSForm columns often name them."""
    names: dict[str, str] = {}
    for code, name in Locale.parse("en").languages.items():
        if _LANGUAGE_CODE.match(code):
            names.setdefault(name.lower(), code.lower())
    return names


def language_label(code: str) -> str:
    """A column suffix for a language, as XLSForm writes it: "Welsh (cy)"."""
    try:
        name = Locale.parse(code).get_display_name("en") or code
    except (UnknownLocaleError, ValueError):
        return code
    return f"{name} ({code})"


class _Mapper:
    """Walks the sheets, building the consultation's data and noting what does not fit."""

    def __init__(
        self,
        sheets: dict[str, _Sheet],
        notes: list[Note],
        timezone: tzinfo,
        yes_no_words: Callable[[str], tuple[str, str]] | None,
    ) -> None:
        self.survey = sheets["survey"]
        self.choices = sheets.get("choices", _Sheet("choices", [], []))
        self.settings = sheets.get("settings", _Sheet("settings", [], []))
        self.notes = notes
        self.timezone = timezone
        self.yes_no_words = yes_no_words
        self.noted_columns: set[tuple[str, str]] = set()
        self.lists = self._choice_lists()
        self.used_lists: set[str] = set()
        self.default_language = self._default_language()

    def note(self, sheet: str, row: int | None, column: str | None, kind: str, **params: str) -> None:
        self.notes.append(Note(sheet, row, column, kind, params))

    # -- languages and texts --

    def _default_language(self) -> str:
        settings_row = self.settings.rows[0] if self.settings.rows else None
        if settings_row is not None:
            given = self.settings.value(settings_row, "default_language")
            if given:
                code = language_code(given)
                if code:
                    return code
        found = [
            code
            for c in self.survey.columns
            if c.base == "label" and c.language and (code := language_code(c.language))
        ]
        if found and self.survey.column("label") is None:
            return "en" if "en" in found else found[0]
        return "en"

    def texts(self, sheet: _Sheet, row: _Row, base: str) -> dict[str, str]:
        """A text in every language its columns give: "label::Welsh (cy)", "label::cy", and plain
        "label" for the default language (where no column names that language)."""
        result: dict[str, str] = {}
        plain = ""
        for column in sheet.columns:
            if column.base != base:
                continue
            value = _text(row.cells.get(column.index))
            if column.language is None:
                plain = value
                continue
            code = language_code(column.language)
            if code is None:
                if (sheet.name, column.header) not in self.noted_columns:
                    self.noted_columns.add((sheet.name, column.header))
                    self.note(sheet.name, None, column.header, "unknown_language")
                continue
            if value:
                result[code] = value
        if plain and self.default_language not in result:
            result[self.default_language] = plain
        ordered = {self.default_language: result[self.default_language]} if self.default_language in result else {}
        ordered.update(result)
        return ordered

    def note_unused_columns(self, sheet: _Sheet, used: frozenset[str]) -> None:
        for column in sheet.columns:
            if column.base in used and column.base != "hint":
                continue
            if not any(column.index in row.cells for row in sheet.rows):
                continue
            if (sheet.name, column.header) in self.noted_columns:
                continue
            self.noted_columns.add((sheet.name, column.header))
            kind = "hint" if column.base in ("hint", "guidance_hint") else "unused_column"
            self.note(sheet.name, None, column.header, kind)

    # -- choices --

    def _choice_lists(self) -> dict[str, list[_Row]]:
        lists: dict[str, list[_Row]] = {}
        list_column = self.choices.column("list_name")
        for row in self.choices.rows:
            list_name = self.choices.value(row, "list_name")
            name = self.choices.value(row, "name")
            if not list_name or not name:
                self.note(
                    "choices", row.number, (list_column.header if list_column else "list_name"), "choice_incomplete"
                )
                continue
            lists.setdefault(list_name, []).append(row)
        return lists

    def choice_names(self, list_name: str) -> list[str]:
        return [self.choices.value(row, "name") for row in self.lists.get(list_name, [])]

    # -- the consultation --

    def consultation(self) -> XlsForm:
        data: dict[str, Any] = {"spec_version": SPEC_VERSION}
        settings_row = self.settings.rows[0] if self.settings.rows else None
        if settings_row is not None:
            # KoboToolbox writes id_string where XLSForm's documentation says form_id.
            form_id = self.settings.value(settings_row, "form_id") or self.settings.value(settings_row, "id_string")
            if form_id:
                data["id"] = form_id
        data["default_language"] = self.default_language
        if settings_row is not None:
            self._settings(settings_row, data)
        data["survey"] = self._survey()
        if "about_you" in data:  # after the survey, as in a consultation file
            data["about_you"] = data.pop("about_you")
        for list_name, rows in self.lists.items():
            if list_name not in self.used_lists:
                self.note(
                    "choices", rows[0].number, self._header(self.choices, "list_name"), "unused_list", list=list_name
                )
        self.note_unused_columns(self.survey, SURVEY_COLUMNS)
        self.note_unused_columns(self.choices, CHOICES_COLUMNS)
        self.note_unused_columns(self.settings, SETTINGS_COLUMNS)
        for row in self.settings.rows[1:]:
            self.note("settings", row.number, None, "settings_rows")
        self.notes.sort(key=_note_order)
        return XlsForm(data, self.notes)

    def _header(self, sheet: _Sheet, base: str) -> str:
        column = sheet.column(base)
        return column.header if column else base

    def _settings(self, row: _Row, data: dict[str, Any]) -> None:
        title = self.texts(self.settings, row, "title")
        form_title = self.settings.value(row, "form_title")
        if form_title:
            title = {self.default_language: form_title, **title}
        if title:
            data["title"] = title
        for name in CONSULTATION_TEXT_FIELDS:
            if name == "title":
                continue
            texts = self.texts(self.settings, row, name)
            if texts:
                data[name] = texts
        for name in ("opens", "closes"):
            column = self.settings.column(name)
            value = row.cells.get(column.index) if column else None
            if isinstance(value, datetime):
                data[name] = (value if value.tzinfo else value.replace(tzinfo=self.timezone)).isoformat()
            elif value is not None:
                data[name] = _text(value)
        for name in ("areas", "topics"):
            value = self.settings.value(row, name)
            if value:
                data[name] = [item for item in re.split(r"[\s,;]+", value) if item]
        about_you = self.settings.value(row, "about_you")
        if about_you:
            word = about_you.lower()
            data["about_you"] = True if word in TRUE_WORDS else False if word in FALSE_WORDS else about_you

    # -- the survey --

    def _survey(self) -> list[dict[str, Any]]:
        questions: list[dict[str, Any]] = []
        type_header = self._header(self.survey, "type")
        for row in self.survey.rows:
            kind = " ".join(self.survey.value(row, "type").split())
            if not kind:
                self.note("survey", row.number, type_header, "no_type")
                continue
            words = kind.split(" ")
            base = words[0].lower()
            if base in ("begin", "end") and len(words) > 1:
                base, words = f"{base}_{words[1].lower()}", [f"{base}_{words[1].lower()}", *words[2:]]
            if base in GROUP_TYPES:
                self.note("survey", row.number, type_header, "group")
                relevant = self.survey.value(row, "relevant")
                if relevant:
                    self.note(
                        "survey",
                        row.number,
                        self._header(self.survey, "relevant"),
                        "group_relevant",
                        condition=relevant,
                    )
                continue
            question = self._question(row, base, words[1:], questions)
            if question is not None:
                questions.append(question)
        return questions

    def _question(self, row: _Row, base: str, rest: list[str], earlier: list[dict[str, Any]]) -> dict[str, Any] | None:
        type_header = self._header(self.survey, "type")
        question: dict[str, Any] = {}
        if base in ("select_one", "select_multiple") and rest:
            list_name = rest[0]
            self.used_lists.add(list_name)
            if len(rest) > 1:
                self.note("survey", row.number, type_header, "or_other")
            names = self.choice_names(list_name)
            if list_name not in self.lists:
                self.note("survey", row.number, type_header, "missing_list", list=list_name)
            if base == "select_one" and sorted(names) == sorted(YES_NO):
                question["type"] = "yes_no"
                self._check_yes_no_labels(list_name)
            else:
                question["type"] = "single_choice" if base == "select_one" else "multiple_choice"
                question["choices"] = [
                    {"id": self.choices.value(choice, "name"), "text": self.texts(self.choices, choice, "label")}
                    for choice in self.lists.get(list_name, [])
                ]
        elif base == "range":
            question["type"] = "scale"
        elif base in ("integer", "decimal"):
            question["type"] = "number"
            if base == "integer":
                self.note("survey", row.number, type_header, "integer")
        elif base == "text":
            question["type"] = "text"
        else:
            self.note("survey", row.number, type_header, "unknown_type", type=" ".join([base, *rest]))
            return None
        name = self.survey.value(row, "name")
        if not name:
            name = f"q{row.number}"
            self.note("survey", row.number, self._header(self.survey, "name"), "no_name", name=name)
        result: dict[str, Any] = {
            "id": name,
            "type": question.pop("type"),
            "text": self.texts(self.survey, row, "label"),
        }
        result.update(question)
        self._appearance(row, result)
        self._parameters(row, result)
        self._constraint(row, result)
        required = self.survey.value(row, "required")
        if required.lower() not in TRUE_WORDS:
            if required.lower() not in FALSE_WORDS:
                self.note("survey", row.number, self._header(self.survey, "required"), "required", value=required)
            result["optional"] = True
        relevant = self.survey.value(row, "relevant")
        if relevant:
            show_if = _show_if(relevant, earlier)
            if show_if is None:
                self.note("survey", row.number, self._header(self.survey, "relevant"), "relevant", condition=relevant)
            else:
                result["show_if"] = show_if
        return result

    def _check_yes_no_labels(self, list_name: str) -> None:
        if self.yes_no_words is None:
            return
        for row in self.lists.get(list_name, []):
            name = self.choices.value(row, "name")
            for language, label in self.texts(self.choices, row, "label").items():
                words = dict(zip(YES_NO, self.yes_no_words(language), strict=True))
                if label.casefold() != words[name].casefold():
                    self.note(
                        "choices", row.number, self._header(self.choices, "label"), "yes_no_labels", list=list_name
                    )
                    return

    def _appearance(self, row: _Row, question: dict[str, Any]) -> None:
        appearance = self.survey.value(row, "appearance")
        if not appearance:
            return
        if question["type"] == "text" and appearance.lower() == "area":
            question["type"] = "area"
            return
        self.note("survey", row.number, self._header(self.survey, "appearance"), "appearance", appearance=appearance)

    def _parameters(self, row: _Row, question: dict[str, Any]) -> None:
        text = self.survey.value(row, "parameters")
        header = self._header(self.survey, "parameters")
        given = _parameters(text)
        if question["type"] != "scale":
            if text:
                self.note("survey", row.number, header, "parameters", parameters=text)
            return
        unused = [f"{k}={v}" for k, v in given.items() if k not in ("start", "end", "step", "tick_labelset")]
        numbers = {k: _number(given[k]) if k in given else RANGE_DEFAULTS[k] for k in ("start", "end", "step")}
        for name in ("start", "end"):
            if numbers[name] is None:
                unused.append(f"{name}={given[name]}")
        question["min"] = numbers["start"] if numbers["start"] is not None else RANGE_DEFAULTS["start"]
        question["max"] = numbers["end"] if numbers["end"] is not None else RANGE_DEFAULTS["end"]
        if numbers["step"] != 1:
            self.note("survey", row.number, header, "range_step", step=given.get("step", ""))
        if unused:
            self.note("survey", row.number, header, "parameters", parameters=" ".join(unused))
        labelset = given.get("tick_labelset")
        if labelset:
            self.used_lists.add(labelset)
            if labelset not in self.lists:
                self.note("survey", row.number, header, "missing_list", list=labelset)
            labels: dict[Any, dict[str, str]] = {}
            for choice in self.lists.get(labelset, []):
                point = self.choices.value(choice, "name")
                number = _number(point)
                labels[number if isinstance(number, int) else point] = self.texts(self.choices, choice, "label")
            if labels:
                question["labels"] = labels

    def _constraint(self, row: _Row, question: dict[str, Any]) -> None:
        constraint = self.survey.value(row, "constraint")
        if not constraint:
            return
        limits = _constraint(constraint, question["type"])
        if limits is None:
            self.note(
                "survey", row.number, self._header(self.survey, "constraint"), "constraint", constraint=constraint
            )
            return
        question.update(limits)


SHEET_ORDER = ("survey", "choices", "settings")


def _note_order(note: Note) -> tuple[int, int, str]:
    sheet = SHEET_ORDER.index(note.sheet) if note.sheet in SHEET_ORDER else len(SHEET_ORDER)
    return (sheet, note.row or 0, note.column or "")


def _parameters(text: str) -> dict[str, str]:
    """XLSForm's parameters column: "start=1 end=5 step=1" (spaces, commas or semicolons between)."""
    result: dict[str, str] = {}
    for item in re.split(r"[\s,;]+", text.strip()):
        key, sign, value = item.partition("=")
        if key:
            result[key.strip().lower()] = value.strip() if sign else ""
    return result


_VALUE = r"""'[^']*'|"[^"]*"|-?\d+(?:\.\d+)?"""
_EQUALS = re.compile(rf"^\$\{{\s*([^}}\s]+)\s*\}}\s*=\s*({_VALUE})$")
_SELECTED = re.compile(rf"^selected\(\s*\$\{{\s*([^}}\s]+)\s*\}}\s*,\s*({_VALUE})\s*\)$")


def _show_if(condition: str, earlier: list[dict[str, Any]]) -> dict[str, Any] | None:
    """`${q} = 'x'`, `selected(${q}, 'x')`, or several of those for the same question joined by
    `or`, as a show_if; None for anything else."""
    target: str | None = None
    values: list[Any] = []
    for term in _split_or(condition):
        term = _unbracketed(term.strip())
        found = _EQUALS.match(term) or _SELECTED.match(term)
        if found is None or (target is not None and found.group(1) != target):
            return None
        target = found.group(1)
        values.append(found.group(2))
    if target is None:
        return None
    source = next((q for q in earlier if q.get("id") == target), None)
    numeric = source is not None and source.get("type") in ("scale", "number")
    result: list[Any] = []
    for raw in values:
        value: Any = raw[1:-1] if raw[:1] in ("'", '"') else raw
        if numeric or raw[:1] not in ("'", '"'):
            number = _number(value)
            value = number if number is not None and numeric else value
        if value not in result:
            result.append(value)
    return {"question": target, "in": result}


def _split_or(condition: str) -> list[str]:
    """The parts of a condition joined by `or`, leaving quoted text and brackets whole."""
    parts: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(condition):
        char = condition[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in ("'", '"'):
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and condition[i : i + 4] == " or ":
            parts.append(condition[start:i])
            start = i + 4
            i += 4
            continue
        i += 1
    parts.append(condition[start:])
    return parts


def _unbracketed(term: str) -> str:
    while term.startswith("(") and term.endswith(")") and _split_or(term[1:-1]) == [term[1:-1]]:
        term = term[1:-1].strip()
    return term


_NUMBER = r"-?\d+(?:\.\d+)?"
_AT_MOST = re.compile(r"^(count-selected|string-length)\(\s*\.\s*\)\s*(<=|<)\s*(\d+)$")
_BOUND = re.compile(rf"^\.\s*(>=|<=)\s*({_NUMBER})$")


def _constraint(constraint: str, question_type: str) -> dict[str, Any] | None:
    """The limits a constraint sets, where the chat has them: `count-selected(.) <= 2` (max_choices),
    `. >= 0 and . <= 300` (min, max), `string-length(.) <= 500` (max_length); None for anything else."""
    text = " ".join(constraint.split())
    at_most = _AT_MOST.match(text)
    if at_most:
        function, sign, number = at_most.groups()
        limit = int(number) - (1 if sign == "<" else 0)
        if function == "count-selected" and question_type == "multiple_choice":
            return {"max_choices": limit}
        if function == "string-length" and question_type == "text":
            return {"max_length": limit}
        return None
    if question_type != "number":
        return None
    limits: dict[str, Any] = {}
    for term in re.split(r"\s+and\s+", text):
        bound = _BOUND.match(_unbracketed(term))
        if bound is None:
            return None
        limits["min" if bound.group(1) == ">=" else "max"] = _number(bound.group(2))
    return limits


# -- writing -------------------------------------------------------------------------------------


def write_xlsform(definition: Mapping[str, Any], out: BinaryIO, yes_no_words: Callable[[str], tuple[str, str]]) -> None:
    """The consultation's data as an XLSForm that `read_xlsform` maps back to the same data.

    The data may be a draft with problems: whatever is there is written, nothing is refused."""
    default = str(definition.get("default_language") or "en")
    languages = _languages(definition, default)
    labels = [f"label::{language_label(code)}" for code in languages]
    from openpyxl import Workbook  # here, not at start-up: it loads numpy

    workbook = Workbook(write_only=True)
    survey = XlsxRows(workbook.create_sheet("survey"))
    choices = XlsxRows(workbook.create_sheet("choices"))
    settings = XlsxRows(workbook.create_sheet("settings"))
    survey.append(["type", "name", *labels, "required", "relevant", "constraint", "parameters", "appearance"])
    choices.append(["list_name", "name", *labels])
    questions = [q for q in _list(definition.get("survey")) if isinstance(q, Mapping)]
    # A choice question's list is named after it; yes/no questions share one list.
    lists: set[str] = {str(q.get("id")) for q in questions if q.get("type") in ("single_choice", "multiple_choice")}
    yes_no_list = _unique("yes_no", lists)
    lists.add(yes_no_list)
    used: set[str] = set()
    wrote_yes_no = False

    def texts(value: Any) -> list[str]:
        found = value if isinstance(value, Mapping) else {}
        return [_cell_text(found.get(code)) for code in languages]

    for question in questions:
        qid = str(question.get("id", ""))
        kind = str(question.get("type", ""))
        type_cell, constraint, parameters, appearance = kind, "", "", ""
        if kind in ("single_choice", "multiple_choice"):
            list_name = qid if qid not in used else _unique(qid, lists | used)
            used.add(list_name)
            type_cell = f"{'select_one' if kind == 'single_choice' else 'select_multiple'} {list_name}"
            for choice in _list(question.get("choices")):
                if isinstance(choice, Mapping):
                    choices.append([list_name, _cell_text(choice.get("id")), *texts(choice.get("text"))])
            if kind == "multiple_choice" and question.get("max_choices") is not None:
                constraint = f"count-selected(.) <= {question['max_choices']}"
        elif kind == "yes_no":
            type_cell = f"select_one {yes_no_list}"
            if not wrote_yes_no:
                wrote_yes_no = True
                words = {code: yes_no_words(code) for code in languages}
                for index, name in enumerate(YES_NO):
                    choices.append([yes_no_list, name, *[words[code][index] for code in languages]])
        elif kind == "scale":
            type_cell = "range"
            parameters = f"start={_cell_text(question.get('min'))} end={_cell_text(question.get('max'))} step=1"
            point_labels = question.get("labels")
            if isinstance(point_labels, Mapping) and point_labels:
                list_name = _unique(f"{qid}_labels", lists | used)
                used.add(list_name)
                parameters += f" tick_labelset={list_name}"
                for point, point_texts in point_labels.items():
                    choices.append([list_name, _cell_text(point), *texts(point_texts)])
        elif kind == "number":
            type_cell = "decimal"
            bounds = [
                f". {sign} {_cell_text(question.get(name))}"
                for name, sign in (("min", ">="), ("max", "<="))
                if question.get(name) is not None
            ]
            constraint = " and ".join(bounds)
        elif kind == "text":
            if question.get("max_length") is not None:
                constraint = f"string-length(.) <= {_cell_text(question.get('max_length'))}"
        elif kind == "area":
            type_cell, appearance = "text", "area"
        required = "" if question.get("optional") is True else "yes"
        survey.append(
            [
                type_cell,
                qid,
                *texts(question.get("text")),
                required,
                _relevant(question, questions),
                constraint,
                parameters,
                appearance,
            ]
        )
    _write_settings(settings, definition, default, languages, texts)
    workbook.save(out)


def _write_settings(
    settings: XlsxRows,
    definition: Mapping[str, Any],
    default: str,
    languages: list[str],
    texts: Callable[[Any], list[str]],
) -> None:
    header: list[str] = ["form_id", "form_title", "default_language"]
    row: list[str] = [_cell_text(definition.get("id")), "", language_label(default)]
    title = definition.get("title")
    if isinstance(title, Mapping):
        row[1] = _cell_text(title.get(default))
    others = [code for code in languages if code != default]
    title_cells = texts(title)
    for code in others:
        header.append(f"title::{language_label(code)}")
        row.append(title_cells[languages.index(code)])
    for name in CONSULTATION_TEXT_FIELDS:
        if name == "title" or name not in definition:
            continue
        for code, text in zip(languages, texts(definition.get(name)), strict=True):
            header.append(f"{name}::{language_label(code)}")
            row.append(text)
    for name in ("opens", "closes"):
        if definition.get(name) is not None:
            header.append(name)
            row.append(_cell_text(definition.get(name)))
    for name in ("areas", "topics"):
        items = _list(definition.get(name))
        if items:
            header.append(name)
            row.append(" ".join(_cell_text(item) for item in items))
    if "about_you" in definition:
        header.append("about_you")
        row.append("yes" if definition.get("about_you") is True else "no")
    settings.append(header)
    settings.append(row)


def _relevant(question: Mapping[str, Any], questions: list[Mapping[str, Any]]) -> str:
    show_if = question.get("show_if")
    if not isinstance(show_if, Mapping):
        return ""
    target = str(show_if.get("question", ""))
    source = next((q for q in questions if str(q.get("id")) == target), None)
    multiple = source is not None and source.get("type") == "multiple_choice"
    terms: list[str] = []
    for value in _list(show_if.get("in")):
        if isinstance(value, bool):
            value = "yes" if value else "no"
        written = _cell_text(value) if isinstance(value, int | float) else "'" + str(value).replace("'", "") + "'"
        terms.append(f"selected(${{{target}}}, {written})" if multiple else f"${{{target}}} = {written}")
    return " or ".join(terms)


def _languages(definition: Mapping[str, Any], default: str) -> list[str]:
    """Every language the consultation's texts are in, its default language first."""
    found: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, Mapping):
            if key in ("text", *CONSULTATION_TEXT_FIELDS) or (key == "label"):
                found.update(str(code) for code in value if isinstance(code, str))
            for child_key, child in value.items():
                if key == "labels":
                    walk(child, "label")
                else:
                    walk(child, str(child_key))
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(definition)
    return [default, *sorted(found - {default})]


def _unique(name: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
