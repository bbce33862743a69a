"""First contact: greeting in the resident's language, the privacy notice, then area and interests.

Nothing about a resident is stored until they acknowledge the privacy notice;
until then their language choice and any deep link travel in the buttons.
"""

from __future__ import annotations

from collections.abc import Callable

from conversations import browsing, callbacks, deep_links
from conversations.answering import DEFERRED_STEP, current_survey_screen, welcome_back
from conversations.routes import ButtonRoute, TextRoute, Typed, out_of_date
from conversations.screens import Button, Reply, Screen, rows
from conversations.services import Visit
from conversations.survey.areas import Area, find_area

AREA_STEP = "area"
TOPICS_STEP = "topics"
# Button prefixes (what handles each is declared in BUTTONS at the end).
WELCOME_LANGUAGE = "w"  # w:<lang>:<consultation id or ->[:<source>]  (before the privacy notice is acknowledged)
ACKNOWLEDGE = "ok"  # ok:<lang>:<consultation id or ->[:<source>]  (source: conversations/deep_links.py)
LANGUAGE = "lang"  # lang:<code>
ONBOARD_TOPIC = "ot"  # ot:<topic id>[:<1 to tick, 0 to untick>]
ONBOARD_DONE = "od"  # od


def deep_link_consultation(payload: str | None) -> str | None:
    """The consultation id in a `?start=` payload, or None when there is none or it is malformed."""
    link = deep_links.parse(payload)
    return link.consultation_id if link is not None else None


async def _linked_title(visit: Visit, consultation_id: str | None) -> str | None:
    loaded = await visit.services.consultations.current(consultation_id) if consultation_id else None
    return loaded.model.text("title", visit.language) if loaded is not None else None


async def start(visit: Visit, payload: str | None) -> Reply:
    """/start: the privacy notice for someone new; for a resident, where they left off."""
    link = deep_links.parse(payload)
    consultation_id, source = (link.consultation_id, link.source) if link is not None else (None, None)
    if visit.resident is None:
        title = await _linked_title(visit, consultation_id)
        return Reply((welcome_screen(visit, consultation_id, title, source=source),))
    await visit.services.db.residents.touch(visit.chat_id, visit.now())
    if consultation_id is not None:
        return await browsing.card(visit, consultation_id, source=source)
    if payload:
        return await browsing.unknown_consultation(visit)
    in_progress = await current_survey_screen(visit, lead=welcome_back(visit))
    if in_progress is not None:
        return Reply((in_progress,))
    greeting = Screen(visit.t._("Welcome back to Have Your Say."), menu=True)
    listing = await browsing.open_list(visit)
    return Reply((greeting, *listing.screens))


def welcome_screen(
    visit: Visit, consultation_id: str | None, title: str | None = None, *, source: str | None = None
) -> Screen:
    """The greeting and short privacy notice, with buttons to acknowledge or change language.

    `title`: the consultation a link or QR code brought the resident for, shown straight after;
    `source`: the link's source tag, carried in the buttons (nothing is stored before they acknowledge).
    """
    t, deployment = visit.t, visit.services.deployment
    organisation = deployment.organisation_name(visit.language)
    welcome = (
        t._("Welcome to Have Your Say from %(organisation)s.", organisation=organisation)
        if organisation
        else t._("Welcome to Have Your Say.")  # a deployment that has not named itself yet
    )
    parts = [
        "<b>" + welcome + "</b>",
        t._("Here you can see our open consultations and tell us what you think, in your own language."),
        "<b>" + t._("Your privacy") + "</b>",
        "• "
        + t._(
            "We keep your chat number, your language and, if you tell us, your area and interests, "
            "so that we can tell you about consultations that matter to you."
        ),
        "• " + t._("Your answers are kept apart from who you are, under a code, and are only reported in summaries."),
        "• " + t._("To see what we hold about you, send /mydata at any time; to delete it all, send /delete."),
    ]
    basis = deployment.text(deployment.lawful_basis, visit.language) if deployment.lawful_basis else ""
    if basis:
        parts.append("• " + t._("Why we may use your information: %(basis)s", basis=basis))
    if deployment.privacy_notice_url:
        parts.append(t._("Our full privacy notice: %(url)s", url=deployment.privacy_notice_url))
    if title:
        parts.append("<b>" + t._("Tap “I understand” to see “%(title)s” and take part.", title=title) + "</b>")
    else:
        parts.append(t._("Tap “I understand” to continue."))
    link = (consultation_id or callbacks.NONE, *((source,) if consultation_id and source else ()))
    ack = Button(t._("I understand"), callbacks.encode(ACKNOWLEDGE, visit.language, *link))
    languages = [
        Button(t.language_name(code), callbacks.encode(WELCOME_LANGUAGE, code, *link))
        for code in visit.services.catalogs.languages
        if code != visit.language
    ]
    return Screen("\n\n".join(parts), ((ack,), *rows(*languages, per_row=3)))


