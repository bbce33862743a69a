"""The Outcome page: "What you told us" and "What we did", written per language side by side, previewed
as residents will get them, confirmed with the exact number of recipients, published or corrected.

Every rule is conversations/outcomes.py's, the same as the chat's /outcome: who gets it, what they get,
corrections, the audit. Both texts are in one form, and what its boxes hold is kept as the officer's draft
(conversations/outcome_drafts.py) whenever it is sent: publishing one text never loses the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import go_to, now_of, officer_of, officer_page, read_form, render, services_of
from bot.web.telegram_html import telegram_to_page
from conversations import outcome_drafts, outcomes, team
from conversations.i18n import RTL_LANGUAGES, Translator
from conversations.services import Services
from conversations.survey.model import Consultation


@dataclass(frozen=True)
class FieldError:
    field_id: str
    message: str


@dataclass(frozen=True)
class Language:
    code: str
    label: str

    @property
    def dir(self) -> str:
        return "rtl" if self.code in RTL_LANGUAGES else "ltr"


@dataclass(frozen=True)
class Version:
    """A published version, as the page lists it."""

    number: int
    at: datetime
    by: str  # the officer's name; "" when not known


@dataclass
class Section:
    """One of the two outcome texts on the page."""

    kind: str
    name: str
    texts: dict[str, str]  # what the boxes hold
    published: dict[str, str]  # the latest version's texts; {} before it is published
    versions: list[Version]
    errors: list[FieldError]
    unsent: bool = False  # the boxes hold the officer's draft, not what was published

    @property
    def field_prefix(self) -> str:
        """The start of its boxes' names: the form holds both texts."""
        return f"text-{self.kind}-"

    @property
    def version(self) -> int | None:
        return self.versions[-1].number if self.versions else None


def kind_name(t: Translator, kind: str) -> str:
    return t._("What you told us") if kind == outcomes.TOLD_US else t._("What we did")


def field_of(kind: str, code: str) -> str:
    return f"{kind}-{code}"


def _typed(form: FormData, sections: list[Section], languages: list[Language]) -> dict[str, dict[str, str]]:
    """The boxes sent, by outcome kind and language (only the kinds the form had boxes for: the check page sends
    one); a browser sends a textarea's line breaks as CRLF."""
    return {
        s.kind: {lang.code: str(form.get(s.field_prefix + lang.code, "")).replace("\r\n", "\n") for lang in languages}
        for s in sections
        if any(s.field_prefix + lang.code in form for lang in languages)
    }


def _version_from(form: FormData, kind: str) -> int | None:
    text = str(form.get(f"version-{kind}", ""))
    return int(text) if text.isdigit() else None


async def _consultation(request: Request) -> Consultation | None:
    """The consultation, once it has opened (an outcome is about what residents said)."""
    loaded = await services_of(request).consultations.current(request.path_params["id"])
    return loaded.model if loaded is not None else None


async def _section(services: Services, t: Translator, c: Consultation, kind: str) -> Section:
    versions = await services.db.outcomes.versions(c.id, kind)
    names: dict[int, str] = {}
    for version in versions:
        if version.published_by is not None and version.published_by not in names:
            found = await team.name_of(services, version.published_by)
            names[version.published_by] = found.label if found else str(version.published_by)
    shown = [
        Version(v.version, v.published_at, names.get(v.published_by, "") if v.published_by is not None else "")
        for v in versions
    ]
    published = dict(versions[-1].texts) if versions else {}
    return Section(kind, kind_name(t, kind), dict(published), published, shown, [])


async def _sections(services: Services, t: Translator, c: Consultation, officer_id: int) -> list[Section]:
    """Both texts as published, with the officer's unpublished draft of either in its boxes."""
    sections = [await _section(services, t, c, kind) for kind in outcomes.KINDS]
    kept = await outcome_drafts.kept(services, officer_id, c.id)
    for section in sections:
        if section.kind in kept:
            section.texts, section.unsent = dict(kept[section.kind]), True
    return sections


def _languages(services: Services, t: Translator, c: Consultation, sections: list[Section]) -> list[Language]:
    codes = outcomes.outcome_languages(services, c, *(s.published for s in sections), *(s.texts for s in sections))
    return [Language(code, t.language_label(code)) for code in codes]


def _not_open(request: Request, t: Translator, c: Consultation) -> Response:
    return render(request, "outcome.html", t, c=c, title=c.text("title", t.language), not_open=True, status_code=409)


@officer_page
async def outcome_page(request: Request) -> Response:
    officer, services = officer_of(request), services_of(request)
    t = officer.t
    c = await _consultation(request)
    if c is None:
        return render(request, "error.html", t, status_code=404, problem="not_found")
    if c.opens > now_of(request):
        return _not_open(request, t, c)
    sections = await _sections(services, t, c, officer.id)
    return _edit_page(request, t, c, sections, _done_notice(request, t))


def _done_notice(request: Request, t: Translator) -> str:
    """What came of the last publishing, told after the redirect."""
    params = request.query_params
    sent = params.get("sent", "")
    count = int(sent) if sent.isdigit() else 0
    done = params.get("done", "")
    if done == outcomes.Outcome.PUBLISHED:
        return t.n_("Published. Sending to %(n)d person.", "Published. Sending to %(n)d people.", count)
    if done == outcomes.Outcome.CORRECTED:
        return t.n_(
            "Correction published. Sending to %(n)d person.", "Correction published. Sending to %(n)d people.", count
        )
    if done == outcomes.Outcome.UNCHANGED:
        return t._("Nothing was changed, so nothing was sent.")
    if done == outcomes.Outcome.MEANWHILE:
        return t._("It was published meanwhile. Nothing was sent; please start again.")
    if done == SAVED:
        return t._("Saved. Nothing has been sent.")
    return ""


