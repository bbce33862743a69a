"""Upload a consultation file or an XLSForm into a draft; download any consultation as either."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import (
    MAX_UPLOAD_BYTES,
    field_id,
    now_of,
    officer_of,
    officer_page,
    read_form,
    render,
    services_of,
)
from conversations import authoring, uploads
from conversations.survey.loader import CONSULTATION_ID
from conversations.xlsform import Note

FILE_FIELD = "f-file"
MEGABYTES = MAX_UPLOAD_BYTES // (1024 * 1024)


@officer_page
async def upload_form(request: Request) -> Response:
    """The upload page: one labelled file input."""
    return _upload_page(request)


def _upload_page(request: Request, problem: str | None = None, upload: uploads.Upload | None = None) -> Response:
    officer = officer_of(request)
    return render(
        request,
        "upload.html",
        officer.t,
        status_code=400 if problem else 200,
        problem=problem,
        upload=upload,
        size=MEGABYTES,
        max_bytes=MAX_UPLOAD_BYTES,
        file_field=FILE_FIELD,
    )


@officer_page
async def upload(request: Request) -> Response:
    """Read the file sent; ask before replacing a draft or a published consultation's working copy."""
    services = services_of(request)
    form = await read_form(request)
    sent = form.get("file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        return _upload_page(request, "no_file")
    data = await sent.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _upload_page(request, "too_large")
    if not data:
        return _upload_page(request, "empty")
    found = uploads.read_upload(
        sent.filename, data, catalogs=services.catalogs, timezone=ZoneInfo(services.deployment.timezone)
    )
    if found.definition is None:
        return _upload_page(request, found.problem, found)
    existing = await authoring.consultation_detail(services, found.id, now_of(request))
    if existing is not None:
        officer = officer_of(request)
        return render(
            request,
            "upload_replace.html",
            officer.t,
            c=existing,
            title=authoring.text_in(existing.definition, "title", officer.t.language) or existing.id,
            definition=json.dumps(found.definition, ensure_ascii=False),
            notes=uploads.notes_to_json(found.notes),
            filename=sent.filename,
        )
    return await _keep(request, found.definition, found.notes, sent.filename)


@officer_page
async def replace(request: Request) -> Response:
    """The officer said yes: the file they uploaded replaces the draft."""
    form = await read_form(request)
    try:
        definition = json.loads(str(form.get("definition", "")))
    except ValueError:
        definition = None
    if not isinstance(definition, dict) or not CONSULTATION_ID.match(str(definition.get("id", ""))):
        return _upload_page(request, "neither")
    notes = uploads.notes_from_json(str(form.get("notes", "")))
    return await _keep(request, definition, notes, str(form.get("filename", ""))[:200])


async def _keep(request: Request, definition: dict[str, Any], notes: tuple[Note, ...], filename: str) -> Response:
    officer = officer_of(request)
    result = await uploads.keep_upload(services_of(request), officer.id, definition, filename, now_of(request))
    consultation_id = str(definition["id"])
    return render(
        request,
        "upload_done.html",
        officer.t,
        consultation_id=consultation_id,
        title=authoring.text_in(definition, "title", officer.t.language) or consultation_id,
        filename=filename,
        notes=notes,
        result=result,
        field_id=field_id,
    )


async def _download(request: Request, kind: str) -> Response:
    officer = officer_of(request)
    found = await uploads.download(services_of(request), officer.id, request.path_params["id"], kind, now_of(request))
    if found is None:
        return render(request, "error.html", officer.t, status_code=404, problem="not_found")
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@officer_page
async def download_yaml(request: Request) -> Response:
    """The working copy as a consultation file, for version control or another deployment."""
    return await _download(request, "yaml")


@officer_page
async def download_xlsx(request: Request) -> Response:
    """The working copy as an XLSForm spreadsheet."""
    return await _download(request, "xlsx")


def routes() -> list[BaseRoute]:
    # Before the consultation pages: /consultations/{id} would take "upload" for an id.
    return [
        Route("/consultations/upload", upload_form, methods=["GET"]),
        Route("/consultations/upload", upload, methods=["POST"]),
        Route("/consultations/upload/replace", replace, methods=["POST"]),
        Route("/consultations/{id:str}/download.yaml", download_yaml, methods=["GET"]),
        Route("/consultations/{id:str}/download.xlsx", download_xlsx, methods=["GET"]),
    ]
