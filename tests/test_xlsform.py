"""XLSForm and consultation files in and out: round trips, the mapping of a hand-built workbook with
what cannot be mapped, formulas never worked out, and files that are neither."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl.xml
import pytest
from openpyxl import Workbook, load_workbook

from conversations.i18n import Catalogs
from conversations.survey.loader import check_consultation_data, load_consultation_file, load_consultation_text
from conversations.uploads import consultation_yaml, notes_from_json, notes_to_json, read_upload, yes_no_words
from conversations.xlsform import NotAnXlsForm, Note, read_xlsform, write_xlsform

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
LONDON = ZoneInfo("Europe/London")
CATALOGS = Catalogs.load()


def words(language: str) -> tuple[str, str]:
    return {"en": ("Yes", "No"), "cy": ("Ie", "Na")}.get(language, ("Yes", "No"))


def workbook(
    survey: Sequence[Sequence[Any]], choices: Sequence[Sequence[Any]] = (), settings: Sequence[Sequence[Any]] = ()
) -> bytes:
    """An .xlsx as a spreadsheet program saves it, rows as given (None for an empty cell)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(list(row))
    for name, rows in (("choices", choices), ("settings", settings)):
        if rows:
            other = book.create_sheet(name)
            for row in rows:
                other.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read(data: bytes) -> tuple[dict[str, Any], list[tuple[str, int | None, str | None, str]]]:
    form = read_xlsform(data, timezone=LONDON, yes_no_words=words)
    return form.definition, [(n.sheet, n.row, n.column, n.kind) for n in form.notes]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_written_as_an_xlsform_maps_back_to_the_same_consultation(example: Path) -> None:
    loaded = load_consultation_file(example)
    assert loaded.data is not None
    out = io.BytesIO()
    write_xlsform(loaded.data, out, words)
    form = read_xlsform(out.getvalue(), timezone=LONDON, yes_no_words=words)
    assert form.notes == []
    again = check_consultation_data(form.definition)
    assert again.errors == []
    assert again.data == loaded.data


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_downloaded_as_yaml_passes_check_unchanged(example: Path) -> None:
    loaded = load_consultation_file(example)
    assert loaded.data is not None
    again = load_consultation_text(consultation_yaml(loaded.data))
    assert again.errors == []
    assert again.data == loaded.data


