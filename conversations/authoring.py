"""Consultations as officers author and run them: drafts, states, and what the workspace lists.

A consultation being written is a draft: the data of a consultation file (the format
`haveyoursay check` reads), kept in the database and never shown to residents. Publishing
checks it with the same loader as `check` and `import`, and stores it like an import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from conversations.services import Services
from conversations.survey.loader import LoadResult, check_consultation_data


class State(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    OUTCOME_PUBLISHED = "outcome_published"


@dataclass(frozen=True)
class ConsultationRow:
    """One line of the consultations list."""

    id: str
    title: str
    state: State
    opens: datetime | None
    closes: datetime | None
    started: int
    submitted: int
    has_draft: bool  # unpublished changes (or a consultation never published)


def state_at(opens: datetime, closes: datetime, outcome_at: datetime | None, now: datetime) -> State:
    """Where a published consultation is in its life, at `now`."""
    if now < opens:
        return State.SCHEDULED
    if now < closes:
        return State.OPEN
    return State.OUTCOME_PUBLISHED if outcome_at is not None else State.CLOSED


def text_in(definition: dict[str, Any], field: str, language: str) -> str:
    """A consultation text in `language`, else in the consultation's own language, else any."""
    value = definition.get(field)
    if isinstance(value, dict):
        return pick(value, language, str(definition.get("default_language") or "en"))
    return str(value or "")


def pick(texts: Any, language: str, default: str) -> str:
    """One text of a draft's {language: text}: in `language`, else `default`, else any; "" if none."""
    if not isinstance(texts, dict):
        return ""
    for code in (language, default, *texts):
        if texts.get(code):
            return str(texts[code])
    return ""


async def consultation_overview(services: Services, now: datetime, language: str) -> list[ConsultationRow]:
    """Drafts first (newest first), then published consultations, latest closing first."""
    drafts = {draft.id: draft for draft in await services.db.workspace.drafts()}
    rows: list[ConsultationRow] = []
    published = await services.db.consultations.overview()
    known = {item.id for item in published}
    for draft in drafts.values():
        if draft.id not in known:
            title = text_in(draft.definition, "title", language) or draft.id
            rows.append(ConsultationRow(draft.id, title, State.DRAFT, None, None, 0, 0, True))
    for item in published:
        title = text_in(item.definition, "title", language) or item.id
        state = state_at(item.opens, item.closes, item.outcome_at, now)
        rows.append(
            ConsultationRow(
                item.id, title, state, item.opens, item.closes, item.started, item.submitted, item.id in drafts
            )
        )
    return rows


@dataclass(frozen=True)
class ConsultationDetail:
    """One consultation as its workspace page shows it: the working copy and where it stands."""

    id: str
    definition: dict[str, Any]  # the draft if there is one, else what residents see
    published: dict[str, Any] | None  # what residents see now; None if never published
    state: State
    opens: datetime | None
    closes: datetime | None
    started: int
    submitted: int
    has_draft: bool

    @property
    def in_progress(self) -> int:
        """People who started and have not submitted."""
        return self.started - self.submitted


async def consultation_detail(services: Services, consultation_id: str, now: datetime) -> ConsultationDetail | None:
    """A consultation by id, drafted or published; None if there is neither."""
    draft = await services.db.workspace.draft(consultation_id)
    published = next((item for item in await services.db.consultations.overview() if item.id == consultation_id), None)
    if published is None:
        if draft is None:
            return None
        return ConsultationDetail(consultation_id, draft.definition, None, State.DRAFT, None, None, 0, 0, True)
    state = state_at(published.opens, published.closes, published.outcome_at, now)
    return ConsultationDetail(
        consultation_id,
        draft.definition if draft else published.definition,
        published.definition,
        state,
        published.opens,
        published.closes,
        published.started,
        published.submitted,
        draft is not None,
    )


def check(services: Services, definition: dict[str, Any]) -> LoadResult:
    """The checks of `haveyoursay check`, against this deployment's areas, topics and languages."""
    deployment = services.deployment
    return check_consultation_data(
        definition,
        known_areas={a.id for a in deployment.areas} if deployment.areas else None,
        known_topics={t.id for t in deployment.topics} if deployment.topics else None,
        known_languages=services.catalogs.languages,
    )
