"""Answering a survey: one question at a time, every step committed before the bot replies."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from conversations import about_you, browsing, callbacks, deep_links, taps
from conversations.routes import ButtonRoute, TextRoute, Typed, out_of_date
from conversations.screens import Button, Reply, Screen
from conversations.services import LoadedConsultation, Visit
from conversations.survey.areas import Area
from conversations.survey.engine import Accepted, Rejected, ReviewStep, SurveyEngine, SurveyState
from conversations.survey.model import QuestionType
from conversations.survey.render import SurveyView
from storage.responses import StoredResponse

# The onboarding step of someone who came by a link or QR code: their area and interests are
# asked after they have taken part, not before they see what they came for.
DEFERRED_STEP = "later"


@dataclass
class SurveySession:
    """A resident's response to one consultation, with the engine and view for its survey version."""

    visit: Visit
    response_id: str
    loaded: LoadedConsultation
    engine: SurveyEngine
    view: SurveyView
    state: SurveyState
    submitted: bool
    # The last typed message applied as an answer (its Telegram message id), stored with the state
    # in the same write: the same message handled again after a crash is recognised, not applied
    # to the next question.
    typed: int = 0

    @property
    def consultation_id(self) -> str:
        return self.loaded.model.id

    def screen(self, lead: str = "") -> Screen:
        return self.view.step(self.engine.step(self.state), self.state, lead)

    async def save_and_show(self, state: SurveyState, lead: str = "") -> Screen:
        """Commit `state`, then the screen for it (or a thank-you if it was submitted meanwhile).

        The screen is built, and a tapped button answered, while SQLite writes the answer on
        aiosqlite's thread rather than after: the write is on its way first, and no screen is
        shown until it is committed (bench/README.md).
        """
        saving = asyncio.ensure_future(self._save(state))
        await asyncio.sleep(0)  # the write starts: the task runs until it waits for SQLite
        screen = self.view.step(self.engine.step(state), state, lead)
        await self.visit.acknowledge_tap()  # what follows is a screen, never a notice
        if not await saving:
            return await taken_part_meanwhile(self.visit)
        self.state = state
        return screen

    def is_closed(self) -> bool:
        return self.visit.now() >= self.loaded.model.closes

    async def save(self, state: SurveyState) -> None:
        """Commit the new state before anything is shown to the resident."""
        await self._save(state)
        self.state = state

    async def _save(self, state: SurveyState) -> bool:
        services = self.visit.services
        return await services.db.responses.save_progress(
            self.response_id,
            self.consultation_id,
            self.loaded.version,
            self.visit.language,
            state.to_data() | {"typed": self.typed},
            self.visit.now(),
        )


async def _session(visit: Visit, consultation_id: str, stored: StoredResponse | None) -> SurveySession | None:
    services = visit.services
    response_id = visit.pseudonyms.response(consultation_id)
    if stored is None:
        stored = await services.db.responses.get(response_id)
    if stored is not None:
        loaded = await services.consultations.at_version(consultation_id, stored.version)
    else:
        loaded = await services.consultations.current(consultation_id)
    if loaded is None:
        return None
    engine = SurveyEngine(loaded.model, services.deployment.areas)
    home_area = visit.resident.area_id if visit.resident is not None else None
    view = SurveyView(loaded.model, visit.t, services.deployment.areas, home_area)
    state = SurveyState.from_data(stored.state) if stored is not None else engine.start()
    submitted = stored is not None and stored.submitted
    typed = int(stored.state.get("typed") or 0) if stored is not None else 0
    return SurveySession(visit, response_id, loaded, engine, view, state, submitted, typed)


async def active_session(visit: Visit) -> SurveySession | None:
    """The survey the resident is answering now, if any (not yet submitted)."""
    if visit.resident is None or not visit.resident.active_consultation_id:
        return None
    services = visit.services
    consultation_id = visit.resident.active_consultation_id
    stored = await services.db.responses.get(visit.pseudonyms.response(consultation_id))
    if stored is None or stored.submitted:
        return None
    return await _session(visit, consultation_id, stored)


async def current_survey_screen(visit: Visit, lead: str = "") -> Screen | None:
    """The question the resident is on, if they are part-way through a survey."""
    session = await active_session(visit)
    return session.screen(lead) if session is not None else None


def already_taken_part(visit: Visit) -> Screen:
    return Screen(visit.t._("You have already taken part in this consultation. Thank you!"))


async def taken_part_meanwhile(visit: Visit) -> Screen:
    """The survey in progress was submitted meanwhile (by another device, or through another worker):
    it is no longer in progress, and the resident is told they have taken part."""
    await visit.services.db.residents.set_active_consultation(visit.chat_id, None)
    return already_taken_part(visit)


