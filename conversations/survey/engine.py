"""The survey engine: walks any survey one question at a time. Plain values in and out.

The state is a small JSON-friendly value that storage keeps, so a resident can
leave and come back, even after a restart, to the same question.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal

from conversations.survey.areas import Area, find_area
from conversations.survey.model import (
    YES_NO_VALUES,
    Answer,
    Consultation,
    Question,
    QuestionType,
)
from conversations.typed_text import accepted_text


def new_token() -> str:
    """A short random token that marks which step a button belongs to."""
    return secrets.token_hex(3)


@dataclass(frozen=True)
class SurveyState:
    """Where a resident is in a survey, and what they have told us so far."""

    answers: dict[str, Answer] = field(default_factory=dict)
    path: tuple[str, ...] = ()
    draft: tuple[str, ...] = ()  # ticked choices of a multiple-choice question before Done
    reviewing: bool = False
    editing: bool = False  # changing one answer from the summary: return there when done
    token: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "path": list(self.path),
            "draft": list(self.draft),
            "reviewing": self.reviewing,
            "editing": self.editing,
            "token": self.token,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> SurveyState:
        return cls(
            answers=dict(data.get("answers", {})),
            path=tuple(data.get("path", ())),
            draft=tuple(data.get("draft", ())),
            reviewing=bool(data.get("reviewing")),
            editing=bool(data.get("editing")),
            token=str(data.get("token", "")),
        )


@dataclass(frozen=True)
class QuestionStep:
    """A question to show, with "Question 3 of 8" progress and the answer already given."""

    question: Question
    number: int
    total: int
    answer: Answer
    answered: bool
    draft: tuple[str, ...]
    can_go_back: bool


@dataclass(frozen=True)
class ReviewStep:
    """The summary before Submit: every question shown, with its answer (None when skipped)."""

    answers: tuple[tuple[Question, Answer], ...]


Step = QuestionStep | ReviewStep


@dataclass(frozen=True)
class Accepted:
    state: SurveyState


@dataclass(frozen=True)
class Rejected:
    """Input the engine did not take; `reason` names the message a resident should see."""

    reason: str
    params: dict[str, Any] = field(default_factory=dict)


Result = Accepted | Rejected


class SurveyEngine:
    """Runs one consultation's survey. Every method returns a new state or says why not."""

    def __init__(
        self,
        consultation: Consultation,
        areas: Sequence[Area] = (),
        make_token: Callable[[], str] = new_token,
    ) -> None:
        self.consultation = consultation
        self.questions = consultation.survey
        self.areas = tuple(areas)
        self._make_token = make_token
        self._index = {q.id: i for i, q in enumerate(self.questions)}

    # -- reading the state ----------------------------------------------------

    def start(self) -> SurveyState:
        """A fresh state at the first question."""
        first = self._next_visible(-1, {})
        assert first is not None, "a survey's first question has no show_if"
        return SurveyState(path=(first.id,), token=self._make_token())

    def step(self, state: SurveyState) -> Step:
        """What the resident should see now."""
        if state.reviewing:
            return ReviewStep(tuple((q, state.answers.get(q.id)) for q in self._visible_answered(state.answers)))
        question = self._current(state)
        visible = [q for q in self.questions if self._visible(q, state.answers, optimistic=True)]
        number = visible.index(question) + 1 if question in visible else len(visible)
        return QuestionStep(
            question=question,
            number=number,
            total=len(visible),
            answer=state.answers.get(question.id),
            answered=question.id in state.answers,
            draft=state.draft,
            can_go_back=state.editing or len(state.path) > 1,
        )

    def current_question(self, state: SurveyState) -> Question | None:
        return None if state.reviewing else self._current(state)

    def final_answers(self, state: SurveyState) -> dict[str, Answer]:
        """The answers to submit: only questions that are shown given the other answers."""
        return {q.id: state.answers[q.id] for q in self._visible_answered(state.answers)}

    def missing_required(self, state: SurveyState) -> Question | None:
        """The first shown, compulsory question still without an answer, if any."""
        for q in self.questions:
            if not q.optional and self._visible(q, state.answers, optimistic=False) and q.id not in state.answers:
                return q
        return None

    # -- acting on input ------------------------------------------------------

    def choose(self, state: SurveyState, value: str) -> Result:
        """One tap on a choice, a scale point, yes/no or an area button."""
        question = self.current_question(state)
        if question is None:
            return Rejected("not_now")
        answer = self._button_value(question, value)
        if answer is None:
            return Rejected("not_a_choice")
        return Accepted(self._advance(state, question, answer))

    def toggle(self, state: SurveyState, choice_id: str) -> Result:
        """Tick or untick one choice of a multiple-choice question."""
        question = self.current_question(state)
        if question is None or question.type is not QuestionType.MULTIPLE_CHOICE:
            return Rejected("not_now")
        if question.choice(choice_id) is None:
            return Rejected("not_a_choice")
        if choice_id in state.draft:
            draft = tuple(c for c in state.draft if c != choice_id)
        else:
            if question.max_choices is not None and len(state.draft) >= question.max_choices:
                return Rejected("too_many_choices", {"max": question.max_choices})
            # Keep the survey's order of choices, whatever the order of taps.
            chosen = {*state.draft, choice_id}
            draft = tuple(c.id for c in question.choices if c.id in chosen)
        return Accepted(replace(state, draft=draft, token=self._make_token()))

    def done(self, state: SurveyState) -> Result:
        """Finish a multiple-choice question with the ticked choices."""
        question = self.current_question(state)
        if question is None or question.type is not QuestionType.MULTIPLE_CHOICE:
            return Rejected("not_now")
        if not state.draft:
            if question.optional:
                return Accepted(self._advance(state, question, None))
            return Rejected("choose_at_least_one")
        return Accepted(self._advance(state, question, list(state.draft)))

    def type_answer(self, state: SurveyState, text: str, language: str = "en") -> Result:
        """A typed answer to a number, text or area question."""
        question = self.current_question(state)
        if question is None:
            return Rejected("not_now")
        if question.type not in (QuestionType.NUMBER, QuestionType.TEXT, QuestionType.AREA):
            return Rejected("use_buttons")
        text = accepted_text(text).strip()
        if not text:
            return Rejected("empty")
        if question.type is QuestionType.TEXT:
            if len(text) > question.max_length:
                return Rejected("too_long", {"max": question.max_length, "length": len(text)})
            return Accepted(self._advance(state, question, text))
        if question.type is QuestionType.NUMBER:
            return self._number_answer(state, question, text, language)
        return self._area_answer(state, question, text, language)

    def keep(self, state: SurveyState) -> Result:
        """Keep the answer already given to this question and move on."""
        question = self.current_question(state)
        if question is None or question.id not in state.answers:
            return Rejected("not_now")
        return Accepted(self._advance(state, question, state.answers[question.id]))

    def skip(self, state: SurveyState) -> Result:
        """Skip an optional question."""
        question = self.current_question(state)
        if question is None:
            return Rejected("not_now")
        if not question.optional:
            return Rejected("not_optional")
        return Accepted(self._advance(state, question, None))

    def back(self, state: SurveyState) -> Result:
        """Return to the previous question shown, keeping every answer."""
        if state.reviewing:
            return Accepted(self._show(replace(state, reviewing=False), state.path[-1]))
        if state.editing:
            return Accepted(self._review(state, state.answers))
        path = state.path[:-1]
        # A question hidden by a later change of answer is passed over.
        while path and not self._is_shown(path[-1], state.answers):
            path = path[:-1]
        if not path:
            return Rejected("at_first_question")
        return Accepted(self._show(replace(state, path=path), path[-1]))

    def change(self, state: SurveyState, question_id: str) -> Result:
        """From the summary, go to one question to change its answer."""
        if not state.reviewing:
            return Rejected("not_now")
        question = self._by_id(question_id)
        if question is None or not self._visible(question, state.answers, optimistic=False):
            return Rejected("not_a_choice")
        moved = replace(state, reviewing=False, editing=True, path=(*state.path, question.id))
        return Accepted(self._show(moved, question.id))

    # -- internals ------------------------------------------------------------

    def _number_answer(self, state: SurveyState, question: Question, text: str, language: str) -> Result:
        number = _parse_number(text, language)
        if number is None:
            return Rejected("not_a_number", {"min": question.min, "max": question.max})
        if question.min is not None and number < question.min:
            return Rejected("too_small", {"min": question.min, "max": question.max})
        if question.max is not None and number > question.max:
            return Rejected("too_large", {"min": question.min, "max": question.max})
        return Accepted(self._advance(state, question, number))

    def _area_answer(self, state: SurveyState, question: Question, text: str, language: str) -> Result:
        match = find_area(text, self.areas, language, self.consultation.default_language)
        if match.area is None:
            return Rejected("unknown_area", {"suggestions": [a.id for a in match.suggestions]})
        return Accepted(self._advance(state, question, match.area.id))

    def _button_value(self, question: Question, value: str) -> Answer | None:
        kind = question.type
        if kind is QuestionType.SINGLE_CHOICE:
            return value if question.choice(value) is not None else None
        if kind is QuestionType.YES_NO:
            return value if value in YES_NO_VALUES else None
        if kind is QuestionType.SCALE:
            try:
                point = int(value)
            except ValueError:
                return None
            return point if point in question.scale_points() else None
        if kind is QuestionType.AREA:
            return value if any(a.id == value for a in self.areas) else None
        return None

    def _advance(self, state: SurveyState, question: Question, answer: Answer) -> SurveyState:
        answers = {**state.answers, question.id: answer}
        if state.editing:
            pending = self._first_unanswered_after(question, answers)
            if pending is None:
                return self._review(state, answers)
            return self._show(replace(state, answers=answers, path=(*state.path, pending.id)), pending.id)
        following = self._next_visible(self._index[question.id], answers)
        if following is None:
            return self._review(state, answers)
        return self._show(replace(state, answers=answers, path=(*state.path, following.id)), following.id)

    def _review(self, state: SurveyState, answers: dict[str, Answer]) -> SurveyState:
        """To the summary. The path becomes the questions now shown, so Back walks them in order."""
        path = tuple(q.id for q in self._visible_answered(answers))
        return replace(
            state,
            answers=answers,
            path=path or state.path,
            reviewing=True,
            editing=False,
            draft=(),
            token=self._make_token(),
        )

    def _is_shown(self, question_id: str, answers: dict[str, Answer]) -> bool:
        question = self._by_id(question_id)
        return question is not None and self._visible(question, answers, optimistic=False)

    def _show(self, state: SurveyState, question_id: str) -> SurveyState:
        """Move to a question, with its earlier multiple-choice answer ticked again."""
        previous = state.answers.get(question_id)
        draft = tuple(previous) if isinstance(previous, list) else ()
        return replace(state, draft=draft, token=self._make_token())

    def _current(self, state: SurveyState) -> Question:
        question = self._by_id(state.path[-1]) if state.path else None
        return question if question is not None else self.questions[0]

    def _by_id(self, question_id: str) -> Question | None:
        index = self._index.get(question_id)
        return self.questions[index] if index is not None else None

    def _next_visible(self, after_index: int, answers: dict[str, Answer]) -> Question | None:
        for q in self.questions[after_index + 1 :]:
            if self._visible(q, answers, optimistic=False):
                return q
        return None

    def _first_unanswered_after(self, question: Question, answers: dict[str, Answer]) -> Question | None:
        for q in self.questions[self._index[question.id] + 1 :]:
            if q.id not in answers and self._visible(q, answers, optimistic=False):
                return q
        return None

    def _visible_answered(self, answers: dict[str, Answer]) -> list[Question]:
        return [q for q in self.questions if q.id in answers and self._visible(q, answers, optimistic=False)]

    def _visible(self, question: Question, answers: dict[str, Answer], *, optimistic: bool) -> bool:
        """Whether a question is shown; `optimistic` counts one whose condition is not yet known."""
        condition = question.show_if
        if condition is None:
            return True
        source = self._by_id(condition.question)
        if source is None:
            return False
        if condition.question not in answers:
            return optimistic and self._visible(source, answers, optimistic=True)
        if not self._visible(source, answers, optimistic=optimistic):
            return False
        given = answers[condition.question]
        if isinstance(given, list):
            return any(value in condition.values for value in given)
        return given is not None and given in condition.values


MAX_NUMBER_TEXT = 24
NUMBER_TEXT = re.compile(r"^[+-]?[0-9][0-9 .,'\u00a0\u202f]*$")


def _parse_number(text: str, language: str) -> int | float | None:
    """A number as the resident writes it in their language ("1,5" in Polish, "1.500" in German).

    Only digits, separators and a sign are read, and only a short text: exponents such
    as "1e999999" would take the bot minutes to expand.
    """
    if len(text) > MAX_NUMBER_TEXT or not NUMBER_TEXT.match(text):
        return None
    value: Decimal | None
    try:
        value = parse_decimal(text, locale=language, strict=True)
    except (NumberFormatError, ValueError, LookupError):
        value = _plain_number(text)
    if value is None or not value.is_finite():
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _plain_number(text: str) -> Decimal | None:
    """Digits with at most a decimal point, when the resident's own convention did not fit."""
    cleaned = re.sub(r"[ \u00a0\u202f]", "", text)
    if "," in cleaned:
        return None  # ambiguous: a decimal comma or a thousands separator
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None
