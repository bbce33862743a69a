"""The survey engine without Telegram; surveys are written as they are in consultation files."""

from __future__ import annotations

import itertools
import json
import textwrap
from collections.abc import Callable, Sequence

import pytest

from conversations.survey.areas import Area
from conversations.survey.engine import (
    Accepted,
    QuestionStep,
    Rejected,
    Result,
    ReviewStep,
    SurveyEngine,
    SurveyState,
)
from conversations.survey.loader import load_consultation_text
from conversations.survey.model import BUTTON_QUESTIONS, TYPED_QUESTIONS, Answer, QuestionType

HEADER = """\
spec_version: 1
id: engine-test
default_language: en
title: {en: "Home care"}
summary: {en: "A survey used by the engine tests."}
organisation: {en: "Swale Council"}
can_influence: {en: "How visits are arranged."}
cannot_influence: {en: "Who is eligible."}
decision_by: {en: "The cabinet, in April 2027."}
contact: {en: "care@example.gov.uk"}
opens: 2026-11-15T09:00:00Z
closes: 2027-02-28T23:59:00Z
survey:
"""

AREAS = (
    Area("sittingbourne", {"en": "Sittingbourne"}, ("ME9", "ME10")),
    Area("milton-regis", {"en": "Milton Regis"}, ("ME10 2",)),
    Area("sheppey", {"en": "Isle of Sheppey", "cy": "Ynys Sheppey"}, ("ME12",)),
    Area("faversham", {"en": "Faversham"}, ("ME13",)),
)

# Small surveys, written as an officer would write them.

WHO = """
- id: who
  type: single_choice
  text: {en: "Who gets home care?"}
  choices:
    - {id: me, text: {en: "I do"}}
    - {id: family, text: {en: "Someone I care for"}}
    - {id: nobody, text: {en: "Nobody"}}
"""

VISITS = """
- id: visits
  type: multiple_choice
  max_choices: 2
  text: {en: "Which visit times matter most?"}
  choices:
    - {id: early, text: {en: "Before 8am"}}
    - {id: lunch, text: {en: "Lunchtime"}}
    - {id: evening, text: {en: "After 6pm"}}
"""

RATING = """
- id: rating
  type: scale
  min: 1
  max: 5
  text: {en: "How good is your home care?"}
"""

SAME_CARERS = """
- id: same_carers
  type: yes_no
  text: {en: "Do you see the same carers each week?"}
"""

CARERS = """
- id: carers
  type: number
  min: 0
  max: 50
  text: {en: "How many carers visited last month?"}
"""

COMMENTS = """
- id: comments
  type: text
  max_length: 20
  text: {en: "Anything else?"}
"""

HOME = """
- id: home
  type: area
  text: {en: "Which area do you live in?"}
"""

WHY_NOT = """
- id: why_not
  type: text
  show_if: {question: who, in: [nobody]}
  text: {en: "Why not?"}
"""

EVENING_WHY = """
- id: evening_why
  type: text
  show_if: {question: visits, in: [evening]}
  text: {en: "Why the evening?"}
"""

# who -> why_not (only when nobody gets care) -> same_carers
CONDITIONAL = WHO + WHY_NOT + SAME_CARERS

# visits -> evening_why (only when "evening" is ticked) -> same_carers
MULTI_SOURCE = VISITS + EVENING_WHY + SAME_CARERS


def token_counter() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"t{next(numbers)}"


def engine_for(*questions: str, areas: Sequence[Area] = AREAS) -> SurveyEngine:
    survey = textwrap.indent("".join(textwrap.dedent(q) for q in questions), "  ")
    result = load_consultation_text(HEADER + survey, "engine-test.yaml")
    assert result.errors == [], [str(p) for p in result.errors]
    assert result.consultation is not None
    return SurveyEngine(result.consultation, areas, make_token=token_counter())


def accepted(result: Result) -> SurveyState:
    assert isinstance(result, Accepted), result
    return result.state


def at_question(engine: SurveyEngine, state: SurveyState) -> QuestionStep:
    step = engine.step(state)
    assert isinstance(step, QuestionStep), step
    return step


def current(engine: SurveyEngine, state: SurveyState) -> str:
    return at_question(engine, state).question.id


def at_review(engine: SurveyEngine, state: SurveyState) -> dict[str, Answer]:
    step = engine.step(state)
    assert isinstance(step, ReviewStep), step
    return {question.id: answer for question, answer in step.answers}


def optional(question: str) -> str:
    """The same question with `optional: true`."""
    return question.replace("\n  type:", "\n  optional: true\n  type:", 1)


# -- single choice ------------------------------------------------------------


def test_single_choice_stores_the_choice_id_and_moves_on() -> None:
    engine = engine_for(WHO, SAME_CARERS)
    state = accepted(engine.choose(engine.start(), "family"))
    assert state.answers == {"who": "family"}
    assert current(engine, state) == "same_carers"