def _edit_page(
    request: Request, t: Translator, c: Consultation, sections: list[Section], notice: str, status_code: int = 200
) -> Response:
    services = services_of(request)
    languages = _languages(services, t, c, sections)
    errors = [error for section in sections for error in section.errors]
    return render(
        request,
        "outcome.html",
        t,
        status_code=status_code,
        c=c,
        title=c.text("title", t.language),
        sections=sections,
        outcome_languages=languages,
        default=Language(c.default_language, t.language_label(c.default_language)),
        errors=errors,
        notice=Markup(notice),  # the catalog's own message, its values escaped by the translator
        field_of=field_of,
    )


SAVED = "saved"  # the "done" of a redirect after "Save without sending"


@officer_page
async def outcome_save(request: Request) -> Response:
    """Both texts kept as the officer's draft, nothing sent ("Save without sending")."""
    officer, services = officer_of(request), services_of(request)
    t = officer.t
    c = await _consultation(request)
    if c is None:
        return render(request, "error.html", t, status_code=404, problem="not_found")
    now = now_of(request)
    if c.opens > now:
        return _not_open(request, t, c)
    form = await read_form(request)
    sections = await _sections(services, t, c, officer.id)
    await outcome_drafts.keep(
        services, officer.id, c.id, _typed(form, sections, _languages(services, t, c, sections)), now
    )
    return go_to(f"/consultations/{quote(c.id)}/outcome?{urlencode({'done': SAVED})}")


@officer_page
async def outcome_action(request: Request) -> Response:
    """Preview and check ("Preview"), back to the boxes ("Change the text"), or publish ("Publish").

    Whatever the boxes sent hold is kept as the officer's draft first (both texts when sent from the page),
    so nothing typed is lost; publishing a text ends its draft."""
    officer, services = officer_of(request), services_of(request)
    t = officer.t
    c = await _consultation(request)
    kind = request.path_params["kind"]
    if c is None or kind not in outcomes.KINDS:
        return render(request, "error.html", t, status_code=404, problem="not_found")
    now = now_of(request)
    if c.opens > now:
        return _not_open(request, t, c)
    form = await read_form(request)
    sections = await _sections(services, t, c, officer.id)
    languages = _languages(services, t, c, sections)
    typed = _typed(form, sections, languages)
    await outcome_drafts.keep(services, officer.id, c.id, typed, now)
    sections = await _sections(services, t, c, officer.id)
    for each in sections:
        each.texts = typed.get(each.kind, each.texts)  # exactly as typed
    section = next(s for s in sections if s.kind == kind)
    texts = typed.get(kind, section.texts)
    action = str(form.get("action", ""))
    if action == "publish":
        done = await outcomes.publish_outcome(
            services, c.id, kind, texts, officer.id, now, correcting=_version_from(form, kind)
        )
        if done.outcome in (outcomes.Outcome.PUBLISHED, outcomes.Outcome.CORRECTED, outcomes.Outcome.UNCHANGED):
            await outcome_drafts.forget(services, officer.id, c.id, kind, now)
        query = urlencode({"done": done.outcome.value, "sent": done.queued})
        return go_to(f"/consultations/{quote(c.id)}/outcome?{query}#{kind}")
    problems = outcomes.text_problems(t, c, texts)
    section.errors = [FieldError(field_of(kind, code), Markup(message)) for code, message in problems]
    if action != "preview" or section.errors:
        return _edit_page(request, t, c, sections, "", status_code=400 if section.errors else 200)
    return await _check_page(request, t, c, section, languages, texts)


async def _check_page(
    request: Request, t: Translator, c: Consultation, section: Section, languages: list[Language], texts: dict[str, str]
) -> Response:
    """Each language's message exactly as residents get it, the count, and the question before publishing."""
    services = services_of(request)
    correction = section.version is not None
    written = {code: text for code, text in texts.items() if text.strip()}
    previews: list[dict[str, Any]] = []
    for lang in languages:
        screen = outcomes.outcome_screen(
            services.catalogs.translator(lang.code),
            c,
            section.kind,
            written,
            c.default_language,
            with_feedback=True,
            correction=correction,
        )
        text_now = outcomes.outcome_text(written, lang.code, c.default_language)
        unchanged = correction and text_now == outcomes.outcome_text(section.published, lang.code, c.default_language)
        previews.append(
            {"language": lang, "screen": screen, "missing": lang.code not in written, "unchanged": unchanged}
        )
    recipients = await outcomes.pending_recipients(services, c.id, section.kind, texts)
    count = len(recipients.everyone)
    return render(
        request,
        "outcome_check.html",
        t,
        c=c,
        title=c.text("title", t.language),
        section=section,
        outcome_languages=languages,
        default=Language(c.default_language, t.language_label(c.default_language)),
        texts=texts,
        previews=previews,
        correction=correction,
        unchanged=correction and written == section.published,
        count=count,
        described=Markup(recipients.described(t)),
        html=telegram_to_page,
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/consultations/{id:str}/outcome", outcome_page, methods=["GET"]),
        Route("/consultations/{id:str}/outcome/save", outcome_save, methods=["POST"]),
        Route("/consultations/{id:str}/outcome/{kind:str}", outcome_action, methods=["POST"]),
    ]
