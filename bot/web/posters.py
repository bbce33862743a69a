"""A consultation's QR poster: the officer names a source tag and picks languages, then downloads
the poster as a printable A4 PDF and as a PNG (the rules and the drawing: conversations/posters.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import go_to, now_of, officer_of, officer_page, read_form, render, services_of
from conversations import posters
from conversations.survey.model import Consultation

SOURCE_FIELD = "source"
LANGUAGES_FIELD = "languages"


@dataclass(frozen=True)
class FieldError:
    field_id: str
    message: Markup


async def _published(request: Request) -> Consultation | None:
    loaded = await services_of(request).consultations.current(request.path_params["id"], fresh=True)
    return loaded.model if loaded is not None else None


def _not_published(request: Request) -> Response:
    officer = officer_of(request)
    return render(request, "error.html", officer.t, status_code=404, problem="not_found")


def _errors(request: posters.PosterRequest) -> list[FieldError]:
    # The messages come from the catalogs with every value in them escaped (Translator._).
    return [FieldError(problem.field, Markup(problem.message)) for problem in request.problems]


def _form(
    request: Request,
    consultation: Consultation,
    source: str,
    languages: Sequence[str],
    errors: Sequence[FieldError] = (),
) -> Response:
    officer = officer_of(request)
    choices = posters.language_choices(services_of(request), consultation, officer.t)
    return render(
        request,
        "poster.html",
        officer.t,
        status_code=400 if errors else 200,
        c=consultation,
        title=consultation.text("title", officer.t.language),
        source=source,
        checked=list(languages),
        options=[(choice.code, choice.label) for choice in choices],
        unprintable=[choice.label for choice in choices if not choice.printable],
        errors=errors,
    )


@officer_page
async def poster_form(request: Request) -> Response:
    """Name the source and choose the languages."""
    consultation = await _published(request)
    if consultation is None:
        return _not_published(request)
    return _form(request, consultation, "", [consultation.default_language])


@officer_page
async def make_poster(request: Request) -> Response:
    """Check the form; when it is right, note it in the audit log and show the poster to download."""
    consultation = await _published(request)
    if consultation is None:
        return _not_published(request)
    officer = officer_of(request)
    services = services_of(request)
    form = await read_form(request)
    source = str(form.get(SOURCE_FIELD, ""))
    languages = [str(code) for code in form.getlist(LANGUAGES_FIELD)]
    asked = posters.make_poster(services, consultation, officer.t, source, languages)
    if asked.poster is None:
        return _form(request, consultation, source, languages, _errors(asked))
    poster = asked.poster
    detail = f"{consultation.id} {poster.source} {','.join(text.language for text in poster.texts)}"
    await services.db.officers.audit(officer.id, "poster", detail, now_of(request))
    return go_to(f"/consultations/{consultation.id}/poster/ready?{_query(poster)}")


def _query(poster: posters.Poster) -> str:
    return urlencode([(SOURCE_FIELD, poster.source), *((LANGUAGES_FIELD, text.language) for text in poster.texts)])


async def _asked(request: Request) -> tuple[Consultation | None, posters.PosterRequest | None]:
    """The consultation and the poster a download or the poster's page names in its address."""
    consultation = await _published(request)
    if consultation is None:
        return None, None
    source = request.query_params.get(SOURCE_FIELD, "")
    languages = request.query_params.getlist(LANGUAGES_FIELD)
    return consultation, posters.make_poster(
        services_of(request), consultation, officer_of(request).t, source, languages
    )


@officer_page
async def poster_ready(request: Request) -> Response:
    """The poster made: a look at it, the link it carries, and both downloads."""
    consultation, asked = await _asked(request)
    if consultation is None or asked is None:
        return _not_published(request)
    if asked.poster is None:
        return _form(
            request,
            consultation,
            request.query_params.get(SOURCE_FIELD, ""),
            request.query_params.getlist(LANGUAGES_FIELD),
            _errors(asked),
        )
    officer = officer_of(request)
    return render(
        request,
        "poster_ready.html",
        officer.t,
        c=consultation,
        title=consultation.text("title", officer.t.language),
        poster=asked.poster,
        query=_query(asked.poster),
        poster_languages=[officer.t.language_label(text.language) for text in asked.poster.texts],
    )


async def _download(request: Request, extension: str, draw: Callable[[posters.Poster], bytes], media: str) -> Response:
    consultation, asked = await _asked(request)
    if consultation is None or asked is None:
        return _not_published(request)
    if asked.poster is None:
        return go_to(f"/consultations/{consultation.id}/poster")
    # Drawing takes a moment (fonts, text shaping): off the event loop the bot answers residents on.
    content = await asyncio.to_thread(draw, asked.poster)
    filename = asked.poster.filename(extension)
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@officer_page
async def poster_pdf(request: Request) -> Response:
    return await _download(request, "pdf", posters.pdf_bytes, "application/pdf")


@officer_page
async def poster_png(request: Request) -> Response:
    return await _download(request, "png", posters.png_bytes, "image/png")


def routes() -> list[BaseRoute]:
    return [
        Route("/consultations/{id:str}/poster", poster_form, methods=["GET"]),
        Route("/consultations/{id:str}/poster", make_poster, methods=["POST"]),
        Route("/consultations/{id:str}/poster/ready", poster_ready, methods=["GET"]),
        Route("/consultations/{id:str}/poster.pdf", poster_pdf, methods=["GET"]),
        Route("/consultations/{id:str}/poster.png", poster_png, methods=["GET"]),
    ]