def test_single_choice_rejects_an_id_that_is_not_one_of_its_choices() -> None:
    engine = engine_for(WHO)
    assert engine.choose(engine.start(), "carer") == Rejected("not_a_choice")


def test_typing_something_that_is_no_buttons_label_asks_for_the_buttons() -> None:
    engine = engine_for(WHO)
    assert engine.type_answer(engine.start(), "I think so") == Rejected("use_buttons")
    assert engine.type_answer(engine.start(), "") == Rejected("use_buttons")


def test_first_question_is_question_1_of_all_and_cannot_go_back() -> None:
    engine = engine_for(WHO, RATING, SAME_CARERS)
    step = at_question(engine, engine.start())
    assert (step.question.id, step.number, step.total) == ("who", 1, 3)
    assert (step.answered, step.answer, step.can_go_back) == (False, None, False)


def test_last_answer_leads_to_the_review_with_every_answer() -> None:
    engine = engine_for(WHO, SAME_CARERS)
    state = accepted(engine.choose(engine.start(), "me"))
    state = accepted(engine.choose(state, "no"))
    assert at_review(engine, state) == {"who": "me", "same_carers": "no"}
    assert engine.final_answers(state) == {"who": "me", "same_carers": "no"}
    assert engine.missing_required(state) is None


def test_buttons_are_refused_at_the_review() -> None:
    engine = engine_for(SAME_CARERS)
    state = accepted(engine.choose(engine.start(), "yes"))
    assert engine.choose(state, "yes") == Rejected("not_now")
    assert engine.type_answer(state, "yes") == Rejected("not_now")
    assert engine.skip(state) == Rejected("not_now")


# -- multiple choice ----------------------------------------------------------


def test_ticks_are_kept_in_the_order_of_the_choices_whatever_the_order_of_taps() -> None:
    engine = engine_for(VISITS)
    state = accepted(engine.toggle(engine.start(), "evening"))
    state = accepted(engine.toggle(state, "early"))
    assert state.draft == ("early", "evening")
    assert at_question(engine, state).draft == ("early", "evening")
    assert state.answers == {}


def test_done_stores_the_ticked_choices_as_a_list() -> None:
    engine = engine_for(VISITS, SAME_CARERS)
    state = accepted(engine.toggle(engine.start(), "lunch"))
    state = accepted(engine.done(state))
    assert state.answers == {"visits": ["lunch"]}
    assert state.draft == ()
    assert current(engine, state) == "same_carers"


def test_tapping_a_ticked_choice_unticks_it() -> None:
    engine = engine_for(VISITS)
    state = accepted(engine.toggle(engine.start(), "lunch"))
    state = accepted(engine.toggle(state, "evening"))
    state = accepted(engine.toggle(state, "lunch"))
    assert state.draft == ("evening",)


def test_a_tick_beyond_max_choices_is_refused_with_the_limit() -> None:
    engine = engine_for(VISITS)
    state = accepted(engine.toggle(engine.start(), "early"))
    state = accepted(engine.toggle(state, "lunch"))
    assert engine.toggle(state, "evening") == Rejected("too_many_choices", {"max": 2})


def test_at_max_choices_a_ticked_choice_can_still_be_unticked_and_another_ticked() -> None:
    engine = engine_for(VISITS)
    state = accepted(engine.toggle(engine.start(), "early"))
    state = accepted(engine.toggle(state, "lunch"))
    state = accepted(engine.toggle(state, "early"))
    state = accepted(engine.toggle(state, "evening"))
    assert state.draft == ("lunch", "evening")


def test_ticking_a_choice_that_does_not_exist_is_refused() -> None:
    engine = engine_for(VISITS)
    assert engine.toggle(engine.start(), "night") == Rejected("not_a_choice")


def test_ticking_is_refused_on_a_single_choice_question() -> None:
    engine = engine_for(WHO)
    assert engine.toggle(engine.start(), "me") == Rejected("not_now")
    assert engine.done(engine.start()) == Rejected("not_now")


def test_a_single_tap_does_not_answer_a_multiple_choice_question() -> None:
    engine = engine_for(VISITS)
    assert engine.choose(engine.start(), "early") == Rejected("not_a_choice")


def test_done_with_nothing_ticked_is_refused_on_a_required_question() -> None:
    engine = engine_for(VISITS)
    assert engine.done(engine.start()) == Rejected("choose_at_least_one")


def test_done_with_nothing_ticked_skips_an_optional_question() -> None:
    engine = engine_for(optional(VISITS), SAME_CARERS)
    state = accepted(engine.done(engine.start()))
    assert state.answers == {"visits": None}
    assert current(engine, state) == "same_carers"


def test_unticking_everything_then_done_is_refused_on_a_required_question() -> None:
    engine = engine_for(VISITS)
    state = accepted(engine.toggle(engine.start(), "lunch"))
    state = accepted(engine.toggle(state, "lunch"))
    assert engine.done(state) == Rejected("choose_at_least_one")


# -- scale --------------------------------------------------------------------