def test_texts_starting_like_a_formula_are_written_as_text_and_read_back_as_written() -> None:
    loaded = load_consultation_file(EXAMPLES[0])
    assert loaded.data is not None
    data = loaded.data
    data["survey"][0]["choices"][0]["text"]["en"] = "=1+1 visits"
    data["survey"][0]["choices"][1]["text"]["en"] = "-2 weeks"
    out = io.BytesIO()
    write_xlsform(data, out, words)
    cells = [c for row in load_workbook(io.BytesIO(out.getvalue()))["choices"].iter_rows() for c in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert "'=1+1 visits" in [cell.value for cell in cells]
    form = read_xlsform(out.getvalue(), timezone=LONDON, yes_no_words=words)
    assert form.notes == []
    assert check_consultation_data(form.definition).data == data


SURVEY = [
    [
        "type",
        "name",
        "label::English (en)",
        "label::cy",
        "hint",
        "required",
        "relevant",
        "constraint",
        "parameters",
        "appearance",
        "constraint_message",
    ],
    [
        "select_one visit",
        "last_visit",
        "When did you last visit?",
        "Pryd wnaethoch chi ymweld?",
        "Any visit counts",
        "yes",
    ],
    [
        "select_multiple times",
        "good_times",
        "Which times suit you?",
        "Pa adegau?",
        None,
        "yes",
        None,
        "count-selected(.) <= 2",
        None,
        None,
        "Two at most",
    ],
    [
        "range",
        "rating",
        "How easy is it?",
        "Pa mor hawdd?",
        None,
        "yes",
        None,
        None,
        "start=1 end=5 step=1 tick_labelset=ease",
    ],
    [
        "text",
        "why_hard",
        "What makes it hard?",
        "=1+1",
        None,
        "no",
        "${rating} = 1 or ${rating} = 2",
        "string-length(.) <= 500",
    ],
    ["select_one yn", "online", "Online?", None, None, "true()", "selected(${good_times}, 'evening')"],
    [
        "integer",
        "minutes",
        "Minutes?",
        None,
        None,
        None,
        "${last_visit} = 'week' and ${online} = 'yes'",
        ". >= 0 and . <= 300",
    ],
    ["begin group", "about", "About you"],
    ["text", "home", "Where do you live?", None, None, None, None, None, None, "area"],
    ["end group"],
    ["calculate", "score"],
    ["decimal", "x", '=HYPERLINK("http://example.org")'],
]
CHOICES = [
    ["list_name", "name", "label::English (en)", "label::cy", "image"],
    ["visit", "week", "In the last week", "Yn yr wythnos ddiwethaf", "week.png"],
    ["visit", "month", "In the last month", "Yn y mis diwethaf"],
    ["times", "early", "Before 8am", "Cyn 8yb"],
    ["times", "evening", "After 6:30pm", "Ar ôl 6:30yh"],
    ["ease", 1, "Very hard", "Anodd iawn"],
    ["ease", 5, "Very easy", "Hawdd iawn"],
    ["yn", "yes", "Yes", "Ie"],
    ["yn", "no", "No", "Na"],
    ["unused", "a", "A"],
    ["visit", None, "No name"],
]
SETTINGS = [
    [
        "form_id",
        "form_title",
        "default_language",
        "title::Welsh (cy)",
        "summary",
        "summary::cy",
        "opens",
        "closes",
        "areas",
        "about_you",
        "version",
    ],
    [
        "gp-hours",
        "GP hours",
        "English (en)",
        "Oriau meddygon",
        "When should we open?",
        "Pryd?",
        datetime(2027, 1, 4, 9, 0),
        "2027-02-01T00:00:00Z",
        "sittingbourne, sheerness",
        "yes",
        "2024061001",
    ],
]


def hand_built() -> bytes:
    data = workbook(SURVEY, CHOICES, SETTINGS)
    book = load_workbook(io.BytesIO(data))
    # A text that looks like a formula, typed as text: still never taken as one.
    book["survey"]["C13"].data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_hand_built_xlsform_maps_to_a_consultation_and_lists_what_it_cannot_map() -> None:
    definition, notes = read(hand_built())
    both = lambda en, cy: {"en": en, "cy": cy}  # noqa: E731
    assert definition == {
        "spec_version": 1,
        "id": "gp-hours",
        "default_language": "en",
        "title": both("GP hours", "Oriau meddygon"),
        "summary": both("When should we open?", "Pryd?"),
        "opens": "2027-01-04T09:00:00+00:00",
        "closes": "2027-02-01T00:00:00Z",
        "areas": ["sittingbourne", "sheerness"],
        "survey": [
            {
                "id": "last_visit",
                "type": "single_choice",
                "text": both("When did you last visit?", "Pryd wnaethoch chi ymweld?"),
                "choices": [
                    {"id": "week", "text": both("In the last week", "Yn yr wythnos ddiwethaf")},
                    {"id": "month", "text": both("In the last month", "Yn y mis diwethaf")},
                ],
            },
            {
                "id": "good_times",
                "type": "multiple_choice",
                "text": both("Which times suit you?", "Pa adegau?"),
                "choices": [
                    {"id": "early", "text": both("Before 8am", "Cyn 8yb")},
                    {"id": "evening", "text": both("After 6:30pm", "Ar ôl 6:30yh")},
                ],
                "max_choices": 2,
            },
            {
                "id": "rating",
                "type": "scale",
                "text": both("How easy is it?", "Pa mor hawdd?"),
                "min": 1,
                "max": 5,
                "labels": {1: both("Very hard", "Anodd iawn"), 5: both("Very easy", "Hawdd iawn")},
            },
            {
                "id": "why_hard",
                "type": "text",
                "text": {"en": "What makes it hard?"},
                "max_length": 500,
                "optional": True,
                "show_if": {"question": "rating", "in": [1, 2]},
            },
            {
                "id": "online",
                "type": "yes_no",
                "text": {"en": "Online?"},
                "show_if": {"question": "good_times", "in": ["evening"]},
            },
            {"id": "minutes", "type": "number", "text": {"en": "Minutes?"}, "min": 0, "max": 300, "optional": True},
            {"id": "home", "type": "area", "text": {"en": "Where do you live?"}, "optional": True},
            {"id": "x", "type": "number", "text": {}, "optional": True},
        ],
        "about_you": True,
    }
    assert notes == [
        ("survey", None, "constraint_message", "unused_column"),
        ("survey", None, "hint", "hint"),
        ("survey", 5, "label::cy", "formula"),
        ("survey", 7, "relevant", "relevant"),
        ("survey", 7, "type", "integer"),
        ("survey", 8, "type", "group"),
        ("survey", 10, "type", "group"),
        ("survey", 11, "type", "unknown_type"),
        ("survey", 12, "label::English (en)", "formula"),
        ("choices", None, "image", "unused_column"),
        ("choices", 10, "list_name", "unused_list"),
        ("choices", 11, "list_name", "choice_incomplete"),
        ("settings", None, "version", "unused_column"),
    ]
    form = read_xlsform(hand_built(), timezone=LONDON, yes_no_words=words)
    relevant = next(n for n in form.notes if n.kind == "relevant")
    assert relevant.params == {"condition": "${last_visit} = 'week' and ${online} = 'yes'"}
    assert next(n for n in form.notes if n.kind == "unknown_type").params == {"type": "calculate"}


def test_a_formula_is_never_worked_out_even_with_a_cached_value() -> None:
    """openpyxl reads the formula itself (data_only=False), never the value Excel last saw."""
    definition, notes = read(workbook([["type", "name", "label"], ["text", "q", "=IMPORTXML(A1)"]]))
    assert definition["survey"][0]["text"] == {}
    assert notes == [("survey", 2, "label", "formula")]


@pytest.mark.parametrize(
    ("condition", "show_if"),
    [
        ("${a} = 'x'", {"question": "a", "in": ["x"]}),
        ("${a}='x' or ${a} = \"y\"", {"question": "a", "in": ["x", "y"]}),
        ("(selected(${a}, 'x')) or (${a} = 'y')", {"question": "a", "in": ["x", "y"]}),
        ("${a} = 'door or window'", {"question": "a", "in": ["door or window"]}),
        ("${a} != 'x'", None),
        ("${a} = 'x' or ${b} = 'y'", None),
        ("${a} = 'x' and ${a} = 'y'", None),
        ("not(selected(${a}, 'x'))", None),
    ],
)
def test_relevant_becomes_show_if_only_where_it_means_the_same(condition: str, show_if: dict[str, Any] | None) -> None:
    survey = [
        ["type", "name", "label", "relevant"],
        ["select_one l", "a", "A"],
        ["select_one l", "b", "B"],
        ["text", "c", "C", condition],
    ]
    choices = [["list_name", "name", "label"], ["l", "x", "X"], ["l", "y", "Y"], ["l", "door or window", "D"]]
    definition, notes = read(workbook(survey, choices))
    assert definition["survey"][2].get("show_if") == show_if
    assert (("survey", 4, "relevant", "relevant") in notes) is (show_if is None)


def test_languages_from_label_columns_in_any_convention_and_plain_label_for_the_default() -> None:
    survey = [
        ["type", "name", "label", "label::Welsh", "label::Arabic (ar)", "label::Elvish", "required"],
        ["text", "q", "Question", "Cwestiwn", "سؤال", "??", "yes"],
    ]
    definition, notes = read(workbook(survey))
    assert definition["default_language"] == "en"
    assert definition["survey"][0]["text"] == {"en": "Question", "cy": "Cwestiwn", "ar": "سؤال"}
    assert notes == [("survey", None, "label::Elvish", "unknown_language")]


def test_yes_no_labels_other_than_the_bots_own_words_are_noted() -> None:
    survey = [["type", "name", "label"], ["select_one yn", "q", "Q?"]]
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes, definitely"], ["yn", "no", "No"]]
    definition, notes = read(workbook(survey, choices))
    assert definition["survey"][0]["type"] == "yes_no"
    assert notes == [("choices", 2, "label", "yes_no_labels")]


def test_a_range_with_another_step_or_parameters_is_kept_and_noted() -> None:
    survey = [["type", "name", "label", "parameters"], ["range", "q", "Q", "start=0 end=10 step=2 tick_interval=2"]]
    definition, notes = read(workbook(survey))
    assert definition["survey"][0] | {} == {
        "id": "q",
        "type": "scale",
        "text": {"en": "Q"},
        "min": 0,
        "max": 10,
        "optional": True,
    }
    assert notes == [("survey", 2, "parameters", "range_step"), ("survey", 2, "parameters", "parameters")]


def test_a_file_that_is_not_an_xlsform_says_so() -> None:
    with pytest.raises(NotAnXlsForm) as error:
        read_xlsform(b"PK\x03\x04 not really a zip", timezone=LONDON)
    assert error.value.reason == "not_a_workbook"
    book = Workbook()
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(NotAnXlsForm) as error:
        read_xlsform(out.getvalue(), timezone=LONDON)
    assert error.value.reason == "no_survey_sheet"


def test_workbooks_are_parsed_without_entity_expansion() -> None:
    """openpyxl uses defusedxml when it is installed (a dependency): a billion-laughs sheet is refused."""
    assert openpyxl.xml.DEFUSEDXML is True


# -- uploads: which format, ids, notes carried through the page that asks first --


def upload(name: str, data: bytes) -> Any:
    return read_upload(name, data, catalogs=CATALOGS, timezone=LONDON)


def test_an_uploaded_yaml_is_read_safely_with_its_dates_as_text() -> None:
    found = upload("gp.yaml", EXAMPLES[0].read_bytes())
    assert found.kind == "yaml" and found.notes == ()
    assert found.definition["opens"] == "2026-11-01T09:00:00+00:00"
    assert check_consultation_data(found.definition).data == load_consultation_file(EXAMPLES[0]).data
    unsafe = upload("x.yaml", b"id: !!python/name:os.system\n")
    assert unsafe.definition is None and unsafe.problem == "not_yaml" and unsafe.line == 1


def test_files_that_are_neither_say_so_and_a_yaml_error_names_its_line() -> None:
    assert upload("notes.txt", b"just some words").problem == "neither"
    assert upload("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00").problem == "neither"
    assert upload("letter.docx", b"PK\x03\x04rest").problem == "neither"
    broken = upload("c.yaml", b"id: a\ntitle: {en: 'open\n")
    assert broken.problem == "not_yaml" and broken.line == 2


def test_an_id_missing_or_impossible_is_made_from_the_file_name_and_noted() -> None:
    missing = upload("Home Care 2027.xlsx", workbook([["type", "name", "label"], ["text", "q", "Q"]]))
    assert missing.id == "home-care-2027"
    assert [(n.sheet, n.column, n.kind, dict(n.params)) for n in missing.notes] == [
        ("settings", "form_id", "no_id", {"id": "home-care-2027"})
    ]
    renamed = upload("x.yaml", b"spec_version: 1\nid: My Survey!\n")
    assert renamed.id == "my-survey"
    assert [(n.row, n.column, n.kind) for n in renamed.notes] == [(2, "id", "id_changed")]


def test_notes_survive_the_page_that_asks_before_replacing_and_nothing_else_does() -> None:
    notes = (Note("survey", 7, "relevant", "relevant", {"condition": "${a} = 'x' and ${b} = 'y'"}),)
    assert notes_from_json(notes_to_json(notes)) == notes
    assert notes_from_json('[["survey", 1, "x", "<script>", {}], "junk"]') == ()
    assert notes_from_json("not json") == ()


def test_the_bots_own_yes_and_no_are_written_in_each_language() -> None:
    assert yes_no_words(CATALOGS)("en") == ("Yes", "No")
    assert yes_no_words(CATALOGS)("xx") == ("Yes", "No")


def test_kobotoolbox_id_string_and_a_plain_title_column_name_the_consultation() -> None:
    settings = [["id_string", "title", "title::Welsh (cy)"], ["survey-2027", "Our survey", "Ein harolwg"]]
    definition, notes = read(workbook([["type", "name", "label"], ["text", "q", "Q"]], settings=settings))
    assert definition["id"] == "survey-2027"
    assert definition["title"] == {"en": "Our survey", "cy": "Ein harolwg"}
    assert notes == []
