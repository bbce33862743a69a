"""Read and validate consultation files: every problem names its file, line and place."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path as FilePath
from typing import Any

from conversations.i18n import Translator
from conversations.screens import MAX_MESSAGE_LENGTH
from conversations.survey.model import (
    YES_NO_VALUES,
    Choice,
    Consultation,
    Question,
    QuestionType,
    ShowIf,
    Texts,
)
from conversations.survey.yaml_lines import Path, YamlSyntaxError, load_with_lines

SPEC_VERSION = 1
# Deep-link payloads allow 64 characters; callback data allows 64 bytes and also
# carries a verb and a step token, so ids are kept short.
CONSULTATION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
QUESTION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
CHOICE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
# Longer labels are cut off on a phone's inline button.
BUTTON_LABEL_MAX = 40
SCALE_MAX_POINTS = 11
TEXT_ANSWER_MAX = 4000
DEFAULT_TEXT_MAX = 1000
# The summary's own words (heading, the line about Submit) and a long area name or number.
SUMMARY_OVERHEAD = 200
AREA_OR_NUMBER_ANSWER = 40

CONSULTATION_TEXT_FIELDS = (
    "title",
    "summary",
    "organisation",
    "can_influence",
    "cannot_influence",
    "decision_by",
    "contact",
)
CONSULTATION_FIELDS = frozenset(
    {
        "spec_version",
        "id",
        "default_language",
        "opens",
        "closes",
        "areas",
        "topics",
        "survey",
        "about_you",
        *CONSULTATION_TEXT_FIELDS,
    }
)
QUESTION_FIELDS = frozenset(
    {"id", "type", "text", "choices", "optional", "show_if", "min", "max", "max_choices", "max_length", "labels"}
)
SHOW_IF_SOURCES = frozenset(
    {
        QuestionType.SINGLE_CHOICE,
        QuestionType.MULTIPLE_CHOICE,
        QuestionType.SCALE,
        QuestionType.YES_NO,
        QuestionType.NUMBER,
        QuestionType.AREA,
    }
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a consultation file, said so an officer can find and fix it."""

    file: str
    line: int | None
    place: str
    message: str
    warning: bool = False
    # Where in the consultation's data, e.g. ("survey", 2, "choices", 0, "text", "cy"): the
    # workspace shows the problem beside that field.
    path: tuple[str | int, ...] = ()

    def describe(self, t: Translator) -> str:  # temporary: the translatable messages replace this at merge
        return self.message

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        kind = "warning: " if self.warning else ""
        place = f"{self.place}: " if self.place else ""
        return f"{where}: {kind}{place}{self.message}"


@dataclass
class LoadResult:
    """A consultation (when the file has no errors), its data as stored, and every problem found."""

    consultation: Consultation | None
    data: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]


def load_consultation_file(
    path: str | FilePath,
    *,
    known_areas: Collection[str] | None = None,
    known_topics: Collection[str] | None = None,
    known_languages: Collection[str] | None = None,
) -> LoadResult:
    """Read one consultation file; never raises for a bad file, reports problems instead."""
    name = str(path)
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return LoadResult(None, None, [Problem(name, None, "", f"cannot read the file: {error}")])
    return load_consultation_text(
        text,
        name,
        known_areas=known_areas,
        known_topics=known_topics,
        known_languages=known_languages,
    )


def load_consultation_text(
    text: str,
    filename: str = "<text>",
    *,
    known_areas: Collection[str] | None = None,
    known_topics: Collection[str] | None = None,
    known_languages: Collection[str] | None = None,
) -> LoadResult:
    """Validate consultation YAML text and build the consultation."""
    try:
        data, lines = load_with_lines(text)
    except YamlSyntaxError as error:
        return LoadResult(None, None, [Problem(filename, error.line, "", f"not valid YAML: {error}")])
    reader = _Reader(filename, lines, known_areas, known_topics, known_languages)
    consultation = reader.consultation(data)
    if reader.has_errors:
        return LoadResult(None, None, reader.problems)
    assert consultation is not None
    return LoadResult(consultation, consultation_to_data(consultation), reader.problems)


def check_consultation_data(
    data: Mapping[str, Any],
    *,
    known_areas: Collection[str] | None = None,
    known_topics: Collection[str] | None = None,
    known_languages: Collection[str] | None = None,
) -> LoadResult:
    """The checks of `haveyoursay check`, on a consultation's data (a workspace draft) rather than a file."""
    reader = _Reader("", {}, known_areas, known_topics, known_languages)
    consultation = reader.consultation(dict(data))
    if reader.has_errors:
        return LoadResult(None, None, reader.problems)
    assert consultation is not None
    return LoadResult(consultation, consultation_to_data(consultation), reader.problems)


