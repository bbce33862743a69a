"""The consultation form and the survey builder: what an officer types, as a draft's data, and back.

A draft is a consultation file's data (what `yaml.safe_load` gives for a file `haveyoursay check`
accepts). These functions turn the fields of the workspace's forms into that data and the data
into what the forms show; nothing here checks the consultation: `authoring.check` does, with
the loader's own rules, and `place_problems` puts each problem beside the field it concerns.
"""

from __future__ import annotations

import contextlib
import copy
import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from conversations.services import Services
from conversations.survey.loader import (
    CONSULTATION_ID,
    CONSULTATION_TEXT_FIELDS,
    DEFAULT_TEXT_MAX,
    LANGUAGE_CODE,
    SHOW_IF_SOURCES,
    SPEC_VERSION,
    Problem,
)
from conversations.survey.model import YES_NO_VALUES, QuestionType

# Texts long enough to want a text box rather than a line.
LONG_TEXT_FIELDS = frozenset({"summary", "can_influence", "cannot_influence", "decision_by"})
CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})
RANGE_TYPES = frozenset({QuestionType.SCALE, QuestionType.NUMBER})
DEFAULT_SCALE = (1, 5)
# The workspace's own pages under /consultations/: no consultation can be called so.
RESERVED_IDS = frozenset({"new", "upload"})


class FormFields(Protocol):
    """A form as sent (Starlette's FormData, or a MultiDict in tests)."""

    def getlist(self, key: Any) -> list[Any]: ...

    def __contains__(self, key: Any) -> bool: ...


def value_of(form: FormFields, key: str) -> str:
    """The first value sent for `key`, stripped; "" when none (files count as none)."""
    values = [v for v in form.getlist(key) if isinstance(v, str)]
    return values[0].strip() if values else ""


# -- starting a consultation ----------------------------------------------------------