async def acknowledge(visit: Visit, language: str, consultation_id: str | None, source: str | None = None) -> Reply:
    """The resident acknowledged the privacy notice: store them, then ask their area.

    Someone who came by a link or QR code sees that consultation at once (`source`: the link's
    source tag, kept with their response if they take part); their area and interests are asked
    after they have taken part.
    """
    services = visit.services
    language = language if language in services.catalogs.languages else visit.language
    first_step = _next_step(visit, after=None)
    if consultation_id is not None and first_step is not None:
        first_step = DEFERRED_STEP
    resident = await services.db.residents.acknowledge(visit.chat_id, language, visit.now(), first_step)
    visit.resident = resident
    visit.t = services.catalogs.translator(language)
    if consultation_id is not None:
        came_for = Screen(visit.t._("Thank you. Here is the consultation you came for."), menu=True)
        card = await browsing.card(visit, consultation_id, source=source)
        return Reply((came_for, *card.screens), clear_buttons=True)
    return Reply((await _continue(visit, first_step)).screens, clear_buttons=True)


async def area_and_interests_later(visit: Visit, wanted: bool) -> Reply:
    """After a first survey from a link: ask the area and interests now, or not at all."""
    if visit.resident is None or visit.resident.onboarding_step != DEFERRED_STEP:
        return Reply(notice=visit.t._("That button is out of date."))
    if not wanted:
        await visit.services.db.residents.set_onboarding_step(visit.chat_id, None)
        text = visit.t._("All right. You can tell us your area and interests at any time with /settings.")
        return Reply((Screen(text),), edit=True)
    step = _next_step(visit, after=None)
    await visit.services.db.residents.set_onboarding_step(visit.chat_id, step)
    return _edit_first(await _continue(visit, step))


async def welcome_in_language(
    visit: Visit, language: str, consultation_id: str | None, source: str | None = None
) -> Reply:
    """Show the welcome again in another language (nothing is stored yet)."""
    if visit.resident is not None:
        return await choose_language(visit, language)
    visit.t = visit.services.catalogs.translator(language)
    title = await _linked_title(visit, consultation_id)
    return Reply((welcome_screen(visit, consultation_id, title, source=source),), edit=True)


def _next_step(visit: Visit, after: str | None) -> str | None:
    deployment = visit.services.deployment
    steps = [s for s, wanted in ((AREA_STEP, deployment.areas), (TOPICS_STEP, deployment.topics)) if wanted]
    if after is None:
        return steps[0] if steps else None
    later = steps[steps.index(after) + 1 :] if after in steps else []
    return later[0] if later else None


async def _continue(visit: Visit, step: str | None) -> Reply:
    if step == AREA_STEP:
        return Reply((area_question(visit),))
    if step == TOPICS_STEP:
        return Reply((await topics_question(visit),))
    return await _finish(visit)


def _onboarding_area(area_id: str | None) -> str:
    return callbacks.encode(callbacks.ONBOARD_AREA, area_id)


