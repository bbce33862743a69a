"""Survey screens as a resident reads them: which consultation, how far, which area."""

from __future__ import annotations

import textwrap

from bot.i18n import Catalogs
from conversations.survey.engine import Accepted, QuestionStep, Result, SurveyEngine, SurveyState
from conversations.survey.loader import load_consultation_text
from conversations.survey.render import SurveyView
from tests.test_engine import AREAS, CONDITIONAL, HEADER, RATING, WHO

T = Catalogs.load().translator("en")


def engine_and_view(*questions: str, title: str = "Home care") -> tuple[SurveyEngine, SurveyView]:
    survey = textwrap.indent("".join(textwrap.dedent(q) for q in questions), "  ")
    text = (HEADER + survey).replace('title: {en: "Home care"}', "title: {en: " + repr(title).replace("'", '"') + "}")
    result = load_consultation_text(text, "screens-test.yaml")
    assert result.consultation is not None, [str(p) for p in result.errors]
    return SurveyEngine(result.consultation, AREAS), SurveyView(result.consultation, T, AREAS)


def state_of(result: Result) -> SurveyState:
    assert isinstance(result, Accepted), result
    return result.state


def shown(engine: SurveyEngine, view: SurveyView, state: SurveyState) -> str:
    return view.step(engine.step(state), state).text


def test_every_question_and_the_summary_say_which_consultation_they_belong_to() -> None:
    engine, view = engine_and_view(WHO, RATING, title="Care <at home> & you")
    state = engine.start()
    first = shown(engine, view, state)
    assert first.startswith("📋 <i>Care &lt;at home&gt; &amp; you</i>\n<b>Question 1 of 2</b>")
    state = state_of(engine.choose(state, "me"))
    assert shown(engine, view, state).startswith("📋 <i>Care &lt;at home&gt; &amp; you</i>\n<b>Question 2 of 2</b>")
    state = state_of(engine.choose(state, "3"))
    assert shown(engine, view, state).startswith("📋 <i>Care &lt;at home&gt; &amp; you</i>\n")


def test_the_count_says_it_may_go_down_while_a_question_may_not_apply_and_never_goes_up() -> None:
    engine, view = engine_and_view(CONDITIONAL)
    state = engine.start()
    first = engine.step(state)
    assert isinstance(first, QuestionStep) and (first.total, first.total_is_final) == (3, False)
    assert "Question 1 of 3</b> <i>(or fewer, if some do not apply to you)</i>" in shown(engine, view, state)
    state = state_of(engine.choose(state, "me"))  # the follow-up for "nobody" does not apply
    second = engine.step(state)
    assert isinstance(second, QuestionStep) and (second.number, second.total, second.total_is_final) == (2, 2, True)
    assert "<b>Question 2 of 2</b>\n" in shown(engine, view, state)
    assert "or fewer" not in shown(engine, view, state)


def test_walking_forward_the_total_never_grows() -> None:
    engine, _view = engine_and_view(CONDITIONAL)
    for first_answer in ("me", "family", "nobody"):
        state = engine.start()
        totals = []
        step = engine.step(state)
        while isinstance(step, QuestionStep):
            totals.append(step.total)
            if step.question.id == "who":
                state = state_of(engine.choose(state, first_answer))
            elif step.question.id == "why_not":
                state = state_of(engine.type_answer(state, "I manage"))
            else:
                state = state_of(engine.choose(state, "yes"))
            step = engine.step(state)
        assert totals == sorted(totals, reverse=True), (first_answer, totals)