async def _submitted_survey(visit: Visit) -> bool:
    """Whether the resident's survey in progress, as their record says, has been submitted."""
    if visit.resident is None or not visit.resident.active_consultation_id:
        return False
    response_id = visit.pseudonyms.response(visit.resident.active_consultation_id)
    stored = await visit.services.db.responses.get(response_id)
    return stored is not None and stored.submitted


def closed_screen(session: SurveySession) -> Screen:
    t = session.visit.t
    text = t._(
        "This consultation closed on %(date)s. Thank you for your interest.", date=t.date(session.loaded.model.closes)
    )
    return Screen(text)


async def take_part(visit: Visit, consultation_id: str, source: str | None = None) -> Reply:
    """Start the survey, or resume it at the same question.

    `source`: the source tag of the link (a poster's QR code) the resident came by: kept with their
    response, unless it already has one, so reach can be counted by source.
    """
    services = visit.services
    loaded = await services.consultations.current(consultation_id)
    if loaded is None:
        return await browsing.unknown_consultation(visit)
    now = visit.now()
    if not loaded.model.is_open_at(now):
        return await browsing.card(visit, consultation_id)
    session = await _session(visit, consultation_id, None)
    if session is None:
        return await browsing.unknown_consultation(visit)
    if session.submitted:
        return Reply((already_taken_part(visit),))
    # Three independent writes, queued together: SQLite's thread does them one after another
    # without waiting for the event loop in between (one wait instead of three).
    await asyncio.gather(
        session.save(session.state),
        services.db.participation.started(visit.chat_id, consultation_id, now),
        services.db.residents.set_active_consultation(visit.chat_id, consultation_id),
    )
    if source and deep_links.is_source(source):
        await services.db.responses.note_source(session.response_id, source)
    lead = browsing.fallback_note(visit, session.loaded.model) or ""
    return Reply((session.screen(lead),), clear_buttons=True)


async def survey_button(visit: Visit, token: str | None, verb: str | None, argument: str | None) -> Reply:
    """A tap on a survey button. A button from an old screen is out of date and records nothing."""
    session = await active_session(visit)
    if session is None:
        if await _submitted_survey(visit):  # submitted through another worker, or from another device
            return Reply((await taken_part_meanwhile(visit),), edit=True)
        return Reply(notice=visit.t._("That button is out of date."))
    if token != session.state.token:
        return stale(session)
    if session.is_closed():
        return Reply((closed_screen(session),), edit=True)
    if verb == "submit":
        return await submit(session)
    if verb == "changes":
        step = session.engine.step(session.state)
        if isinstance(step, ReviewStep):
            return Reply((session.view.change_menu(step, session.state),), edit=True)
        return stale(session)
    if verb == "summary":
        return Reply((session.screen(),), edit=True)
    result = apply_button(session.engine, session.state, verb, argument)
    if isinstance(result, Rejected):
        if result.reason in ("not_a_choice", "not_now", "at_first_question"):
            return stale(session)
        return Reply(notice=session.view.problem(result, session.engine.current_question(session.state)), alert=True)
    return Reply((await session.save_and_show(result.state),), edit=True)


def apply_button(
    engine: SurveyEngine, state: SurveyState, verb: str | None, argument: str | None
) -> Accepted | Rejected:
    """What a survey button does to the state (also used by `haveyoursay preview`)."""
    if verb == "pick" and argument is not None:
        return engine.choose(state, argument)
    if verb == "toggle" and argument is not None:
        return engine.toggle(state, argument)
    if verb == "edit" and argument is not None:
        return engine.change(state, argument)
    simple = {"done": engine.done, "keep": engine.keep, "skip": engine.skip, "back": engine.back}
    action = simple.get(verb or "")
    return action(state) if action else Rejected("not_now")


def stale(session: SurveySession) -> Reply:
    """An old button: say so, and show where the resident is now."""
    t = session.visit.t
    return Reply((session.screen(),), notice=t._("That button is out of date. Here is where you are now."))


async def submit(session: SurveySession) -> Reply:
    """Record the answers once, then the receipt."""
    missing = session.engine.missing_required(session.state)
    if missing is not None:
        return Reply((session.screen(),), edit=True)
    visit = session.visit
    services = visit.services
    answers = session.engine.final_answers(session.state)
    # The area goes with the response (coarse location, for reach reports), never the resident's id.
    area = visit.resident.area_id if visit.resident is not None else None
    recorded = await services.db.responses.submit(
        session.response_id, answers, session.state.to_data(), visit.now(), area_id=area
    )
    if not recorded:
        await services.db.residents.set_active_consultation(visit.chat_id, None)
        return Reply((already_taken_part(visit),), edit=True)
    await asyncio.gather(
        services.db.residents.set_active_consultation(visit.chat_id, None),
        services.db.participation.submitted(visit.chat_id, session.consultation_id, visit.now()),
    )
    # The summary stays, without its buttons, as the resident's copy of what they said; the receipt follows.
    step = session.engine.step(session.state)
    sent = (session.view.sent_answers(step),) if isinstance(step, ReviewStep) else ()
    screens = (*sent, session.view.receipt())
    if session.loaded.model.about_you:
        screens += (about_you.invitation(visit.t, session.consultation_id),)
    if visit.resident is not None and visit.resident.onboarding_step == DEFERRED_STEP:
        screens += (area_and_interests_invitation(visit),)
    return Reply(screens, edit=True)


