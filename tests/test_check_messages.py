"""Every problem `haveyoursay check` can report reads in the officer's language in the workspace.

The command line stays English (tests/test_check_file.py holds its exact words); here a set of bad
consultations makes the loader report every kind of problem it knows, and each must be a catalog
message that a translator's catalog changes.
"""

from __future__ import annotations

import copy
import gettext
import json
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.catalogs import extract
from bot.cli import validate_files
from conversations.deployment import load_deployment
from conversations.i18n import FSI, PDI, Catalogs, Translator
from conversations.survey.loader import (
    TEXT_ANSWER_MAX,
    Problem,
    check_consultation_data,
    load_consultation_file,
    load_consultation_text,
)

DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
LONDON = ZoneInfo("Europe/London")
AREAS = frozenset({"north", "south"})
TOPICS = frozenset({"roads"})
MARK = "[cy] "


def en(text: str) -> dict[str, str]:
    return {"en": text}


def question(kind: str, question_id: str = "q", **fields: Any) -> dict[str, Any]:
    """A valid question of a type, with some fields changed (None removes a field)."""
    found: dict[str, Any] = {"id": question_id, "type": kind, "text": en("What do you think?")}
    if kind in ("single_choice", "multiple_choice"):
        found["choices"] = [{"id": "a", "text": en("A")}, {"id": "b", "text": en("B")}]
    if kind == "scale":
        found.update(min=1, max=5)
    found.update(fields)
    return {key: value for key, value in found.items() if value is not None}


SURVEY = [
    question("single_choice", "who"),
    question("multiple_choice", "many"),
    question("scale", "rate"),
    question("yes_no", "ok"),
    question("number", "count", min=0, max=10),
    question("text", "why"),
    question("area", "where"),
]
BASE: dict[str, Any] = {
    "spec_version": 1,
    "id": "bins",
    "default_language": "en",
    "title": en("Bins"),
    "summary": en("How often bins are collected."),
    "organisation": en("Swale Council"),
    "can_influence": en("The day of the week."),
    "cannot_influence": en("The budget."),
    "decision_by": en("The cabinet, in April 2027."),
    "contact": en("bins@example.gov.uk"),
    "opens": "2027-01-01T09:00:00+00:00",
    "closes": "2027-02-01T09:00:00+00:00",
    "areas": ["north"],
    "topics": ["roads"],
    "survey": SURVEY,
}


def consultation(**fields: Any) -> dict[str, Any]:
    """The valid consultation with some fields changed (None removes a field)."""
    found = copy.deepcopy(BASE)
    found.update(fields)
    return {key: value for key, value in found.items() if value is not None}


def shown_if(target: str, *values: Any) -> dict[str, Any]:
    """The survey with a last question shown only for these answers to `target`."""
    return {"survey": [*SURVEY, question("text", "then", show_if={"question": target, "in": list(values)})]}


