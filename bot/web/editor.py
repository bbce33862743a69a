"""The consultation form and the survey builder: create, edit, and build the questions of a draft.

Every page works on the consultation's draft (made from the published consultation on the first
save), saves it on every submit, and shows the checks of `haveyoursay check` beside the fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import field_id, go_to, now_of, officer_of, officer_page, read_form, render, services_of
from conversations import authoring
from conversations import consultation_form as form_rules
from conversations.consultation_form import Note
from conversations.i18n import RTL_LANGUAGES
from conversations.survey.loader import CONSULTATION_TEXT_FIELDS
from conversations.survey.model import QuestionType


@dataclass(frozen=True)
class Entry:
    """A line of the error summary: the problem, and the link to its field (here or on another page)."""

    note: Note
    href: str
    elsewhere: bool


@dataclass(frozen=True)
class Summary:
    """The problems of a page: errors and warnings for the summary, and those shown beside a field here."""

    errors: list[Entry]
    warnings: list[Entry]
    beside: dict[str, list[Note]]


def _base(consultation_id: str) -> str:
    return f"/consultations/{consultation_id}"


def _added_languages(request: Request) -> list[str]:
    """Languages the officer added that have no text yet: carried in the page's address."""
    known = services_of(request).catalogs.languages
    raw = request.query_params.get("languages", "")
    return [code for code in raw.split(",") if code in known]


def _languages(request: Request, data: dict[str, Any], added: Sequence[str] = ()) -> list[str]:
    return form_rules.languages_of(data, [*_added_languages(request), *added])


def _with_languages(path: str, data: dict[str, Any], languages: Sequence[str], **extra: str) -> str:
    """A page's address that keeps showing the languages without a text yet."""
    shown = form_rules.languages_of(data)
    pending = [code for code in languages if code not in shown]
    query = {**({"languages": ",".join(pending)} if pending else {}), **extra}
    return f"{path}?{urlencode(query)}" if query else path


def _summary(request: Request, cid: str, data: dict[str, Any], languages: Sequence[str], here: str) -> Summary:
    services, t = services_of(request), officer_of(request).t
    result = authoring.check(services, data)
    notes = form_rules.place_problems(
        result.problems,
        cid,
        data,
        languages,
        lambda problem: problem.describe(t),
        areas=bool(services.deployment.areas),
        topics=bool(services.deployment.topics),
    )
    beside: dict[str, list[Note]] = {}
    errors: list[Entry] = []
    warnings: list[Entry] = []
    for note in sorted(notes, key=lambda n: n.page != here):
        on_this_page = note.page == here
        href = ("" if on_this_page else note.page) + "#" + field_id(note.field)
        (warnings if note.warning else errors).append(Entry(note, href, not on_this_page))
        if on_this_page:
            beside.setdefault(field_id(note.field), []).append(note)
    return Summary(errors, warnings, beside)


def _page(
    request: Request, template: str, cid: str, data: dict[str, Any], languages: list[str], here: str, **context: Any
) -> Response:
    officer = officer_of(request)
    title = authoring.text_in(data, "title", officer.t.language) or cid
    return render(
        request,
        template,
        officer.t,
        cid=cid,
        data=data,
        title=title,
        shown_languages=languages,
        language_label=officer.t.language_label,
        default_language=form_rules.default_language_of(data),
        text_dir=lambda code: "rtl" if code in RTL_LANGUAGES else "ltr",
        fid=lambda parts: field_id(tuple(parts)),
        problems=_summary(request, cid, data, languages, here),
        saved=request.query_params.get("saved") == "1",
        language_query=_with_languages("", data, languages),
        **context,
    )


def _not_found(request: Request) -> Response:
    return render(request, "error.html", officer_of(request).t, status_code=404, problem="not_found")


# -- a new consultation ---------------------------------------------------------------------


@officer_page
async def new_consultation(request: Request) -> Response:
    officer = officer_of(request)
    services = services_of(request)
    values = {"title": "", "id": "", "default_language": services.catalogs.default_language}
    refusal = None
    if request.method == "POST":
        form = await read_form(request)
        values = {name: form_rules.value_of(form, name) for name in values}
        language = values["default_language"]
        if language not in services.catalogs.languages:
            values["default_language"] = language = services.catalogs.default_language
        cid, refusal = await form_rules.start(
            services, values["title"], values["id"].lower(), language, officer.id, now_of(request)
        )
        if cid is not None:
            return go_to(f"{_base(cid)}/edit")
    return render(
        request,
        "consultation_new.html",
        officer.t,
        values=values,
        refusal=refusal,
        status_code=400 if refusal else 200,
    )


# -- the consultation's own fields ----------------------------------------------------------