def area_and_interests_invitation(visit: Visit) -> Screen:
    """For someone who came by a link: now that they have taken part, may we ask their area and interests?"""
    t = visit.t
    text = t._(
        "Would you like to hear when other consultations open near you, or about things you care about? "
        "Tell us your area and interests."
    )
    buttons = (
        (Button(t._("Choose my area and interests"), callbacks.encode(callbacks.ONBOARD_LATER, "yes")),),
        (Button(t._("No, thank you"), callbacks.encode(callbacks.ONBOARD_LATER, "no")),),
    )
    return Screen(text, buttons)


async def survey_text(session: SurveySession, text: str, message_id: int | None = None) -> Reply:
    """A typed message while a survey is in progress: an answer, or a kind reminder.

    `message_id`: the message's id in the chat. A message already applied (the same update
    handled again after a crash) changes nothing: the question the resident is on is shown.
    """
    if message_id is not None and message_id <= session.typed:
        return Reply((session.screen(),))
    if session.is_closed():
        return Reply((closed_screen(session),))
    # Yes and No may be typed as the buttons say them, in the resident's language only: a word
    # of another language may mean something else ("no" is a casual "yes" in Polish).
    yes_no = session.view.yes_no_words()
    result = session.engine.type_answer(session.state, text, session.visit.language, yes_no)
    if isinstance(result, Rejected):
        question = session.engine.current_question(session.state)
        lead = "⚠️ " + session.view.problem(result, question)
        return Reply((session.view.with_suggestions(session.screen(lead), result, session.state),))
    if message_id is not None:
        session.typed = message_id
    return Reply((await session.save_and_show(result.state),))


async def survey_location(session: SurveySession, area: Area | None, not_found: str) -> Reply:
    """A location shared in the middle of a survey: the answer to an area question, if it finds one."""
    t = session.visit.t
    if session.is_closed():
        return Reply((closed_screen(session),))
    question = session.engine.current_question(session.state)
    if question is None or question.type is not QuestionType.AREA:
        lead = t._("Sorry, I cannot use a location to answer this. Here is your question again:")
        return Reply((session.screen(lead),))
    if area is None:
        return Reply((session.screen("⚠️ " + not_found),))
    result = session.engine.choose(session.state, area.id)
    if isinstance(result, Rejected):
        return Reply((session.screen("⚠️ " + not_found),))
    name = area.display_name(t.language, session.loaded.model.default_language)
    return Reply((await session.save_and_show(result.state, t._("Thank you. Your area is %(area)s.", area=name)),))


def reminder_for_unreadable(session: SurveySession) -> Reply:
    """A sticker, photo, voice note or similar in the middle of a survey."""
    t = session.visit.t
    lead = t._("Sorry, I can only read text and button taps. Here is your question again:")
    return Reply((session.screen(lead),))


def welcome_back(visit: Visit) -> str:
    """The lead of the screen shown again to someone back after a long gap."""
    return visit.t._("Welcome back. Here is where you left off:")


async def _take_part_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    consultation_id = tapped.arg(0)
    if not consultation_id:
        return out_of_date(visit)
    await taps.record(visit, consultation_id, tapped.arg(2))
    return await take_part(visit, consultation_id, tapped.arg(1))


async def _survey_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    return await survey_button(visit, tapped.arg(0), tapped.arg(1), tapped.arg(2))


async def _typed_answer(visit: Visit, typed: Typed) -> Reply | None:
    """Typed text with a survey under way is the answer to the question on screen."""
    session = await active_session(visit)
    if session is None:
        return None
    if visit.returning:
        # Back after a long gap: a greeting is not an answer; show the question first.
        return Reply((session.screen(welcome_back(visit)),))
    return await survey_text(session, typed.text, typed.message_id)


BUTTONS = (
    ButtonRoute(callbacks.TAKE_PART, _take_part_tapped),
    ButtonRoute(callbacks.SURVEY, _survey_tapped),
)
# Last of the readings: every step asked for explicitly (an area, a message to the team) comes first.
TEXT = (TextRoute("survey answer", 110, _typed_answer),)
