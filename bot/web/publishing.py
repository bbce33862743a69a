"""Publish (now or scheduled) after checking the answers, and close early: each with a plain confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import field_id, go_to, now_of, officer_of, officer_page, read_form, render, services_of
from conversations import authoring, publishing
from conversations.i18n import Translator
from conversations.services import Services
from conversations.survey.loader import Problem
from conversations.survey.model import pick_text

# What the consultation page says once, after Publish or Close early (kept in memory: a page reload later
# need not repeat it, and a restart may forget it).
MAX_NOTICES = 1000


@dataclass(frozen=True)
class FormError:
    field_id: str
    message: str


@dataclass(frozen=True)
class When:
    """The officer's choice: now, or scheduled with these dates (as typed, in the deployment's time zone)."""

    now: bool
    opens_text: str
    closes_text: str


def _consultation_id(request: Request) -> str:
    return str(request.path_params["id"])


def _zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.deployment.timezone)


def local_input(moment: datetime | None, zone: ZoneInfo) -> str:
    """A moment as a date-and-time field shows it, in the deployment's time zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _parse_local(text: str, zone: ZoneInfo) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _dates(
    when: When, t: Translator, zone: ZoneInfo, now: datetime
) -> tuple[datetime | None, datetime | None, list[FormError]]:
    """The opening and closing times chosen, or what is wrong with them."""
    errors: list[FormError] = []
    closes = _parse_local(when.closes_text, zone)
    if closes is None:
        errors.append(FormError("closes", t._("Enter the closing date and time")))
    if when.now:
        return now.replace(microsecond=0), closes, errors
    opens = _parse_local(when.opens_text, zone)
    if opens is None:
        errors.insert(0, FormError("opens", t._("Enter the opening date and time, or choose to publish now")))
    elif opens <= now:
        errors.insert(0, FormError("opens", t._("The opening time must be in the future, or choose to publish now")))
    return opens, closes, errors


async def _when_of(request: Request) -> When:
    form = await read_form(request)
    return When(str(form.get("when", "now")) != "schedule", str(form.get("opens", "")), str(form.get("closes", "")))


def _default_when(definition: dict[str, Any], zone: ZoneInfo, now: datetime) -> When:
    """As the draft says: now if its opening time has passed, else scheduled at its dates."""
    opens, closes = publishing.definition_date(definition, "opens"), publishing.definition_date(definition, "closes")
    return When(opens is None or opens <= now, local_input(opens, zone), local_input(closes, zone))


def _labels(services: Services, t: Translator, definition: dict[str, Any]) -> dict[str, list[str]]:
    """The names of the consultation's areas and topics, in the officer's language."""
    deployment, language = services.deployment, t.language
    areas = [
        (area.display_name(language, deployment.default_language) if area else str(area_id))
        for area_id in definition.get("areas") or []
        for area in [deployment.area(str(area_id))]
    ]
    topics = [
        (pick_text(topic.name, language, deployment.default_language)[0] if topic else str(topic_id))
        for topic_id in definition.get("topics") or []
        for topic in [deployment.topic(str(topic_id))]
    ]
    return {"areas": areas, "topics": topics}


DATE_FIELDS = ("opens", "closes")


def _blocking(plan: publishing.PublishPlan) -> list[Problem]:
    """The problems to fix in the editor: all but those of the dates, which are set on this page."""
    return [p for p in plan.errors if not (p.path and p.path[0] in DATE_FIELDS)]


async def _page(
    request: Request, plan: publishing.PublishPlan, when: When, errors: list[FormError], status_code: int = 200
) -> Response:
    officer, services = officer_of(request), services_of(request)
    for problem in plan.errors:  # a closing time before the opening time, or past: beside its field here
        field = str(problem.path[0]) if problem.path else ""
        if field in DATE_FIELDS and field not in {e.field_id for e in errors}:
            errors = [*errors, FormError(field, problem.message)]
    detail = await authoring.consultation_detail(services, plan.id, now_of(request))
    return render(
        request,
        "publish.html",
        officer.t,
        status_code=status_code,
        plan=plan,
        detail=detail,
        title=authoring.text_in(plan.definition, "title", officer.t.language) or plan.id,
        when_choice=when,
        errors=errors,
        blocking=_blocking(plan),
        field_id=field_id,
        timezone=services.deployment.timezone,
        names=_labels(services, officer.t, plan.definition),
    )