def area_question(visit: Visit, lead: str = "", *, choose: Callable[[str | None], str] = _onboarding_area) -> Screen:
    """Which area? `choose` gives each button's data (None: Skip), so /settings can ask it too."""
    t, deployment = visit.t, visit.services.deployment
    text = t._("Which area do you live in? This helps us tell you about consultations near you.")
    hint = t._("Tap your area, type its name or your postcode, or tap Skip.")
    buttons = [
        Button(a.display_name(visit.language, deployment.default_language), choose(a.id)) for a in deployment.areas
    ]
    skip = Button(t._("Skip"), choose(None))
    body = f"{text}\n\n<i>{hint}</i>"
    return Screen(f"{lead}\n\n{body}" if lead else body, (*rows(*buttons, per_row=2), (skip,)))


async def choose_area(visit: Visit, area_id: str | None) -> Reply:
    """The resident tapped their area (or Skip) during onboarding."""
    deployment = visit.services.deployment
    if area_id is not None and deployment.area(area_id) is None:
        return Reply(notice=visit.t._("That button is out of date."))
    step = _next_step(visit, after=AREA_STEP)
    await visit.services.db.residents.set_area(visit.chat_id, area_id, step)
    return _edit_first(await _continue(visit, step))


async def type_area(visit: Visit, text: str) -> Reply:
    """The resident typed an area name or postcode during onboarding."""
    deployment = visit.services.deployment
    match = find_area(text, deployment.areas, visit.language, deployment.default_language)
    if match.area is None:
        lead = visit.t._("Sorry, I don't know that area. Please tap your area below, or type your postcode.")
        return Reply((area_question(visit, lead=lead),))
    return await area_found(visit, match.area)


async def area_found(visit: Visit, area: Area) -> Reply:
    """The resident's area, from what they typed or a location they shared: noted, then on."""
    step = _next_step(visit, after=AREA_STEP)
    await visit.services.db.residents.set_area(visit.chat_id, area.id, step)
    name = area.display_name(visit.language, visit.services.deployment.default_language)
    noted = Screen(visit.t._("Thank you. Your area is %(area)s.", area=name))
    return Reply((noted, *(await _continue(visit, step)).screens))


async def topics_question(
    visit: Visit,
    *,
    toggle: Callable[[str, bool], str] = lambda topic_id, tick: callbacks.encode(
        ONBOARD_TOPIC, topic_id, "1" if tick else "0"
    ),
    done_data: str = ONBOARD_DONE,
) -> Screen:
    """Which interests? `toggle` and `done_data` are the buttons' data, so /settings can ask it too."""
    t, deployment = visit.t, visit.services.deployment
    chosen = await visit.services.db.residents.topics(visit.chat_id)
    buttons = [
        Button(
            ("✅ " if topic.id in chosen else "⬜ ") + deployment.text(topic.name, visit.language),
            # What the tap sets (ticked or not), so the same tap handled twice sets it once.
            toggle(topic.id, topic.id not in chosen),
        )
        for topic in deployment.topics
    ]
    done = Button(t._("Done"), done_data)
    text = t._("What would you like to hear about? Tap all that interest you, then tap Done.")
    return Screen(text, (*rows(*buttons), (done,)))


async def toggle_topic(visit: Visit, topic_id: str, wanted: str | None = None) -> Reply:
    """Tick (`wanted` "1") or untick ("0") an interest; a button without `wanted` switches it."""
    if visit.services.deployment.topic(topic_id) is None:
        return Reply(notice=visit.t._("That button is out of date."))
    residents = visit.services.db.residents
    if wanted in ("0", "1"):
        await residents.set_topic(visit.chat_id, topic_id, wanted == "1")
    else:
        await residents.toggle_topic(visit.chat_id, topic_id)
    return Reply((await topics_question(visit),), edit=True)


async def finish_topics(visit: Visit) -> Reply:
    """Done with interests: onboarding is complete."""
    await visit.services.db.residents.set_onboarding_step(visit.chat_id, None)
    return _edit_first(await _finish(visit))