def suggest_id(title: str, taken: Collection[str] = ()) -> str:
    """A short id for links, from the title: "GP opening hours" -> "gp-opening-hours", not one taken."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:40].strip("-") or "consultation"
    candidate, number = slug, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = slug[: 40 - len(suffix)].strip("-") + suffix
        number += 1
    return candidate


def id_refusal(consultation_id: str, taken: Collection[str]) -> str | None:
    """Why an id cannot be used: "invalid" (the loader's rule), "taken", or None when it can."""
    if not CONSULTATION_ID.match(consultation_id):
        return "invalid"
    if consultation_id in taken or consultation_id in RESERVED_IDS:
        return "taken"
    return None


def new_draft(consultation_id: str, title: str, default_language: str) -> dict[str, Any]:
    """A new consultation's data: its id, language and title; every other field is filled in later."""
    return {
        "spec_version": SPEC_VERSION,
        "id": consultation_id,
        "default_language": default_language,
        "title": {default_language: title} if title else {},
    }


# -- languages ------------------------------------------------------------------------


def text_maps(data: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every text of a consultation's data (each a map from language code to text)."""
    for name in CONSULTATION_TEXT_FIELDS:
        if isinstance(data.get(name), Mapping):
            yield data[name]
    for question in questions_of(data):
        if isinstance(question.get("text"), Mapping):
            yield question["text"]
        for choice in question.get("choices") or []:
            if isinstance(choice, Mapping) and isinstance(choice.get("text"), Mapping):
                yield choice["text"]
        labels = question.get("labels")
        if isinstance(labels, Mapping):
            yield from (texts for texts in labels.values() if isinstance(texts, Mapping))


def languages_of(data: Mapping[str, Any], added: Sequence[str] = ()) -> list[str]:
    """The languages a form shows side by side: the default first, then every language the
    consultation has texts in, then those the officer has just added (in the order added)."""
    default = default_language_of(data)
    found = [default]
    for texts in text_maps(data):
        found.extend(code for code in texts if isinstance(code, str) and code not in found)
    found[1:] = sorted(found[1:])
    found.extend(code for code in added if LANGUAGE_CODE.match(code) and code not in found)
    return found


def default_language_of(data: Mapping[str, Any]) -> str:
    value = data.get("default_language")
    return value if isinstance(value, str) and LANGUAGE_CODE.match(value) else "en"


def texts_from(form: FormFields, prefix: str, languages: Sequence[str], old: Any) -> dict[str, str]:
    """A text's languages from the form (`prefix.LANG` fields): an empty field removes that
    language; a language the form did not show is kept as it was."""
    texts = {str(k): v for k, v in old.items()} if isinstance(old, Mapping) else {}
    for language in languages:
        key = f"{prefix}.{language}"
        if key in form:
            value = value_of(form, key)
            if value:
                texts[language] = value
            else:
                texts.pop(language, None)
    return texts


# -- dates ----------------------------------------------------------------------------


def local_date_and_time(value: Any, timezone: ZoneInfo) -> tuple[str, str]:
    """A stored moment (ISO 8601) as the date and time inputs show it, in the deployment's time zone."""
    moment = _moment(value)
    if moment is None:
        return "", ""
    local = moment.astimezone(timezone)
    return local.date().isoformat(), local.strftime("%H:%M")


def moment_from(day: str, clock: str, timezone: ZoneInfo, end_of_day: bool) -> str | None:
    """The date and time typed (in the deployment's time zone) as ISO 8601 in UTC; None without a
    date. A missing time is the start of the day, or its last minute for a closing time."""
    try:
        parsed_day = date.fromisoformat(day)
    except ValueError:
        return None
    try:
        parsed_time = time.fromisoformat(clock) if clock else time(23, 59) if end_of_day else time(0, 0)
    except ValueError:
        parsed_time = time(23, 59) if end_of_day else time(0, 0)
    local = datetime.combine(parsed_day, parsed_time.replace(second=0, microsecond=0), tzinfo=timezone)
    return local.astimezone(UTC).isoformat()


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else None
    return None


# -- the consultation's own fields ----------------------------------------------------


def apply_consultation_form(
    data: Mapping[str, Any],
    form: FormFields,
    languages: Sequence[str],
    timezone: ZoneInfo,
    *,
    known_languages: Collection[str],
    areas: Sequence[str],
    topics: Sequence[str],
) -> dict[str, Any]:
    """The draft with the edit page's fields applied. `areas` and `topics` are the deployment's
    (the page offers them as checkboxes only when the deployment has some)."""
    new = copy.deepcopy(dict(data))
    default = value_of(form, "default_language")
    if default in known_languages:
        new["default_language"] = default
    for name in CONSULTATION_TEXT_FIELDS:
        new[name] = texts_from(form, name, languages, new.get(name))
    for name, end_of_day in (("opens", False), ("closes", True)):
        if f"{name}.date" in form:
            moment = moment_from(value_of(form, f"{name}.date"), value_of(form, f"{name}.time"), timezone, end_of_day)
            if moment is None:
                new.pop(name, None)
            else:
                new[name] = moment
    for name, known in (("areas", areas), ("topics", topics)):
        if known:
            picked = {str(v) for v in form.getlist(name)}
            new[name] = [item for item in known if item in picked]
    if "about_you" in form:
        new["about_you"] = True
    else:
        new.pop("about_you", None)
    return new


# -- the survey -------------------------------------------------------------------------


def questions_of(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    survey = data.get("survey")
    return [q for q in survey if isinstance(q, dict)] if isinstance(survey, list) else []


def question_key(data: Mapping[str, Any], index: int) -> str:
    """How a question's page is named in its address: its id when that is unique, else its number."""
    questions = survey_list(data)
    item = questions[index] if 0 <= index < len(questions) else None
    qid = item.get("id") if isinstance(item, dict) else None
    ids = [q.get("id") for q in questions if isinstance(q, dict)]
    if isinstance(qid, str) and qid and ids.count(qid) == 1 and not qid.isdigit():
        return qid
    return str(index + 1)


def question_index(data: Mapping[str, Any], key: str) -> int | None:
    """The question a page's address names (see `question_key`), or None."""
    questions = survey_list(data)
    for index in range(len(questions)):
        if question_key(data, index) == key and isinstance(questions[index], dict):
            return index
    return None


def survey_list(data: Mapping[str, Any]) -> list[Any]:
    survey = data.get("survey")
    return survey if isinstance(survey, list) else []


def new_question_id(data: Mapping[str, Any]) -> str:
    ids = {str(q.get("id")) for q in questions_of(data)}
    number = len(survey_list(data)) + 1
    while f"q{number}" in ids:
        number += 1
    return f"q{number}"


def settings_for(kind: QuestionType) -> dict[str, Any]:
    """What a new question of this type starts with."""
    if kind in CHOICE_TYPES:
        return {"choices": [{"id": "c1", "text": {}}, {"id": "c2", "text": {}}]}
    if kind is QuestionType.SCALE:
        return {"min": DEFAULT_SCALE[0], "max": DEFAULT_SCALE[1]}
    if kind is QuestionType.TEXT:
        return {"max_length": DEFAULT_TEXT_MAX}
    return {}


def add_question(data: Mapping[str, Any], kind: QuestionType) -> tuple[dict[str, Any], int]:
    """The draft with a new question of this type at the end, and its index."""
    new = copy.deepcopy(dict(data))
    survey = survey_list(new)
    survey.append({"id": new_question_id(new), "type": kind.value, "text": {}, **settings_for(kind)})
    new["survey"] = survey
    return new, len(survey) - 1


def move_question(data: Mapping[str, Any], index: int, step: int) -> dict[str, Any]:
    """The draft with one question moved up (-1) or down (+1); the checks say if a condition breaks."""
    new = copy.deepcopy(dict(data))
    survey = survey_list(new)
    other = index + step
    if 0 <= index < len(survey) and 0 <= other < len(survey):
        survey[index], survey[other] = survey[other], survey[index]
    return new


def dependants(data: Mapping[str, Any], index: int) -> list[int]:
    """The questions (indexes) shown only after an answer to this one."""
    survey = survey_list(data)
    if not 0 <= index < len(survey) or not isinstance(survey[index], dict):
        return []
    qid = survey[index].get("id")
    return [
        i
        for i, q in enumerate(survey)
        if i != index
        and isinstance(q, dict)
        and isinstance(q.get("show_if"), dict)
        and q["show_if"].get("question") == qid
    ]


def remove_question(data: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The draft without this question; questions shown only after it are then always shown."""
    new = copy.deepcopy(dict(data))
    survey = survey_list(new)
    for i in dependants(new, index):
        del survey[i]["show_if"]
    if 0 <= index < len(survey):
        del survey[index]
    return new


def number_from(text: str) -> int | float | str | None:
    """A number typed: an int or a float; None when empty; the text itself when it is no number
    (the checks then say so beside the field)."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _set_number(question: dict[str, Any], name: str, form: FormFields) -> None:
    if name not in form:
        return
    value = number_from(value_of(form, name))
    if value is None:
        question.pop(name, None)
    else:
        question[name] = value


def question_type(question: Mapping[str, Any]) -> QuestionType | None:
    try:
        return QuestionType(str(question.get("type")))
    except ValueError:
        return None


def change_type(question: dict[str, Any], kind: QuestionType) -> None:
    """Another type for a question: its wording, `optional` and condition stay; settings that
    do not apply go, and the new type's start (choices carry over between the two choice types)."""
    old = question_type(question)
    if old is kind:
        return
    keep = {"id", "type", "text", "optional", "show_if"}
    if old in CHOICE_TYPES and kind in CHOICE_TYPES:
        keep.add("choices")
    for name in list(question):
        if name not in keep:
            del question[name]
    question["type"] = kind.value
    for name, value in settings_for(kind).items():
        question.setdefault(name, value)


def new_choice_id(question: Mapping[str, Any]) -> str:
    ids = {str(c.get("id")) for c in question.get("choices") or [] if isinstance(c, dict)}
    number = len(ids) + 1
    while f"c{number}" in ids:
        number += 1
    return f"c{number}"


def label_points(question: Mapping[str, Any]) -> list[int | str]:
    """The scale points the form offers labels for: every point from min to max, and any point a
    label is stored for (so a label left outside a narrowed scale can be seen and cleared)."""
    low, high = question.get("min"), question.get("max")
    points: list[int | str] = []
    if isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool) and low <= high <= low + 10:
        points.extend(range(low, high + 1))
    labels = question.get("labels")
    if isinstance(labels, Mapping):
        for point in labels:
            value: int | str = int(point) if str(point).lstrip("-").isdigit() else str(point)
            if value not in points:
                points.append(value)
    return points


def apply_question_form(
    data: Mapping[str, Any], index: int, form: FormFields, languages: Sequence[str]
) -> dict[str, Any]:
    """The draft with one question's page applied, and the button pressed done: "add-choice",
    "choice-up:ID", "choice-down:ID", "choice-remove:ID" (any other: just save)."""
    new = copy.deepcopy(dict(data))
    survey = survey_list(new)
    question = survey[index]
    question["text"] = texts_from(form, "text", languages, question.get("text"))
    if "optional.shown" in form:
        if "optional" in form:
            question["optional"] = True
        else:
            question.pop("optional", None)
    kind = question_type(question)
    if kind in CHOICE_TYPES:
        _apply_choices(question, form, languages)
    if kind in RANGE_TYPES:
        _set_number(question, "min", form)
        _set_number(question, "max", form)
    if kind is QuestionType.MULTIPLE_CHOICE:
        _set_number(question, "max_choices", form)
    if kind is QuestionType.TEXT:
        _set_number(question, "max_length", form)
    if kind is QuestionType.SCALE and "labels.shown" in form:
        labels: dict[str, Any] = {}
        old = question.get("labels") if isinstance(question.get("labels"), Mapping) else {}
        for point in form.getlist("labels.shown"):
            texts = texts_from(form, f"labels.{point}", languages, old.get(point, old.get(_int_or(point))))
            if texts:
                labels[str(point)] = texts
        if labels:
            question["labels"] = labels
        else:
            question.pop("labels", None)
    _apply_show_if(question, form, survey[:index])
    new_type = value_of(form, "type")
    if new_type and new_type != question.get("type"):
        with contextlib.suppress(ValueError):
            change_type(question, QuestionType(new_type))
    return new


def _int_or(text: Any) -> Any:
    return int(text) if isinstance(text, str) and text.lstrip("-").isdigit() else text


def _apply_choices(question: dict[str, Any], form: FormFields, languages: Sequence[str]) -> None:
    old = [c for c in question.get("choices") or [] if isinstance(c, dict)]
    by_id = {str(c.get("id")): c for c in old}
    if "choice" in form:
        choices = []
        for choice_id in form.getlist("choice"):
            choice = copy.deepcopy(by_id.get(str(choice_id), {"id": str(choice_id)}))
            choice["text"] = texts_from(form, f"choice.{choice_id}", languages, choice.get("text"))
            choices.append(choice)
    else:
        choices = old
    action = value_of(form, "action")
    verb, _, target = action.partition(":")
    at = next((i for i, c in enumerate(choices) if str(c.get("id")) == target), None)
    if verb == "add-choice":
        choices.append({"id": new_choice_id({"choices": choices}), "text": {}})
    elif at is not None and verb == "choice-remove":
        del choices[at]
    elif at is not None and verb in ("choice-up", "choice-down"):
        other = at - 1 if verb == "choice-up" else at + 1
        if 0 <= other < len(choices):
            choices[at], choices[other] = choices[other], choices[at]
    question["choices"] = choices


def show_if_sources(data: Mapping[str, Any], index: int) -> list[int]:
    """The earlier questions (indexes) this one can be shown after (the loader's SHOW_IF_SOURCES)."""
    return [
        i
        for i, q in enumerate(survey_list(data)[:index])
        if isinstance(q, dict) and question_type(q) in SHOW_IF_SOURCES and isinstance(q.get("id"), str)
    ]


def show_if_options(question: Mapping[str, Any], areas: Sequence[str]) -> list[Any]:
    """The answers a condition on `question` can name (none for a number: those are typed)."""
    kind = question_type(question)
    if kind in CHOICE_TYPES:
        return [str(c.get("id")) for c in question.get("choices") or [] if isinstance(c, dict)]
    if kind is QuestionType.YES_NO:
        return list(YES_NO_VALUES)
    if kind is QuestionType.SCALE:
        points = [p for p in label_points({"min": question.get("min"), "max": question.get("max")})]
        return points
    if kind is QuestionType.AREA:
        return list(areas)
    return []


def _apply_show_if(question: dict[str, Any], form: FormFields, earlier: list[Any]) -> None:
    if "show_if.question" not in form:
        return
    target_id = value_of(form, "show_if.question")
    if not target_id:
        question.pop("show_if", None)
        return
    target = next((q for q in earlier if isinstance(q, dict) and q.get("id") == target_id), None)
    if target_id != value_of(form, "show_if.was"):
        values: list[Any] = []  # the answers ticked belonged to another question
    elif target is not None and question_type(target) is QuestionType.NUMBER:
        text = value_of(form, "show_if.numbers")
        values = [number_from(part.strip()) for part in text.split(",") if part.strip()]
    else:
        values = [str(v) for v in form.getlist("show_if.in")]
        if target is not None and question_type(target) is QuestionType.SCALE:
            values = [_int_or(v) for v in values]
    question["show_if"] = {"question": target_id, "in": values}


# -- problems beside fields ---------------------------------------------------------------

Path = tuple[str | int, ...]


def edit_fields(languages: Sequence[str], areas: bool, topics: bool) -> set[Path]:
    """The place in the data of every field on the edit page; () is the page itself."""
    fields: set[Path] = {(), ("default_language",), ("opens",), ("closes",), ("about_you",)}
    for name in CONSULTATION_TEXT_FIELDS:
        fields.add((name,))
        fields.update((name, language) for language in languages)
    if areas:
        fields.add(("areas",))
    if topics:
        fields.add(("topics",))
    return fields


def question_fields(data: Mapping[str, Any], index: int, languages: Sequence[str]) -> set[Path]:
    """The place in the data of every field on a question's page; ("survey", index) is the page."""
    question = survey_list(data)[index]
    base: Path = ("survey", index)
    fields: set[Path] = {base, (*base, "type"), (*base, "optional"), (*base, "text")}
    fields.update((*base, "text", language) for language in languages)
    kind = question_type(question) if isinstance(question, dict) else None
    if kind in CHOICE_TYPES:
        fields.add((*base, "choices"))
        for j, _choice in enumerate(question.get("choices") or []):
            fields.update({(*base, "choices", j), (*base, "choices", j, "text")})
            fields.update((*base, "choices", j, "text", language) for language in languages)
    if kind in RANGE_TYPES:
        fields.update({(*base, "min"), (*base, "max")})
    if kind is QuestionType.MULTIPLE_CHOICE:
        fields.add((*base, "max_choices"))
    if kind is QuestionType.TEXT:
        fields.add((*base, "max_length"))
    if kind is QuestionType.SCALE:
        fields.add((*base, "labels"))
        for point in label_points(question):
            fields.add((*base, "labels", point))
            fields.update((*base, "labels", point, language) for language in languages)
    if show_if_sources(data, index) or "show_if" in question:
        fields.update({(*base, "show_if"), (*base, "show_if", "question"), (*base, "show_if", "in")})
    return fields


@dataclass(frozen=True)
class Note:
    """A problem the checks found, placed: beside the field at `field` on the page `page`."""

    message: str
    warning: bool
    path: Path  # where the checks found it
    field: Path  # the nearest place with a field of its own on `page`
    page: str
    question: int | None  # the question's number (1-based), when the problem is in one


def page_of(consultation_id: str, data: Mapping[str, Any], path: Sequence[str | int]) -> str:
    """The address of the page that has the field for `path`."""
    base = f"/consultations/{consultation_id}"
    if path and path[0] == "survey":
        if len(path) > 1 and isinstance(path[1], int) and 0 <= path[1] < len(survey_list(data)):
            return f"{base}/questions/{question_key(data, path[1])}"
        return f"{base}/questions"
    return f"{base}/edit"


def _fields_of_page(
    data: Mapping[str, Any], path: Path, languages: Sequence[str], areas: bool, topics: bool
) -> set[Path]:
    if not path or path[0] != "survey":
        return edit_fields(languages, areas, topics)
    if len(path) > 1 and isinstance(path[1], int) and 0 <= path[1] < len(survey_list(data)):
        return question_fields(data, path[1], languages)
    return {("survey",)}


def place_problems(
    problems: Sequence[Problem],
    consultation_id: str,
    data: Mapping[str, Any],
    languages: Sequence[str],
    message: Callable[[Problem], str],
    *,
    areas: bool,
    topics: bool,
) -> list[Note]:
    """Each problem at the nearest field that has it, and the page that field is on.
    `message(problem)` says the problem in the officer's language."""
    notes = []
    for problem in problems:
        path = tuple(problem.path)
        fields = _fields_of_page(data, path, languages, areas, topics)
        field = next((path[:n] for n in range(len(path), -1, -1) if path[:n] in fields), ())
        question = path[1] + 1 if len(path) > 1 and path[0] == "survey" and isinstance(path[1], int) else None
        notes.append(
            Note(message(problem), problem.warning, path, field, page_of(consultation_id, data, path), question)
        )
    return notes


# -- the draft an officer works on ------------------------------------------------------


async def taken_ids(services: Services) -> set[str]:
    """Ids a new consultation cannot have: every draft's and every published consultation's."""
    drafts = {draft.id for draft in await services.db.workspace.drafts()}
    return drafts | {item.id for item in await services.db.consultations.overview()}


async def start(
    services: Services, title: str, wanted_id: str, default_language: str, officer_id: int, now: datetime
) -> tuple[str | None, str | None]:
    """A new consultation's draft: (its id, None), or (None, why not: "title", "invalid", "taken").
    Without an id, one is made from the title."""
    if not title:
        return None, "title"
    taken = await taken_ids(services)
    consultation_id = wanted_id or suggest_id(title, taken)
    refusal = id_refusal(consultation_id, taken)
    if refusal is not None:
        return None, refusal
    await services.db.workspace.save_draft(new_draft(consultation_id, title, default_language), officer_id, now)
    await services.db.officers.audit(officer_id, "consultation drafted", consultation_id, now)
    return consultation_id, None


async def working_copy(services: Services, consultation_id: str) -> dict[str, Any] | None:
    """What the forms show: the draft, else the published consultation (a draft is made of it on
    the first save); None if there is neither."""
    draft = await services.db.workspace.draft(consultation_id)
    if draft is not None:
        return draft.definition
    published = next((item for item in await services.db.consultations.overview() if item.id == consultation_id), None)
    return copy.deepcopy(published.definition) if published is not None else None


async def save(services: Services, data: dict[str, Any], officer_id: int, now: datetime) -> None:
    """Keep the officer's work as the draft (residents see the published consultation only)."""
    await services.db.workspace.save_draft(data, officer_id, now)
