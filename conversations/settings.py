"""/settings: a resident turns notices and reminders on or off, and changes area or interests."""

from __future__ import annotations

from conversations import callbacks, onboarding
from conversations.screens import Button, Reply, Screen
from conversations.services import Visit

PREFIX = "set"
ON, OFF = "on", "off"


def _data(verb: str, value: str | None = None) -> str:
    return callbacks.encode(PREFIX, verb, value) if value else callbacks.encode(PREFIX, verb)


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


async def tapped(visit: Visit, verb: str | None, value: str | None = None) -> Reply:
    """Change one setting (to `value`, or the other way for a button without one) and show the settings again."""
    resident = visit.resident
    assert resident is not None
    residents = visit.services.db.residents
    if verb == "notices":
        await residents.set_preferences(visit.chat_id, notices=_wanted(value, resident.notices))
    elif verb == "reminders":
        await residents.set_preferences(visit.chat_id, reminders=_wanted(value, resident.reminders))
    elif verb == "area" and visit.services.deployment.areas:
        await residents.set_onboarding_step(visit.chat_id, onboarding.AREA_STEP)
        return Reply((onboarding.area_question(visit),), edit=True)
    elif verb == "topics" and visit.services.deployment.topics:
        await residents.set_onboarding_step(visit.chat_id, onboarding.TOPICS_STEP)
        return Reply((await onboarding.topics_question(visit),), edit=True)
    else:
        return Reply(notice=visit.t._("That button is out of date."))
    visit.resident = await residents.get(visit.chat_id)
    return await show(visit, edit=True)


def _wanted(value: str | None, now: bool) -> bool:
    return value == ON if value in (ON, OFF) else not now
