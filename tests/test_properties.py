"""Random input never breaks the parser, the button decoder or the survey engine (Hypothesis)."""

from __future__ import annotations

import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import callbacks
from conversations.survey.engine import Accepted, Rejected, SurveyEngine
from conversations.survey.loader import load_consultation_text
from tests.test_check_file import HEADER

QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=False), st.text(max_size=30)
)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
KEYS = [
    "id",
    "type",
    "text",
    "choices",
    "optional",
    "show_if",
    "min",
    "max",
    "max_choices",
    "max_length",
    "labels",
    "question",
    "in",
    "en",
    "cy",
]
questions = st.lists(st.dictionaries(st.sampled_from(KEYS), documents, max_size=6), max_size=4)


@QUICK
@given(st.text(max_size=400))
def test_any_text_as_a_consultation_file_gives_problems_not_exceptions(text: str) -> None:
    result = load_consultation_text(text, "random.yaml")
    assert (result.consultation is None) == bool(result.errors)


@pytest.mark.slow
@QUICK
@given(questions)
def test_any_survey_structure_gives_problems_not_exceptions(survey: list[dict[str, object]]) -> None:
    text = HEADER + textwrap.indent(yaml.safe_dump(survey, allow_unicode=True), "  ")
    result = load_consultation_text(text, "random.yaml")
    for problem in result.problems:
        assert str(problem).startswith("random.yaml")


@QUICK
@given(st.text(max_size=80))
def test_any_callback_data_decodes_or_is_refused(data: str) -> None:
    tapped = callbacks.decode(data)
    if tapped is not None:
        assert len(data.encode()) <= 64 and data.startswith(tapped.kind)


@QUICK
@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), min_size=1, max_size=10
        ),
        max_size=3,
    )
)
def test_encoded_callbacks_decode_to_the_same_parts(parts: list[str]) -> None:
    data = ":".join(["s", *parts])
    if len(data.encode()) <= 64:
        tapped = callbacks.decode(callbacks.encode("s", *parts))
        assert tapped is not None and list(tapped.args) == parts


SURVEY = """
- id: pick
  type: single_choice
  text: {en: "Pick"}
  choices: [{id: a, text: {en: "A"}}, {id: b, text: {en: "B"}}]
- id: count
  type: number
  min: 0
  max: 100
  text: {en: "How many?"}
- id: words
  type: text
  max_length: 50
  text: {en: "Why?"}
- id: where
  type: area
  text: {en: "Where?"}
"""


def _engine() -> SurveyEngine:
    from conversations.survey.areas import Area

    result = load_consultation_text(HEADER + textwrap.indent(textwrap.dedent(SURVEY).lstrip(), "  "), "e.yaml")
    assert result.consultation is not None, result.problems
    areas = [Area("sittingbourne", {"en": "Sittingbourne"}, ("ME10",)), Area("sheerness", {"en": "Sheerness"})]
    return SurveyEngine(result.consultation, areas)


ENGINE = _engine()


@QUICK
@given(
    st.lists(
        st.tuples(st.sampled_from(["type", "choose", "toggle", "skip", "back", "done", "keep"]), st.text(max_size=60)),
        max_size=12,
    ),
    st.sampled_from(["en", "cy", "pl", "ar", "uk"]),
)
def test_any_sequence_of_input_leaves_the_survey_in_a_valid_state(
    actions: list[tuple[str, str]], language: str
) -> None:
    state = ENGINE.start()
    for action, text in actions:
        if action == "type":
            result = ENGINE.type_answer(state, text, language)
        elif action in ("choose", "toggle"):
            result = getattr(ENGINE, action)(state, text)
        else:
            result = getattr(ENGINE, action)(state)
        assert isinstance(result, Accepted | Rejected)
        if isinstance(result, Accepted):
            state = result.state
        ENGINE.step(state)
        assert set(ENGINE.final_answers(state)) <= {"pick", "count", "words", "where"}
