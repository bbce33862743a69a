"""The Broadcasts pages: every broadcast's progress and report, and a new one composed, aimed, previewed,
counted and sent now or at a chosen time. The rules are conversations/broadcasting.py's, as the chat's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import go_to, now_of, officer_of, officer_page, read_form, render, services_of
from bot.web.telegram_html import telegram_to_page
from conversations import broadcasting
from conversations.broadcasting import BroadcastDraft, Step
from conversations.i18n import RTL_LANGUAGES, Translator
from conversations.services import Services
from storage.clock import from_text
from storage.residents import Audience

# The form's fields other than the texts ("text-<language>"), as the confirmation page carries them on.
SINGLE = ("take_part", "language", "took_part", "not_taken_part", "when", "send_date", "send_time", "urgent")
MULTIPLE = ("area", "topic")


@dataclass(frozen=True)
class FieldError:
    field_id: str
    message: str


@dataclass(frozen=True)
class Composed:
    """What the officer asked for: the notice, its audience and when it goes."""

    draft: BroadcastDraft
    at: datetime  # when it goes (now, or the time chosen)
    urgent: bool


@officer_page
async def list_page(request: Request) -> Response:
    officer, services = officer_of(request), services_of(request)
    found = await broadcasting.progress_report(services, now_of(request), limit=50)
    sent = request.query_params.get("sent", "")
    return render(
        request,
        "broadcasts.html",
        officer.t,
        found=found,
        notices=await broadcasting.notice_report(services, officer.t.language),
        sent=int(sent) if sent.isdigit() and len(sent) < 12 else None,
        created=from_text,
        excerpt=lambda texts: next(iter(texts.values()), "") if texts else "",
    )


@officer_page
async def new_page(request: Request) -> Response:
    """The form, pre-filled from the query string (the Reach page links here so)."""
    params = request.query_params
    values: dict[str, Any] = {name: params.get(name, "") for name in SINGLE}
    values["not_taken_part"] = params.get("not_taken_part", "")
    values.update({name: params.getlist(name) for name in MULTIPLE})
    values["when"] = values["when"] or "now"
    return await _form(request, values, [])


@officer_page
async def check(request: Request) -> Response:
    """Continue: the form again with what is wrong, or the confirmation (previews, exact count, Send)."""
    officer, services = officer_of(request), services_of(request)
    form = await read_form(request)
    values = _values(form, services)
    if form.get("action") == "change":
        return await _form(request, values, [])
    composed, errors = await _read(services, officer.t, values, now_of(request))
    if composed is None:
        return await _form(request, values, errors, status_code=400)
    return await _confirm(request, composed, form)


@officer_page
async def send(request: Request) -> Response:
    """Send: checked again (the form may have been kept open), then queued and audited with the officer."""
    officer, services = officer_of(request), services_of(request)
    form = await read_form(request)
    values = _values(form, services)
    now = now_of(request)
    composed, errors = await _read(services, officer.t, values, now)
    if composed is None:
        return await _form(request, values, errors, status_code=400)
    at = max(composed.at, now)
    async with services.db.transaction():
        broadcast_id, _count = await broadcasting.queue(
            services, officer.id, composed.draft, now, at, civil=not composed.urgent
        )
    services.wake_delivery()
    return go_to(f"/broadcasts?sent={broadcast_id}")


def _values(form: ImmutableMultiDict[str, Any], services: Services) -> dict[str, Any]:
    values: dict[str, Any] = {name: str(form.get(name, "")) for name in SINGLE}
    values.update({name: [str(v) for v in form.getlist(name)] for name in MULTIPLE})
    for code in services.catalogs.languages:
        values[f"text-{code}"] = str(form.get(f"text-{code}", ""))
    return values


async def _choices(services: Services, t: Translator, now: datetime) -> dict[str, list[tuple[str, str]]]:
    """The options of the form's lists, in the officer's language."""
    deployment, language = services.deployment, t.language
    everything = []
    for consultation_id in await services.db.consultations.all_ids():
        loaded = await services.consultations.current(consultation_id)
        everything.append((consultation_id, loaded.model.text("title", language) if loaded else consultation_id))
    return {
        "areas": [(a.id, a.display_name(language, deployment.default_language)) for a in deployment.areas],
        "topics": [(x.id, deployment.text(x.name, language)) for x in deployment.topics],
        "languages": [(code, t.language_label(code)) for code in services.catalogs.languages],
        "open": [(c.id, c.text("title", language)) for c in await services.consultations.open_now(now)],
        "consultations": everything,
    }


def _languages(services: Services) -> list[str]:
    """The deployment's languages, the default first."""
    default = services.catalogs.default_language
    return [default, *(code for code in services.catalogs.languages if code != default)]


async def _form(request: Request, values: dict[str, Any], errors: list[FieldError], status_code: int = 200) -> Response:
    officer, services = officer_of(request), services_of(request)
    t = officer.t
    return render(
        request,
        "broadcast_new.html",
        t,
        status_code=status_code,
        values=values,
        errors=errors,
        choices=await _choices(services, t, now_of(request)),
        text_languages=[(code, t.language_label(code), code in RTL_LANGUAGES) for code in _languages(services)],
        default_language=t.language_label(services.catalogs.default_language),
        zone=services.deployment.timezone,
        civil_hours=[h.strftime("%H:%M") for h in services.deployment.civil_hours],
    )


