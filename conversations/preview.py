"""A consultation as a resident will see it, in any language: its card, every question, the
summary before Submit (with sample answers) and the receipt.

Every screen comes from the bot's own code (`browsing.card_screen`, the survey engine and
`SurveyView`) with the catalogs' texts: the workspace only shows them. A draft with problems is
previewed as far as it can be: questions with problems are left out (and named), missing texts
and dates stand in as "…" and today, so the rest can still be seen.

"Send this to me" puts the same screens in the officer's own chat (through the delivery queue,
which paces them as Telegram asks): for a published consultation open now with no unpublished
changes, the real card, to tap through as any resident would; otherwise each screen marked
"Preview", its buttons drawn as residents will see them but doing nothing.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from conversations import about_you, browsing, callbacks
from conversations.authoring import State, check, consultation_detail, text_in
from conversations.i18n import Translator
from conversations.routes import ButtonRoute
from conversations.screens import MAX_MESSAGE_LENGTH, Button, Reply, Screen, buttons_to_data
from conversations.services import Services, Visit
from conversations.survey.areas import Area
from conversations.survey.engine import Accepted, Rejected, Result, ReviewStep, SurveyEngine, SurveyState
from conversations.survey.loader import CONSULTATION_TEXT_FIELDS, SPEC_VERSION, Problem
from conversations.survey.model import Answer, Consultation, Question, QuestionType, Texts, pick_text
from conversations.survey.render import SurveyView
from storage.deliveries import PRIORITY_REPLY, NewDelivery

# The prefix of a previewed screen's buttons in the chat: a tap only says it is a preview.
PREVIEW_BUTTON = "pv"
PLACEHOLDER = "…"  # a text the draft does not have yet
TOKEN = "preview"  # the step token of previewed screens (their buttons are never acted on)
PLACEHOLDER_DAYS = 28  # a draft without dates is previewed as if open from today for four weeks


@dataclass(frozen=True)
class Condition:
    """A question shown only to some: the earlier question (its number) and the answers that show it."""

    number: int
    answers: tuple[str, ...]  # plain text, in the preview's language


@dataclass(frozen=True)
class PreviewScreen:
    """One message of the chat, with what the officer should know about it."""

    kind: str  # "card", "question", "summary", "receipt" or "about_you" (the invitation after the receipt)
    screen: Screen  # Telegram HTML, exactly as the bot would send it
    number: int = 0  # a question's number in the consultation (the draft's own numbering)
    question_type: str = ""
    shown_if: Condition | None = None
    untranslated: bool = False  # some consultation text is not in this language: the bot shows the default


@dataclass(frozen=True)
class Preview:
    id: str
    definition: dict[str, Any]  # the working copy's data, as the officer wrote it
    language: str
    default_language: str
    rtl: bool
    state: State
    screens: tuple[PreviewScreen, ...]
    errors: tuple[Problem, ...]  # the checks' errors: the consultation cannot be published as it is
    left_out: tuple[int, ...]  # numbers of questions not previewed because they have problems
    placeholders: bool  # some texts or dates are missing and stand in as "…" or today
    real_card: bool  # "Send this to me" sends the card residents get now (open, no unpublished changes)

    def title(self, language: str) -> str:
        """The consultation's title for the officer (in their language when it has one)."""
        return text_in(self.definition, "title", language) or self.id

    @property
    def questions(self) -> tuple[PreviewScreen, ...]:
        return tuple(s for s in self.screens if s.kind == "question")


@dataclass(frozen=True)
class _Previewable:
    consultation: Consultation | None
    numbers: tuple[int, ...]  # each previewed question's number in the draft
    errors: tuple[Problem, ...]
    left_out: tuple[int, ...]
    placeholders: bool


def preview_languages(services: Services, default_language: str) -> list[str]:
    """The languages to preview in: the consultation's own first, then every catalog's."""
    languages = services.catalogs.languages
    first = [default_language] if default_language in languages else []
    return first + [code for code in languages if code not in first]