@pytest.mark.parametrize("point", ["1", "5"])
def test_scale_accepts_its_end_points_as_whole_numbers(point: str) -> None:
    engine = engine_for(RATING)
    state = accepted(engine.choose(engine.start(), point))
    assert state.answers == {"rating": int(point)}


@pytest.mark.parametrize("point", ["0", "6", "-1", "2.5", "three"])
def test_scale_refuses_a_point_outside_its_bounds(point: str) -> None:
    engine = engine_for(RATING)
    assert engine.choose(engine.start(), point) == Rejected("not_a_choice")


# -- number -------------------------------------------------------------------


def test_number_is_stored_as_a_whole_number_when_it_is_one() -> None:
    engine = engine_for(CARERS)
    state = accepted(engine.type_answer(engine.start(), " 12 "))
    assert state.answers == {"carers": 12}
    assert isinstance(state.answers["carers"], int)


def test_number_with_a_decimal_comma_is_read_in_polish() -> None:
    engine = engine_for(CARERS)
    state = accepted(engine.type_answer(engine.start(), "1,5", language="pl"))
    assert state.answers == {"carers": 1.5}


def test_number_with_a_decimal_point_is_read_in_english() -> None:
    engine = engine_for(CARERS)
    state = accepted(engine.type_answer(engine.start(), "2.5", language="en"))
    assert state.answers == {"carers": 2.5}


def test_number_with_a_space_between_thousands_is_read() -> None:
    engine = engine_for(CARERS.replace("max: 50", "max: 5000"))
    state = accepted(engine.type_answer(engine.start(), "1 000", language="pl"))
    assert state.answers == {"carers": 1000}


def test_number_below_min_is_refused_with_the_range() -> None:
    engine = engine_for(CARERS)
    assert engine.type_answer(engine.start(), "-1") == Rejected("too_small", {"min": 0, "max": 50})


def test_number_above_max_is_refused_with_the_range() -> None:
    engine = engine_for(CARERS)
    assert engine.type_answer(engine.start(), "51") == Rejected("too_large", {"min": 0, "max": 50})


def test_number_at_its_bounds_is_accepted() -> None:
    engine = engine_for(CARERS)
    assert accepted(engine.type_answer(engine.start(), "0")).answers == {"carers": 0}
    assert accepted(engine.type_answer(engine.start(), "50")).answers == {"carers": 50}


@pytest.mark.parametrize("typed", ["about ten", "NaN", "Infinity", "12 carers"])
def test_what_is_not_a_number_is_refused_with_the_range(typed: str) -> None:
    engine = engine_for(CARERS)
    refused = Rejected("not_a_number", {"min": 0, "max": 50})
    assert engine.type_answer(engine.start(), typed) == refused


def test_buttons_are_refused_on_a_number_question() -> None:
    engine = engine_for(CARERS)
    assert engine.choose(engine.start(), "3") == Rejected("not_a_choice")


# -- yes / no -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["yes", "no"])
def test_yes_no_stores_yes_or_no(value: str) -> None:
    engine = engine_for(SAME_CARERS)
    assert accepted(engine.choose(engine.start(), value)).answers == {"same_carers": value}


def test_yes_no_refuses_anything_else() -> None:
    engine = engine_for(SAME_CARERS)
    assert engine.choose(engine.start(), "maybe") == Rejected("not_a_choice")


# -- text ---------------------------------------------------------------------


def test_text_is_stored_without_surrounding_spaces() -> None:
    engine = engine_for(COMMENTS)
    state = accepted(engine.type_answer(engine.start(), "  More evening visits \n"))
    assert state.answers == {"comments": "More evening visits"}


def test_empty_text_is_refused() -> None:
    engine = engine_for(COMMENTS)
    assert engine.type_answer(engine.start(), "   \n ") == Rejected("empty")


def test_text_of_exactly_max_length_is_accepted() -> None:
    engine = engine_for(COMMENTS)
    state = accepted(engine.type_answer(engine.start(), "x" * 20))
    assert state.answers == {"comments": "x" * 20}


def test_text_longer_than_max_length_is_refused_with_both_lengths() -> None:
    engine = engine_for(COMMENTS)
    refused = Rejected("too_long", {"max": 20, "length": 21})
    assert engine.type_answer(engine.start(), "x" * 21) == refused


# -- area ---------------------------------------------------------------------


def test_area_button_stores_the_area_id() -> None:
    engine = engine_for(HOME)
    assert accepted(engine.choose(engine.start(), "faversham")).answers == {"home": "faversham"}


def test_area_button_that_is_not_a_configured_area_is_refused() -> None:
    engine = engine_for(HOME)
    assert engine.choose(engine.start(), "chatham") == Rejected("not_a_choice")


@pytest.mark.parametrize("typed", ["sittingbourne", "Sitting Bourne", "SITTINGBOURNE!"])
def test_area_typed_by_name_ignores_case_spaces_and_punctuation(typed: str) -> None:
    engine = engine_for(HOME)
    assert accepted(engine.type_answer(engine.start(), typed)).answers == {"home": "sittingbourne"}