@officer_page
async def edit_consultation(request: Request) -> Response:
    services = services_of(request)
    cid = request.path_params["id"]
    data = await form_rules.working_copy(services, cid)
    if data is None:
        return _not_found(request)
    here = f"{_base(cid)}/edit"
    if request.method == "POST":
        form = await read_form(request)
        languages = form_rules.languages_of(data, [str(code) for code in form.getlist("language")])
        data = form_rules.apply_consultation_form(
            data,
            form,
            languages,
            services.catalogs.timezone,
            known_languages=services.catalogs.languages,
            areas=[area.id for area in services.deployment.areas],
            topics=[topic.id for topic in services.deployment.topics],
        )
        await form_rules.save(services, data, officer_of(request).id, now_of(request))
        added = form_rules.value_of(form, "add_language")
        if form_rules.value_of(form, "action") == "add-language" and added in services.catalogs.languages:
            languages = form_rules.languages_of(data, [*languages, added])
            return go_to(_with_languages(here, data, languages, saved="1") + f"#{field_id(('title', added))}")
        return go_to(_with_languages(here, data, languages, saved="1"))
    languages = _languages(request, data)
    tz = services.catalogs.timezone
    deployment = services.deployment
    t = officer_of(request).t
    return _page(
        request,
        "consultation_edit.html",
        cid,
        data,
        languages,
        here,
        text_fields=CONSULTATION_TEXT_FIELDS,
        long_fields=form_rules.LONG_TEXT_FIELDS,
        opens=form_rules.local_date_and_time(data.get("opens"), tz),
        closes=form_rules.local_date_and_time(data.get("closes"), tz),
        areas=[(area.id, deployment.text(area.name, t.language)) for area in deployment.areas],
        topics=[(topic.id, deployment.text(topic.name, t.language)) for topic in deployment.topics],
        timezone=str(tz),
        question_count=len(form_rules.survey_list(data)),
    )


# -- the survey builder ---------------------------------------------------------------------


@officer_page
async def question_list(request: Request) -> Response:
    services = services_of(request)
    cid = request.path_params["id"]
    data = await form_rules.working_copy(services, cid)
    if data is None:
        return _not_found(request)
    here = f"{_base(cid)}/questions"
    languages = _languages(request, data)
    if request.method == "POST":
        form = await read_form(request)
        verb, _, target = form_rules.value_of(form, "action").partition(":")
        if verb == "add":
            try:
                kind = QuestionType(form_rules.value_of(form, "type"))
            except ValueError:
                return go_to(_with_languages(here, data, languages))
            data, index = form_rules.add_question(data, kind)
            await form_rules.save(services, data, officer_of(request).id, now_of(request))
            key = form_rules.question_key(data, index)
            return go_to(_with_languages(f"{here}/{key}", data, languages))
        if verb in ("up", "down") and target.isdigit():
            data = form_rules.move_question(data, int(target), -1 if verb == "up" else 1)
            await form_rules.save(services, data, officer_of(request).id, now_of(request))
        return go_to(_with_languages(here, data, languages, saved="1"))
    t = officer_of(request).t
    rows = []
    survey = form_rules.survey_list(data)
    for index, question in enumerate(survey):
        if not isinstance(question, dict):
            continue
        show_if = question.get("show_if") if isinstance(question.get("show_if"), dict) else None
        depends_on, answers = None, ""
        if show_if is not None:
            source = next(
                (i for i, q in enumerate(survey) if isinstance(q, dict) and q.get("id") == show_if.get("question")),
                None,
            )
            if source is not None:
                depends_on = source + 1
                names = dict(_condition_options(request, survey[source], form_rules.default_language_of(data)))
                answers = ", ".join(names.get(str(v), str(v)) for v in show_if.get("in") or [])
        rows.append(
            {
                "index": index,
                "number": index + 1,
                "key": form_rules.question_key(data, index),
                "text": authoring.pick(question.get("text"), t.language, form_rules.default_language_of(data)),
                "type": str(question.get("type", "")),
                "optional": question.get("optional") is True,
                "depends_on": depends_on,
                "show_if_values": answers,
            }
        )
    return _page(
        request,
        "questions.html",
        cid,
        data,
        languages,
        here,
        rows=rows,
        question_types=[kind.value for kind in QuestionType],
    )


async def _question_of(request: Request) -> tuple[dict[str, Any], int] | None:
    """The working copy and the place of the question the address names; None if either is gone."""
    data = await form_rules.working_copy(services_of(request), request.path_params["id"])
    if data is None:
        return None
    index = form_rules.question_index(data, request.path_params["qid"])
    return None if index is None else (data, index)


