"""Checking consultation files: each problem names the file, line and place an officer must fix."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conversations.survey.loader import (
    BUTTON_LABEL_MAX,
    LoadResult,
    consultation_from_data,
    consultation_to_data,
    load_consultation_file,
    load_consultation_text,
)

FILE = "home-care.yaml"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SWALE_AREAS = frozenset({"sittingbourne", "sheerness", "faversham"})

HEADER = """\
spec_version: 1                                       # line 1
id: home-care-test                                    # line 2
default_language: en                                  # line 3
title: {en: "Home care"}                              # line 4
summary: {en: "Changes to home care."}                # line 5
organisation: {en: "Swale Council"}                   # line 6
can_influence: {en: "How visits are arranged."}       # line 7
cannot_influence: {en: "Who is eligible."}            # line 8
decision_by: {en: "The cabinet, in April 2027."}      # line 9
contact: {en: "care@example.gov.uk"}                  # line 10
opens: 2026-11-15T09:00:00Z                           # line 11
closes: 2027-02-28T23:59:00Z                          # line 12
areas: [sittingbourne, sheerness]                     # line 13
topics: [social-care]                                 # line 14
survey:                                               # line 15
"""

WHO = """\
- id: who                                             # line 16
  type: single_choice                                 # line 17
  text: {en: "Who gets home care?"}                   # line 18
  choices:                                            # line 19
    - {id: me, text: {en: "I do"}}                    # line 20
    - {id: family, text: {en: "Someone I care for"}}  # line 21
"""

WHO_THEN_WHY = (
    WHO
    + """\
- id: why                                             # line 22
  type: text                                          # line 23
  show_if: {question: who, in: [family]}              # line 24
  text: {en: "Why do they need care?"}                # line 25