async def preview(services: Services, consultation_id: str, language: str | None, now: datetime) -> Preview | None:
    """The working copy (the draft if any, else what residents see) in `language`; None if there is none."""
    detail = await consultation_detail(services, consultation_id, now)
    if detail is None:
        return None
    found = previewable(services, detail.definition, consultation_id, now)
    c = found.consultation
    default = c.default_language if c is not None else str(detail.definition.get("default_language") or "")
    languages = preview_languages(services, default)
    chosen = language if language in languages else languages[0]
    t = services.catalogs.translator(chosen)
    screens = await preview_screens(services, c, t, found.numbers, now) if c is not None else ()
    return Preview(
        id=consultation_id,
        definition=detail.definition,
        language=chosen,
        default_language=default,
        rtl=t.is_rtl,
        state=detail.state,
        screens=tuple(screens),
        errors=found.errors,
        left_out=found.left_out,
        placeholders=found.placeholders,
        real_card=detail.state is State.OPEN and not detail.has_draft,
    )


# -- a draft with problems ------------------------------------------------------------


def previewable(services: Services, definition: Mapping[str, Any], consultation_id: str, now: datetime) -> _Previewable:
    """The consultation to preview: as it is when it passes the checks, else mended as far as it can be.

    Mending never changes what the officer wrote: a question with a problem is left out, a missing
    text is "…", missing dates are today and four weeks on, an unknown field is ignored.
    """
    result = check(services, dict(definition))
    survey = definition.get("survey")
    count = len(survey) if isinstance(survey, list) else 0
    if result.consultation is not None:
        return _Previewable(result.consultation, tuple(range(1, count + 1)), (), (), False)
    errors = tuple(result.errors)
    work = copy.deepcopy(dict(definition))
    numbers = list(range(1, count + 1)) if isinstance(survey, list) else []
    left_out: list[int] = []
    placeholders = False
    no_questions = False
    for _round in range(count + 20):
        found = check(services, work)
        if found.consultation is not None:
            c = found.consultation
            if no_questions:
                c = replace(c, survey=())
            return _Previewable(c, tuple(numbers), errors, tuple(sorted(left_out)), placeholders)
        dropped: set[int] = set()
        for problem in found.errors:
            placeholders |= _mend(work, problem.path, consultation_id, services, now, dropped)
        if dropped and isinstance(work.get("survey"), list):
            for index in sorted(dropped, reverse=True):
                if index < len(numbers):
                    left_out.append(numbers.pop(index))
                del work["survey"][index]
        survey_now = work.get("survey")
        if any(p.path == ("survey",) for p in found.errors) or (isinstance(survey_now, list) and not survey_now):
            # Nothing left to ask: the card can still be seen; a stand-in question keeps the checks quiet.
            no_questions = True
            language = work.get("default_language") or services.catalogs.default_language
            work["survey"] = [{"id": "preview", "type": "yes_no", "text": {str(language): PLACEHOLDER}}]
            left_out.extend(numbers)
            numbers = []
    return _Previewable(None, (), errors, tuple(sorted(left_out)), placeholders)


def _mend(
    work: dict[str, Any],
    path: tuple[str | int, ...],
    consultation_id: str,
    services: Services,
    now: datetime,
    dropped: set[int],
) -> bool:
    """Mend the data at one error's place; True when a stand-in ("…" or a date) was put in."""
    if not path:
        return False
    head = path[0]
    if head == "survey":
        if len(path) >= 2 and isinstance(path[1], int):
            dropped.add(path[1])
        return False
    if head == "spec_version":
        work["spec_version"] = SPEC_VERSION
    elif head == "id":
        work["id"] = consultation_id
    elif head == "default_language":
        work["default_language"] = services.catalogs.default_language
    elif head in CONSULTATION_TEXT_FIELDS:
        value = work.get(head)
        if len(path) >= 2 and isinstance(value, dict):
            value.pop(str(path[1]), None)
            return False
        language = str(work.get("default_language") or services.catalogs.default_language)
        texts = {k: v for k, v in value.items() if isinstance(v, str) and v.strip()} if isinstance(value, dict) else {}
        texts[language] = PLACEHOLDER
        work[head] = texts
        return True
    elif head in ("opens", "closes"):
        work["opens"] = now.isoformat()
        work["closes"] = (now + timedelta(days=PLACEHOLDER_DAYS)).isoformat()
        return True
    elif head in ("areas", "topics"):
        work[head] = []
    elif head == "about_you":
        work["about_you"] = False
    else:
        work.pop(str(head), None)  # a field the format does not have
    return False


