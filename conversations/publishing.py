"""Publishing a consultation (now or scheduled), and closing one early.

One way into the database for a consultation residents see: `store`, used by `haveyoursay import`,
`haveyoursay translations import` and the workspace's Publish and Close early. What saving does to a
consultation that has answers (wording in place, or a new version) is `storage.consultations.save_action`,
and the workspace's confirmation asks the repository the same question before anything is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from conversations import notices
from conversations.authoring import check
from conversations.i18n import Translator, escape
from conversations.screens import Screen
from conversations.services import Services
from conversations.survey.loader import (
    CONSULTATION_TEXT_FIELDS,
    LoadResult,
    Problem,
    consultation_from_data,
    consultation_to_data,
)
from conversations.survey.model import Consultation, pick_text
from storage import Database
from storage.consultations import ImportOutcome
from storage.deliveries import PRIORITY_NOTICE, NewDelivery
from storage.residents import Audience

# A "closed early" message is worth sending for a few days; after that it would only puzzle.
CLOSED_MESSAGE_LIFETIME = timedelta(days=3)
COMMAND_LINE = 0  # the audit log's actor for the command line


async def store(db: Database, c: Consultation, data: dict[str, Any], actor_id: int, now: datetime) -> ImportOutcome:
    """Store a checked consultation as residents will see it, and audit it unless nothing changed."""
    outcome = await db.consultations.save(data, c.structure(), c.opens, c.closes, now)
    if outcome.action != "unchanged":
        await db.officers.audit(actor_id, "publish", f"{c.id}: {describe(outcome)}", now)
    return outcome


def describe(outcome: ImportOutcome) -> str:
    """What a save did, in the command line's and the audit log's words."""
    if outcome.action != "new_version":
        return outcome.action
    version, kept = outcome.version, outcome.responses_on_old_version
    return (
        f"the questions changed, so this is version {version}; the {kept} responses already given "
        f"stay tied to version {version - 1} and the questions they answered"
    )


@dataclass(frozen=True)
class LanguageCoverage:
    """One language of a consultation: how many of its texts are missing in it."""

    language: str
    missing: int
    total: int


@dataclass(frozen=True)
class OpeningNotices:
    """Who an opening notice goes to, and when (None: none will go, it was announced already)."""

    residents: int
    at: datetime | None


@dataclass(frozen=True)
class PublishPlan:
    """The working copy as it would be published with these dates, and what publishing would do."""

    id: str
    definition: dict[str, Any]  # the draft with the chosen dates
    result: LoadResult  # the checks of `haveyoursay check`
    opens: datetime | None
    closes: datetime | None
    languages: list[LanguageCoverage]
    outcome: ImportOutcome | None  # None while there are errors
    notices: OpeningNotices | None

    @property
    def errors(self) -> list[Problem]:
        return self.result.errors

    @property
    def consultation(self) -> Consultation | None:
        return self.result.consultation


def with_dates(definition: dict[str, Any], opens: datetime | None, closes: datetime | None) -> dict[str, Any]:
    """The definition with these opening and closing times (None: as it is)."""
    changed = dict(definition)
    if opens is not None:
        changed["opens"] = opens.isoformat()
    if closes is not None:
        changed["closes"] = closes.isoformat()
    return changed


def date_problems(c: Consultation, published: dict[str, Any] | None, now: datetime) -> list[Problem]:
    """What the workspace adds to the checks: a closing time it sets is in the future (a closed
    consultation keeps its own, so its wording can still be corrected)."""
    kept = published is not None and definition_date(published, "closes") == c.closes
    if c.closes <= now and not kept:
        return [Problem("", None, "closes", "closes must be in the future", path=("closes",))]
    return []


def definition_date(definition: dict[str, Any], key: str) -> datetime | None:
    """`opens` or `closes` of a consultation's data (UTC when it names no zone); None if not a date."""
    try:
        moment = datetime.fromisoformat(str(definition.get(key)))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def plan_publishing(
    services: Services,
    consultation_id: str,
    now: datetime,
    opens: datetime | None = None,
    closes: datetime | None = None,
) -> PublishPlan | None:
    """The draft of `consultation_id` checked as it would be published; None if there is no draft."""
    draft = await services.db.workspace.draft(consultation_id)
    if draft is None:
        return None
    definition = with_dates(draft.definition, opens, closes)
    result = check(services, definition)
    if result.consultation is not None:
        published = await services.db.consultations.get(consultation_id)
        extra = date_problems(result.consultation, published.definition if published else None, now)
        if extra:
            result = LoadResult(None, None, result.problems + extra)
    c = result.consultation
    languages = coverage(definition)
    if c is None or result.data is None:
        return PublishPlan(consultation_id, definition, result, None, None, languages, None, None)
    outcome = await services.db.consultations.plan(result.data, c.structure())
    return PublishPlan(
        consultation_id,
        definition,
        result,
        c.opens,
        c.closes,
        languages,
        outcome,
        await opening_notices(services, c, now),
    )


def coverage(definition: dict[str, Any]) -> list[LanguageCoverage]:
    """Each language the consultation's texts are written in, its own language first, with the texts
    missing in it (read from the data as it is: a draft with problems has languages too)."""
    texts = _text_maps(definition)
    default = str(definition.get("default_language") or "en")
    found = {code for text in texts for code in text}
    ordered = [default, *sorted(found - {default})]
    return [LanguageCoverage(code, sum(1 for text in texts if not text.get(code)), len(texts)) for code in ordered]