async def _no_draft(request: Request) -> Response:
    officer = officer_of(request)
    detail = await authoring.consultation_detail(services_of(request), _consultation_id(request), now_of(request))
    if detail is None:
        return render(request, "error.html", officer.t, status_code=404, problem="not_found")
    title = authoring.text_in(detail.definition, "title", officer.t.language) or detail.id
    return render(request, "publish_nothing.html", officer.t, c=detail, title=title)


@officer_page
async def publish_page(request: Request) -> Response:
    """Check your answers: the working copy, the checks, the languages and when it opens."""
    services, now = services_of(request), now_of(request)
    plan = await publishing.plan_publishing(services, _consultation_id(request), now)
    if plan is None:
        return await _no_draft(request)
    return await _page(request, plan, _default_when(plan.definition, _zone(services), now), [])


@officer_page
async def publish(request: Request) -> Response:
    """Continue: the confirmation of who is told and when; Publish (confirmed): publish."""
    officer, services, now = officer_of(request), services_of(request), now_of(request)
    consultation_id = _consultation_id(request)
    when = await _when_of(request)
    opens, closes, errors = _dates(when, officer.t, _zone(services), now)
    plan = await publishing.plan_publishing(services, consultation_id, now, opens, closes)
    if plan is None:
        return await _no_draft(request)
    if errors or plan.errors:
        return await _page(request, plan, when, errors, status_code=400 if errors else 200)
    confirmed = str((await read_form(request)).get("confirm", "")) == "yes"
    if not confirmed:
        title = authoring.text_in(plan.definition, "title", officer.t.language) or consultation_id
        return render(request, "publish_confirm.html", officer.t, plan=plan, title=title, when_choice=when, now=now)
    result = await publishing.publish_draft(services, consultation_id, officer.id, now, opens, closes)
    if not isinstance(result, publishing.Published):  # changed meanwhile (by another officer)
        return go_to(f"/consultations/{consultation_id}/publish")
    remember_notice(
        request,
        consultation_id,
        {"kind": "published", "outcome": result.outcome, "notices": result.notices, "opens": plan.opens, "now": now},
    )
    return go_to(f"/consultations/{consultation_id}")


@officer_page
async def close_page(request: Request) -> Response:
    """Close early? How many people are part-way through, and what they will be told."""
    officer, services = officer_of(request), services_of(request)
    detail = await authoring.consultation_detail(services, _consultation_id(request), now_of(request))
    if detail is None or detail.published is None:
        return render(request, "error.html", officer.t, status_code=404, problem="not_found")
    mid_survey = await publishing.people_mid_survey(services, detail.id)
    title = authoring.text_in(detail.published, "title", officer.t.language) or detail.id
    return render(request, "close.html", officer.t, c=detail, title=title, mid_survey=mid_survey)


@officer_page
async def close(request: Request) -> Response:
    officer, services = officer_of(request), services_of(request)
    consultation_id = _consultation_id(request)
    told = await publishing.close_early(services, consultation_id, officer.id, now_of(request))
    if told is None:  # not open (closed meanwhile, or never published)
        return go_to(f"/consultations/{consultation_id}/close")
    remember_notice(request, consultation_id, {"kind": "closed", "told": told})
    return go_to(f"/consultations/{consultation_id}")


def _notices(request: Request) -> dict[tuple[str, str], dict[str, Any]]:
    found = getattr(request.app.state, "publishing_notices", None)
    if not isinstance(found, dict):
        found = {}
        request.app.state.publishing_notices = found
    return found


def remember_notice(request: Request, consultation_id: str, notice: dict[str, Any]) -> None:
    """What the consultation page tells this officer once, next time it is shown."""
    notices = _notices(request)
    if len(notices) >= MAX_NOTICES:
        notices.clear()
    notices[(officer_of(request).signed_in.csrf_token, consultation_id)] = notice


def take_notice(request: Request, consultation_id: str) -> dict[str, Any] | None:
    """The notice for this officer about this consultation, once (see `remember_notice`)."""
    return _notices(request).pop((officer_of(request).signed_in.csrf_token, consultation_id), None)


def routes() -> list[BaseRoute]:
    return [
        Route("/consultations/{id:str}/publish", publish_page, methods=["GET"]),
        Route("/consultations/{id:str}/publish", publish, methods=["POST"]),
        Route("/consultations/{id:str}/close", close_page, methods=["GET"]),
        Route("/consultations/{id:str}/close", close, methods=["POST"]),
    ]
