"""The dashboard, the workspace's first page: consultations with their latest responses, the inbox,
broadcasts going out and the groups we under-heard. The figures come from `conversations.dashboard`."""

from __future__ import annotations

from babel.dates import format_skeleton
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import now_of, officer_of, officer_page, render, services_of
from conversations.dashboard import dashboard


@officer_page
async def dashboard_page(request: Request) -> Response:
    officer = officer_of(request)
    found = await dashboard(services_of(request), officer.t, now_of(request))
    return render(
        request,
        "dashboard.html",
        officer.t,
        d=found,
        day_label=lambda day: format_skeleton("MMMEd", day, locale=officer.t.locale),
    )


def routes() -> list[BaseRoute]:
    return [Route("/", dashboard_page, methods=["GET"])]
