"""The survey engine: walks any survey one question at a time. Plain values in and out.

The state is a small JSON-friendly value that storage keeps, so a resident can
leave and come back, even after a restart, to the same question.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from conversations.survey.areas import Area, find_area
from conversations.survey.model import (
    BUTTON_QUESTIONS,
    YES_NO_VALUES,
    Answer,
    Consultation,
    Question,
    QuestionType,
    pick_text,
)
from conversations.typed_text import accepted_text

YES_NO_WORDS: Mapping[str, Sequence[str]] = {"yes": ("Yes",), "no": ("No",)}
"""What a resident may type for the Yes and No buttons; the bot passes its own labels, translated."""


_TOKEN_BYTES = 3
_random_bytes: list[bytes] = []  # drawn from the system's generator a batch at a time


def new_token() -> str:
    """A short random token that marks which step a button belongs to.

    The bytes come from `secrets` as before, 1,536 at once: a call to the system's generator is
    a system call, and tokens are drawn on nearly every tap.
    """
    if not _random_bytes:
        batch = secrets.token_bytes(_TOKEN_BYTES * 512)
        _random_bytes.extend(batch[i : i + _TOKEN_BYTES] for i in range(0, len(batch), _TOKEN_BYTES))
    return _random_bytes.pop().hex()


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
    # False while questions that depend on answers not yet given are counted in `total`:
    # it may still go down (never up, unless the resident changes an answer).
    total_is_final: bool = True


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
        certain = sum(1 for q in visible if self._visible(q, state.answers, optimistic=False))
        return QuestionStep(
            question=question,
            number=number,
            total=len(visible),
            answer=state.answers.get(question.id),
            answered=question.id in state.answers,
            draft=state.draft,
            can_go_back=state.editing or len(state.path) > 1,
            total_is_final=certain == len(visible),
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

    def type_answer(
        self,
        state: SurveyState,
        text: str,
        language: str = "en",
        yes_no: Mapping[str, Sequence[str]] = YES_NO_WORDS,
    ) -> Result:
        """A typed answer: to a number, text or area question, or a button's label typed out.

        At a button question, typing a choice's label (in the resident's language or the
        survey's default language, whatever the case and spacing), one of the `yes_no` words,
        or a scale point (in any script's digits) counts as a tap on that button.
        """
        question = self.current_question(state)
        if question is None:
            return Rejected("not_now")
        text = accepted_text(text).strip()
        if question.type in BUTTON_QUESTIONS:  # a button's label typed, or its number
            value = self._typed_button(question, text, language, yes_no)
            if value is None:
                return Rejected("use_buttons")
            if question.type is QuestionType.MULTIPLE_CHOICE:
                return self.toggle(state, value)
            return self.choose(state, value)
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
        readings = read_number(text)
        bounds = {"min": question.min, "max": question.max}
        if not readings:
            return Rejected("not_a_number", bounds)
        # "1,500" may be fifteen hundred or one and a half: the first reading the question takes.
        number = next((r for r in readings if _out_of_range(r, question) is None), readings[0])
        problem = _out_of_range(number, question)
        if problem is not None:
            return Rejected(problem, bounds)
        answer = int(number) if number == number.to_integral_value() else float(number)
        return Accepted(self._advance(state, question, answer))

    def _area_answer(self, state: SurveyState, question: Question, text: str, language: str) -> Result:
        match = find_area(text, self.areas, language, self.consultation.default_language)
        if match.area is None:
            return Rejected("unknown_area", {"suggestions": [a.id for a in match.suggestions]})
        return Accepted(self._advance(state, question, match.area.id))

    def _typed_button(
        self, question: Question, text: str, language: str, yes_no: Mapping[str, Sequence[str]]
    ) -> str | None:
        """The value of the one button whose label is `text`, or None (no button, or several)."""
        default = self.consultation.default_language
        labels: dict[str, list[str]] = {}
        if question.type is QuestionType.YES_NO:
            labels = {value: list(yes_no.get(value, ())) for value in YES_NO_VALUES}
        elif question.type is QuestionType.SCALE:
            point = _whole_number(text)
            if point is not None:
                return str(point) if point in question.scale_points() else None
            labels = {str(p): _labels(texts, language, default) for p, texts in question.labels.items()}
        else:
            labels = {c.id: _labels(c.text, language, default) for c in question.choices}
        wanted = fold_label(text)
        found = {value for value, words in labels.items() if wanted and wanted in {fold_label(w) for w in words}}
        return found.pop() if len(found) == 1 else None

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


def _labels(texts: Mapping[str, str], language: str, default_language: str) -> list[str]:
    """A label as the resident sees it, and in the survey's default language."""
    return [pick_text(texts, language, default_language)[0], texts.get(default_language, "")]


def fold_label(text: str) -> str:
    """A label or a typed text reduced to what matters: letters (with their marks) and digits.

    Case, spaces and punctuation are ignored, and digits of every script read as 0-9, so
    "in the LAST week." is "In the last week" and "٦:٣٠" is "6:30".
    """
    folded = []
    for char in unicodedata.normalize("NFKC", text).casefold():
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            folded.append(str(digit))
        elif unicodedata.category(char)[0] in "LMN":
            folded.append(char)
    return "".join(folded)


def _whole_number(text: str) -> int | None:
    """A whole number typed in any script's digits ("3", "٣", "৩"), or None."""
    readings = read_number(text)
    if len(readings) != 1 or readings[0] != readings[0].to_integral_value():
        return None
    return int(readings[0])


def _out_of_range(number: Decimal, question: Question) -> str | None:
    """The reason the question cannot take `number` ("too_small", "too_large"), or None."""
    if question.min is not None and number < Decimal(str(question.min)):
        return "too_small"
    if question.max is not None and number > Decimal(str(question.max)):
        return "too_large"
    if abs(number) >= LARGEST_NUMBER:  # no bounds given: still a number a person means
        return "too_small" if number < 0 else "too_large"
    return None


# Numbers are read the same way in every language (README, "Question types"):
# - digits of any script count (Arabic-Indic ١٥, Persian ۱۵, Bengali ১৫, Devanagari १५...),
#   as do the Arabic decimal and thousands separators (٫ ٬) and the minus sign (−);
# - spaces and apostrophes group digits ("1 500", "1'500");
# - a comma or a point is the decimal separator ("2,5" and "2.5" are both two and a half),
#   unless it groups thousands: when both appear the last one is the decimal separator
#   ("1.234,5" and "1,234.5"), and one that appears more than once groups ("1,000,000");
# - a single comma or point followed by exactly three digits ("1,500", "1.500") could be
#   either: it is read as thousands (1500), unless only the decimal reading (1.5) is within
#   the question's range.
# Exponents ("1e9") are not read: "1e999999" would take the bot minutes to expand.
LARGEST_NUMBER = Decimal(10) ** 15
NUMBER_SIGNS = {"-": "-", "\u2212": "-", "\u2013": "-", "\uff0d": "-", "+": "", "\uff0b": ""}
DECIMAL_MARKS = {".": ".", ",": ",", "\u066b": ".", "\u066c": ",", "\uff0e": ".", "\uff0c": ",", "\u060c": ","}
GROUPING_MARKS = frozenset(" \u00a0\u202f\u2009'\u2019")
NUMBER_BODY = re.compile(r"^[0-9][0-9., ]*$")


def read_number(text: str) -> tuple[Decimal, ...]:
    """The number(s) a typed text can mean: none, one, or two when a separator is ambiguous."""
    chars: list[str] = []
    for char in text.strip():
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            chars.append(str(digit))
        elif char in DECIMAL_MARKS:
            chars.append(DECIMAL_MARKS[char])
        elif char in GROUPING_MARKS:
            chars.append(" ")
        else:
            chars.append(char)
    body = "".join(chars)
    sign = ""
    if body[:1] in NUMBER_SIGNS:
        sign, body = NUMBER_SIGNS[body[0]], body[1:].lstrip()
    body = body.rstrip()
    if body[:1] in (",", "."):
        body = "0" + body  # ".5"
    if not NUMBER_BODY.match(body) or body.endswith((",", ".")):
        return ()
    marks = [c for c in body if c in ",."]
    readings: list[tuple[str, str]] = []  # (whole part with its grouping, fraction)
    if not marks:
        readings.append((body, ""))
    elif len(set(marks)) == 2:
        point = max(body.rfind(","), body.rfind("."))
        if body[point] in body[:point]:
            return ()
        readings.append((body[:point], body[point + 1 :]))
    elif len(marks) > 1:
        readings.append((body, ""))
    else:
        whole, fraction = body.split(marks[0])
        if len(fraction) == 3 and " " not in whole and whole != "0":
            readings.append((body, ""))
        readings.append((whole, fraction))
    numbers = []
    for whole, fraction in readings:
        digits = _ungrouped(whole)
        if digits is None or (fraction and not fraction.isdigit()):
            continue
        try:
            numbers.append(Decimal(sign + digits + ("." + fraction if fraction else "")))
        except InvalidOperation:
            continue
    return tuple(numbers)


def _ungrouped(whole: str) -> str | None:
    """The digits of a whole part, when its grouping is well formed ("1,234,567", "1 50 000")."""
    groups = re.split(r"[ ,.]", whole)
    if len(groups) == 1:
        return groups[0] if groups[0].isdigit() else None
    first, *middle, last = groups
    # Groups of three, or of two in the middle as Indian and Bangladeshi numbers are grouped.
    if not 1 <= len(first) <= 3 or len(last) != 3 or any(len(g) not in (2, 3) for g in middle):
        return None
    if len({mark for mark in whole if not mark.isdigit()}) != 1 or not "".join(groups).isdigit():
        return None
    return "".join(groups)