# -- the screens ----------------------------------------------------------------------------


async def preview_screens(
    services: Services, c: Consultation, t: Translator, numbers: tuple[int, ...], now: datetime
) -> list[PreviewScreen]:
    """The card, every question, the summary with sample answers, and the receipt, in `t`'s language."""
    language, areas = t.language, services.deployment.areas
    visit = Visit(services, 0, None, t, None)
    # The card as residents see it while the consultation is open, whenever the preview is made.
    card = await browsing.card_screen(visit, c, now if c.is_open_at(now) else c.opens)
    fields = (getattr(c, name) for name in CONSULTATION_TEXT_FIELDS)
    screens = [PreviewScreen("card", card, untranslated=any(_fallback(texts, c, language) for texts in fields))]
    if not c.survey:
        return screens
    engine = SurveyEngine(c, areas, make_token=lambda: TOKEN)
    view = SurveyView(c, t, areas)
    samples = {q.id: sample_answer(q, t, areas) for q in c.survey}
    number_of = {q.id: numbers[i] if i < len(numbers) else i + 1 for i, q in enumerate(c.survey)}
    for index, question in enumerate(c.survey):
        answers = _answers_before(c, index, samples)
        state = SurveyState(answers=answers, token=TOKEN)
        state = replace(state, path=(*engine.final_answers(state), question.id))
        step = engine.step(state)
        assert not isinstance(step, ReviewStep)
        screens.append(
            PreviewScreen(
                "question",
                view.question(step, state),
                number=number_of[question.id],
                question_type=question.type.value,
                shown_if=_condition(c, question, view, number_of),
                untranslated=_question_untranslated(question, c, language),
            )
        )
    summary = _summary(engine, view, samples, t)
    if summary is not None:
        screen, shown = summary
        untranslated = _fallback(c.title, c, language) or any(_question_untranslated(q, c, language) for q in shown)
        screens.append(PreviewScreen("summary", screen, untranslated=untranslated))
    screens.append(PreviewScreen("receipt", view.receipt(), untranslated=_fallback(c.decision_by, c, language)))
    if c.about_you:
        screens.append(PreviewScreen("about_you", about_you.invitation(t, c.id)))
    return screens