def consultation_from_data(data: Mapping[str, Any]) -> Consultation:
    """Rebuild a consultation stored by `consultation_to_data` (already validated)."""
    reader = _Reader("<stored>", {}, None, None, None)
    consultation = reader.consultation(dict(data))
    if consultation is None:
        raise ValueError("; ".join(str(p) for p in reader.problems))
    return consultation


def consultation_to_data(c: Consultation) -> dict[str, Any]:
    """A JSON-friendly dict that `consultation_from_data` turns back into the same consultation."""
    data: dict[str, Any] = {"spec_version": c.spec_version, "id": c.id, "default_language": c.default_language}
    for name in CONSULTATION_TEXT_FIELDS:
        data[name] = dict(getattr(c, name))
    data.update(
        opens=c.opens.isoformat(),
        closes=c.closes.isoformat(),
        areas=list(c.areas),
        topics=list(c.topics),
        survey=[_question_to_data(q) for q in c.survey],
    )
    if c.about_you:
        data["about_you"] = True
    return data


def _question_to_data(q: Question) -> dict[str, Any]:
    data: dict[str, Any] = {"id": q.id, "type": q.type.value, "text": dict(q.text)}
    if q.choices:
        data["choices"] = [{"id": c.id, "text": dict(c.text)} for c in q.choices]
    if q.optional:
        data["optional"] = True
    if q.show_if:
        data["show_if"] = {"question": q.show_if.question, "in": list(q.show_if.values)}
    for name in ("min", "max", "max_choices"):
        if getattr(q, name) is not None:
            data[name] = getattr(q, name)
    if q.type is QuestionType.TEXT:
        data["max_length"] = q.max_length
    if q.labels:
        data["labels"] = {point: dict(texts) for point, texts in q.labels.items()}
    return data


