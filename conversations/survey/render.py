"""Survey screens: a question, the summary, the receipt. Same texts in Telegram and in preview."""

from __future__ import annotations

from collections.abc import Sequence

from conversations import callbacks
from conversations.i18n import Translator, escape
from conversations.screens import MAX_MESSAGE_LENGTH, Button, Rows, Screen, shorten
from conversations.survey.areas import Area
from conversations.survey.engine import QuestionStep, Rejected, ReviewStep, Step, SurveyState
from conversations.survey.model import TYPED_QUESTIONS, Answer, Consultation, Question, QuestionType, Texts, pick_text

SCALE_BUTTONS_PER_ROW = 6
CHANGE_LABEL_LENGTH = 40
# What a summary may fill of Telegram's 4,096 characters, with room to spare for its own counting.
SUMMARY_LIMIT = MAX_MESSAGE_LENGTH - 96


def fair_cap(lengths: Sequence[int], budget: int) -> int:
    """The largest length to cut texts to so that together they fit in `budget` (the longest are cut first)."""
    remaining = budget
    ordered = sorted(lengths)
    for index, length in enumerate(ordered):
        share = remaining // (len(ordered) - index)
        if length > share:
            return max(share, 2)
        remaining -= length
    return max(ordered, default=0)


class SurveyView:
    """Renders one consultation's survey for one resident's language."""

    def __init__(
        self, consultation: Consultation, t: Translator, areas: Sequence[Area] = (), home_area: str | None = None
    ) -> None:
        self.c = consultation
        self.t = t
        self.areas = tuple(areas)
        # The area the resident gave when they started (or in /settings): offered first at an area question.
        self.home_area = next((a for a in self.areas if a.id == home_area), None)

    def text(self, texts: Texts) -> str:
        """Consultation content in the resident's language (default language if missing, isolated in RTL)."""
        text, fallback = pick_text(texts, self.t.language, self.c.default_language)
        return self.t.isolate(text) if fallback else text

    # -- screens ---------------------------------------------------------------

    def step(self, step: Step, state: SurveyState, lead: str = "") -> Screen:
        """The screen for where the resident is now, with an optional line before it."""
        screen = self.review(step, state) if isinstance(step, ReviewStep) else self.question(step, state)
        if lead:
            return Screen(f"{lead}\n\n{screen.text}", screen.buttons)
        return screen

    def question(self, step: QuestionStep, state: SurveyState) -> Screen:
        t, q = self.t, step.question
        progress = "<b>" + t._("Question %(number)d of %(total)d", number=step.number, total=step.total) + "</b>"
        if not step.total_is_final:
            # Said so that "Question 4 of 6" after "Question 3 of 7" is no surprise.
            progress += " <i>" + t._("(or fewer, if some do not apply to you)") + "</i>"
        parts = [
            self._title() + "\n" + progress,
            self._escaped(self.text(q.text)),
            "<i>" + self._hint(q) + "</i>",
        ]
        if q.optional:
            parts.append("<i>" + t._("You can skip this question.") + "</i>")
        if step.answered and q.type in TYPED_QUESTIONS:
            # A long text answer and a long question must still fit in one message.
            room = SUMMARY_LIMIT - sum(len(part) + 2 for part in parts) - 40
            answer = shorten(self.answer_text(q, step.answer), max(room, 40))
            parts.append(t._("Your answer so far: %(answer)s", answer=answer))
        elif q.type is QuestionType.AREA and self.home_area is not None:
            parts.append(t._("You told us you live in %(area)s.", area=self._escaped(self._area_name(self.home_area))))
        return Screen("\n\n".join(parts), self._question_buttons(step, state.token))

    def review(self, step: ReviewStep, state: SurveyState) -> Screen:
        t = self.t
        footer = t._("Tap Submit to send your answers, or “Change an answer” to correct one.")
        lines = self._answer_list(step, t._("Please check your answers"), footer)
        lines[0] = self._title() + "\n" + lines[0]
        buttons = (
            (Button(t._("Submit"), self._data(state.token, "submit")),),
            (Button(t._("Change an answer"), self._data(state.token, "changes")),),
        )
        return Screen("\n\n".join(lines), buttons)

    def sent_answers(self, step: ReviewStep) -> Screen:
        """After Submit the summary stays in the chat, without its buttons: the resident's copy of what they said."""
        heading = self.t._("Your answers to “%(title)s”, as you sent them", title=self.text(self.c.title))
        return Screen("\n\n".join(self._answer_list(step, heading, "")))

    def _answer_list(self, step: ReviewStep, heading: str, footer: str) -> list[str]:
        """Each question with its answer, under `heading`, in one message.

        Telegram takes at most 4,096 characters in a message, and five long text answers are
        more than that: then the longest texts are shortened here (the answers are kept whole).
        """
        pairs = [(self.text(q.text), self.answer_text(q, a)) for q, a in step.answers]
        ends = [heading, footer]
        size = sum(len(part) + 9 for part in ends) + sum(len(q) + len(a) + 10 for q, a in pairs)
        note = ""
        if size > SUMMARY_LIMIT:
            note = "<i>" + self.t._("Long answers are shortened here. We keep them in full.") + "</i>"
            overhead = sum(len(part) + 9 for part in (*ends, note)) + 10 * len(pairs)
            cap = fair_cap([len(text) for pair in pairs for text in pair], SUMMARY_LIMIT - overhead)
            pairs = [(shorten(q, cap), shorten(a, cap)) for q, a in pairs]
        lines = ["<b>" + heading + "</b>", *([note] if note else [])]
        lines += [f"<b>{self._escaped(q)}</b>\n{self._escaped(a)}" for q, a in pairs]
        return lines + ([footer] if footer else [])

    def change_menu(self, step: ReviewStep, state: SurveyState) -> Screen:
        t = self.t
        buttons: list[tuple[Button, ...]] = []
        for number, (question, _answer) in enumerate(step.answers, start=1):
            label = f"{number}. {shorten(self.text(question.text), CHANGE_LABEL_LENGTH)}"
            buttons.append((Button(label, self._data(state.token, "edit", question.id)),))
        buttons.append((Button(t._("« Back to summary"), self._data(state.token, "summary")),))
        return Screen(t._("Which answer do you want to change?"), tuple(buttons))

    def receipt(self) -> Screen:
        """After Submit: received, who decides and when, and that the outcome will come in this chat."""
        t = self.t
        parts = [
            "<b>" + t._("Thank you. We have received your answers.") + "</b>",
            "<b>" + t._("Who decides, and when") + "</b>\n" + self._escaped(self.text(self.c.decision_by)),
            t._(
                "When it has been decided, we will send you here, in this chat, what was decided and what changed "
                "because of what people said. You can also find it at any time with /outcomes."
            ),
        ]
        return Screen("\n\n".join(parts))

    def problem(self, rejected: Rejected, question: Question | None) -> str:
        """A kind, clear line about input the survey could not take."""
        t, params = self.t, rejected.params
        reason = rejected.reason
        if reason == "too_many_choices":
            return t.n_(
                "You can choose up to %(n)d answer. Untick one to choose another.",
                "You can choose up to %(n)d answers. Untick one to choose another.",
                int(params["max"]),
            )
        if reason == "choose_at_least_one":
            return t._("Please tick at least one answer, then tap Done.")
        if reason == "not_a_number":
            return t._("Please type a number.") + " " + self._number_range(question)
        if reason == "too_small":
            return t._("That number is too small.") + " " + self._number_range(question)
        if reason == "too_large":
            return t._("That number is too large.") + " " + self._number_range(question)
        if reason == "too_long":
            return (
                t.n_(
                    "Your answer is too long: please keep it to %(n)d character.",
                    "Your answer is too long: please keep it to %(n)d characters.",
                    int(params["max"]),
                )
                + " "
                + t._("It has %(length)s now.", length=t.number(int(params["length"])))
            )
        if reason == "empty":
            return t._("Please type your answer.")
        if reason == "unknown_area":
            if params.get("suggestions"):
                return t._("Sorry, I don't know that area. Did you mean one of these? You can also type your postcode.")
            return t._("Sorry, I don't know that area. Please tap your area below, or type your postcode.")
        if reason == "not_optional":
            return t._("This question needs an answer.")
        return t._("Please answer by tapping one of the buttons.")

    def suggestion_buttons(self, rejected: Rejected, state: SurveyState) -> Rows:
        """Buttons for the areas a resident may have meant."""
        found = [a for a in self.areas if a.id in rejected.params.get("suggestions", [])]
        return tuple((Button(self._area_name(a), self._data(state.token, "pick", a.id)),) for a in found)

    def with_suggestions(self, screen: Screen, rejected: Rejected, state: SurveyState) -> Screen:
        """The question again with the areas a resident may have meant first, each offered once."""
        suggestions = self.suggestion_buttons(rejected, state)
        if not suggestions:
            return screen
        offered = {button.data for row in suggestions for button in row}
        rest = (tuple(b for b in row if b.data not in offered) for row in screen.buttons)
        return Screen(screen.text, suggestions + tuple(row for row in rest if row), screen.menu)

    # -- parts -------------------------------------------------------------------

    def _title(self) -> str:
        """Which consultation a screen belongs to (a resident may take part in several)."""
        return "📋 <i>" + self._escaped(self.text(self.c.title)) + "</i>"

    def answer_text(self, question: Question, answer: Answer) -> str:
        """An answer as the resident would say it (plain text, not yet escaped)."""
        t = self.t
        if answer is None:
            return t._("Skipped")
        kind = question.type
        if kind is QuestionType.SINGLE_CHOICE:
            choice = question.choice(str(answer))
            return self.text(choice.text) if choice else str(answer)
        if kind is QuestionType.MULTIPLE_CHOICE:
            chosen = [c for c in question.choices if c.id in answer]
            return ", ".join(self.text(c.text) for c in chosen)
        if kind is QuestionType.YES_NO:
            return t._("Yes") if answer == "yes" else t._("No")
        if kind is QuestionType.SCALE:
            label = question.labels.get(int(answer))
            return f"{answer} ({self.text(label)})" if label else str(answer)
        if kind is QuestionType.NUMBER:
            return t.number(answer)
        if kind is QuestionType.AREA:
            area = next((a for a in self.areas if a.id == answer), None)
            return self._area_name(area) if area else str(answer)
        return str(answer)

    def yes_no_words(self) -> dict[str, tuple[str, ...]]:
        """What a resident may type for Yes and No: the labels of the buttons they see."""
        return {"yes": (self.t._("Yes"),), "no": (self.t._("No"),)}

    def _hint(self, q: Question) -> str:
        t = self.t
        if q.type is QuestionType.SINGLE_CHOICE:
            return t._("Tap one answer.")
        if q.type is QuestionType.YES_NO:
            return t._("Tap Yes or No.")
        if q.type is QuestionType.SCALE:
            return self._scale_hint(q)
        if q.type is QuestionType.MULTIPLE_CHOICE:
            if q.max_choices:
                return t.n_(
                    "Tap up to %(n)d answer, then tap Done.", "Tap up to %(n)d answers, then tap Done.", q.max_choices
                )
            return t._("Tap all the answers that apply, then tap Done.")
        if q.type is QuestionType.NUMBER:
            return self._number_range(q)
        if q.type is QuestionType.TEXT:
            return t.n_(
                "Type your answer and send it (up to %(n)d character).",
                "Type your answer and send it (up to %(n)d characters).",
                q.max_length,
            )
        return t._("Tap your area, or type its name or your postcode.")

    def _scale_hint(self, q: Question) -> str:
        t = self.t
        low, high = int(q.min or 0), int(q.max or 0)
        hint = t._("Tap a number from %(low)d to %(high)d.", low=low, high=high)
        ends = [f"{point} = {self._escaped(self.text(q.labels[point]))}" for point in (low, high) if point in q.labels]
        return hint + ("\n" + ", ".join(ends) if ends else "")

    def _number_range(self, q: Question | None) -> str:
        t = self.t
        low = q.min if q is not None else None
        high = q.max if q is not None else None
        if low is not None and high is not None:
            return t._("Type a number from %(low)s to %(high)s.", low=t.number(low), high=t.number(high))
        if low is not None:
            return t._("Type a number of %(low)s or more.", low=t.number(low))
        if high is not None:
            return t._("Type a number up to %(high)s.", high=t.number(high))
        return t._("Type a number.")

    def _question_buttons(self, step: QuestionStep, token: str) -> Rows:
        t, q = self.t, step.question
        rows: list[tuple[Button, ...]] = []
        if q.type is QuestionType.SINGLE_CHOICE:
            rows += [(self._choice(c.id, self.text(c.text), step.answer == c.id, token),) for c in q.choices]
        elif q.type is QuestionType.YES_NO:
            rows.append(
                (
                    self._choice("yes", t._("Yes"), step.answer == "yes", token),
                    self._choice("no", t._("No"), step.answer == "no", token),
                )
            )
        elif q.type is QuestionType.SCALE:
            points = [self._choice(str(p), str(p), step.answer == p, token) for p in q.scale_points()]
            rows += [tuple(points[i : i + SCALE_BUTTONS_PER_ROW]) for i in range(0, len(points), SCALE_BUTTONS_PER_ROW)]
        elif q.type is QuestionType.MULTIPLE_CHOICE:
            for c in q.choices:
                mark = "✅ " if c.id in step.draft else "⬜ "
                rows.append((Button(mark + self.text(c.text), self._data(token, "toggle", c.id)),))
            rows.append((Button(t._("Done"), self._data(token, "done")),))
        elif q.type is QuestionType.AREA:
            home = self.home_area if not step.answered else None
            if home is not None:
                yes = t._("Yes, %(area)s", area=self._area_name(home))
                rows.append((Button(yes, self._data(token, "pick", home.id)),))
            areas = [a for a in self.areas if a is not home]
            rows += [(self._choice(a.id, self._area_name(a), step.answer == a.id, token),) for a in areas]
        if step.answered and q.type in TYPED_QUESTIONS:
            rows.append((Button(t._("Keep this answer"), self._data(token, "keep")),))
        navigation = []
        if step.can_go_back:
            navigation.append(Button(t._("« Back"), self._data(token, "back")))
        if q.optional:
            navigation.append(Button(t._("Skip"), self._data(token, "skip")))
        if navigation:
            rows.append(tuple(navigation))
        return tuple(rows)

    def _choice(self, value: str, label: str, chosen: bool, token: str) -> Button:
        return Button(("✓ " if chosen else "") + label, self._data(token, "pick", value))

    def _area_name(self, area: Area | None) -> str:
        if area is None:
            return ""
        return area.display_name(self.t.language, self.c.default_language)

    def _data(self, token: str, verb: str, argument: str | None = None) -> str:
        if argument is None:
            return callbacks.encode(callbacks.SURVEY, token, verb)
        return callbacks.encode(callbacks.SURVEY, token, verb, argument)

    @staticmethod
    def _escaped(text: str) -> str:
        return escape(text)