def sample_answer(q: Question, t: Translator, areas: Sequence[Area] = ()) -> Answer:
    """An answer a resident might give, for the summary: the first choice, a number in range, a sentence."""
    kind = q.type
    if kind is QuestionType.SINGLE_CHOICE:
        return q.choices[0].id
    if kind is QuestionType.MULTIPLE_CHOICE:
        return [q.choices[0].id]
    if kind is QuestionType.YES_NO:
        return "yes"
    if kind is QuestionType.SCALE:
        points = q.scale_points()
        return points[len(points) // 2]
    if kind is QuestionType.NUMBER:
        value: float = 1
        if q.min is not None and value < q.min:
            value = q.min
        if q.max is not None and value > q.max:
            value = q.max
        return value
    if kind is QuestionType.TEXT:
        return html.unescape(t._("This is an example answer."))[: q.max_length]
    return areas[0].id if areas else None


def _answers_before(c: Consultation, index: int, samples: dict[str, Answer]) -> dict[str, Answer]:
    """Sample answers to the questions before this one, chosen so that this one is shown."""
    answers = {q.id: samples[q.id] for q in c.survey[:index] if samples[q.id] is not None}
    question: Question | None = c.survey[index]
    while question is not None and question.show_if is not None:
        source = c.question(question.show_if.question)
        if source is None:
            break
        wanted = question.show_if.values[0]
        answers[source.id] = [wanted] if source.type is QuestionType.MULTIPLE_CHOICE else wanted
        question = source
    return answers


def _summary(
    engine: SurveyEngine, view: SurveyView, samples: dict[str, Answer], t: Translator
) -> tuple[Screen, list[Question]] | None:
    """The summary before Submit, reached as a resident would: answering each question shown with its sample."""
    state = engine.start()
    for _turn in range(len(engine.questions) + 1):
        step = engine.step(state)
        if isinstance(step, ReviewStep):
            return view.review(step, state), [q for q, _answer in step.answers]
        result = _give(engine, state, step.question, samples[step.question.id], t)
        if isinstance(result, Rejected):
            result = engine.skip(state)
        if isinstance(result, Rejected):
            return None
        state = result.state
    return None


def _give(engine: SurveyEngine, state: SurveyState, q: Question, answer: Answer, t: Translator) -> Result:
    if answer is None:
        return Rejected("no_sample")
    if q.type is QuestionType.MULTIPLE_CHOICE:
        ticked: Result = Accepted(state)
        for choice in answer:
            assert isinstance(ticked, Accepted)
            ticked = engine.toggle(ticked.state, choice)
            if isinstance(ticked, Rejected):
                return ticked
        assert isinstance(ticked, Accepted)
        return engine.done(ticked.state)
    if q.type in (QuestionType.TEXT, QuestionType.NUMBER):
        return engine.type_answer(state, str(answer), t.language)
    return engine.choose(state, str(answer))


def _condition(c: Consultation, q: Question, view: SurveyView, number_of: dict[str, int]) -> Condition | None:
    if q.show_if is None:
        return None
    source = c.question(q.show_if.question)
    if source is None:
        return None
    labels = []
    for value in q.show_if.values:
        given = [value] if source.type is QuestionType.MULTIPLE_CHOICE else value
        label = view.answer_text(source, given)
        # Yes and No are the catalogs' words, which come escaped for Telegram.
        labels.append(html.unescape(label) if source.type is QuestionType.YES_NO else label)
    return Condition(number_of[source.id], tuple(labels))


def _fallback(texts: Texts, c: Consultation, language: str) -> bool:
    return pick_text(texts, language, c.default_language)[1]


def _question_untranslated(q: Question, c: Consultation, language: str) -> bool:
    texts = [q.text, *(choice.text for choice in q.choices), *q.labels.values()]
    return any(_fallback(text, c, language) for text in texts)


# -- "Send this to me" ------------------------------------------------------------------------


async def send_to_officer(
    services: Services, officer_id: int, officer_t: Translator, consultation_id: str, language: str | None
) -> int | None:
    """Queue the preview for the officer's own chat; how many messages, or None if there is no such consultation.

    Audited as "preview sent".
    """
    now = services.clock()
    found = await preview(services, consultation_id, language, now)
    if found is None:
        return None
    if found.real_card:
        resident = await services.db.residents.get(officer_id)
        visit = Visit(services, officer_id, resident, services.catalogs.translator(found.language), None)
        screens = list((await browsing.card(visit, consultation_id)).screens)
    else:
        screens = marked([s.screen for s in found.screens], officer_t)
    deliveries = [
        NewDelivery(officer_id, "preview", PRIORITY_REPLY, s.text, buttons=buttons_to_data(s.buttons)) for s in screens
    ]
    what = "the card" if found.real_card else f"{len(deliveries)} preview messages"
    async with services.db.transaction():
        await services.db.deliveries.enqueue(deliveries, now)
        await services.db.officers.audit(
            officer_id, "preview sent", f"{consultation_id} in {found.language}: {what}", now
        )
    services.wake_delivery()
    return len(deliveries)


def marked(screens: list[Screen], t: Translator) -> list[Screen]:
    """Each screen marked as a preview, its buttons as residents will see them but doing nothing."""
    out = []
    for number, screen in enumerate(screens, start=1):
        mark = "🔍 <b>" + t._("Preview %(number)d of %(total)d", number=number, total=len(screens)) + "</b>"
        text = mark + "\n\n" + screen.text
        if len(text) > MAX_MESSAGE_LENGTH:
            text = screen.text  # a summary at the very limit goes as residents get it
        buttons = tuple(tuple(Button(b.label, PREVIEW_BUTTON) for b in row) for row in screen.buttons)
        out.append(Screen(text, buttons))
    return out


async def _preview_button(visit: Visit, tapped: callbacks.Callback) -> Reply:
    return Reply(notice=visit.t._("This is only a preview: its buttons do nothing."))


BUTTONS = (ButtonRoute(PREVIEW_BUTTON, _preview_button, needs_resident=False),)