def _place(path: Path) -> str:
    """`survey[3].show_if.question` from ('survey', 3, 'show_if', 'question')."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Reader:
    """Walks the parsed YAML, collecting problems with their places, and builds the model."""

    def __init__(
        self,
        filename: str,
        lines: dict[Path, int],
        known_areas: Collection[str] | None,
        known_topics: Collection[str] | None,
        known_languages: Collection[str] | None,
    ) -> None:
        self.filename = filename
        self.lines = lines
        self.known_areas = known_areas
        self.known_topics = known_topics
        self.known_languages = known_languages
        self.problems: list[Problem] = []
        self.default_language = "en"
        self.languages_used: set[str] = set()
        self.raw_question_ids: list[str] = []

    @property
    def has_errors(self) -> bool:
        return any(not p.warning for p in self.problems)

    def error(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.filename, self._line(path), _place(path), message, path=tuple(path)))

    def warn(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.filename, self._line(path), _place(path), message, True, tuple(path)))

    def _line(self, path: Path) -> int | None:
        # A missing field has no line of its own: name the line of the nearest parent.
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    # -- consultation ---------------------------------------------------------

    def consultation(self, data: Any) -> Consultation | None:
        if not isinstance(data, dict):
            self.error((), "a consultation file must be a mapping of fields (spec_version, id, title, ...)")
            return None
        self._unknown_fields(data, CONSULTATION_FIELDS, ())
        if data.get("spec_version") != SPEC_VERSION:
            self.error(("spec_version",), f"must be {SPEC_VERSION} (found {data.get('spec_version')!r})")
        consultation_id = self._slug(data, "id", CONSULTATION_ID, (), "lower-case letters, digits and -, at most 40")
        default_language = data.get("default_language")
        if not isinstance(default_language, str) or not LANGUAGE_CODE.match(default_language):
            self.error(("default_language",), "must be a language code such as en")
        else:
            self.default_language = default_language
        texts = {name: self._texts(data, name, ()) for name in CONSULTATION_TEXT_FIELDS}
        opens = self._datetime(data, "opens")
        closes = self._datetime(data, "closes")
        if opens and closes and closes <= opens:
            self.error(("closes",), f"closes ({closes.isoformat()}) must be after opens ({opens.isoformat()})")
        areas = self._ids_from_list(data, "areas", self.known_areas, "area")
        topics = self._ids_from_list(data, "topics", self.known_topics, "topic")
        survey = self._survey(data.get("survey"))
        about_you = data.get("about_you", False)
        if not isinstance(about_you, bool):
            self.error(("about_you",), "must be true or false")
        self._warn_missing_translations(data)
        self._warn_long_summary(survey)
        if self.has_errors or consultation_id is None or opens is None or closes is None:
            return None
        return Consultation(
            id=consultation_id,
            default_language=self.default_language,
            opens=opens,
            closes=closes,
            survey=survey,
            about_you=about_you is True,
            areas=areas,
            topics=topics,
            spec_version=SPEC_VERSION,
            **{name: value or {} for name, value in texts.items()},
        )

    def _unknown_fields(self, data: dict[Any, Any], allowed: frozenset[str], path: Path) -> None:
        for key in data:
            if key not in allowed:
                self.error((*path, str(key)), f"unknown field; expected one of: {', '.join(sorted(allowed))}")

    def _slug(self, data: dict[Any, Any], key: str, pattern: re.Pattern[str], path: Path, rule: str) -> str | None:
        value = data.get(key)
        if value is None:
            self.error((*path, key), "is missing")
            return None
        if isinstance(value, bool):
            self.error((*path, key), "yes/no/on/off/true/false are read as true or false in YAML: put the id in quotes")
            return None
        value = str(value)
        if not pattern.match(value):
            self.error((*path, key), f"{value!r} is not a valid id ({rule} characters)")
            return None
        return value

    def _texts(self, data: dict[Any, Any], key: str | int, path: Path, required: bool = True) -> dict[str, str] | None:
        where = (*path, key)
        value = data.get(key)
        if value is None:
            if required:
                self.error(
                    where, f'is missing (a map from language code to text, e.g. {{{self.default_language}: "..."}})'
                )
            return None
        if isinstance(value, str):
            self.error(where, f"must be a map from language code to text, e.g. {{{self.default_language}: {value!r}}}")
            return None
        if not isinstance(value, dict):
            self.error(where, "must be a map from language code to text")
            return None
        result: dict[str, str] = {}
        for language, text in value.items():
            if not isinstance(language, str) or not LANGUAGE_CODE.match(language):
                self.error((*where, str(language)), "is not a language code such as en or cy")
            elif not isinstance(text, str) or not text.strip():
                self.error((*where, language), "must be non-empty text")
            else:
                result[language] = text.strip()
                self.languages_used.add(language)
        if self.default_language not in result:
            self.error(where, f"missing text in the default language ({self.default_language})")
        return result

    def _datetime(self, data: dict[Any, Any], key: str) -> datetime | None:
        value = data.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            self.error((key,), "must be a date and time with a time zone, e.g. 2027-01-31T23:59:00Z")
            return None
        if value.tzinfo is None:
            self.error((key,), "needs a time zone, e.g. 2027-01-31T23:59:00Z or +01:00")
            return None
        return value

    def _ids_from_list(
        self, data: dict[Any, Any], key: str, known: Collection[str] | None, kind: str
    ) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error((key,), f"must be a list of {kind} ids")
            return ()
        ids: list[str] = []
        for i, item in enumerate(value):
            item_id = str(item)
            if known is not None and item_id not in known:
                listing = ", ".join(sorted(known)) or "none are configured"
                self.error((key, i), f"unknown {kind} {item_id!r}; known: {listing}")
            ids.append(item_id)
        return tuple(ids)

    # -- survey ---------------------------------------------------------------

    def _survey(self, value: Any) -> tuple[Question, ...]:
        if not isinstance(value, list) or not value:
            self.error(("survey",), "must be a list of at least one question")
            return ()
        questions: list[Question] = []
        seen: dict[str, int] = {}
        self.raw_question_ids = [str(item.get("id")) for item in value if isinstance(item, dict)]
        for index, item in enumerate(value):
            question = self._question(item, ("survey", index), questions)
            if question is None:
                continue
            if question.id in seen:
                self.error(
                    ("survey", index, "id"), f"duplicate question id {question.id!r} (also survey[{seen[question.id]}])"
                )
                continue
            seen[question.id] = index
            questions.append(question)
        return tuple(questions)

    def _question(self, item: Any, path: Path, earlier: list[Question]) -> Question | None:
        if not isinstance(item, dict):
            self.error(path, "a question must be a mapping with id, type and text")
            return None
        self._unknown_fields(item, QUESTION_FIELDS, path)
        question_id = self._slug(item, "id", QUESTION_ID, path, "lower-case letters, digits, _ and -, at most 24")
        text = self._texts(item, "text", path)
        raw_type = item.get("type")
        if raw_type is None:
            self.error((*path, "type"), "is missing; known: " + ", ".join(t.value for t in QuestionType))
            return None
        try:
            question_type = QuestionType(raw_type)
        except ValueError:
            known = ", ".join(t.value for t in QuestionType)
            self.error((*path, "type"), f"unknown question type {raw_type!r}; known: {known}")
            return None
        optional = item.get("optional", False)
        if not isinstance(optional, bool):
            self.error((*path, "optional"), "must be true or false")
        kwargs = self._type_specific(item, question_type, path)
        show_if = self._show_if(item.get("show_if"), (*path, "show_if"), earlier) if "show_if" in item else None
        if question_id is None or text is None or kwargs is None:
            return None
        return Question(
            id=question_id, type=question_type, text=text, optional=bool(optional), show_if=show_if, **kwargs
        )

    def _type_specific(self, item: dict[Any, Any], kind: QuestionType, path: Path) -> dict[str, Any] | None:
        if kind in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
            choices = self._choices(item.get("choices"), (*path, "choices"))
            result: dict[str, Any] = {"choices": choices}
            if kind is QuestionType.MULTIPLE_CHOICE:
                result["max_choices"] = self._max_choices(item, path, len(choices))
            return result
        if kind is QuestionType.SCALE:
            return self._scale(item, path)
        if kind is QuestionType.NUMBER:
            low, high = item.get("min"), item.get("max")
            for name, bound in (("min", low), ("max", high)):
                if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
                    self.error((*path, name), "must be a number")
                    return None
            if low is not None and high is not None and low > high:
                self.error((*path, "max"), f"max ({high}) must not be below min ({low})")
            return {"min": low, "max": high}
        if kind is QuestionType.TEXT:
            max_length = item.get("max_length", DEFAULT_TEXT_MAX)
            if (
                isinstance(max_length, bool)
                or not isinstance(max_length, int)
                or not 1 <= max_length <= TEXT_ANSWER_MAX
            ):
                self.error((*path, "max_length"), f"must be a whole number from 1 to {TEXT_ANSWER_MAX}")
                return None
            return {"max_length": max_length}
        if kind is QuestionType.AREA and self.known_areas is not None and not self.known_areas:
            self.error((*path, "type"), "an area question needs areas in the deployment file (HAVEYOURSAY_CONFIG)")
        return {}

    def _choices(self, value: Any, path: Path) -> tuple[Choice, ...]:
        if not isinstance(value, list) or len(value) < 2:
            self.error(path, "needs a list of at least two choices, each with id and text")
            return ()
        choices: list[Choice] = []
        seen: set[str] = set()
        for index, item in enumerate(value):
            where = (*path, index)
            if not isinstance(item, dict):
                self.error(where, "a choice must be a mapping with id and text")
                continue
            self._unknown_fields(item, frozenset({"id", "text"}), where)
            choice_id = self._slug(item, "id", CHOICE_ID, where, "lower-case letters, digits, _ and -, at most 24")
            text = self._texts(item, "text", where)
            if choice_id is None or text is None:
                continue
            if choice_id in seen:
                self.error((*where, "id"), f"duplicate choice id {choice_id!r}")
                continue
            seen.add(choice_id)
            self._check_button_labels(text, (*where, "text"))
            choices.append(Choice(choice_id, text))
        return tuple(choices)

    def _check_button_labels(self, text: Texts, path: Path) -> None:
        for language, label in text.items():
            if len(label) > BUTTON_LABEL_MAX:
                self.error(
                    (*path, language), f"too long for a button ({len(label)} characters; at most {BUTTON_LABEL_MAX})"
                )

    def _max_choices(self, item: dict[Any, Any], path: Path, choice_count: int) -> int | None:
        value = item.get("max_choices")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= max(choice_count, 1):
            self.error(
                (*path, "max_choices"), f"must be a whole number from 1 to the number of choices ({choice_count})"
            )
            return None
        return value

    def _scale(self, item: dict[Any, Any], path: Path) -> dict[str, Any] | None:
        low, high = item.get("min"), item.get("max")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            self.error((*path, "min"), "a scale needs whole-number min and max, e.g. min: 1, max: 5")
            return None
        assert isinstance(low, int) and isinstance(high, int)
        if high <= low or high - low + 1 > SCALE_MAX_POINTS:
            self.error((*path, "max"), f"a scale runs from min to a larger max, with at most {SCALE_MAX_POINTS} points")
            return None
        labels: dict[int, Texts] = {}
        raw_labels = item.get("labels") or {}
        if not isinstance(raw_labels, dict):
            self.error((*path, "labels"), 'must map scale points to texts, e.g. {1: {en: "Very hard"}}')
            return None
        for point, texts in raw_labels.items():
            if isinstance(point, str) and point.lstrip("-").isdigit():
                point = int(point)
            if not isinstance(point, int) or not low <= point <= high:
                self.error((*path, "labels", str(point)), f"is not a point on the scale ({low} to {high})")
                continue
            label = self._texts({point: texts}, point, (*path, "labels"))
            if label is not None:
                labels[point] = label
        return {"min": low, "max": high, "labels": labels}

    def _show_if(self, value: Any, path: Path, earlier: list[Question]) -> ShowIf | None:
        if not isinstance(value, dict):
            self.error(path, "must be a mapping: {question: <id of an earlier question>, in: [values]}")
            return None
        self._unknown_fields(value, frozenset({"question", "in"}), path)
        target_id = value.get("question")
        target = next((q for q in earlier if q.id == str(target_id)), None)
        if target is None:
            earlier_ids = self.raw_question_ids[: int(path[1])] if isinstance(path[1], int) else []
            if str(target_id) in earlier_ids:
                self.error((*path, "question"), f"{target_id!r} has problems of its own (see above)")
            else:
                self.error((*path, "question"), f"{target_id!r} is not an earlier question in this survey")
            return None
        if target.type not in SHOW_IF_SOURCES:
            self.error((*path, "question"), f"cannot depend on a {target.type.value} question")
            return None
        values = value.get("in")
        if not isinstance(values, list) or not values:
            self.error((*path, "in"), "must be a non-empty list of answers to that question")
            return None
        checked = [self._show_if_value(v, target, (*path, "in", i)) for i, v in enumerate(values)]
        if any(v is None for v in checked):
            return None
        return ShowIf(target.id, tuple(checked))

    def _show_if_value(self, value: Any, target: Question, path: Path) -> Any:
        if target.type is QuestionType.YES_NO:
            value = {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value
            if value not in YES_NO_VALUES:
                self.error(path, f"{value!r} is not an answer to yes/no question {target.id!r} (yes or no)")
                return None
            return value
        if target.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
            if isinstance(value, bool):
                self.error(
                    path, "yes/no/on/off/true/false are read as true or false in YAML: put the choice id in quotes"
                )
                return None
            if target.choice(str(value)) is None:
                known = ", ".join(c.id for c in target.choices)
                self.error(path, f"{value!r} is not a choice of question {target.id!r} ({known})")
                return None
            return str(value)
        if target.type is QuestionType.AREA:
            if self.known_areas is not None and str(value) not in self.known_areas:
                self.error(path, f"{value!r} is not a known area")
                return None
            return str(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(path, f"{value!r} is not a number")
            return None
        if target.type is QuestionType.SCALE and value not in target.scale_points():
            self.error(path, f"{value!r} is not a point on the scale of question {target.id!r}")
            return None
        return value

    # -- the summary before Submit ----------------------------------------------

    def _warn_long_summary(self, survey: tuple[Question, ...]) -> None:
        """Warn when every question with its longest answer cannot fit in one Telegram message."""
        if self.has_errors or not survey:
            return
        longest = SUMMARY_OVERHEAD + sum(
            max(len(text) for text in q.text.values()) + _longest_answer(q) + 10 for q in survey
        )
        if longest > MAX_MESSAGE_LENGTH:
            self.warn(
                ("survey",),
                f"the answers can fill about {longest:,} characters, more than the {MAX_MESSAGE_LENGTH:,} "
                "Telegram allows in one message: the summary before Submit will shorten the longest ones "
                "(lower max_length to avoid this)",
            )

    # -- translations ---------------------------------------------------------

    def _warn_missing_translations(self, data: dict[Any, Any]) -> None:
        """Name each text that is missing in a language the rest of the file uses."""
        if self.has_errors:
            return
        wanted = set(self.languages_used)
        if self.known_languages is not None:
            wanted &= set(self.known_languages)
        wanted.discard(self.default_language)
        for path in self.lines:
            if len(path) < 1 or path[-1] != self.default_language:
                continue
            parent_path = path[:-1]
            texts = _at(data, parent_path)
            if isinstance(texts, dict):
                for language in sorted(wanted - set(texts)):
                    self.warn(parent_path, f"no {language} translation")


def _longest_answer(q: Question) -> int:
    """About how long a question's answer can be in the summary, in characters."""
    if q.type is QuestionType.TEXT:
        return q.max_length
    if q.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        labels = sorted((max(len(t) for t in c.text.values()) + 2 for c in q.choices), reverse=True)
        return sum(labels[: q.max_choices or len(labels)]) if q.type is QuestionType.MULTIPLE_CHOICE else labels[0]
    if q.type is QuestionType.SCALE:
        return 6 + max((len(t) for texts in q.labels.values() for t in texts.values()), default=0)
    return AREA_OR_NUMBER_ANSWER


def _at(data: Any, path: Path) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part, data.get(str(part)))
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data
