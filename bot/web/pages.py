"""What every workspace page shares: who is signed in, their language, templates, forms and CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from conversations.i18n import Translator
from conversations.services import Services
from conversations.typed_text import accepted_text
from conversations.workspace import SignedIn, signed_in

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "hys_session"
# An upload (a consultation file or a spreadsheet) is a few kilobytes; this is generous.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_FORM_FIELDS = 2000

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class Officer:
    """The signed-in officer on this request, in their workspace language."""

    signed_in: SignedIn
    t: Translator

    @property
    def id(self) -> int:
        return self.signed_in.officer_id

    @property
    def is_admin(self) -> bool:
        return self.signed_in.role == "admin"


def services_of(request: Request) -> Services:
    services = request.app.state.services
    assert isinstance(services, Services)
    return services


def officer_of(request: Request) -> Officer:
    officer = request.state.officer
    assert isinstance(officer, Officer)
    return officer


def now_of(request: Request) -> datetime:
    return services_of(request).clock()


async def language_of(services: Services, session: SignedIn | None, default: str | None = None) -> str:
    """The workspace language: the officer's choice, else their chat language, else the deployment's."""
    if session is not None and session.language in services.catalogs.languages:
        return session.language
    if session is not None:
        resident = await services.db.residents.get(session.officer_id)
        if resident is not None and resident.language in services.catalogs.languages:
            return resident.language
    return default or services.catalogs.default_language


def render(request: Request, template: str, t: Translator, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the officer's language; Jinja2 escapes every value that is not marked safe."""
    translations = t.translations
    # Rendering is synchronous, so no other request can install its language in between.
    templates.install_gettext_callables(  # type: ignore[attr-defined]
        translations.gettext, translations.ngettext, newstyle=True
    )
    officer = getattr(request.state, "officer", None)
    page = templates.get_template(template).render(
        request=request,
        t=t,
        officer=officer,
        csrf_token=officer.signed_in.csrf_token if isinstance(officer, Officer) else "",
        languages=[(code, t.language_label(code)) for code in services_of(request).catalogs.languages],
        when=lambda moment: t.date_time(moment) if moment else "",
        day=lambda moment: t.date(moment) if moment else "",
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


Page = Callable[[Request], Awaitable[Response]]


def officer_page(page: Page) -> Page:
    """A page for signed-in officers: the session and role are checked on every request, and every
    form sent checks its CSRF token. Anyone else is asked to sign in from the chat."""

    async def guarded(request: Request) -> Response:
        services = services_of(request)
        session = await signed_in(services, request.cookies.get(SESSION_COOKIE), services.clock())
        if session is None:
            t = services.catalogs.translator(services.catalogs.default_language)
            response = render(request, "signed_out.html", t, status_code=401)
            response.delete_cookie(SESSION_COOKIE)
            return response
        t = services.catalogs.translator(await language_of(services, session))
        request.state.officer = Officer(session, t)
        if request.method == "POST":
            form = await read_form(request)
            if not hmac.compare_digest(str(form.get("csrf_token", "")), session.csrf_token):
                return render(request, "error.html", t, status_code=403, problem="csrf")
        return await page(request)

    return guarded


def admin_page(page: Page) -> Page:
    """A page for admins only; an officer gets a plain refusal."""

    async def only_admins(request: Request) -> Response:
        officer = officer_of(request)
        if not officer.is_admin:
            return render(request, "error.html", officer.t, status_code=403, problem="admin")
        return await page(request)

    return officer_page(only_admins)


async def read_form(request: Request) -> FormData:
    """The form sent, limited in size and number of fields (read once; Starlette keeps it), each text field as
    the bot accepts typed text (`conversations.typed_text`): an officer's text holds no control character,
    as a resident's does not (PostgreSQL refuses a NUL outright), and a textarea's CRLF is a newline."""
    sent = await request.form(max_files=5, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_UPLOAD_BYTES)
    return FormData(
        [(name, accepted_text(value) if isinstance(value, str) else value) for name, value in sent.multi_items()]
    )


def field_id(path: tuple[str | int, ...]) -> str:
    """The HTML id of the field for a place in a consultation's data, e.g. ("survey", 2, "text", "cy")
    -> "f-survey-2-text-cy": the error summary links to it and the problem is shown beside it."""
    return "f-" + "-".join(str(part) for part in path) if path else "f-consultation"


def go_to(path: str) -> RedirectResponse:
    """After a form is sent: on to the next page (303, so a reload does not send it again)."""
    return RedirectResponse(path, status_code=303)
