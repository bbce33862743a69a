"""The consultation model: plain, immutable values read from a consultation file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

Texts = Mapping[str, str]
"""A human-readable text in several languages: language code -> text."""

Answer = Any
"""An answer as stored: a choice id, a list of choice ids, an int, a float, a str, or None (skipped)."""


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    SCALE = "scale"
    NUMBER = "number"
    YES_NO = "yes_no"
    TEXT = "text"
    AREA = "area"


# Every question type is in one of the two: answered only with buttons (typing a button's label also works),
# or answered by typing (an area may also be picked with a button; an answer given may be kept with one).
BUTTON_QUESTIONS = frozenset(
    {QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.SCALE, QuestionType.YES_NO}
)
TYPED_QUESTIONS = frozenset({QuestionType.NUMBER, QuestionType.TEXT, QuestionType.AREA})
YES_NO_VALUES = ("yes", "no")


def pick_text(texts: Texts, language: str, default_language: str) -> tuple[str, bool]:
    """The text in `language`, else in the default language; the flag says a fallback was used."""
    if language in texts and texts[language].strip():
        return texts[language], False
    return texts.get(default_language, ""), True


@dataclass(frozen=True)
class Choice:
    id: str
    text: Texts


@dataclass(frozen=True)
class ShowIf:
    """Show a question only when an earlier answer is one of `values`."""

    question: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    text: Texts
    choices: tuple[Choice, ...] = ()
    optional: bool = False
    show_if: ShowIf | None = None
    min: int | float | None = None
    max: int | float | None = None
    max_choices: int | None = None
    max_length: int = 1000
    labels: Mapping[int, Texts] = field(default_factory=dict)

    def choice(self, choice_id: str) -> Choice | None:
        """The choice with this id, or None."""
        return next((c for c in self.choices if c.id == choice_id), None)

    def scale_points(self) -> list[int]:
        """Every point a resident can tap on a scale question."""
        assert self.min is not None and self.max is not None
        return list(range(int(self.min), int(self.max) + 1))


@dataclass(frozen=True)
class Consultation:
    id: str
    default_language: str
    title: Texts
    summary: Texts
    organisation: Texts
    can_influence: Texts
    cannot_influence: Texts
    decision_by: Texts
    contact: Texts
    opens: datetime
    closes: datetime
    survey: tuple[Question, ...]
    areas: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    spec_version: int = 1
    about_you: bool = False  # ask the optional equality monitoring questions after the survey

    def question(self, question_id: str) -> Question | None:
        """The question with this id, or None."""
        return next((q for q in self.survey if q.id == question_id), None)

    def text(self, field_name: str, language: str) -> str:
        """A consultation-level text in `language`, falling back to the default language."""
        texts: Texts = getattr(self, field_name)
        return pick_text(texts, language, self.default_language)[0]

    def is_translated_into(self, language: str) -> bool:
        """True when every text a resident reads exists in `language`."""
        return all(language in texts for texts in self.all_texts())

    def all_texts(self) -> list[Texts]:
        """Every human-readable text map in this consultation."""
        found: list[Texts] = [
            self.title,
            self.summary,
            self.organisation,
            self.can_influence,
            self.cannot_influence,
            self.decision_by,
            self.contact,
        ]
        for q in self.survey:
            found.append(q.text)
            found.extend(c.text for c in q.choices)
            found.extend(q.labels.values())
        return found

    def structure(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """What answers mean: question ids, types and choice ids (texts may change freely)."""
        return [(q.id, q.type.value, tuple(c.id for c in q.choices)) for q in self.survey]

    def is_open_at(self, now: datetime) -> bool:
        return self.opens <= now < self.closes