def test_area_typed_by_its_name_in_another_language_is_found() -> None:
    engine = engine_for(HOME)
    state = accepted(engine.type_answer(engine.start(), "Ynys Sheppey", language="en"))
    assert state.answers == {"home": "sheppey"}


def test_area_typed_as_the_start_of_one_name_is_found() -> None:
    engine = engine_for(HOME)
    assert accepted(engine.type_answer(engine.start(), "Faver")).answers == {"home": "faversham"}


@pytest.mark.parametrize(
    ("typed", "area_id"),
    [
        ("ME13", "faversham"),
        ("me12 3ab", "sheppey"),
        ("ME9 8XY", "sittingbourne"),
        ("ME101AA", "sittingbourne"),
    ],
)
def test_area_typed_as_a_postcode_is_found_by_its_outward_code(typed: str, area_id: str) -> None:
    engine = engine_for(HOME)
    assert accepted(engine.type_answer(engine.start(), typed)).answers == {"home": area_id}


def test_a_postcode_sector_beats_its_district() -> None:
    engine = engine_for(HOME)
    state = accepted(engine.type_answer(engine.start(), "ME10 2QT"))
    assert state.answers == {"home": "milton-regis"}


def test_unknown_area_is_refused_with_the_closest_names_as_suggestions() -> None:
    engine = engine_for(HOME)
    assert engine.type_answer(engine.start(), "Sittingborne") == Rejected(
        "unknown_area", {"suggestions": ["sittingbourne"]}
    )


def test_postcode_outside_every_area_is_refused_without_suggestions() -> None:
    engine = engine_for(HOME)
    refused = Rejected("unknown_area", {"suggestions": []})
    assert engine.type_answer(engine.start(), "CT1 2AB") == refused


# -- show_if ------------------------------------------------------------------


def test_conditional_question_is_counted_until_its_condition_is_known() -> None:
    engine = engine_for(CONDITIONAL)
    step = at_question(engine, engine.start())
    assert (step.number, step.total) == (1, 3)


def test_conditional_question_is_asked_when_its_condition_is_met() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.choose(engine.start(), "nobody"))
    step = at_question(engine, state)
    assert (step.question.id, step.number, step.total) == ("why_not", 2, 3)


def test_hidden_question_is_skipped_and_no_longer_counted() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.choose(engine.start(), "me"))
    step = at_question(engine, state)
    assert (step.question.id, step.number, step.total) == ("same_carers", 2, 2)


def test_hidden_question_has_no_answer_and_is_not_reviewed() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.choose(engine.start(), "me"))
    state = accepted(engine.choose(state, "yes"))
    assert at_review(engine, state) == {"who": "me", "same_carers": "yes"}
    assert engine.missing_required(state) is None


def test_question_shown_when_any_tick_of_a_multiple_choice_source_matches() -> None:
    engine = engine_for(MULTI_SOURCE)
    state = accepted(engine.toggle(engine.start(), "early"))
    state = accepted(engine.toggle(state, "evening"))
    state = accepted(engine.done(state))
    assert current(engine, state) == "evening_why"


def test_question_hidden_when_no_tick_of_a_multiple_choice_source_matches() -> None:
    engine = engine_for(MULTI_SOURCE)
    state = accepted(engine.toggle(engine.start(), "early"))
    state = accepted(engine.toggle(state, "lunch"))
    state = accepted(engine.done(state))
    step = at_question(engine, state)
    assert (step.question.id, step.number, step.total) == ("same_carers", 2, 2)


def test_skipped_source_hides_the_question_that_depends_on_it() -> None:
    engine = engine_for(optional(WHO), WHY_NOT, SAME_CARERS)
    state = accepted(engine.skip(engine.start()))
    assert current(engine, state) == "same_carers"


# who -> wants_help (when nobody gets care) -> help_kind (when help is wanted) -> same_carers
CHAIN = (
    WHO
    + """
- id: wants_help
  type: yes_no
  show_if: {question: who, in: [nobody]}
  text: {en: "Would you like help at home?"}
- id: help_kind
  type: text
  show_if: {question: wants_help, in: [yes]}
  text: {en: "What help would you like?"}
"""
    + SAME_CARERS
)


def test_question_depending_on_a_hidden_question_is_hidden_too() -> None:
    engine = engine_for(CHAIN)
    assert at_question(engine, engine.start()).total == 4
    step = at_question(engine, accepted(engine.choose(engine.start(), "me")))
    assert (step.question.id, step.number, step.total) == ("same_carers", 2, 2)


def test_stale_answers_down_a_chain_of_conditions_are_not_submitted() -> None:
    engine = engine_for(CHAIN)
    state = accepted(engine.choose(engine.start(), "nobody"))
    state = accepted(engine.choose(state, "yes"))
    state = accepted(engine.type_answer(state, "Shopping"))
    state = accepted(engine.choose(state, "no"))
    state = accepted(engine.choose(accepted(engine.change(state, "who")), "me"))
    assert engine.final_answers(state) == {"who": "me", "same_carers": "no"}


