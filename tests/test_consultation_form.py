"""The consultation form and the survey builder's rules: form fields to a draft's data and back,
and each problem of the checks placed beside its field, on a real SQLite file where it is stored."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from markupsafe import escape
from starlette.datastructures import FormData

from bot.web.app import workspace_app
from bot.web.pages import field_id
from conversations import authoring
from conversations import consultation_form as rules
from conversations.services import Services
from conversations.survey.loader import load_consultation_file
from conversations.survey.model import QuestionType
from conversations.workspace import signin_link
from tests.offline import GP_HOURS, offline_services

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OFFICER = 555_000_042
AREAS = ["sittingbourne", "sheerness", "faversham"]
TOPICS = ["primary-care", "social-care"]


def form(*pairs: tuple[str, str]) -> FormData:
    return FormData(list(pairs))


def gp_hours() -> dict[str, Any]:
    loaded = load_consultation_file(GP_HOURS)
    assert loaded.data is not None
    return copy.deepcopy(loaded.data)


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, GP_HOURS) as found:
        yield found


# -- starting -----------------------------------------------------------------------------


def test_a_short_id_is_suggested_from_the_title_and_never_one_taken() -> None:
    assert rules.suggest_id("GP opening hours") == "gp-opening-hours"
    assert rules.suggest_id("Café & Bücherei: Öffnungszeiten!") == "cafe-bucherei-offnungszeiten"
    assert rules.suggest_id("أوقات فتح المكتبة") == "consultation"  # no Latin letters at all
    assert rules.suggest_id("GP opening hours", {"gp-opening-hours", "gp-opening-hours-2"}) == "gp-opening-hours-3"
    assert len(rules.suggest_id("x" * 80, {"x" * 40})) <= 40


def test_an_id_must_follow_the_loaders_rule_and_be_free() -> None:
    assert rules.id_refusal("library-hours", set()) is None
    assert rules.id_refusal("Library Hours", set()) == "invalid"
    assert rules.id_refusal("-library", set()) == "invalid"
    assert rules.id_refusal("gp-opening-hours", {"gp-opening-hours"}) == "taken"
    assert rules.id_refusal("new", set()) == "taken"  # /consultations/new is the page to start one


async def test_starting_saves_a_draft_and_refuses_an_id_taken_by_a_published_consultation(services: Services) -> None:
    assert await rules.start(services, "GP hours", "gp-opening-hours", "en", OFFICER, NOW) == (None, "taken")
    assert await rules.start(services, "", "", "en", OFFICER, NOW) == (None, "title")
    assert await rules.start(services, "Oriau llyfrgell", "", "cy", OFFICER, NOW) == ("oriau-llyfrgell", None)
    draft = await services.db.workspace.draft("oriau-llyfrgell")
    assert draft is not None
    assert draft.definition == {
        "spec_version": 1,
        "id": "oriau-llyfrgell",
        "default_language": "cy",
        "title": {"cy": "Oriau llyfrgell"},
    }
    assert await rules.start(services, "Oriau llyfrgell", "oriau-llyfrgell", "cy", OFFICER, NOW) == (None, "taken")


async def test_a_published_consultation_is_edited_as_a_draft_made_on_the_first_save(services: Services) -> None:
    data = await rules.working_copy(services, "gp-opening-hours")
    assert data is not None and data["id"] == "gp-opening-hours"
    assert await services.db.workspace.draft("gp-opening-hours") is None  # looking changes nothing
    data["title"]["en"] = "GP opening hours in Swale"
    await rules.save(services, data, OFFICER, NOW)
    published = await rules.working_copy(services, "gp-opening-hours")
    assert published is not None and published["title"]["en"] == "GP opening hours in Swale"
    overview = await services.db.consultations.overview()
    assert authoring.text_in(overview[0].definition, "title", "en") == "GP opening hours"  # residents' copy
    assert await rules.working_copy(services, "no-such-thing") is None


# -- the consultation's own fields --------------------------------------------------------


def test_the_languages_shown_are_the_default_first_then_those_with_texts_then_those_added() -> None:
    data = gp_hours()
    data["summary"]["ar"] = "ملخص"
    assert rules.languages_of(data) == ["en", "ar", "cy"]
    assert rules.languages_of(data, ["pl", "cy", "xx-bad"]) == ["en", "ar", "cy", "pl"]
    data["default_language"] = "cy"
    assert rules.languages_of(data)[0] == "cy"


def test_dates_are_typed_in_the_deployments_time_zone_and_stored_in_utc() -> None:
    assert rules.moment_from("2027-07-01", "09:30", LONDON, False) == "2027-07-01T08:30:00+00:00"  # summer time
    assert rules.moment_from("2027-01-10", "", LONDON, False) == "2027-01-10T00:00:00+00:00"
    assert rules.moment_from("2027-01-10", "", LONDON, True) == "2027-01-10T23:59:00+00:00"
    assert rules.moment_from("", "09:00", LONDON, False) is None
    assert rules.moment_from("10/01/2027", "09:00", LONDON, False) is None
    assert rules.local_date_and_time("2027-07-01T08:30:00+00:00", LONDON) == ("2027-07-01", "09:30")
    assert rules.local_date_and_time(None, LONDON) == ("", "")


def test_the_edit_form_sets_every_field_and_an_emptied_translation_is_removed() -> None:
    data = gp_hours()
    sent = form(
        ("default_language", "en"),
        ("title.en", "  GP hours  "),
        ("title.cy", ""),
        ("summary.en", "A new summary."),
        ("summary.ar", "ملخص جديد"),
        ("opens.date", "2027-01-10"),
        ("opens.time", "09:00"),
        ("closes.date", "2027-03-01"),
        ("closes.time", ""),
        ("areas", "faversham"),
        ("areas", "sittingbourne"),
        ("areas", "nowhere"),
        ("topics", "social-care"),
    )
    new = rules.apply_consultation_form(
        data, sent, ["en", "cy", "ar"], LONDON, known_languages=["en", "cy", "ar"], areas=AREAS, topics=TOPICS
    )
    assert new["title"] == {"en": "GP hours"}
    assert new["summary"] == {"en": "A new summary.", "cy": data["summary"]["cy"], "ar": "ملخص جديد"}
    assert new["organisation"] == data["organisation"]  # not on the form sent: kept
    assert new["opens"] == "2027-01-10T09:00:00+00:00"
    assert new["closes"] == "2027-03-01T23:59:00+00:00"
    assert new["areas"] == ["sittingbourne", "faversham"]  # the deployment's order; unknown ids dropped
    assert new["topics"] == ["social-care"]
    assert "about_you" not in new
    assert data["title"]["cy"]  # the data given is not changed
    with_about_you = rules.apply_consultation_form(
        data, form(("about_you", "yes")), ["en"], LONDON, known_languages=["en"], areas=AREAS, topics=TOPICS
    )
    assert with_about_you["about_you"] is True


# -- the survey ---------------------------------------------------------------------------


def test_questions_are_added_with_their_types_start_moved_and_removed() -> None:
    data: dict[str, Any] = rules.new_draft("library", "Library", "en")
    for kind in QuestionType:
        data, _index = rules.add_question(data, kind)
    survey = data["survey"]
    assert [q["type"] for q in survey] == [kind.value for kind in QuestionType]
    assert [q["id"] for q in survey] == ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]
    assert survey[0]["choices"] == [{"id": "c1", "text": {}}, {"id": "c2", "text": {}}]
    assert (survey[2]["min"], survey[2]["max"]) == (1, 5)
    assert survey[5]["max_length"] == 1000
    moved = rules.move_question(data, 1, -1)
    assert [q["id"] for q in moved["survey"][:2]] == ["q2", "q1"]
    assert rules.move_question(data, 0, -1) == data
    data["survey"][4]["show_if"] = {"question": "q1", "in": ["c1"]}
    assert rules.dependants(data, 0) == [4]
    removed = rules.remove_question(data, 0)
    assert [q["id"] for q in removed["survey"]] == ["q2", "q3", "q4", "q5", "q6", "q7"]
    assert "show_if" not in removed["survey"][3]  # shown always now, not left pointing at nothing
    assert rules.new_question_id(removed) == "q8"


def test_a_question_page_sets_texts_choices_and_limits() -> None:
    data = gp_hours()
    sent = form(
        ("text.en", "When did you last see your GP?"),
        ("text.cy", ""),
        ("optional.shown", "yes"),
        ("optional", "yes"),
        ("choice", "month"),
        ("choice", "week"),
        ("choice.week.en", "This week"),
        ("choice.week.cy", "Yr wythnos hon"),
        ("choice.month.en", "This month"),
        ("action", "add-choice"),
    )
    new = rules.apply_question_form(data, 0, sent, ["en", "cy"])
    question = new["survey"][0]
    assert question["text"] == {"en": "When did you last see your GP?"}
    assert question["optional"] is True
    assert [c["id"] for c in question["choices"]] == ["month", "week", "c3"]  # "longer" was not sent: removed
    assert question["choices"][0]["text"] == {"en": "This month", "cy": "Yn ystod y mis diwethaf"}
    assert question["choices"][1]["text"] == {"en": "This week", "cy": "Yr wythnos hon"}
    reordered = rules.apply_question_form(
        data, 0, form(("choice", "week"), ("choice", "month"), ("choice", "longer"), ("action", "choice-up:longer")), []
    )
    assert [c["id"] for c in reordered["survey"][0]["choices"]] == ["week", "longer", "month"]
    removed = rules.apply_question_form(data, 0, form(("action", "choice-remove:week")), [])
    assert [c["id"] for c in removed["survey"][0]["choices"]] == ["month", "longer"]

    scale = rules.apply_question_form(
        data,
        2,
        form(
            ("min", "0"),
            ("max", "10"),
            ("labels.shown", "1"),
            ("labels.shown", "5"),
            ("labels.1.en", ""),
            ("labels.5.en", "Very easy"),
            ("labels.5.cy", ""),
        ),
        ["en", "cy"],
    )["survey"][2]
    assert (scale["min"], scale["max"]) == (0, 10)
    assert scale["labels"] == {"1": {"cy": "Anodd iawn"}, "5": {"en": "Very easy"}}
    number = rules.apply_question_form(data, 5, form(("min", ""), ("max", "2.5")), [])["survey"][5]
    assert "min" not in number and number["max"] == 2.5
    typed_badly = rules.apply_question_form(data, 5, form(("max", "lots")), [])["survey"][5]
    assert typed_badly["max"] == "lots"  # kept, so the check says so beside the field
    text = rules.apply_question_form(data, 3, form(("max_length", "300"), ("optional.shown", "yes")), [])["survey"][3]
    assert text["max_length"] == 300 and "optional" not in text


def test_a_condition_is_picked_from_earlier_questions_and_their_answers() -> None:
    data = gp_hours()
    assert rules.show_if_sources(data, 0) == []
    assert rules.show_if_sources(data, 4) == [0, 1, 2]  # why_hard is text: no condition on it
    assert rules.show_if_options(data["survey"][2], AREAS) == [1, 2, 3, 4, 5]
    assert rules.show_if_options(data["survey"][4], AREAS) == ["yes", "no"]
    assert rules.show_if_options(data["survey"][6], AREAS) == AREAS
    # A new question picked: the answers ticked for the old one are dropped, and the checks ask for some.
    picked = rules.apply_question_form(
        data, 3, form(("show_if.question", "online"), ("show_if.was", "rating"), ("show_if.in", "1")), []
    )["survey"][3]
    assert picked["show_if"] == {"question": "online", "in": []}
    ticked = rules.apply_question_form(
        data,
        3,
        form(("show_if.question", "rating"), ("show_if.was", "rating"), ("show_if.in", "4"), ("show_if.in", "5")),
        [],
    )["survey"][3]
    assert ticked["show_if"] == {"question": "rating", "in": [4, 5]}
    data["survey"][6]["show_if"] = {"question": "travel_minutes", "in": [0]}
    numbers = rules.apply_question_form(
        data,
        6,
        form(("show_if.question", "travel_minutes"), ("show_if.was", "travel_minutes"), ("show_if.numbers", "0, 15.5")),
        [],
    )["survey"][6]
    assert numbers["show_if"] == {"question": "travel_minutes", "in": [0, 15.5]}
    always = rules.apply_question_form(data, 3, form(("show_if.question", "")), [])["survey"][3]
    assert "show_if" not in always


def test_changing_a_questions_type_keeps_its_wording_and_starts_the_new_settings() -> None:
    data = gp_hours()
    to_single = rules.apply_question_form(data, 1, form(("type", "single_choice")), [])["survey"][1]
    assert to_single["type"] == "single_choice" and len(to_single["choices"]) == 3 and "max_choices" not in to_single
    to_scale = rules.apply_question_form(data, 0, form(("type", "scale")), [])["survey"][0]
    assert to_scale == {"id": "last_visit", "type": "scale", "text": data["survey"][0]["text"], "min": 1, "max": 5}


async def test_every_problem_is_placed_beside_the_field_that_has_it(services: Services) -> None:
    data = gp_hours()
    data["closes"] = "2026-10-01T00:00:00+00:00"  # before opens
    data["survey"][0]["choices"][1]["text"] = {"cy": "Yn ystod y mis diwethaf"}  # no English
    data["survey"][1]["max_choices"] = 9
    data["survey"][3]["show_if"] = {"question": "rating", "in": [9]}
    data["summary"].pop("cy")
    result = authoring.check(services, data)
    notes = rules.place_problems(
        result.problems, "gp-opening-hours", data, ["en", "cy"], lambda p: p.message, areas=True, topics=True
    )
    placed = {(n.field, n.page, n.warning) for n in notes}
    base = "/consultations/gp-opening-hours"
    assert (("closes",), f"{base}/edit", False) in placed
    assert (("survey", 0, "choices", 1, "text"), f"{base}/questions/last_visit", False) in placed
    assert (("survey", 1, "max_choices"), f"{base}/questions/good_times", False) in placed
    assert (("survey", 3, "show_if", "in"), f"{base}/questions/why_hard", False) in placed
    every_field = rules.edit_fields(["en", "cy"], True, True)
    for index in range(len(data["survey"])):
        every_field |= rules.question_fields(data, index, ["en", "cy"])
    assert all(n.field in every_field for n in notes)


def test_a_question_is_named_by_its_id_in_addresses_unless_that_is_ambiguous() -> None:
    data = gp_hours()
    assert rules.question_key(data, 2) == "rating"
    assert rules.question_index(data, "rating") == 2
    data["survey"][3]["id"] = "rating"  # as an uploaded file might have it, until fixed
    assert rules.question_key(data, 3) == "4"
    assert rules.question_index(data, "4") == 3
    assert rules.question_index(data, "nothing") is None


# -- the pages, served in this test's event loop (every field with a problem is on its page) --------------


async def test_every_page_of_a_consultation_with_every_type_shows_each_problem_beside_its_field(
    database_target: str,
) -> None:
    async with offline_services(database_target, NOW, GP_HOURS, admins=frozenset({OFFICER})) as services:
        data = gp_hours()
        data["title"]["ar"] = "ساعات العمل"
        data["closes"] = "2026-10-01T00:00:00+00:00"
        data["survey"][0]["choices"][2]["text"] = {"cy": "Yn hirach yn ôl"}
        data["survey"][2]["labels"]["9"] = {"en": "Off the scale"}
        data["survey"][3]["show_if"] = {"question": "online", "in": ["yes"]}  # a later question: not allowed
        data["survey"][6]["type"] = "dropdown"
        data["survey"][5]["max"] = "lots"
        await rules.save(services, data, OFFICER, NOW)
        app = workspace_app(services, "123:token", "http://workspace.test")
        token = (await signin_link(services, OFFICER, NOW)).rsplit("/", 1)[1]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://workspace.test"
        ) as client:
            signed = await client.post(f"/signin/{token}")
            assert signed.status_code == 303
            problems = authoring.check(services, data).problems
            assert len(problems) >= 6
            pages = {"/consultations/gp-opening-hours/edit", "/consultations/gp-opening-hours/questions"}
            pages |= {f"/consultations/gp-opening-hours/questions/{q['id']}" for q in data["survey"]}
            notes = rules.place_problems(
                problems, "gp-opening-hours", data, ["en", "ar", "cy"], lambda p: p.message, areas=True, topics=True
            )
            html = {}
            for page in pages:
                response = await client.get(page)
                assert response.status_code == 200, page
                html[page] = response.text
            for note in notes:
                beside = f'id="{field_id(note.field)}"'
                assert beside in html[note.page], (note, beside)
                assert escape(note.message) in html[note.page]
            assert 'lang="ar" dir="rtl"' in html["/consultations/gp-opening-hours/edit"]
            # The condition on a later question stays picked, to be changed, not dropped unseen.
            why_hard = html["/consultations/gp-opening-hours/questions/why_hard"]
            assert '<option value="online" selected>' in why_hard
            new_page = (await client.get("/consultations/new")).text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', new_page)
            assert csrf is not None
            taken = await client.post(
                "/consultations/new",
                data={
                    "csrf_token": csrf.group(1),
                    "title": "<b>GP</b>",
                    "id": "gp-opening-hours",
                    "default_language": "en",
                },
            )
            assert taken.status_code == 400
            assert "Another consultation already uses this short id" in taken.text
            assert 'value="&lt;b&gt;GP&lt;/b&gt;"' in taken.text
            made = await client.post(
                "/consultations/new",
                data={"csrf_token": csrf.group(1), "title": "Ysbytai", "id": "", "default_language": "cy"},
            )
            assert made.headers["location"] == "/consultations/ysbytai/edit"
            assert (await client.get("/consultations/nothing/edit")).status_code == 404
            assert (await client.get("/consultations/gp-opening-hours/questions/nothing")).status_code == 404
