"""The organisation's public "We asked, you said, we did" page: no sign-in, no personal data."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import now_of, render, services_of
from conversations import outcomes


def visitor_language(request: Request) -> str:
    """?lang= if the visitor chose one, else the first language their browser asks for that we have."""
    catalogs = services_of(request).catalogs
    chosen = request.query_params.get("lang", "")
    if chosen in catalogs.languages:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        matched = catalogs.match(part.split(";", 1)[0].strip())
        if matched:
            return matched
    return catalogs.default_language


async def we_asked_you_said_we_did(request: Request) -> Response:
    services = services_of(request)
    language = visitor_language(request)
    t = services.catalogs.translator(language)
    entries = await outcomes.public_record(services, now_of(request))
    shown = [
        {
            "id": entry.consultation.id,
            "title": entry.consultation.text("title", language),
            "summary": entry.consultation.text("summary", language),
            "standing": entry.standing.value,
            "standing_text": outcomes.standing_text(t, entry),
            "told_us": outcomes.outcome_text(entry.told_us, language, entry.consultation.default_language),
            "decided": outcomes.outcome_text(entry.decided, language, entry.consultation.default_language),
            "decision_by": entry.consultation.text("decision_by", language),
        }
        for entry in entries
    ]
    return render(
        request,
        "public_outcomes.html",
        t,
        entries=shown,
        organisation=services.deployment.organisation_name(language) or "",
        bot_username=services.bot_username,
    )


def routes() -> list[BaseRoute]:
    return [Route("/outcomes", we_asked_you_said_we_did, methods=["GET"])]