def test_answer_of_a_question_hidden_by_a_later_change_is_not_submitted() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.choose(engine.start(), "nobody"))
    state = accepted(engine.type_answer(state, "Family help me"))
    state = accepted(engine.choose(state, "yes"))
    state = accepted(engine.change(state, "who"))
    state = accepted(engine.choose(state, "me"))
    assert state.answers["why_not"] == "Family help me"
    assert at_review(engine, state) == {"who": "me", "same_carers": "yes"}
    assert engine.final_answers(state) == {"who": "me", "same_carers": "yes"}


def test_answer_hidden_after_going_back_and_changing_the_source_is_not_submitted() -> None:
    engine = engine_for(MULTI_SOURCE)
    state = accepted(engine.toggle(engine.start(), "evening"))
    state = accepted(engine.done(state))
    state = accepted(engine.type_answer(state, "I work days"))
    state = accepted(engine.back(state))
    state = accepted(engine.back(state))
    state = accepted(engine.toggle(state, "evening"))
    state = accepted(engine.toggle(state, "lunch"))
    state = accepted(engine.done(state))
    assert current(engine, state) == "same_carers"
    state = accepted(engine.choose(state, "no"))
    assert engine.final_answers(state) == {"visits": ["lunch"], "same_carers": "no"}


# -- back ---------------------------------------------------------------------


def test_back_returns_to_the_previous_question_with_its_answer_kept() -> None:
    engine = engine_for(WHO, RATING, SAME_CARERS)
    state = accepted(engine.choose(engine.start(), "family"))
    state = accepted(engine.choose(state, "4"))
    state = accepted(engine.back(state))
    step = at_question(engine, state)
    assert (step.question.id, step.number, step.answered, step.answer) == ("rating", 2, True, 4)
    assert state.answers == {"who": "family", "rating": 4}


def test_back_twice_reaches_the_first_question() -> None:
    engine = engine_for(WHO, RATING, SAME_CARERS)
    state = accepted(engine.choose(engine.start(), "family"))
    state = accepted(engine.choose(state, "4"))
    state = accepted(engine.back(accepted(engine.back(state))))
    step = at_question(engine, state)
    assert (step.question.id, step.answer, step.can_go_back) == ("who", "family", False)


def test_back_at_the_first_question_is_refused() -> None:
    engine = engine_for(WHO, SAME_CARERS)
    assert engine.back(engine.start()) == Rejected("at_first_question")


def test_back_restores_the_ticks_of_a_multiple_choice_answer() -> None:
    engine = engine_for(VISITS, SAME_CARERS)
    state = accepted(engine.toggle(engine.start(), "early"))
    state = accepted(engine.toggle(state, "evening"))
    state = accepted(engine.back(accepted(engine.done(state))))
    step = at_question(engine, state)
    assert (step.question.id, step.draft) == ("visits", ("early", "evening"))


def test_back_passes_over_a_question_that_was_not_shown() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.choose(engine.start(), "me"))
    assert current(engine, accepted(engine.back(state))) == "who"


def test_back_from_the_review_returns_to_the_last_question() -> None:
    engine = engine_for(WHO, SAME_CARERS)
    state = accepted(engine.choose(engine.start(), "me"))
    state = accepted(engine.choose(state, "yes"))
    step = at_question(engine, accepted(engine.back(state)))
    assert (step.question.id, step.answer) == ("same_carers", "yes")


def test_keep_moves_on_with_the_answer_already_given() -> None:
    engine = engine_for(WHO, SAME_CARERS)
    state = accepted(engine.choose(engine.start(), "me"))
    state = accepted(engine.keep(accepted(engine.back(state))))
    assert current(engine, state) == "same_carers"
    assert state.answers == {"who": "me"}


def test_keep_is_refused_on_a_question_not_yet_answered() -> None:
    engine = engine_for(WHO)
    assert engine.keep(engine.start()) == Rejected("not_now")


def test_a_changed_answer_after_back_replaces_the_old_one() -> None:
    engine = engine_for(WHO, SAME_CARERS)
    state = accepted(engine.choose(engine.start(), "me"))
    state = accepted(engine.choose(accepted(engine.back(state)), "family"))
    assert state.answers == {"who": "family"}
    assert current(engine, state) == "same_carers"


# -- skip ---------------------------------------------------------------------


def test_skip_records_no_answer_for_an_optional_question() -> None:
    engine = engine_for(optional(CARERS), SAME_CARERS)
    state = accepted(engine.skip(engine.start()))
    assert state.answers == {"carers": None}
    assert current(engine, state) == "same_carers"


def test_skip_is_refused_on_a_required_question() -> None:
    engine = engine_for(CARERS, SAME_CARERS)
    assert engine.skip(engine.start()) == Rejected("not_optional")


