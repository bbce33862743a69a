"""Results and reach of a consultation: what people said, where they stopped, who took part and whom we missed.

Every figure comes from `conversations.results`, the same functions the chat's /results, /export
and /reach call; this module only turns them into pages, a chart picture and downloads.
"""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.charts import chart_picture
from bot.web.pages import now_of, officer_of, officer_page, render, services_of
from conversations import link_sources, results
from conversations.i18n import Translator
from conversations.survey.model import QuestionType

PER_PAGE = 50
LATEST = 3  # written answers shown on the results page itself; the rest are a click (and a search) away
MAX_SEARCH = 200
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _not_found(request: Request) -> Response:
    return render(request, "error.html", officer_of(request).t, status_code=404, problem="not_found")


@officer_page
async def results_page(request: Request) -> Response:
    officer, services = officer_of(request), services_of(request)
    consultation_id = request.path_params["id"]
    report = await results.results_report(services, officer.t, consultation_id, now_of(request))
    if report is None:
        return _not_found(request)
    latest: dict[str, list[str]] = {}
    for q in report.questions:
        if q.type is QuestionType.TEXT and q.answered:
            latest[q.id] = (await results.written_answers_page(services, consultation_id, q.id, "", 1, LATEST))[1]
    t = officer.t
    charts = {
        q.id: chart_picture(q, report.chart_title, [t.number(a.count) for a in q.answers], t.is_rtl)
        for q in report.questions
        if q.charted
    }
    return render(
        request,
        "results.html",
        t,
        r=report,
        latest=latest,
        charts=charts,
        text_type=QuestionType.TEXT,
        sources=await link_sources.by_source(services, consultation_id),
        day_label=lambda day: t.date(datetime.combine(day, time(12), tzinfo=t.timezone)),
    )


@officer_page
async def written_answers(request: Request) -> Response:
    """Every answer to one free-text question, a page at a time, searchable."""
    officer, services = officer_of(request), services_of(request)
    consultation_id, question_id = request.path_params["id"], request.path_params["question"]
    question = await results.written_question(services, officer.t, consultation_id, question_id)
    if question is None:
        return _not_found(request)
    search = request.query_params.get("q", "")[:MAX_SEARCH].strip()
    wanted = request.query_params.get("page", "1")
    page = int(wanted) if wanted.isdigit() and 0 < int(wanted) < 1_000_000 else 1
    total, answers = await results.written_answers_page(services, consultation_id, question_id, search, page, PER_PAGE)
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)

    def link(number: int) -> str:
        return "?" + urlencode({**({"q": search} if search else {}), "page": number})

    return render(
        request,
        "results_text.html",
        officer.t,
        q=question,
        search=search,
        total=total,
        answers=answers,
        page=min(page, pages),
        pages=pages,
        first=(page - 1) * PER_PAGE + 1,
        previous_link=link(page - 1) if page > 1 else "",
        next_link=link(page + 1) if page < pages else "",
    )


@officer_page
async def export(request: Request) -> Response:
    """The responses as CSV or Excel, with readable headers and labels; audited as the chat's /export is."""
    officer, services = officer_of(request), services_of(request)
    consultation_id, file_format = request.path_params["id"], request.path_params["format"]
    if file_format not in EXPORT_TYPES or await services.consultations.current(consultation_id) is None:
        return _not_found(request)
    name, content, _count = await results.export_download(
        services, officer.id, consultation_id, file_format, now_of(request)
    )
    return Response(
        content,
        media_type=EXPORT_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
    )


@officer_page
async def reach_page(request: Request) -> Response:
    """Who took part (in one consultation, or any) against who could have, and a way to reach whom we missed."""
    officer, services = officer_of(request), services_of(request)
    consultation_id = request.path_params.get("id")
    if consultation_id is not None and await services.consultations.current(consultation_id) is None:
        return _not_found(request)
    report = await results.reach_report(services, officer.t, consultation_id)
    return render(request, "reach.html", officer.t, r=report, percent=lambda rate: share(officer.t, rate))


def share(t: Translator, rate: float) -> str:
    """A share as a percentage that still says something when small: 6 of 64,000 is 0.009%, not 0%."""
    value = 100 * rate
    digits = 1 if value >= 1 or value == 0 else 2 if value >= 0.1 else 3
    return t.number(round(value, digits)) + "%"


def routes() -> list[BaseRoute]:
    return [
        Route("/consultations/{id:str}/results", results_page, methods=["GET"]),
        Route("/consultations/{id:str}/results/{question:str}/answers", written_answers, methods=["GET"]),
        Route("/consultations/{id:str}/results.{format:str}", export, methods=["GET"]),
        Route("/consultations/{id:str}/reach", reach_page, methods=["GET"]),
        Route("/reach", reach_page, methods=["GET"]),
    ]