BAD_DATA: list[tuple[dict[str, Any], dict[str, frozenset[str]]]] = [
    (consultation(spec_version=2, id="Bad Id", default_language="EN1", colour="blue"), {}),
    (consultation(id=None, about_you=3), {}),
    (consultation(id=True), {}),
    (
        consultation(
            title=None,
            summary="Bins.",
            organisation=["Swale"],
            can_influence={"EN1": "Days"},
            cannot_influence={"en": " "},
            contact={"cy": "biniau@example.gov.uk"},
        ),
        {},
    ),
    (consultation(opens="soon", closes="2027-02-01T09:00:00"), {}),
    (consultation(closes="2026-12-01T09:00:00+00:00"), {}),
    (consultation(areas="north", topics="roads"), {"known_areas": AREAS, "known_topics": TOPICS}),
    (consultation(areas=["east"], topics=["rail"]), {"known_areas": AREAS, "known_topics": TOPICS}),
    (consultation(areas=["east"], topics=["rail"]), {"known_areas": frozenset(), "known_topics": frozenset()}),
    (consultation(survey=[]), {}),
    (consultation(survey=[3, question("text", "a"), question("text", "a")]), {}),
    (consultation(survey=[question("text", "Bad Id"), question("text", type=None)]), {}),
    (consultation(survey=[question("essay"), question("text", optional="yes")]), {}),
    (consultation(survey=[question("number", min="one")]), {}),
    (consultation(survey=[question("number", min=5, max=1), question("text", "t", max_length=0)]), {}),
    (consultation(survey=[question("single_choice", choices=[{"id": "a", "text": en("A")}])]), {}),
    (
        consultation(
            survey=[
                question("single_choice", choices=[3, {"id": "Bad Id", "text": en("A")}, {"id": "a", "text": en("A")}])
            ]
        ),
        {},
    ),
    (
        consultation(
            survey=[
                question(
                    "multiple_choice",
                    max_choices=9,
                    choices=[
                        {"id": "a", "text": en("A")},
                        {"id": "a", "text": en("A")},
                        {"id": "b", "text": en("B" * 41)},
                    ],
                )
            ]
        ),
        {},
    ),
    (
        consultation(
            survey=[
                question("scale", "s1", min=None),
                question("scale", "s2", max=20),
                question("scale", "s3", labels="hard to easy"),
                question("scale", "s4", labels={9: en("Very easy")}),
            ]
        ),
        {},
    ),
    (consultation(survey=[question("area")]), {"known_areas": frozenset()}),
    (consultation(survey=[question("text", show_if="who")]), {}),
    (consultation(**shown_if("nobody", "a")), {}),
    (
        consultation(
            survey=[question("number", "n", min="one"), question("text", show_if={"question": "n", "in": [1]})]
        ),
        {},
    ),
    (consultation(**shown_if("why", "a")), {}),
    (consultation(**shown_if("who")), {}),
    (consultation(**shown_if("ok", "maybe")), {}),
    (consultation(**shown_if("who", True)), {}),
    (consultation(**shown_if("who", "zz")), {}),
    (consultation(**shown_if("where", "east")), {"known_areas": AREAS}),
    (consultation(**shown_if("count", "ten")), {}),
    (consultation(**shown_if("rate", 9)), {}),
    (consultation(title={"en": "Bins", "cy": "Biniau"}), {}),
    (consultation(survey=[question("text", "a", max_length=TEXT_ANSWER_MAX), question("text", "b")]), {}),
]
BAD_TEXT = ["- just a list", "title: [unclosed", "a: 1\na: 2\n"]


@cache
def every_problem() -> tuple[Problem, ...]:
    """The problems of every bad consultation above, and of bad files."""
    found: list[Problem] = []
    for data, known in BAD_DATA:
        found += check_consultation_data(data, **known).problems
    for text in BAD_TEXT:
        found += load_consultation_text(text, "bad.yaml").problems
    found += load_consultation_file("/nonexistent/consultation.yaml").problems
    return tuple(found)


def duplicate_file_problems(tmp_path: Path) -> list[Problem]:
    text = (Path(__file__).resolve().parent.parent / "examples" / "gp-opening-hours.yaml").read_text(encoding="utf-8")
    files = [tmp_path / "one.yaml", tmp_path / "two.yaml"]
    for file in files:
        file.write_text(text, encoding="utf-8")
    return [p for r in validate_files(files, load_deployment(DEPLOYMENT)) for p in r.problems if not p.warning]


@cache
def catalog_messages(*where: str) -> frozenset[str]:
    """The catalog messages extracted from these source files (any file when none is named)."""
    return frozenset(
        message.id
        for message in extract()
        if isinstance(message.id, str)
        and message.id
        and (not where or any(file in where for file, _line in message.locations))
    )


class MarkedCatalog(gettext.NullTranslations):
    """A catalog in which every message is "translated" by a visible mark."""

    def gettext(self, message: str) -> str:
        return MARK + message