def test_skipped_question_is_reviewed_without_an_answer() -> None:
    engine = engine_for(optional(COMMENTS))
    state = accepted(engine.skip(engine.start()))
    assert at_review(engine, state) == {"comments": None}
    assert engine.final_answers(state) == {"comments": None}


# -- change from the review ---------------------------------------------------


def walk_conditional_to_review(engine: SurveyEngine) -> SurveyState:
    state = accepted(engine.choose(engine.start(), "me"))
    state = accepted(engine.choose(state, "yes"))
    at_review(engine, state)
    return state


def test_change_shows_the_question_with_its_current_answer() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.change(walk_conditional_to_review(engine), "same_carers"))
    step = at_question(engine, state)
    assert (step.question.id, step.answer, step.can_go_back) == ("same_carers", "yes", True)


def test_change_restores_the_ticks_of_a_multiple_choice_answer() -> None:
    engine = engine_for(VISITS, SAME_CARERS)
    state = accepted(engine.toggle(engine.start(), "lunch"))
    state = accepted(engine.choose(accepted(engine.done(state)), "yes"))
    state = accepted(engine.change(state, "visits"))
    assert at_question(engine, state).draft == ("lunch",)


def test_after_a_change_the_resident_returns_to_the_review() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.change(walk_conditional_to_review(engine), "who"))
    state = accepted(engine.choose(state, "family"))
    assert at_review(engine, state) == {"who": "family", "same_carers": "yes"}


def test_keeping_the_answer_during_a_change_returns_to_the_review() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.change(walk_conditional_to_review(engine), "who"))
    assert at_review(engine, accepted(engine.keep(state))) == {"who": "me", "same_carers": "yes"}


def test_a_change_that_shows_a_new_question_asks_it_before_the_review() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.change(walk_conditional_to_review(engine), "who"))
    state = accepted(engine.choose(state, "nobody"))
    step = at_question(engine, state)
    assert (step.question.id, step.number, step.total) == ("why_not", 2, 3)
    state = accepted(engine.type_answer(state, "I manage"))
    assert at_review(engine, state) == {
        "who": "nobody",
        "why_not": "I manage",
        "same_carers": "yes",
    }


def test_back_during_a_change_returns_to_the_review_unchanged() -> None:
    engine = engine_for(CONDITIONAL)
    reviewed = walk_conditional_to_review(engine)
    state = accepted(engine.back(accepted(engine.change(reviewed, "same_carers"))))
    assert at_review(engine, state) == {"who": "me", "same_carers": "yes"}


def test_a_newly_shown_question_left_unanswered_is_missing_at_the_review() -> None:
    engine = engine_for(CONDITIONAL)
    state = accepted(engine.change(walk_conditional_to_review(engine), "who"))
    state = accepted(engine.back(accepted(engine.choose(state, "nobody"))))
    assert at_review(engine, state) == {"who": "nobody", "same_carers": "yes"}
    missing = engine.missing_required(state)
    assert missing is not None and missing.id == "why_not"


def test_change_is_refused_outside_the_review() -> None:
    engine = engine_for(CONDITIONAL)
    assert engine.change(engine.start(), "who") == Rejected("not_now")


@pytest.mark.parametrize("question_id", ["why_not", "no_such_question"])
def test_change_of_a_hidden_or_unknown_question_is_refused(question_id: str) -> None:
    engine = engine_for(CONDITIONAL)
    reviewing = walk_conditional_to_review(engine)
    assert engine.change(reviewing, question_id) == Rejected("not_a_choice")


# -- resume -------------------------------------------------------------------

RESUMABLE = (VISITS, EVENING_WHY, CARERS, SAME_CARERS)


def through_json(state: SurveyState) -> SurveyState:
    return SurveyState.from_data(json.loads(json.dumps(state.to_data())))


def resume_points(engine: SurveyEngine) -> list[SurveyState]:
    """A state at each kind of place a resident can leave a survey."""
    first = engine.start()
    ticked = accepted(engine.toggle(first, "evening"))
    typing = accepted(engine.done(ticked))
    numbering = accepted(engine.type_answer(typing, "I work days"))
    answering = accepted(engine.type_answer(numbering, "1,5", language="pl"))
    reviewing = accepted(engine.choose(answering, "yes"))
    changing = accepted(engine.change(reviewing, "visits"))
    return [first, ticked, typing, numbering, answering, reviewing, changing]


def test_a_stored_state_resumes_at_the_same_step() -> None:
    engine = engine_for(*RESUMABLE)
    for state in resume_points(engine):
        restored = through_json(state)
        assert restored == state
        assert engine.step(restored) == engine.step(state)


def test_a_resumed_change_keeps_its_restored_ticks_and_returns_to_the_review() -> None:
    engine = engine_for(*RESUMABLE)
    changing = through_json(resume_points(engine)[-1])
    assert at_question(engine, changing).draft == ("evening",)
    state = accepted(engine.done(changing))
    assert engine.final_answers(state) == {
        "visits": ["evening"],
        "evening_why": "I work days",
        "carers": 1.5,
        "same_carers": "yes",
    }


