"""What an officer has typed on the workspace's Outcome page and not published yet.

The page holds both outcome texts ("What you told us" and "What we did"), each in every language.
Whenever the page is sent (to preview or publish one text, to save, or back with an error), what
its boxes hold is kept server-side for that officer and consultation, so publishing one text never
loses what was typed in the other, and reloading the page shows it again. A text is kept only while
it differs from what is published: publishing it ends its draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conversations import drafts
from conversations.services import Services

PREFIX = "outcome-page:"  # the drafts' kind: this prefix and the consultation's id, one draft per officer


def draft_kind(consultation_id: str) -> str:
    return PREFIX + consultation_id


@dataclass(frozen=True)
class OutcomePageDraft:
    """Outcome kind (outcomes.TOLD_US, outcomes.DECIDED) → language code → the text in its box."""

    texts: dict[str, dict[str, str]]

    def to_data(self) -> dict[str, Any]:
        return {"texts": {kind: dict(texts) for kind, texts in self.texts.items()}}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> OutcomePageDraft:
        texts = data["texts"]
        if not isinstance(texts, dict):
            raise ValueError("not an outcome page draft")
        return cls({str(kind): {str(code): str(text) for code, text in by.items()} for kind, by in texts.items()})


def _written(texts: dict[str, str]) -> dict[str, str]:
    """The languages a text is written in (an empty box is a language left out), as publishing counts them."""
    return {code: text for code, text in texts.items() if text.strip()}


async def kept(services: Services, officer_id: int, consultation_id: str) -> dict[str, dict[str, str]]:
    """The officer's unpublished texts for this consultation, by outcome kind ({} when there are none)."""
    found = await drafts.load(services.db, officer_id, draft_kind(consultation_id), OutcomePageDraft.from_data)
    return dict(found.texts) if found is not None else {}


async def keep(
    services: Services, officer_id: int, consultation_id: str, typed: dict[str, dict[str, str]], now: datetime
) -> None:
    """Keep what the boxes of `typed`'s kinds hold (the other kinds' drafts stay as they were); a text that
    is what was published (or, never published, is empty) needs no draft."""
    texts = await kept(services, officer_id, consultation_id)
    published = await services.db.outcomes.get(consultation_id)
    for kind, boxes in typed.items():
        if _written(boxes) == published.get(kind, {}):
            texts.pop(kind, None)
        else:
            texts[kind] = dict(boxes)
    await _store(services, officer_id, consultation_id, texts, now)


async def forget(services: Services, officer_id: int, consultation_id: str, kind: str, now: datetime) -> None:
    """The text of this kind was published: its draft ends (the other kind's stays)."""
    texts = await kept(services, officer_id, consultation_id)
    if texts.pop(kind, None) is not None:
        await _store(services, officer_id, consultation_id, texts, now)


async def _store(
    services: Services, officer_id: int, consultation_id: str, texts: dict[str, dict[str, str]], now: datetime
) -> None:
    if texts:
        await drafts.save(services.db, officer_id, draft_kind(consultation_id), OutcomePageDraft(texts), now)
    else:
        await services.db.drafts.drop(officer_id, draft_kind(consultation_id))
