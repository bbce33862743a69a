"""The consultations list: every consultation with its state, dates and responses so far."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import now_of, officer_of, officer_page, render, services_of
from conversations import authoring


@officer_page
async def consultation_list(request: Request) -> Response:
    officer = officer_of(request)
    rows = await authoring.consultation_overview(services_of(request), now_of(request), officer.t.language)
    return render(request, "consultations.html", officer.t, rows=rows)


def routes() -> list[BaseRoute]:
    return [Route("/consultations", consultation_list, methods=["GET"])]
