"""The consultations list: every consultation with its state, dates and responses so far."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web import publishing
from bot.web.pages import now_of, officer_of, officer_page, render, services_of
from conversations import authoring


@officer_page
async def consultation_list(request: Request) -> Response:
    officer = officer_of(request)
    rows = await authoring.consultation_overview(services_of(request), now_of(request), officer.t.language)
    return render(request, "consultations.html", officer.t, rows=rows)


@officer_page
async def consultation_page(request: Request) -> Response:
    """One consultation: where it stands, and everything an officer can do with it."""
    officer = officer_of(request)
    detail = await authoring.consultation_detail(services_of(request), request.path_params["id"], now_of(request))
    if detail is None:
        return render(request, "error.html", officer.t, status_code=404, problem="not_found")
    title = authoring.text_in(detail.definition, "title", officer.t.language) or detail.id
    notice = publishing.take_notice(request, detail.id)  # once, after Publish or Close early
    return render(request, "consultation.html", officer.t, c=detail, title=title, notice=notice)


def routes() -> list[BaseRoute]:
    return [
        Route("/consultations", consultation_list, methods=["GET"]),
        Route("/consultations/{id:str}", consultation_page, methods=["GET"]),
    ]