# -- step tokens --------------------------------------------------------------


def test_start_takes_its_token_from_make_token() -> None:
    engine = engine_for(WHO)
    assert engine.start().token == "t1"


def test_every_change_of_step_gets_a_new_token() -> None:
    engine = engine_for(*RESUMABLE, HOME)
    state = engine.start()
    tokens = [state.token]
    actions: list[Callable[[SurveyState], Result]] = [
        lambda s: engine.toggle(s, "evening"),
        lambda s: engine.toggle(s, "early"),
        lambda s: engine.toggle(s, "early"),
        engine.done,
        lambda s: engine.type_answer(s, "I work days"),
        engine.back,
        engine.keep,
        lambda s: engine.type_answer(s, "3"),
        lambda s: engine.choose(s, "no"),
        lambda s: engine.type_answer(s, "ME13"),
        engine.back,
        engine.back,
        engine.keep,
        engine.keep,
        lambda s: engine.change(s, "carers"),
        engine.back,
        lambda s: engine.change(s, "carers"),
        lambda s: engine.type_answer(s, "4"),
    ]
    for action in actions:
        state = accepted(action(state))
        tokens.append(state.token)
    assert engine.final_answers(state) == {
        "visits": ["evening"],
        "evening_why": "I work days",
        "carers": 4,
        "same_carers": "no",
        "home": "faversham",
    }
    assert len(set(tokens)) == len(tokens), tokens


def test_back_after_a_change_walks_the_shown_questions_backwards() -> None:
    engine = engine_for(CONDITIONAL)
    s = accepted(engine.choose(engine.start(), "nobody"))
    s = accepted(engine.type_answer(s, "I manage"))
    s = accepted(engine.choose(s, "yes"))
    s = accepted(engine.choose(accepted(engine.change(s, "who")), "me"))
    assert at_review(engine, s) == {"who": "me", "same_carers": "yes"}
    s = accepted(engine.back(s))
    assert current(engine, s) == "same_carers"
    s = accepted(engine.back(s))
    assert current(engine, s) == "who", "the question hidden by the change is passed over"
    assert engine.back(s) == Rejected("at_first_question")


def test_a_huge_exponent_is_refused_without_being_expanded() -> None:
    engine = engine_for(CARERS)
    assert engine.type_answer(engine.start(), "1e200000") == Rejected("not_a_number", {"min": 0, "max": 50})


@pytest.mark.parametrize(
    ("typed", "language", "stored"),
    [("1.500", "de", 1500), ("1 500", "pl", 1500), ("1,500", "en", 1500), ("2,5", "pl", 2.5)],
)
def test_numbers_are_read_in_the_residents_own_convention(typed: str, language: str, stored: float) -> None:
    engine = engine_for(CARERS.replace("max: 50", "max: 5000"))
    s = accepted(engine.type_answer(engine.start(), typed, language))
    assert s.answers == {"carers": stored}


@pytest.mark.parametrize("language", ["en", "pl", "de", "ar", "bn"])
@pytest.mark.parametrize(("typed", "stored"), [("1,5", 1.5), ("1.5", 1.5), ("1.234,5", 1234.5), ("1,234.5", 1234.5)])
def test_a_decimal_comma_or_point_is_read_the_same_way_in_every_language(
    typed: str, stored: float, language: str
) -> None:
    engine = engine_for(CARERS.replace("max: 50", "max: 5000"))
    assert accepted(engine.type_answer(engine.start(), typed, language)).answers == {"carers": stored}


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_separator_before_three_digits_is_read_as_thousands_unless_only_the_decimal_fits(language: str) -> None:
    wide = engine_for(CARERS.replace("max: 50", "max: 5000"))
    assert accepted(wide.type_answer(wide.start(), "1,500", language)).answers == {"carers": 1500}
    assert accepted(wide.type_answer(wide.start(), "1.500", language)).answers == {"carers": 1500}
    narrow = engine_for(CARERS)
    assert accepted(narrow.type_answer(narrow.start(), "1,500", language)).answers == {"carers": 1.5}
    assert accepted(narrow.type_answer(narrow.start(), "1.500", language)).answers == {"carers": 1.5}


@pytest.mark.parametrize(
    ("typed", "language"),
    [("١٥", "ar"), ("۱۵", "ur"), ("۱۵", "fa"), ("১৫", "bn"), ("१५", "hi"), ("１５", "en"), ("15", "ar")],
)
def test_numbers_in_every_scripts_digits_are_read(typed: str, language: str) -> None:
    engine = engine_for(CARERS)
    assert accepted(engine.type_answer(engine.start(), typed, language)).answers == {"carers": 15}


def test_the_arabic_decimal_separator_is_read() -> None:
    engine = engine_for(CARERS)
    assert accepted(engine.type_answer(engine.start(), "٢٫٥", "ar")).answers == {"carers": 2.5}