async def _finish(visit: Visit) -> Reply:
    """Onboarding done: the main menu, then the consultation they came for or the open ones."""
    done = Screen(visit.t._("You're all set. Use the menu below at any time."), menu=True)
    resident = await visit.services.db.residents.get(visit.chat_id)
    visit.resident = resident
    if resident is not None and resident.active_consultation_id:
        card = await browsing.card(visit, resident.active_consultation_id)
        return Reply((done, *card.screens))
    listing = await browsing.open_list(visit)
    return Reply((done, *listing.screens))


def _edit_first(reply: Reply) -> Reply:
    return Reply(reply.screens, edit=True, notice=reply.notice)


async def language_menu(visit: Visit) -> Reply:
    """/language: every available language, each named in itself."""
    t = visit.t
    buttons = [
        Button(("✓ " if code == visit.language else "") + t.language_name(code), callbacks.encode(LANGUAGE, code))
        for code in visit.services.catalogs.languages
    ]
    return Reply((Screen(t._("Choose your language:"), rows(*buttons, per_row=2)),))


async def choose_language(visit: Visit, language: str) -> Reply:
    """Switch language; a survey in progress continues in the new language at the same question."""
    services = visit.services
    if language not in services.catalogs.languages:
        return Reply(notice=visit.t._("That button is out of date."))
    if visit.resident is None:
        return await welcome_in_language(visit, language, None)
    await services.db.residents.set_language(visit.chat_id, language)
    visit.t = services.catalogs.translator(language)
    if await services.role_of(visit.chat_id) is not None:
        await services.refresh_menu(visit.chat_id)  # an officer's own menu follows their language
    confirmed = Screen(
        visit.t._("I will write to you in %(language)s from now on.", language=visit.t.language_name(language)),
        menu=True,
    )
    in_progress = await current_survey_screen(visit)
    return Reply((confirmed, in_progress) if in_progress else (confirmed,))


async def _welcome_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    return await welcome_in_language(visit, tapped.arg(0) or "", tapped.arg(1), _source(tapped.arg(2)))


async def _acknowledge_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    return await acknowledge(visit, tapped.arg(0) or visit.language, tapped.arg(1), _source(tapped.arg(2)))


def _source(tapped: str | None) -> str | None:
    return tapped if deep_links.is_source(tapped) else None


async def _language_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    return await choose_language(visit, tapped.arg(0) or "")


async def _area_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    return await choose_area(visit, tapped.arg(0))


async def _topic_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    topic_id = tapped.arg(0)
    if not topic_id:
        return out_of_date(visit)
    return await toggle_topic(visit, topic_id, tapped.arg(1))


async def _done_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    return await finish_topics(visit)


async def _later_tapped(visit: Visit, tapped: callbacks.Callback) -> Reply:
    return await area_and_interests_later(visit, tapped.arg(0) == "yes")


async def _typed_area(visit: Visit, typed: Typed) -> Reply | None:
    """The area question at first contact reads the next typed text as an area."""
    if visit.resident is None or visit.resident.onboarding_step != AREA_STEP:
        return None
    if visit.returning:
        # Back after a long gap: a greeting is not an area; ask the question again.
        return Reply((area_question(visit, lead=welcome_back(visit)),))
    return await type_area(visit, typed.text)


BUTTONS = (
    # Language and the privacy notice come before anything is stored about the resident.
    ButtonRoute(WELCOME_LANGUAGE, _welcome_tapped, needs_resident=False),
    ButtonRoute(ACKNOWLEDGE, _acknowledge_tapped, needs_resident=False),
    ButtonRoute(LANGUAGE, _language_tapped, needs_resident=False),
    ButtonRoute(callbacks.ONBOARD_AREA, _area_tapped),
    ButtonRoute(ONBOARD_TOPIC, _topic_tapped),
    ButtonRoute(ONBOARD_DONE, _done_tapped),
    ButtonRoute(callbacks.ONBOARD_LATER, _later_tapped),
)
TEXT = (TextRoute("area at first contact", 90, _typed_area),)