def _text_maps(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Every text a resident reads (as `Consultation.all_texts`), from a consultation's data."""
    found = [definition.get(name) for name in CONSULTATION_TEXT_FIELDS]
    for question in definition.get("survey") or []:
        if not isinstance(question, dict):
            continue
        found.append(question.get("text"))
        found += [choice.get("text") for choice in question.get("choices") or [] if isinstance(choice, dict)]
        labels = question.get("labels")
        found += list(labels.values()) if isinstance(labels, dict) else []
    return [text for text in found if isinstance(text, dict)]


async def opening_notices(services: Services, c: Consultation, now: datetime) -> OpeningNotices:
    """The residents an opening notice of `c` goes to, and when: as it opens, at civil hours
    (the bot's own rule, `notices.queue_opening_notices`); none if it was announced already."""
    if await services.db.consultations.opening_notice_at(c.id) is not None or c.closes <= now:
        return OpeningNotices(0, None)
    residents = len(await notices.opening_audience(services, c))
    return OpeningNotices(residents, services.deployment.next_civil_time(max(c.opens, now)))


@dataclass(frozen=True)
class Published:
    outcome: ImportOutcome
    notices: OpeningNotices


async def publish_draft(
    services: Services,
    consultation_id: str,
    officer_id: int,
    now: datetime,
    opens: datetime | None = None,
    closes: datetime | None = None,
) -> Published | PublishPlan | None:
    """Publish the draft with these dates: stored as `haveyoursay import` stores a file, the draft
    deleted, audited. Returns the plan instead when it has errors (nothing is stored), None with no draft.

    A consultation open now is announced at once (the scheduled check would do it within a tick).
    """
    plan = await plan_publishing(services, consultation_id, now, opens, closes)
    if plan is None or plan.errors or plan.consultation is None or plan.result.data is None:
        return plan
    c = plan.consultation
    planned = plan.notices or OpeningNotices(0, None)
    outcome = await store(services.db, c, plan.result.data, officer_id, now)
    await services.db.workspace.delete_draft(consultation_id)
    await services.consultations.current(consultation_id, fresh=True)  # residents see it at once
    if c.is_open_at(now) and await notices.queue_opening_notices(services, now):
        services.wake_delivery()
    return Published(outcome, planned)


def mid_survey_audience(consultation_id: str) -> Audience:
    """The residents who started answering and have not sent their answers."""
    return Audience(unfinished_of=consultation_id)


async def people_mid_survey(services: Services, consultation_id: str) -> int:
    return len(await services.db.residents.audience(mid_survey_audience(consultation_id), wants=None))


def closed_early_message(t: Translator, c: Consultation, closed_at: datetime) -> Screen:
    """To someone part-way through when an officer closed it early: it has closed; sorry; thank you."""
    title = pick_text(c.title, t.language, c.default_language)[0]
    text = t._(
        "This consultation closed early, on %(date)s, before you had sent your answers. "
        "We are sorry, and thank you for the time you gave it.",
        date=t.date(closed_at),
    )
    return Screen(f"<b>{escape(title)}</b>\n\n{text}")


CLOSED_EARLY_KEY = "closed-early:"


async def close_early(services: Services, consultation_id: str, officer_id: int, now: datetime) -> int | None:
    """Close an open consultation now, and tell each person part-way through (in their language, at
    civil hours, through the delivery queue). Returns how many were told; None if it is not open.

    Its closing time is changed as an import would change it, so the chat treats it as closed at once,
    for those answering an earlier version too; notices and reminders not yet sent are withdrawn.
    """
    db = services.db
    stored = await db.consultations.get(consultation_id)
    if stored is None:
        return None
    current = consultation_from_data(stored.definition)
    if not current.is_open_at(now):
        return None
    closed_at = now.replace(microsecond=0)
    closed = replace(current, closes=closed_at)
    recipients = await db.residents.audience(mid_survey_audience(consultation_id), wants=None)
    await db.consultations.save(consultation_to_data(closed), closed.structure(), closed.opens, closed.closes, now)
    await services.consultations.current(consultation_id, fresh=True)
    await db.deliveries.expire_waiting([f"{key}:{consultation_id}:" for key in ("opened", "reminder", "closing")], now)
    deliveries = []
    for chat_id, language in recipients:
        screen = closed_early_message(services.catalogs.translator(language), closed, closed_at)
        deliveries.append(
            NewDelivery(
                chat_id=chat_id,
                kind="notice",
                priority=PRIORITY_NOTICE,
                text=screen.text,
                dedupe_key=f"{CLOSED_EARLY_KEY}{consultation_id}:{chat_id}",
                civil_only=True,
                expires_at=now + CLOSED_MESSAGE_LIFETIME,
                not_before=services.deployment.next_civil_time(now),
            )
        )
    queued = await db.deliveries.enqueue(deliveries, now)
    await db.officers.audit(officer_id, "close early", f"{consultation_id}: {len(recipients)} mid-survey told", now)
    if queued:
        services.wake_delivery()
    return len(recipients)
