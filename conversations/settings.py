"""/settings: a resident turns notices and reminders on or off, and changes area or interests."""

from __future__ import annotations

from conversations import callbacks, onboarding
from conversations.answering import welcome_back
from conversations.routes import ButtonRoute, TextRoute, Typed
from conversations.screens import Button, Reply, Screen
from conversations.services import Visit
from conversations.survey.areas import find_area

PREFIX = "set"
AREA_STEP = "settings-area"  # "Change my area": a typed area or postcode is the answer, then back to settings
ON, OFF = "on", "off"


def _data(verb: str, value: str | None = None) -> str:
    return callbacks.encode(PREFIX, verb, value) if value else callbacks.encode(PREFIX, verb)


def area_question(visit: Visit, lead: str = "") -> Screen:
    """ "Change my area": the onboarding question, whose buttons come back to settings."""
    return onboarding.area_question(visit, lead, choose=_area_data)


async def show(visit: Visit, *, edit: bool = False) -> Reply:
    """The resident's settings, each with a button to change it."""
    t, resident = visit.t, visit.resident
    assert resident is not None
    deployment = visit.services.deployment
    on, off = t._("on"), t._("off")
    area = deployment.area(resident.area_id)
    area_name = area.display_name(visit.language, deployment.default_language) if area else t._("not given")
    lines = [
        "<b>" + t._("Your settings") + "</b>",
        t._("Notices about new consultations: %(state)s", state=on if resident.notices else off),
        t._("Reminders before a consultation closes: %(state)s", state=on if resident.reminders else off),
        t._("Your area: %(area)s", area=area_name),
    ]
    # Each button says what it sets, not "switch": the same tap handled twice (after a crash) sets it once.
    buttons = [
        (
            Button(
                t._("Turn notices off") if resident.notices else t._("Turn notices on"),
                _data("notices", OFF if resident.notices else ON),
            ),
        ),
        (
            Button(
                t._("Turn reminders off") if resident.reminders else t._("Turn reminders on"),
                _data("reminders", OFF if resident.reminders else ON),
            ),
        ),
    ]
    if deployment.areas:
        buttons.append((Button(t._("Change my area"), _data("area")),))
    if deployment.topics:
        buttons.append((Button(t._("Change my interests"), _data("topics")),))
    return Reply((Screen("\n".join(lines), tuple(buttons)),), edit=edit)


# One-letter verbs leave an area or topic id as much of Telegram's 64 bytes of button data as onboarding does.
def _area_data(area_id: str | None) -> str:
    return callbacks.encode(PREFIX, "a", area_id)  # set:a:<area id or ->


def _topic_data(topic_id: str, tick: bool) -> str:
    # What the tap sets (ticked or not), so the same tap handled twice sets it once.
    return callbacks.encode(PREFIX, "t", topic_id, "1" if tick else "0")  # set:t:<topic id>:<1|0>


async def _topics_question(visit: Visit) -> Screen:
    return await onboarding.topics_question(visit, toggle=_topic_data, done_data=_data("saved"))


async def tapped(visit: Visit, verb: str | None, value: str | None = None, tick: str | None = None) -> Reply:
    """Change one setting (to `value`, or the other way for a button without one) and show the settings again.

    Also after changing the area (`value` the area) or an interest (`value` the topic, `tick` 1 or 0).
    """
    topic = value
    resident = visit.resident
    assert resident is not None
    residents = visit.services.db.residents
    deployment = visit.services.deployment
    if verb == "notices":
        await residents.set_preferences(visit.chat_id, notices=_wanted(value, resident.notices))
    elif verb == "reminders":
        await residents.set_preferences(visit.chat_id, reminders=_wanted(value, resident.reminders))
    elif verb == "area" and deployment.areas:
        await residents.set_onboarding_step(visit.chat_id, AREA_STEP)
        return Reply((area_question(visit),), edit=True)
    elif verb == "a" and deployment.areas and (value is None or deployment.area(value)):
        await residents.set_area(visit.chat_id, value, None)
    elif verb == "topics" and deployment.topics:
        return Reply((await _topics_question(visit),), edit=True)
    elif verb == "t" and topic and deployment.topic(topic):
        if tick in ("0", "1"):
            await residents.set_topic(visit.chat_id, topic, tick == "1")
        else:
            await residents.toggle_topic(visit.chat_id, topic)
        return Reply((await _topics_question(visit),), edit=True)
    elif verb != "saved":
        return Reply(notice=visit.t._("That button is out of date."))
    visit.resident = await residents.get(visit.chat_id)
    return await show(visit, edit=True)


async def type_area(visit: Visit, text: str) -> Reply:
    """The resident typed an area name or postcode after "Change my area": noted, then the settings."""
    deployment = visit.services.deployment
    match = find_area(text, deployment.areas, visit.language, deployment.default_language)
    if match.area is None:
        lead = visit.t._("Sorry, I don't know that area. Please tap your area below, or type your postcode.")
        return Reply((onboarding.area_question(visit, lead=lead, choose=_area_data),))
    await visit.services.db.residents.set_area(visit.chat_id, match.area.id, None)
    visit.resident = await visit.services.db.residents.get(visit.chat_id)
    name = match.area.display_name(visit.language, deployment.default_language)
    noted = Screen(visit.t._("Thank you. Your area is %(area)s.", area=name))
    return Reply((noted, *(await show(visit)).screens))


def _wanted(value: str | None, now: bool) -> bool:
    return value == ON if value in (ON, OFF) else not now


async def _tapped(visit: Visit, tapped_: callbacks.Callback) -> Reply:
    return await tapped(visit, tapped_.arg(0), tapped_.arg(1), tapped_.arg(2))


async def _typed_area(visit: Visit, typed: Typed) -> Reply | None:
    """After "Change my area", the next typed text is the area."""
    if visit.resident is None or visit.resident.onboarding_step != AREA_STEP:
        return None
    if visit.returning:
        return Reply((area_question(visit, welcome_back(visit)),))
    return await type_area(visit, typed.text)


BUTTONS = (ButtonRoute(PREFIX, _tapped),)
TEXT = (TextRoute("area from settings", 100, _typed_area),)
