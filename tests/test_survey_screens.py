"""Survey screens as a resident reads them: which consultation, how far, which area."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conversations import callbacks
from conversations.deployment import DeploymentError, load_deployment
from conversations.i18n import Catalogs
from conversations.screens import Screen
from conversations.survey.areas import DEFAULT_RADIUS_KM, Area, locatable, nearest_area
from conversations.survey.engine import Accepted, QuestionStep, Rejected, Result, SurveyEngine, SurveyState
from conversations.survey.loader import load_consultation_text
from conversations.survey.render import SurveyView
from tests.test_engine import AREAS, CONDITIONAL, HEADER, RATING, WHO

ROOT = Path(__file__).resolve().parent.parent
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


# -- areas --------------------------------------------------------------------

HOME = """
- id: home
  type: area
  text: {en: "Which area do you live in?"}
"""


def labels(screen: Screen) -> list[str]:
    return [button.label for row in screen.buttons for button in row]


def test_the_area_a_resident_gave_is_offered_first_in_one_tap_and_not_twice() -> None:
    engine, _ = engine_and_view(HOME)
    view = SurveyView(engine.consultation, T, AREAS, home_area="sheppey")
    state = engine.start()
    screen = view.step(engine.step(state), state)
    assert "You told us you live in Isle of Sheppey." in screen.text
    assert labels(screen) == ["Yes, Isle of Sheppey", "Sittingbourne", "Milton Regis", "Faversham"]
    data = screen.buttons[0][0].data
    tapped = callbacks.decode(data)
    assert tapped is not None and tapped.arg(1) == "pick" and tapped.arg(2) == "sheppey"
    assert state_of(engine.choose(state, "sheppey")).answers == {"home": "sheppey"}


def test_without_a_known_area_or_once_answered_the_areas_are_listed_as_usual() -> None:
    engine, view = engine_and_view(HOME)
    state = engine.start()
    assert labels(view.step(engine.step(state), state)) == [a.display_name("en", "en") for a in AREAS]
    home_view = SurveyView(engine.consultation, T, AREAS, home_area="sheppey")
    reviewing = state_of(engine.choose(state, "faversham"))
    back = state_of(engine.back(reviewing))
    screen = home_view.step(engine.step(back), back)
    assert "Yes, Isle of Sheppey" not in labels(screen) and "✓ Faversham" in labels(screen)
    assert "You told us" not in screen.text


def test_a_misspelt_area_offers_each_suggestion_once() -> None:
    engine, view = engine_and_view(HOME)
    state = engine.start()
    refused = engine.type_answer(state, "Sittingborne")
    assert isinstance(refused, Rejected) and refused.params["suggestions"] == ["sittingbourne"]
    screen = view.with_suggestions(view.step(engine.step(state), state), refused, state)
    assert labels(screen) == ["Sittingbourne", "Milton Regis", "Isle of Sheppey", "Faversham"]


def test_a_location_finds_the_nearest_area_within_its_radius() -> None:
    areas = (
        Area("sittingbourne", {"en": "Sittingbourne"}, centre=(51.340, 0.731)),
        Area("faversham", {"en": "Faversham"}, centre=(51.316, 0.889)),
        Area("sheppey", {"en": "Sheppey"}, centre=(51.420, 0.800), radius_km=12),
        Area("elsewhere", {"en": "Elsewhere"}),
    )
    assert nearest_area(51.3395, 0.7350, areas) is areas[0]
    assert nearest_area(51.3130, 0.8900, areas) is areas[1]
    assert nearest_area(51.3300, 0.8200, areas) is areas[1], "between two centres, the nearer"
    assert nearest_area(51.5072, -0.1276, areas) is None, "London is in none of them"
    assert nearest_area(51.3395, 0.7350, areas[3:]) is None
    assert locatable(areas) and not locatable(areas[3:])


def test_the_deployment_file_gives_areas_a_centre_and_radius(tmp_path: Path) -> None:
    deployment = load_deployment(ROOT / "haveyoursay.example.yaml")
    sheerness = deployment.area("sheerness")
    assert sheerness is not None and sheerness.centre == (51.42, 0.8) and sheerness.radius_km == 12
    faversham = deployment.area("faversham")
    assert faversham is not None and faversham.radius_km == DEFAULT_RADIUS_KM


@pytest.mark.parametrize(
    "centre",
    ["{lat: 51.3}", "[51.3, 0.7]", "{lat: 95, lon: 0.7}", "{lat: north, lon: 0.7}", "{lat: 51.3, lon: 0.7, x: 1}"],
)
def test_a_wrong_centre_is_refused_with_how_to_write_it(tmp_path: Path, centre: str) -> None:
    path = tmp_path / "deployment.yaml"
    path.write_text(f"areas:\n  - id: a\n    name: {{en: A}}\n    centre: {centre}\n", encoding="utf-8")
    with pytest.raises(DeploymentError, match=r"areas\[0\]\.centre: .*\{lat: 51\.34, lon: 0\.73\}"):
        load_deployment(path)


def test_a_wrong_radius_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deployment.yaml"
    path.write_text("areas:\n  - id: a\n    name: {en: A}\n    radius_km: -1\n", encoding="utf-8")
    with pytest.raises(DeploymentError, match="radius_km"):
        load_deployment(path)