@officer_page
async def edit_question(request: Request) -> Response:
    services = services_of(request)
    cid = request.path_params["id"]
    found = await _question_of(request)
    if found is None:
        return _not_found(request)
    data, index = found
    if request.method == "POST":
        form = await read_form(request)
        languages = form_rules.languages_of(data, [str(code) for code in form.getlist("language")])
        action = form_rules.value_of(form, "action")
        data = form_rules.apply_question_form(data, index, form, languages)
        await form_rules.save(services, data, officer_of(request).id, now_of(request))
        here = f"{_base(cid)}/questions/{form_rules.question_key(data, index)}"
        anchor = f"#{field_id(('survey', index, 'choices'))}" if action.startswith(("add-choice", "choice-")) else ""
        return go_to(_with_languages(here, data, languages, saved="1") + anchor)
    here = f"{_base(cid)}/questions/{form_rules.question_key(data, index)}"
    languages = _languages(request, data)
    question = form_rules.survey_list(data)[index]
    t = officer_of(request).t
    default = form_rules.default_language_of(data)
    survey = form_rules.survey_list(data)
    sources: list[tuple[str, int | None, str]] = [
        (str(survey[i]["id"]), i + 1, authoring.pick(survey[i].get("text"), t.language, default))
        for i in form_rules.show_if_sources(data, index)
    ]
    show_if = question.get("show_if") if isinstance(question.get("show_if"), dict) else {}
    current = show_if.get("question")
    if current is not None and str(current) not in {source[0] for source in sources}:
        # A condition on a question that is no longer earlier (or no longer exists) stays picked
        # until the officer changes it: saving other fields must not drop it unseen.
        at = next((i for i, q in enumerate(survey) if isinstance(q, dict) and q.get("id") == current), None)
        text = authoring.pick(survey[at].get("text"), t.language, default) if at is not None else ""
        sources.append((str(current), at + 1 if at is not None else None, text or str(current)))
    target = next(
        (survey[i] for i in form_rules.show_if_sources(data, index) if survey[i]["id"] == show_if.get("question")), None
    )
    options: list[tuple[str, str]] = []
    target_type = ""
    if target is not None:
        target_type = str(target.get("type"))
        options = _condition_options(request, target, default)
    return _page(
        request,
        "question.html",
        cid,
        data,
        languages,
        here,
        q=question,
        index=index,
        number=index + 1,
        total=len(survey),
        kind=str(question.get("type", "")),
        question_types=[kind.value for kind in QuestionType],
        label_points=form_rules.label_points(question),
        sources=sources,
        show_if=show_if,
        target_type=target_type,
        condition_options=options,
        picked=[str(v) for v in show_if.get("in") or []] if isinstance(show_if.get("in"), list) else [],
    )


def _condition_options(request: Request, target: dict[str, Any], default: str) -> list[tuple[str, str]]:
    """The answers of `target` a condition can name, each with what the officer reads."""
    t = officer_of(request).t
    deployment = services_of(request).deployment
    kind = form_rules.question_type(target)
    values = form_rules.show_if_options(target, [area.id for area in deployment.areas])
    if kind in form_rules.CHOICE_TYPES:
        texts = {str(c.get("id")): c.get("text") for c in target.get("choices") or [] if isinstance(c, dict)}
        return [(str(v), authoring.pick(texts.get(str(v)), t.language, default) or str(v)) for v in values]
    if kind is QuestionType.YES_NO:
        return [("yes", t._("Yes")), ("no", t._("No"))]
    if kind is QuestionType.AREA:
        return [(area.id, deployment.text(area.name, t.language)) for area in deployment.areas]
    if kind is QuestionType.SCALE:
        found = target.get("labels")
        labels: dict[Any, Any] = found if isinstance(found, dict) else {}
        return [
            (str(v), f"{v} {authoring.pick(labels.get(str(v), labels.get(v)), t.language, default)}".strip())
            for v in values
        ]
    return [(str(v), str(v)) for v in values]


@officer_page
async def remove_question(request: Request) -> Response:
    """Removing a question asks first, and says which questions depended on it."""
    services = services_of(request)
    cid = request.path_params["id"]
    found = await _question_of(request)
    if found is None:
        return _not_found(request)
    data, index = found
    languages = _languages(request, data)
    if request.method == "POST":
        data = form_rules.remove_question(data, index)
        await form_rules.save(services, data, officer_of(request).id, now_of(request))
        return go_to(_with_languages(f"{_base(cid)}/questions", data, languages, saved="1"))
    t = officer_of(request).t
    question = form_rules.survey_list(data)[index]
    text = authoring.pick(question.get("text"), t.language, form_rules.default_language_of(data))
    return _page(
        request,
        "question_remove.html",
        cid,
        data,
        languages,
        f"{_base(cid)}/questions/{request.path_params['qid']}/remove",
        number=index + 1,
        text=text,
        dependants=[i + 1 for i in form_rules.dependants(data, index)],
        key=request.path_params["qid"],
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/consultations/new", new_consultation, methods=["GET", "POST"]),
        Route("/consultations/{id:str}/edit", edit_consultation, methods=["GET", "POST"]),
        Route("/consultations/{id:str}/questions", question_list, methods=["GET", "POST"]),
        Route("/consultations/{id:str}/questions/{qid:str}", edit_question, methods=["GET", "POST"]),
        Route("/consultations/{id:str}/questions/{qid:str}/remove", remove_question, methods=["GET", "POST"]),
    ]