"""
)


def check(survey: str, header: str = HEADER, **known: frozenset[str]) -> LoadResult:
    text = header + textwrap.indent(textwrap.dedent(survey).lstrip("\n"), "  ")
    return load_consultation_text(text, FILE, **known)


def problems(result: LoadResult) -> list[str]:
    return [str(problem) for problem in result.problems]


def fails_with(result: LoadResult, *expected: str) -> None:
    assert problems(result) == list(expected)
    assert result.consultation is None
    assert result.data is None


def test_the_test_file_itself_is_valid() -> None:
    result = check(WHO_THEN_WHY)
    assert problems(result) == []
    assert result.consultation is not None
    assert [q.id for q in result.consultation.survey] == ["who", "why"]


# -- YAML ---------------------------------------------------------------------


def test_yaml_that_does_not_parse_names_the_line() -> None:
    broken = WHO.replace('text: {en: "Who gets home care?"}', 'text: en: "Who gets home care?" ')
    fails_with(check(broken), f"{FILE}:18: not valid YAML: mapping values are not allowed here")


def test_a_tab_in_the_indentation_names_the_line() -> None:
    broken = WHO.replace("  type: single_choice", "\ttype: single_choice")
    fails_with(check(broken), f"{FILE}:17: not valid YAML: found character '\\t' that cannot start any token")


def test_an_empty_file_is_not_a_consultation() -> None:
    result = load_consultation_text("", FILE)
    fails_with(result, f"{FILE}: a consultation file must be a mapping of fields (spec_version, id, title, ...)")


def test_a_file_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    result = load_consultation_file(tmp_path / "missing.yaml")
    assert len(result.problems) == 1
    assert str(result.problems[0]).startswith(f"{tmp_path / 'missing.yaml'}: cannot read the file: ")
    assert result.consultation is None


# -- texts --------------------------------------------------------------------


def test_consultation_text_without_the_default_language_is_an_error() -> None:
    header = HEADER.replace('title: {en: "Home care"}', 'title: {cy: "Gofal cartref"}')
    fails_with(check(WHO, header), f"{FILE}:4: title: missing text in the default language (en)")


def test_question_text_without_the_default_language_is_an_error() -> None:
    broken = WHO.replace('text: {en: "Who gets home care?"}', 'text: {cy: "Pwy sy\'n cael gofal?"}')
    fails_with(check(broken), f"{FILE}:18: survey[0].text: missing text in the default language (en)")


def test_choice_text_without_the_default_language_is_an_error() -> None:
    broken = WHO.replace('{en: "I do"}', '{cy: "Fi"}  ')
    fails_with(check(broken), f"{FILE}:20: survey[0].choices[0].text: missing text in the default language (en)")


def test_text_written_without_a_language_shows_how_to_write_it() -> None:
    broken = WHO.replace('text: {en: "Who gets home care?"}', 'text: "Who gets home care?"')
    fails_with(
        check(broken),
        f"{FILE}:18: survey[0].text: must be a map from language code to text, e.g. {{en: 'Who gets home care?'}}",
    )


def test_a_missing_consultation_text_is_named_on_the_first_line() -> None:
    header = HEADER.replace('contact: {en: "care@example.gov.uk"}', "#")
    fails_with(
        check(WHO, header), f'{FILE}:1: contact: is missing (a map from language code to text, e.g. {{en: "..."}})'
    )


# -- ids ----------------------------------------------------------------------


def test_duplicate_question_ids_name_the_second_and_the_first() -> None:
    twice = WHO + WHO.replace("# line 16", "# line 22")
    fails_with(check(twice), f"{FILE}:22: survey[1].id: duplicate question id 'who' (also survey[0])")


def test_duplicate_choice_ids_name_the_second() -> None:
    broken = WHO.replace("{id: family,", "{id: me,    ")
    fails_with(check(broken), f"{FILE}:21: survey[0].choices[1].id: duplicate choice id 'me'")


def test_an_id_with_capitals_and_spaces_is_refused_with_the_rule() -> None:
    broken = WHO.replace("- id: who   ", "- id: Who Gets")
    fails_with(
        check(broken),
        f"{FILE}:16: survey[0].id: 'Who Gets' is not a valid id "
        "(lower-case letters, digits, _ and -, at most 24 characters)",
    )


def test_a_consultation_id_with_bad_characters_is_refused() -> None:
    header = HEADER.replace("id: home-care-test", "id: home_care/2026")
    fails_with(
        check(WHO, header),
        f"{FILE}:2: id: 'home_care/2026' is not a valid id (lower-case letters, digits and -, at most 40 characters)",
    )


def test_unquoted_no_as_a_choice_id_asks_for_quotes() -> None:
    broken = WHO.replace("{id: family,", "{id: no,    ")
    fails_with(
        check(broken),
        f"{FILE}:21: survey[0].choices[1].id: "
        "yes/no/on/off/true/false are read as true or false in YAML: put the id in quotes",
    )


def test_unquoted_yes_as_a_question_id_asks_for_quotes() -> None:
    broken = WHO.replace("- id: who", "- id: yes")
    fails_with(
        check(broken),
        f"{FILE}:16: survey[0].id: yes/no/on/off/true/false are read as true or false in YAML: put the id in quotes",
    )


def test_quoted_no_is_a_valid_choice_id() -> None:
    result = check(WHO.replace("{id: family,", '{id: "no",  '))
    assert problems(result) == []
    assert result.consultation is not None
    assert [c.id for c in result.consultation.survey[0].choices] == ["me", "no"]


# -- question types and fields ------------------------------------------------


def test_an_unknown_question_type_lists_the_known_ones() -> None:
    broken = WHO.replace("type: single_choice", "type: multi_choice ")
    fails_with(
        check(broken),
        f"{FILE}:17: survey[0].type: unknown question type 'multi_choice'; "
        "known: single_choice, multiple_choice, scale, number, yes_no, text, area",
    )


def test_a_misspelt_field_is_named_with_the_fields_allowed() -> None:
    broken = WHO.replace("  choices:", "  optinal: true\n  choices:")
    fails_with(
        check(broken),
        f"{FILE}:19: survey[0].optinal: unknown field; expected one of: "
        "choices, id, labels, max, max_choices, max_length, min, optional, "
        "show_if, text, type",
    )


def test_a_misspelt_consultation_field_is_named() -> None:
    header = HEADER.replace("topics: [social-care]", "topic: [social-care] ")
    fails_with(
        check(WHO, header),
        f"{FILE}:14: topic: unknown field; expected one of: about_you, areas, "
        "can_influence, cannot_influence, closes, contact, decision_by, "
        "default_language, id, opens, organisation, spec_version, summary, "
        "survey, title, topics",
    )


def test_a_choice_question_with_one_choice_is_refused() -> None:
    broken = WHO.replace('    - {id: family, text: {en: "Someone I care for"}}', "")
    fails_with(
        check(broken), f"{FILE}:19: survey[0].choices: needs a list of at least two choices, each with id and text"
    )


def test_a_choice_label_longer_than_a_button_is_refused() -> None:
    label = "Someone I care for, who lives near to me"
    longer = label + "!"
    assert len(longer) == BUTTON_LABEL_MAX + 1
    broken = WHO.replace('"Someone I care for"', f'"{longer}"')
    fails_with(
        check(broken),
        f"{FILE}:21: survey[0].choices[1].text.en: too long for a button (41 characters; at most {BUTTON_LABEL_MAX})",
    )


def test_a_choice_label_as_long_as_a_button_allows_is_accepted() -> None:
    label = "Someone I care for, who lives near to me"
    assert len(label) == BUTTON_LABEL_MAX
    result = check(WHO.replace('"Someone I care for"', f'"{label}"'))
    assert problems(result) == []


def test_a_long_label_in_a_translation_is_refused_too() -> None:
    welsh = "Rhywun rwy'n gofalu amdano, sy'n byw yn agos"
    broken = WHO.replace('{en: "Someone I care for"}', f'{{en: "Someone I care for", cy: "{welsh}"}}')
    fails_with(
        check(broken),
        f"{FILE}:21: survey[0].choices[1].text.cy: "
        f"too long for a button ({len(welsh)} characters; at most {BUTTON_LABEL_MAX})",
    )


RATING = """\
- id: rating                                          # line 16
  type: scale                                         # line 17
  min: 1                                              # line 18
  max: 5                                              # line 19
  text: {en: "How good is your home care?"}           # line 20
