"""Every screen a resident can see, rendered in every language: it renders, fits, and is translated."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.catalogs import read_catalog
from conversations import answering, browsing, contact, help, location, onboarding, outcomes, privacy, settings
from conversations.deployment import load_deployment
from conversations.i18n import FSI, PDI, Catalogs
from conversations.menu import menu_labels
from conversations.screens import MAX_MESSAGE_LENGTH, Screen
from conversations.services import Services, Visit, begin_visit
from conversations.survey.engine import QuestionStep, Rejected, SurveyEngine
from conversations.survey.loader import load_consultation_file
from conversations.survey.render import SurveyView
from storage import open_database
from tests.fake_telegram.html_entities import parse_html

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LANGUAGES = sorted(Catalogs.load().languages)
# The bot's own button labels; consultation content is limited by `haveyoursay check`.
BUTTON_LABELS = (
    "I understand", "Skip", "Done", "Take part", "Continue where you left off", "« All consultations", "« Back",
    "« Back to summary", "Submit", "Change an answer", "Keep this answer", "Yes", "No", "Consultations",
    "Language", "Help", "Read the outcome", "Choose my area and interests", "No, thank you",
    "Send it to the team", "It is my answer",
)  # fmt: skip
BUTTON_LABEL_MAX = 28
CONTENT_LABEL_MAX = 40 + 2  # a choice label and its tick
REASONS = (
    "too_many_choices",
    "choose_at_least_one",
    "not_a_number",
    "too_small",
    "too_large",
    "too_long",
    "empty",
    "unknown_area",
    "not_optional",
    "use_buttons",
)
PARAMS = {"max": 3, "length": 1200, "min": 0, "suggestions": ["sheerness"]}


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def screens_by_language(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, Screen]]]:
    import asyncio

    folder = tmp_path_factory.mktemp("screens")
    return asyncio.run(_render_everything(folder))


async def _render_everything(folder: Path) -> dict[str, list[tuple[str, Screen]]]:
    rendered: dict[str, list[tuple[str, Screen]]] = {}
    async for language, services in _services_per_language(folder):
        rendered[language] = await _every_screen(services, language)
    return rendered


async def _services_per_language(folder: Path) -> AsyncIterator[tuple[str, Services]]:
    deployment = load_deployment(DEPLOYMENT)
    catalogs = Catalogs.load()
    for language in LANGUAGES:
        async with open_database(folder / f"{language}.db") as db:
            for example in sorted((ROOT / "examples").glob("*.yaml")):
                result = load_consultation_file(example)
                assert result.consultation is not None and result.data is not None
                c = result.consultation
                await db.consultations.save(result.data, c.structure(), c.opens, c.closes, NOW)
            yield (
                language,
                Services(db=db, catalogs=catalogs, deployment=deployment, bot_username="HysBot", clock=Clock(NOW)),
            )


async def _every_screen(services: Services, language: str) -> list[tuple[str, Screen]]:
    chat = 700000001
    found: list[tuple[str, Screen]] = []
    stranger = await begin_visit(services, chat, language)
    found.append(("welcome", onboarding.welcome_screen(stranger, "gp-opening-hours")))
    found += _named("welcome by link", (await onboarding.start(stranger, "gp-opening-hours")).screens)
    linked = await begin_visit(services, chat + 1, language)
    found += _named("came by link", (await onboarding.acknowledge(linked, language, "gp-opening-hours")).screens)
    linked = await begin_visit(services, chat + 1, language)
    found.append(("area later", answering.area_and_interests_invitation(linked)))
    found += _named("area never", (await onboarding.area_and_interests_later(linked, False)).screens)
    found.append(("group", Screen(help.private_only_text(stranger))))
    await onboarding.acknowledge(stranger, language, None)
    visit = await begin_visit(services, chat, language)
    found.append(("area", onboarding.area_question(visit)))
    found.append(("area again", (await onboarding.type_area(visit, "Atlantis")).screens[0]))
    found += _named("location far away", (await location.shared(visit, 0.0, 0.0)).screens)
    found.append(("topics", await onboarding.topics_question(visit)))
    found += _named("finish", (await onboarding.finish_topics(visit)).screens)
    found += _named("languages", (await onboarding.language_menu(visit)).screens)
    found += _named("language chosen", (await onboarding.choose_language(visit, language)).screens)
    visit = await begin_visit(services, chat, language)
    found += _named("list", (await browsing.open_list(visit)).screens)
    found += _named("card", (await browsing.card(visit, "home-care-changes")).screens)
    found += _named("unknown", (await browsing.unknown_consultation(visit)).screens)
    found += _named("help", (await help.show_help(visit)).screens)
    found += _named("unknown command", (await help.unknown_command(visit)).screens)
    found += _named("nothing to answer", (await help.nothing_to_answer(visit)).screens)
    found += _named("unreadable", (await help.unreadable_without_survey(visit)).screens)
    found += _named("location unasked", (await location.shared(visit, 51.34, 0.73)).screens)
    found += _named("settings", (await settings.show(visit)).screens)
    found += _named("settings area", (await settings.tapped(visit, "area")).screens)
    found += _named("settings area typed", (await settings.type_area(visit, "ME12 1AA")).screens)
    found += _named("settings topics", (await settings.tapped(visit, "topics")).screens)
    found += _named("my data", (await privacy.my_data(visit))[0].screens)
    found += await _survey_screens(services, visit)
    assert isinstance(services.clock, Clock)
    services.clock.now = datetime(2027, 3, 1, tzinfo=UTC)
    found += _named("closed card", (await browsing.card(visit, "gp-opening-hours")).screens)
    services.clock.now = datetime(2026, 1, 1, tzinfo=UTC)
    found += _named("not yet open", (await browsing.card(visit, "gp-opening-hours")).screens)
    services.clock.now = NOW
    found += await _outcome_screens(services, visit)
    return found


async def _outcome_screens(services: Services, visit: Visit) -> list[tuple[str, Screen]]:
    """An outcome as sent, a correction of it, and the corrected outcome as /outcomes shows it."""
    loaded = await services.consultations.current("gp-opening-hours")
    assert loaded is not None
    c, t, texts = loaded.model, visit.t, {"en": "Most of you want Saturday mornings."}
    return [
        ("outcome", outcomes.outcome_screen(t, c, outcomes.TOLD_US, texts, "en", with_feedback=True)),
        (
            "correction",
            outcomes.outcome_screen(t, c, outcomes.TOLD_US, texts, "en", with_feedback=True, correction=True),
        ),
        (
            "corrected",
            outcomes.outcome_screen(t, c, outcomes.DECIDED, texts, "en", with_feedback=False, corrected_on=NOW),
        ),
    ]


async def _survey_screens(services: Services, visit: Visit) -> list[tuple[str, Screen]]:
    found = _named("first question", (await answering.take_part(visit, "gp-opening-hours")).screens)
    session = await answering.active_session(await begin_visit(services, visit.chat_id, visit.language))
    assert session is not None
    found.append(("unreadable in survey", answering.reminder_for_unreadable(session).screens[0]))
    found.append(("closed", answering.closed_screen(session)))
    found += _named("location at a question", (await answering.survey_location(session, None, "")).screens)
    deployment = services.deployment
    services.deployment = dataclasses.replace(deployment, officers_chat_id=-1001)
    await contact.awaiting_reply(services, visit.chat_id, 1, None)  # the team answered meanwhile
    asked = await contact.typed_after_answer(session.visit, "Is it <open> on Sunday?")
    assert asked is not None
    found += _named("for the team or an answer", asked.screens)
    await services.db.drafts.drop(visit.chat_id, contact.REPLY)
    services.deployment = deployment
    engine: SurveyEngine = session.engine
    view: SurveyView = session.view
    state = engine.start()
    typed = {"number": "12", "text": "fine", "area": "Sheerness"}
    while True:
        step = engine.step(state)
        if not isinstance(step, QuestionStep):
            break
        q = step.question
        found.append((f"question {q.id}", view.step(step, state)))
        if q.type.value == "area":
            home = SurveyView(view.c, view.t, view.areas, home_area="sittingbourne")
            found.append(("area question with the area given", home.step(step, state)))
            misspelt = engine.type_answer(state, "Sittingborne")
            assert isinstance(misspelt, Rejected)
            found.append(("misspelt area", view.with_suggestions(view.step(step, state), misspelt, state)))
        for reason in REASONS:
            found.append((f"{q.id} {reason}", Screen(view.problem(Rejected(reason, PARAMS), q))))
        if q.type.value in typed:
            result = engine.type_answer(state, typed[q.type.value])
        elif q.type.value == "multiple_choice":
            result = engine.done(_accepted(engine.toggle(state, q.choices[0].id)))
        else:
            value = {"scale": "1", "yes_no": "yes"}.get(q.type.value, q.choices[0].id if q.choices else "")
            result = engine.choose(state, value)
        state = _accepted(result)
        found.append((f"back to {q.id}", view.step(engine.step(_accepted(engine.back(state))), state)))
    review = engine.step(state)
    found.append(("review", view.step(review, state)))
    found.append(("change menu", view.change_menu(review, state)))  # type: ignore[arg-type]
    found.append(("receipt", view.receipt()))
    found.append(("sent answers", view.sent_answers(review)))  # type: ignore[arg-type]
    return found


def _accepted(result: object) -> object:
    state = getattr(result, "state", None)
    assert state is not None, result
    return state


def _named(name: str, screens: tuple[Screen, ...]) -> list[tuple[str, Screen]]:
    return [(f"{name} {i}", s) for i, s in enumerate(screens)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_is_valid_telegram_html_within_the_length_limit(
    screens_by_language: dict[str, list[tuple[str, Screen]]], language: str
) -> None:
    for name, screen in screens_by_language[language]:
        parsed = parse_html(screen.text)
        assert 1 <= len(parsed.text) <= MAX_MESSAGE_LENGTH, f"{language} {name}"
        for row in screen.buttons:
            assert len(row) <= 8, f"{language} {name}"
            for button in row:
                assert 1 <= len(button.label) <= CONTENT_LABEL_MAX, f"{language} {name}: {button.label!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_bots_own_button_labels_fit_on_a_phone(language: str) -> None:
    t = Catalogs.load().translator(language)
    labels = [t._(label) for label in BUTTON_LABELS]
    labels += [getattr(menu_labels(t), name) for name in ("consultations", "language", "help")]
    too_long = [label for label in labels if len(label) > BUTTON_LABEL_MAX + 2]
    assert too_long == []


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_nothing_is_left_in_english_where_a_translation_exists(
    screens_by_language: dict[str, list[tuple[str, Screen]]], language: str
) -> None:
    english_fragments = _translated_english_fragments(language)
    for name, screen in screens_by_language[language]:
        text = parse_html(screen.text).text + " ".join(b.label for row in screen.buttons for b in row)
        left = [fragment for fragment in english_fragments if fragment in text]
        assert left == [], f"{language} {name}"


def _translated_english_fragments(language: str) -> list[str]:
    """Pieces of English (between placeholders) long enough to be unmistakable, whose translation differs."""
    fragments = []
    for message in read_catalog(language):
        if not message.id or not message.string:
            continue
        english = message.id if isinstance(message.id, str) else message.id[0]
        translated = message.string if isinstance(message.string, str) else message.string[0]
        if english == translated:
            continue
        fragments += [part.strip() for part in re.split(r"%\(\w+\)[sd]", english) if len(part.strip()) >= 16]
    return fragments


@pytest.mark.parametrize("language", ["ar", "ur"])
def test_right_to_left_messages_isolate_left_to_right_names_and_dates(
    screens_by_language: dict[str, list[tuple[str, Screen]]], language: str
) -> None:
    screens = dict(screens_by_language[language])
    welcome = screens["welcome"].text
    assert f"{FSI}Swale Health and Care Partnership{PDI}" in welcome
    listing = screens["list 0"].text
    assert re.search(f"{FSI}[^{PDI}]*2027[^{PDI}]*{PDI}", listing), "the closing date is isolated"


def test_dates_are_written_in_each_language(screens_by_language: dict[str, list[tuple[str, Screen]]]) -> None:
    def closing_line(language: str) -> str:
        return dict(screens_by_language[language])["list 0"].text

    assert "31 January 2027" in closing_line("en")
    assert "31 Ionawr 2027" in closing_line("cy")
    assert "31 stycznia 2027" in closing_line("pl")
    assert "31 de enero de 2027" in closing_line("es")


def test_consultation_content_missing_in_a_language_falls_back_with_a_note(
    screens_by_language: dict[str, list[tuple[str, Screen]]],
) -> None:
    polish_card = dict(screens_by_language["pl"])["card 0"].text
    english_card = dict(screens_by_language["en"])["card 0"].text
    assert "Home care" in english_card or "home care" in english_card.lower()
    first_line = polish_card.split("\n")[0]
    assert first_line in english_card, "the title is shown in the default language"
    assert "English" in polish_card, "a line in Polish names the language it is shown in"
    assert dict(screens_by_language["cy"])["card 0"].text.count("English") == 0, "Welsh content exists"


def test_the_render_covers_every_question_type(screens_by_language: dict[str, list[tuple[str, Screen]]]) -> None:
    names = [name for name, _ in screens_by_language["en"]]
    assert sum(name.startswith("question ") for name in names) == 7


def test_english_content_inside_an_arabic_card_is_isolated(
    screens_by_language: dict[str, list[tuple[str, Screen]]],
) -> None:
    card = dict(screens_by_language["ar"])["card 0"].text
    assert card.startswith(f"<b>{FSI}Changes to home care{PDI}</b>")