def test_the_bad_consultations_make_the_loader_report_every_kind_of_problem_it_knows(tmp_path: Path) -> None:
    reported = {p.template for p in [*every_problem(), *duplicate_file_problems(tmp_path)]}
    from_the_command = {m for m in catalog_messages("bot/cli.py") if m.startswith("duplicate consultation id")}
    assert len(from_the_command) == 1
    known = catalog_messages("conversations/survey/loader.py", "conversations/survey/yaml_lines.py")
    assert any("appears twice" in m for m in known)
    assert (known | from_the_command) - reported == set()


def test_every_problem_is_a_message_the_catalogs_carry(tmp_path: Path) -> None:
    problems = [*every_problem(), *duplicate_file_problems(tmp_path)]
    messages = catalog_messages()
    assert [p.message for p in problems if p.template not in messages] == []


def test_a_problem_reads_in_the_translators_language_with_the_same_details() -> None:
    welsh = Translator("cy", MarkedCatalog(), LONDON)
    for problem in every_problem():
        assert problem.describe(welsh) == MARK + problem.message


def test_the_command_line_words_are_the_english_template_filled_in(tmp_path: Path) -> None:
    english = Translator("en", gettext.NullTranslations(), LONDON)
    for problem in [*every_problem(), *duplicate_file_problems(tmp_path)]:
        assert problem.describe(english) == problem.message
        assert str(problem).endswith(problem.message)


def test_counts_are_written_as_the_reader_writes_numbers_and_ids_keep_their_order_in_arabic() -> None:
    catalogs = Catalogs.load(languages=["ar", "pl"])
    polish, arabic = catalogs.translator("pl"), catalogs.translator("ar")
    too_long = next(p for p in every_problem() if "Telegram allows" in p.template)
    assert "more than the 4,096 Telegram allows" in too_long.message
    assert polish.number(4096) in too_long.describe(polish) and "4,096" not in too_long.describe(polish)
    assert polish.number(4096) != "4,096"
    unknown = next(p for p in every_problem() if "is not an earlier question" in p.template)
    assert f"{FSI}'nobody'{PDI}" in unknown.describe(arabic)


def test_a_problem_is_plain_text_for_a_page_that_escapes_it() -> None:
    welsh = Translator("cy", MarkedCatalog(), LONDON)
    found = check_consultation_data(consultation(survey=[question("essay<b>&")])).problems
    assert [p.describe(welsh) for p in found if "unknown question type" in p.template] == [
        MARK + "unknown question type 'essay<b>&'; known: single_choice, multiple_choice, scale, number, yes_no, "
        "text, area"
    ]


@pytest.mark.parametrize("language", ["cy", "ar"])
def test_every_problem_reads_in_the_catalogs_translation_once_it_is_translated(language: str) -> None:
    """Vacuous until the catalogs carry these messages; then each translated one must be used."""
    t = Catalogs.load(languages=[language]).translator(language)
    for problem in every_problem():
        if t.translations.gettext(problem.template) != problem.template:
            assert problem.describe(t) != problem.message


def test_a_draft_is_warned_about_missing_translations_as_its_file_would_be() -> None:
    """The workspace checks a draft's data, which has no lines: the same warnings, at the same places."""
    text = (Path(__file__).resolve().parent.parent / "examples" / "gp-opening-hours.yaml").read_text(encoding="utf-8")
    untranslated = text.replace('      cy: "Beth sy\'n ei wneud yn anodd?"\n', "")
    from_file = load_consultation_text(untranslated, "gp-opening-hours.yaml")
    assert from_file.data is not None
    untranslated_data = yaml.safe_load(untranslated)
    from_data = check_consultation_data(untranslated_data)
    expected = [(("survey", 3, "text"), "no cy translation", True)]
    assert [(p.path, p.message, p.warning) for p in from_file.problems] == expected
    assert [(p.path, p.message, p.warning) for p in from_data.problems] == expected
    stored = check_consultation_data(json.loads(json.dumps(from_file.data)))
    assert [(p.path, p.message, p.warning) for p in stored.problems] == expected