"""


def test_a_scale_without_min_and_max_asks_for_both() -> None:
    broken = RATING.replace("  min: 1", "#").replace("  max: 5", "#")
    fails_with(check(broken), f"{FILE}:16: survey[0].min: a scale needs whole-number min and max, e.g. min: 1, max: 5")


def test_a_scale_without_max_asks_for_both() -> None:
    fails_with(
        check(RATING.replace("  max: 5", "#")),
        f"{FILE}:18: survey[0].min: a scale needs whole-number min and max, e.g. min: 1, max: 5",
    )


def test_a_scale_with_too_many_points_is_refused() -> None:
    fails_with(
        check(RATING.replace("max: 5 ", "max: 20")),
        f"{FILE}:19: survey[0].max: a scale runs from min to a larger max, with at most 11 points",
    )


def test_a_scale_label_off_the_scale_is_refused() -> None:
    labelled = RATING + '  labels: {0: {en: "Awful"}}                         # line 21\n'
    fails_with(check(labelled), f"{FILE}:21: survey[0].labels.0: is not a point on the scale (1 to 5)")


# -- show_if ------------------------------------------------------------------


def test_show_if_on_an_unknown_question_is_refused() -> None:
    broken = WHO_THEN_WHY.replace("{question: who,", "{question: whom,")
    fails_with(
        check(broken), f"{FILE}:24: survey[1].show_if.question: 'whom' is not an earlier question in this survey"
    )


def test_show_if_on_a_later_question_is_refused() -> None:
    later = """\
    - id: why                                             # line 16
      type: text                                          # line 17
      show_if: {question: who, in: [family]}              # line 18
      text: {en: "Why do they need care?"}                # line 19
    """
    fails_with(
        check(textwrap.dedent(later) + WHO),
        f"{FILE}:18: survey[0].show_if.question: 'who' is not an earlier question in this survey",
    )


def test_show_if_on_a_choice_that_does_not_exist_lists_the_choices() -> None:
    broken = WHO_THEN_WHY.replace("in: [family]}", "in: [carer]} ")
    fails_with(
        check(broken), f"{FILE}:24: survey[1].show_if.in[0]: 'carer' is not a choice of question 'who' (me, family)"
    )


def test_show_if_on_a_text_question_is_refused() -> None:
    chained = WHO_THEN_WHY + textwrap.dedent("""\
    - id: more                                            # line 26
      type: text                                          # line 27
      show_if: {question: why, in: [money]}               # line 28
      text: {en: "Tell us more."}                         # line 29
    """)
    fails_with(check(chained), f"{FILE}:28: survey[2].show_if.question: cannot depend on a text question")


def test_show_if_off_the_scale_is_refused() -> None:
    conditional = RATING + textwrap.dedent("""\
    - id: why                                             # line 21
      type: text                                          # line 22
      show_if: {question: rating, in: [0, 1]}             # line 23
      text: {en: "What is wrong?"}                        # line 24
    """)
    fails_with(
        check(conditional), f"{FILE}:23: survey[1].show_if.in[0]: 0 is not a point on the scale of question 'rating'"
    )


def test_show_if_reads_yes_and_no_as_the_answers_of_a_yes_no_question() -> None:
    survey = """\
    - id: has_care
      type: yes_no
      text: {en: "Do you get home care?"}
    - id: why
      type: text
      show_if: {question: has_care, in: [no]}
      text: {en: "Why not?"}
    """
    result = check(textwrap.dedent(survey))
    assert problems(result) == []
    assert result.consultation is not None
    condition = result.consultation.survey[1].show_if
    assert condition is not None and condition.values == ("no",)


# -- dates and areas ----------------------------------------------------------


def test_closes_before_opens_names_both_dates() -> None:
    header = HEADER.replace("closes: 2027-02-28T23:59:00Z", "closes: 2026-11-01T23:59:00Z")
    fails_with(
        check(WHO, header),
        f"{FILE}:12: closes: closes (2026-11-01T23:59:00+00:00) must be after opens (2026-11-15T09:00:00+00:00)",
    )


def test_closes_at_the_moment_it_opens_is_refused() -> None:
    header = HEADER.replace("closes: 2027-02-28T23:59:00Z", "closes: 2026-11-15T09:00:00Z")
    fails_with(
        check(WHO, header),
        f"{FILE}:12: closes: closes (2026-11-15T09:00:00+00:00) must be after opens (2026-11-15T09:00:00+00:00)",
    )


def test_a_date_without_a_time_zone_is_refused() -> None:
    header = HEADER.replace("opens: 2026-11-15T09:00:00Z", "opens: 2026-11-15T09:00:00 ")
    fails_with(check(WHO, header), f"{FILE}:11: opens: needs a time zone, e.g. 2027-01-31T23:59:00Z or +01:00")


def test_an_unknown_area_lists_the_known_ones() -> None:
    header = HEADER.replace("[sittingbourne, sheerness]", "[sittingbourne, chatham]  ")
    fails_with(
        check(WHO, header, known_areas=SWALE_AREAS),
        f"{FILE}:13: areas[1]: unknown area 'chatham'; known: faversham, sheerness, sittingbourne",
    )


def test_areas_are_not_checked_when_the_deployment_areas_are_not_given() -> None:
    header = HEADER.replace("[sittingbourne, sheerness]", "[sittingbourne, chatham]  ")
    result = check(WHO, header)
    assert problems(result) == []
    assert result.consultation is not None and result.consultation.areas == ("sittingbourne", "chatham")


# -- several problems ---------------------------------------------------------


def test_every_problem_is_reported_in_one_pass() -> None:
    broken = WHO_THEN_WHY.replace("  choices:", "  optinal: true\n  choices:").replace("in: [family]}", "in: [carer]}")
    header = HEADER.replace("closes: 2027-02-28T23:59:00Z", "closes: 2026-11-01T23:59:00Z")
    fails_with(
        check(broken, header),
        f"{FILE}:12: closes: closes (2026-11-01T23:59:00+00:00) must be after opens (2026-11-15T09:00:00+00:00)",
        f"{FILE}:19: survey[0].optinal: unknown field; expected one of: choices, id, labels, max, "
        "max_choices, max_length, min, optional, show_if, text, type",
        f"{FILE}:25: survey[1].show_if.in[0]: 'carer' is not a choice of question 'who' (me, family)",
    )


# -- translations -------------------------------------------------------------


def test_a_missing_translation_is_a_warning_naming_the_text() -> None:
    text = (EXAMPLES / "gp-opening-hours.yaml").read_text(encoding="utf-8")
    untranslated = text.replace('      cy: "Beth sy\'n ei wneud yn anodd?"\n', "")
    assert untranslated != text
    result = load_consultation_text(untranslated, "gp-opening-hours.yaml")
    line = untranslated.splitlines().index("    show_if: {question: rating, in: [1, 2]}") + 2
    assert problems(result) == [f"gp-opening-hours.yaml:{line}: warning: survey[3].text: no cy translation"]


def test_warnings_do_not_make_the_file_invalid() -> None:
    result = check(WHO.replace('{en: "I do"}', '{en: "I do", cy: "Fi"}'))
    assert result.errors == []
    assert result.warnings != []
    assert all(problem.warning for problem in result.warnings)
    assert result.consultation is not None
    assert result.data == consultation_to_data(result.consultation)


def test_every_untranslated_text_is_warned_about_once() -> None:
    result = check(WHO.replace('{en: "I do"}', '{en: "I do", cy: "Fi"}'))
    assert problems(result) == [
        f"{FILE}:4: warning: title: no cy translation",
        f"{FILE}:5: warning: summary: no cy translation",
        f"{FILE}:6: warning: organisation: no cy translation",
        f"{FILE}:7: warning: can_influence: no cy translation",
        f"{FILE}:8: warning: cannot_influence: no cy translation",
        f"{FILE}:9: warning: decision_by: no cy translation",
        f"{FILE}:10: warning: contact: no cy translation",
        f"{FILE}:18: warning: survey[0].text: no cy translation",
        f"{FILE}:21: warning: survey[0].choices[1].text: no cy translation",
    ]


def test_translations_are_only_expected_in_the_deployment_languages() -> None:
    result = check(WHO.replace('{en: "I do"}', '{en: "I do", cy: "Fi"}'), known_languages=frozenset({"en"}))
    assert problems(result) == []


def test_no_warnings_about_translations_while_there_are_errors() -> None:
    broken = WHO.replace('{en: "I do"}', '{en: "I do", cy: "Fi"}').replace("{id: family,", "{id: me,    ")
    fails_with(check(broken), f"{FILE}:21: survey[0].choices[1].id: duplicate choice id 'me'")


# -- the example files ----------------------------------------------------------


EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_both_example_files_are_there() -> None:
    assert [path.name for path in EXAMPLE_FILES] == ["gp-opening-hours.yaml", "home-care-changes.yaml"]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
def test_example_file_loads_without_problems(path: Path) -> None:
    result = load_consultation_file(path, known_areas=SWALE_AREAS)
    assert problems(result) == []
    assert result.consultation is not None
    assert result.consultation.id == path.stem


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
def test_example_file_round_trips_through_json_to_an_equal_consultation(path: Path) -> None:
    consultation = load_consultation_file(path).consultation
    assert consultation is not None
    stored = json.loads(json.dumps(consultation_to_data(consultation)))
    assert consultation_from_data(stored) == consultation


def test_home_care_example_is_the_planned_consultation() -> None:
    consultation = load_consultation_file(EXAMPLES / "home-care-changes.yaml").consultation
    assert consultation is not None
    assert consultation.areas == ("sittingbourne", "sheerness", "faversham")
    assert consultation.topics == ("social-care",)
    assert consultation.opens.isoformat() == "2026-11-15T09:00:00+00:00"
    assert consultation.closes.isoformat() == "2027-02-28T23:59:00+00:00"
    assert consultation.is_translated_into("cy")
    types = {q.type.value for q in consultation.survey}
    assert types == {"single_choice", "multiple_choice", "scale", "yes_no", "text", "number", "area"}
    assert 6 <= len(consultation.survey) <= 9
    assert any(q.type.value == "text" and q.show_if for q in consultation.survey)
    assert any(q.type.value == "number" and q.optional for q in consultation.survey)


def test_round_trip_keeps_scale_labels_show_if_and_limits() -> None:
    survey = RATING + textwrap.dedent("""\
    - id: why
      type: text
      optional: true
      max_length: 500
      show_if: {question: rating, in: [1, 2]}
      text: {en: "What is wrong?"}
    - id: carers
      type: number
      min: 0
      max: 2.5
      text: {en: "How many hours a day?"}
    """)
    labelled = survey.replace("  max: 5", '  max: 5\n  labels: {1: {en: "Poor"}, 5: {en: "Good"}}')
    consultation = check(labelled).consultation
    assert consultation is not None
    stored = json.loads(json.dumps(consultation_to_data(consultation)))
    assert consultation_from_data(stored) == consultation


def test_a_field_given_twice_names_both_lines() -> None:
    result = check(
        WHO.replace('  text: {en: "Who gets home care?"}', '  text: {en: "Who gets home care?"}\n  text: {en: "Who?"}')
    )
    fails_with(result, "home-care.yaml:19: not valid YAML: 'text' appears twice in the same place (first on line 18)")


def test_an_unclosed_quote_names_the_line_where_it_opens() -> None:
    result = check(WHO.replace('{en: "Who gets home care?"}', '{en: "Who gets home care?}'))
    [problem] = problems(result)
    assert problem.startswith("home-care.yaml:18: not valid YAML: while parsing a flow mapping on line 18")


def test_an_unquoted_no_in_show_if_says_to_quote_it() -> None:
    survey = WHO.replace("{id: family,", '{id: "no",') + WHO_THEN_WHY[len(WHO) :].replace("[family]", "[no]")
    fails_with(
        check(survey),
        "home-care.yaml:24: survey[1].show_if.in[0]: yes/no/on/off/true/false are read as "
        "true or false in YAML: put the choice id in quotes",
    )


def test_a_question_without_a_type_says_it_is_missing() -> None:
    without_type = "".join(line for line in WHO.splitlines(keepends=True) if "type:" not in line)
    fails_with(
        check(without_type),
        "home-care.yaml:16: survey[0].type: is missing; known: single_choice, multiple_choice, scale, "
        "number, yes_no, text, area",
    )


# -- the summary before Submit ------------------------------------------------------


def test_a_survey_whose_answers_cannot_fit_in_one_message_is_warned_about() -> None:
    five = "".join(f'- id: q{n}\n  type: text\n  text: {{en: "What would you change, part {n}?"}}\n' for n in range(5))
    result = check(five)
    assert result.errors == [] and result.consultation is not None
    [warning] = problems(result)
    assert warning.startswith(f"{FILE}:15: warning: survey: the answers can fill about 5,")
    assert "more than the 4,096 Telegram allows in one message" in warning
    assert problems(check(five.replace("type: text\n", "type: text\n  max_length: 500\n"))) == []


def test_a_shown_answer_and_the_summary_always_fit_in_one_message() -> None:
    from conversations.i18n import Catalogs
    from conversations.survey.engine import Accepted, QuestionStep, ReviewStep, SurveyEngine
    from conversations.survey.render import SurveyView

    long_question = "Tell us everything about your care. " * 30
    survey = "".join(
        f'- id: q{n}\n  type: text\n  max_length: 4000\n  text: {{en: "{long_question}"}}\n' for n in range(3)
    )
    consultation = check(survey).consultation
    assert consultation is not None
    engine, view = SurveyEngine(consultation), SurveyView(consultation, Catalogs.load().translator("en"))
    state = engine.start()
    for _ in range(3):
        accepted = engine.type_answer(state, "x" * 4000)
        assert isinstance(accepted, Accepted)
        state = accepted.state
    review = engine.step(state)
    assert isinstance(review, ReviewStep)
    assert len(view.review(review, state).text) <= 4096
    assert len(view.sent_answers(review).text) <= 4096
    back = engine.back(state)
    assert isinstance(back, Accepted)
    step = engine.step(back.state)
    assert isinstance(step, QuestionStep) and step.answered
    assert len(view.question(step, back.state).text) <= 4096