@pytest.mark.parametrize(("typed", "reason"), [("-5", "too_small"), ("−5", "too_small"), ("-١", "too_small"),
                                               ("51", "too_large"), ("1 000 000", "too_large"),
                                               ("9" * 60, "too_large"), ("٩٩٩٩", "too_large")])  # fmt: skip
def test_a_number_out_of_range_is_refused_as_out_of_range_not_as_not_a_number(typed: str, reason: str) -> None:
    engine = engine_for(CARERS)
    assert engine.type_answer(engine.start(), typed) == Rejected(reason, {"min": 0, "max": 50})


def test_a_huge_number_is_refused_as_too_large_even_without_a_maximum() -> None:
    engine = engine_for(CARERS.replace("  max: 50\n", ""))
    assert engine.type_answer(engine.start(), "9" * 400) == Rejected("too_large", {"min": 0, "max": None})


# -- typing a button's label ----------------------------------------------------

WHO_IN_WELSH = WHO.replace('{en: "I do"}', '{en: "I do", cy: "Fi"}')


@pytest.mark.parametrize(
    "typed", ["Someone I care for", "someone i care for", " SOMEONE I CARE FOR. ", "someonei carefor"]
)
def test_typing_a_choices_label_answers_as_a_tap(typed: str) -> None:
    engine = engine_for(WHO, SAME_CARERS)
    state = accepted(engine.type_answer(engine.start(), typed))
    assert state.answers == {"who": "family"}
    assert current(engine, state) == "same_carers"


@pytest.mark.parametrize("typed", ["fi", "I do"])
def test_a_label_is_read_in_the_residents_language_or_the_default_language(typed: str) -> None:
    engine = engine_for(WHO_IN_WELSH)
    assert accepted(engine.type_answer(engine.start(), typed, "cy")).answers == {"who": "me"}


def test_yes_and_no_are_read_in_the_words_the_bot_shows() -> None:
    engine = engine_for(SAME_CARERS)
    words = {"yes": ("Tak",), "no": ("Nie",)}
    assert accepted(engine.type_answer(engine.start(), "tak", "pl", words)).answers == {"same_carers": "yes"}
    assert accepted(engine.type_answer(engine.start(), "NIE", "pl", words)).answers == {"same_carers": "no"}
    assert engine.type_answer(engine.start(), "maybe", "pl", words) == Rejected("use_buttons")
    # Only the words the resident's own buttons show: in Polish, "no" is a casual "yes".
    assert engine.type_answer(engine.start(), "no", "pl", words) == Rejected("use_buttons")
    assert accepted(engine.type_answer(engine.start(), "no")).answers == {"same_carers": "no"}


def test_yes_in_bengali_is_read_with_its_vowel_signs() -> None:
    engine = engine_for(SAME_CARERS)
    words = {"yes": ("হ্যাঁ",), "no": ("না",)}
    assert accepted(engine.type_answer(engine.start(), " হ্যাঁ ", "bn", words)).answers == {"same_carers": "yes"}


@pytest.mark.parametrize("typed", ["4", "٤", "۴", "৪", " 4 "])
def test_a_scale_point_can_be_typed_in_any_scripts_digits(typed: str) -> None:
    engine = engine_for(RATING)
    assert accepted(engine.type_answer(engine.start(), typed)).answers == {"rating": 4}


def test_a_scale_point_outside_the_scale_or_a_fraction_is_refused() -> None:
    engine = engine_for(RATING)
    assert engine.type_answer(engine.start(), "6") == Rejected("use_buttons")
    assert engine.type_answer(engine.start(), "2.5") == Rejected("use_buttons")


def test_a_scales_end_label_can_be_typed() -> None:
    engine = engine_for(RATING.replace("  text:", '  labels: {1: {en: "Very poor"}, 5: {en: "Very good"}}\n  text:'))
    assert accepted(engine.type_answer(engine.start(), "very good")).answers == {"rating": 5}


def test_typing_a_label_at_a_multiple_choice_question_ticks_it_as_a_tap_does() -> None:
    engine = engine_for(VISITS)
    state = accepted(engine.type_answer(engine.start(), "lunchtime"))
    assert state.draft == ("lunch",) and state.answers == {}
    state = accepted(engine.type_answer(state, "After 6pm"))
    assert state.draft == ("lunch", "evening")
    assert engine.type_answer(state, "Before 8am") == Rejected("too_many_choices", {"max": 2})
    assert accepted(engine.type_answer(state, "LUNCHTIME")).draft == ("evening",)


def test_a_label_that_two_choices_share_is_refused_rather_than_guessed() -> None:
    twins = WHO.replace('"Nobody"', '"I do!"')
    engine = engine_for(twins)
    assert engine.type_answer(engine.start(), "I do") == Rejected("use_buttons")


def test_every_question_type_is_answered_either_with_buttons_or_by_typing() -> None:
    assert set(QuestionType) == BUTTON_QUESTIONS | TYPED_QUESTIONS
    assert not BUTTON_QUESTIONS & TYPED_QUESTIONS
