"""A location shared from Telegram's attachment menu: used once to find the resident's area, never kept."""

from __future__ import annotations

from conversations import answering, onboarding
from conversations.screens import Reply, Screen
from conversations.services import Visit
from conversations.survey.areas import locatable, nearest_area


async def shared(visit: Visit, latitude: float, longitude: float) -> Reply:
    """Where the bot is asking for an area, the area the location is in; elsewhere, say it is not used.

    Neither the location nor the distance is stored or logged: only the area, as if tapped.
    """
    t, deployment = visit.t, visit.services.deployment
    area = nearest_area(latitude, longitude, deployment.areas)
    if locatable(deployment.areas):
        not_found = t._(
            "Sorry, that location is not in any of our areas. Please tap your area, or type its name or your postcode."
        )
    else:
        not_found = t._(
            "Sorry, I cannot find your area from a location. Please tap your area, or type its name or your postcode."
        )
    if visit.resident is not None and visit.resident.onboarding_step == onboarding.AREA_STEP:
        if area is None:
            return Reply((onboarding.area_question(visit, lead="⚠️ " + not_found),))
        return await onboarding.area_found(visit, area)
    session = await answering.active_session(visit)
    if session is not None:
        return await answering.survey_location(session, area, not_found)
    text = t._("Thank you, but I only use a location to find your area when I ask which area you live in.")
    return Reply((Screen(text, menu=visit.resident is not None),))
