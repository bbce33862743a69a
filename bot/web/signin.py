"""Signing in (by the chat's one-time link, or as a Telegram Mini App) and out, and the language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.web.pages import (
    SESSION_COOKIE,
    go_to,
    language_of,
    now_of,
    officer_of,
    officer_page,
    read_form,
    render,
    services_of,
)
from conversations import workspace
from conversations.workspace import SESSION_IDLE


async def signin_page(request: Request) -> Response:
    """The link from the chat shows a button, and only the button signs in: Telegram and mail
    scanners open links to preview them, and must not use up the officer's link."""
    services = services_of(request)
    t = services.catalogs.translator(await language_of(services, None))
    return render(request, "signin.html", t, token=request.path_params["token"])


async def signin(request: Request) -> Response:
    services = services_of(request)
    session = await workspace.sign_in_with_link(services, request.path_params["token"], now_of(request))
    if session is None:
        t = services.catalogs.translator(await language_of(services, None))
        return render(request, "signin_failed.html", t, status_code=403)
    return _signed_in(request, session)


async def miniapp(request: Request) -> Response:
    """The Mini App's first page: its script sends Telegram's initData to sign in."""
    services = services_of(request)
    t = services.catalogs.translator(await language_of(services, None))
    return render(request, "miniapp.html", t)


async def miniapp_signin(request: Request) -> Response:
    services = services_of(request)
    form = await read_form(request)
    token: str = request.app.state.bot_token
    session = await workspace.sign_in_with_init_data(services, str(form.get("init_data", "")), token, now_of(request))
    if session is None:
        return JSONResponse({"signed_in": False}, status_code=403)
    response = JSONResponse({"signed_in": True, "next": "/"})
    _set_session_cookie(request, response, session)
    return response


def _signed_in(request: Request, session: str) -> Response:
    response = go_to("/")
    _set_session_cookie(request, response, session)
    return response


def _set_session_cookie(request: Request, response: Response, session: str) -> None:
    secure = str(request.app.state.public_url).startswith("https://")
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(SESSION_IDLE.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )


@officer_page
async def signout(request: Request) -> Response:
    services = services_of(request)
    await services.db.workspace.end_session(officer_of(request).signed_in.session_hash)
    t = officer_of(request).t
    response = render(request, "signed_out.html", t, signed_out=True)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@officer_page
async def choose_language(request: Request) -> Response:
    services = services_of(request)
    form = await read_form(request)
    language = str(form.get("language", ""))
    if language in services.catalogs.languages:
        await services.db.workspace.set_session_language(officer_of(request).signed_in.session_hash, language)
    back = str(form.get("back", "/"))
    return go_to(back if back.startswith("/") and not back.startswith("//") else "/")
