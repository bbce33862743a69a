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
        default = str(definition.get("default_language") or "en")
        for code in (language, default, *value):
            if value.get(code):
                return str(value[code])
        return ""
    return str(value or "")


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
