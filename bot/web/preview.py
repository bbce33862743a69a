"""Preview as a resident: every screen of a consultation in any language, and "Send this to me"."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import go_to, now_of, officer_of, officer_page, read_form, render, services_of
from bot.web.telegram_html import telegram_to_page
from conversations import preview


@officer_page
async def preview_page(request: Request) -> Response:
    officer = officer_of(request)
    services = services_of(request)
    consultation_id = request.path_params["id"]
    now = now_of(request)
    found = await preview.preview(services, consultation_id, request.query_params.get("lang"), now)
    if found is None:
        return render(request, "error.html", officer.t, status_code=404, problem="not_found")
    t = officer.t
    choices = [(code, t.language_label(code)) for code in preview.preview_languages(services, found.default_language)]
    sent = request.query_params.get("sent", "")
    return render(
        request,
        "preview.html",
        t,
        p=found,
        title=found.title(t.language),
        preview_languages=choices,
        language_label=t.language_label(found.language),
        default_label=t.language_label(found.default_language) if found.default_language else "",
        untranslated=any(s.untranslated for s in found.screens),
        sent=int(sent) if sent.isdigit() else None,
        html=telegram_to_page,
    )


@officer_page
async def send_preview(request: Request) -> Response:
    """Queue the preview for the officer's own Telegram chat, then back to the page saying so."""
    officer = officer_of(request)
    consultation_id = request.path_params["id"]
    form = await read_form(request)
    language = str(form.get("lang", ""))
    count = await preview.send_to_officer(services_of(request), officer.id, officer.t, consultation_id, language)
    if count is None:
        return render(request, "error.html", officer.t, status_code=404, problem="not_found")
    query = urlencode({"lang": language, "sent": count})
    return go_to(f"/consultations/{quote(consultation_id)}/preview?{query}#send")


def routes() -> list[BaseRoute]:
    return [
        Route("/consultations/{id:str}/preview", preview_page, methods=["GET"]),
        Route("/consultations/{id:str}/preview/send", send_preview, methods=["POST"]),
    ]
