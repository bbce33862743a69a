"""The workspace's routes: one list, each page a function beside its templates."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.web import (
    broadcasts,
    consultations,
    contact_inbox,
    dashboard,
    editor,
    files,
    outcome,
    posters,
    preview,
    public,
    publishing,
    signin,
    team,
)
from bot.web import results as results_pages
from bot.web.pages import HERE
from bot.web.security import SecurityHeaders
from conversations.services import Services


def routes() -> list[BaseRoute]:
    return [
        *dashboard.routes(),
        Route("/signin/{token}", signin.signin_page, methods=["GET"]),
        Route("/signin/{token}", signin.signin, methods=["POST"]),
        Route("/miniapp", signin.miniapp, methods=["GET"]),
        Route("/miniapp/signin", signin.miniapp_signin, methods=["POST"]),
        Route("/signout", signin.signout, methods=["POST"]),
        Route("/language", signin.choose_language, methods=["POST"]),
        *files.routes(),
        *public.routes(),
        *preview.routes(),
        *posters.routes(),
        *broadcasts.routes(),
        *outcome.routes(),
        *team.routes(),
        *contact_inbox.routes(),
        *editor.routes(),
        *results_pages.routes(),
        *publishing.routes(),
        # Last: /consultations/{id} would otherwise take /consultations/new and /consultations/upload.
        *consultations.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def workspace_app(services: Services, bot_token: str, public_url: str) -> Starlette:
    app = Starlette(routes=routes(), middleware=[Middleware(SecurityHeaders)])
    app.state.services = services
    app.state.bot_token = bot_token
    app.state.public_url = public_url
    return app
