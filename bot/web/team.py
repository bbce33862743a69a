"""The Team and Audit pages (admins only): officers by name, invite by link, remove; the audit log,
filtered, paged and downloadable. The rules are conversations/team.py's, as the chat's."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import admin_page, go_to, now_of, officer_of, read_form, render, services_of
from conversations import team
from conversations.i18n import Translator


@dataclass(frozen=True)
class FieldError:
    field_id: str
    message: str


@admin_page
async def team_page(request: Request) -> Response:
    officer, services = officer_of(request), services_of(request)
    removed = None
    removed_id = _user_id(request.query_params.get("removed", ""))
    if removed_id is not None and await services.role_of(removed_id) is None:
        name = await team.name_of(services, removed_id)
        removed = name.label if name else str(removed_id)
    return render(request, "team.html", officer.t, members=await team.members(services), me=officer.id, removed=removed)


@admin_page
async def make_invite(request: Request) -> Response:
    """Makes the same one-time link as /invite in the chat, shown to copy."""
    officer = officer_of(request)
    link = await team.make_invite(services_of(request), officer.id, now_of(request))
    return render(request, "team_invite.html", officer.t, link=link)


@admin_page
async def confirm_removal(request: Request) -> Response:
    """Names the person and asks; removing oneself or an admin set in the configuration is refused here."""
    officer, services = officer_of(request), services_of(request)
    member = await team.member(services, int(request.path_params["user_id"]))
    if member is None:
        return render(request, "error.html", officer.t, status_code=404, problem="not_found")
    refusal = await team.removal_refusal(services, officer.id, member.user_id)
    return render(request, "team_remove.html", officer.t, member=member, refusal=refusal)


@admin_page
async def remove(request: Request) -> Response:
    officer, services = officer_of(request), services_of(request)
    user_id = int(request.path_params["user_id"])
    member = await team.member(services, user_id)
    if member is None:
        return render(request, "error.html", officer.t, status_code=404, problem="not_found")
    refusal = await team.remove_officer(services, officer.id, user_id, now_of(request))
    if refusal is not None:
        return render(request, "team_remove.html", officer.t, status_code=409, member=member, refusal=refusal)
    return go_to(f"/team?removed={user_id}")


def _user_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 20 else None


def _audit_filter(
    values: ImmutableMultiDict[str, str] | dict[str, str], t: Translator
) -> tuple[team.AuditFilter, list[FieldError]]:
    """The filter from the form's fields, and what is wrong with them."""
    errors: list[FieldError] = []
    officer = str(values.get("officer", ""))
    consultation = str(values.get("consultation", "")).strip()
    days: dict[str, date | None] = {}
    for field in ("since", "until"):
        text = str(values.get(field, "")).strip()
        days[field] = None
        if text:
            try:
                days[field] = date.fromisoformat(text)
            except ValueError:
                errors.append(FieldError(f"audit-{field}", t._("Enter a date like 2026-11-30")))
    since, until = days["since"], days["until"]
    if since is not None and until is not None and since > until:
        errors.append(FieldError("audit-until", t._("The end date must be on or after the start date")))
    wanted = team.AuditFilter(
        officer_id=_user_id(officer),
        consultation_id=consultation or None,
        since=since if not errors else None,
        until=until if not errors else None,
    )
    return wanted, errors


@admin_page
async def audit_page(request: Request) -> Response:
    officer, services = officer_of(request), services_of(request)
    params = request.query_params
    wanted, errors = _audit_filter(params, officer.t)
    page_number = _user_id(params.get("page", "1")) or 1
    found = await team.audit_page(services, wanted, page_number)
    people, consultations = await team.audit_choices(services, officer.t.language)
    filters = {key: params.get(key, "") for key in ("officer", "consultation", "since", "until") if params.get(key)}
    return render(
        request,
        "audit.html",
        officer.t,
        status_code=400 if errors else 200,
        found=found,
        errors=errors,
        people=people,
        consultations=consultations,
        titles=dict(consultations),
        chosen=params,
        filters=filters,
    )


@admin_page
async def download_audit(request: Request) -> Response:
    """The entries the filter selects, as CSV; the download is audited."""
    officer, services = officer_of(request), services_of(request)
    form = await read_form(request)
    wanted, errors = _audit_filter({key: str(value) for key, value in form.items()}, officer.t)
    if errors:
        return go_to("/audit")
    t = officer.t
    headers = [t._("When"), t._("Officer"), t._("Telegram user id"), t._("Action"), t._("Consultation"), t._("Detail")]
    out = io.StringIO()
    await team.write_audit_csv(services, wanted, out, headers, t._("command line"), officer.id)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="audit-log.csv"'},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/team", team_page, methods=["GET"]),
        Route("/team/invite", make_invite, methods=["POST"]),
        Route("/team/{user_id:int}/remove", confirm_removal, methods=["GET"]),
        Route("/team/{user_id:int}/remove", remove, methods=["POST"]),
        Route("/audit", audit_page, methods=["GET"]),
        Route("/audit/download", download_audit, methods=["POST"]),
    ]