async def _read(
    services: Services, t: Translator, values: dict[str, Any], now: datetime
) -> tuple[Composed | None, list[FieldError]]:
    """The broadcast the form describes, or what is wrong with it (each next to its field)."""
    errors: list[FieldError] = []
    deployment, catalogs = services.deployment, services.catalogs
    default = catalogs.default_language
    texts = {code: values[f"text-{code}"].strip() for code in _languages(services) if values[f"text-{code}"].strip()}
    if default not in texts:
        errors.append(
            FieldError(
                f"text-{default}",
                Markup(t._("Write the message in %(language)s", language=t.language_label(default))),
            )
        )
    for code, text in texts.items():
        if len(text) > broadcasting.MAX_TEXT:
            message = t._(
                "The message in %(language)s can have at most %(max)s characters",
                language=t.language_label(code),
                max=str(broadcasting.MAX_TEXT),
            )
            errors.append(FieldError(f"text-{code}", Markup(message)))
    known_areas = {a.id for a in deployment.areas}
    known_topics = {x.id for x in deployment.topics}
    areas = tuple(a for a in values["area"] if a in known_areas)
    topics = tuple(x for x in values["topic"] if x in known_topics)
    language = values["language"] if values["language"] in catalogs.languages else None
    all_ids = set(await services.db.consultations.all_ids())
    took_part = values["took_part"] if values["took_part"] in all_ids else None
    not_taken_part = values["not_taken_part"] if values["not_taken_part"] in all_ids else None
    open_ids = {c.id for c in await services.consultations.open_now(now)}
    take_part = values["take_part"] if values["take_part"] in open_ids else None
    if values["take_part"] and take_part is None:
        errors.append(FieldError("take_part", Markup(t._("Choose a consultation that is open now"))))
    if took_part and took_part == not_taken_part:
        errors.append(
            FieldError("not_taken_part", Markup(t._("Choose either took part or did not take part, not both")))
        )
    urgent = values["urgent"] == "yes"
    at = now
    if values["when"] == "later":
        try:
            day = date.fromisoformat(values["send_date"].strip())
        except ValueError:
            day = None
            errors.append(FieldError("send_date", Markup(t._("Enter a date like 2026-11-30"))))
        try:
            clock = time.fromisoformat(values["send_time"].strip())
        except ValueError:
            clock = None
            errors.append(FieldError("send_time", Markup(t._("Enter a time like 14:30"))))
        if day is not None and clock is not None:
            at = datetime.combine(day, clock.replace(tzinfo=None), tzinfo=ZoneInfo(deployment.timezone))
    if not errors:
        refusal = broadcasting.refusal_of_time(services, at, now, urgent=urgent)
        where = "send_time" if values["when"] == "later" else "urgent"
        start, end = (h.strftime("%H:%M") for h in deployment.civil_hours)
        if refusal == "past":
            errors.append(FieldError(where, Markup(t._("That time has passed"))))
        elif refusal is not None:
            message = t._(
                "We send messages between %(start)s and %(end)s. Choose a time then, or tick Urgent",
                start=start,
                end=end,
            )
            errors.append(FieldError(where, Markup(message)))
    if errors:
        return None, errors
    audience = Audience(
        areas=areas,
        topics=topics,
        language=language,
        participants_of=took_part,
        not_taking_part_in=not_taken_part,
        areas_and_topics=True,
    )
    draft = BroadcastDraft(
        step=Step.CONFIRM,
        texts=texts,
        consultation_id=take_part,
        audience=audience,
        send_at=at if values["when"] == "later" else None,
    )
    return Composed(draft, at, urgent), []


async def _confirm(request: Request, composed: Composed, form: ImmutableMultiDict[str, Any]) -> Response:
    """Check your broadcast: each version as residents will see it, who gets it, when; then Send."""
    officer, services = officer_of(request), services_of(request)
    t, draft = officer.t, composed.draft
    recipients = await broadcasting.recipients_of(services, draft.audience)
    by_language: dict[str, int] = dict.fromkeys(draft.texts, 0)
    for _chat, language in recipients:
        by_language[language] = by_language.get(language, 0) + 1
    versions = [
        {
            "text": telegram_to_page(screen.text),
            "buttons": [button.label for row in screen.buttons for button in row],
            "languages": ", ".join(t.language_label(code) for code in languages),
            "lang": languages[0],
            "rtl": languages[0] in RTL_LANGUAGES,
            "count": n,
        }
        for screen, languages, n in broadcasting.versions(services, draft, by_language)
    ]
    carried = [(key, str(value)) for key, value in form.multi_items() if key not in ("csrf_token", "action")]
    now = now_of(request)
    return render(
        request,
        "broadcast_confirm.html",
        t,
        versions=versions,
        count=len(recipients),
        missing=[t.language_label(code) for code in _languages(services) if code not in draft.texts],
        default_language=t.language_label(services.catalogs.default_language),
        at=composed.at if composed.at > now else None,
        urgent=composed.urgent,
        carried=carried,
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/broadcasts", list_page, methods=["GET"]),
        Route("/broadcasts/new", new_page, methods=["GET"]),
        Route("/broadcasts/new", check, methods=["POST"]),
        Route("/broadcasts/send", send, methods=["POST"]),
    ]
