"""Reach by source: how many people each QR poster or tagged link brought to a consultation.

A source is named by its tag, as the officer typed it on the poster page ("surgery-waiting-room",
conversations/deep_links.py). People who came by no tagged link (they found the consultation in
the chat, tapped a notice, or followed a link without a tag) are one row with no source, last.
The results page and the chat's /results show the same rows.

Counts are exact, as every other count of the results page and /results is; the small-number
rule (conversations/small_numbers.py) is /reach's, for people counted by who they are (area,
language, "About you"), and a poster's place says nothing about who someone is.
"""

from __future__ import annotations

from collections.abc import Sequence

from conversations.i18n import Translator, escape
from conversations.services import Services
from storage.responses import SourceReach

__all__ = ["SourceReach", "by_source", "chat_block", "source_label", "tagged"]


async def by_source(services: Services, consultation_id: str) -> tuple[SourceReach, ...]:
    """People who started and who submitted, per source: the sources with the most responses first,
    then those who came by no tagged link."""
    rows = await services.db.responses.reach_by_source(consultation_id)
    return tuple(row for row in rows if row.source is not None) + tuple(row for row in rows if row.source is None)


def tagged(rows: Sequence[SourceReach]) -> bool:
    """Whether anyone came by a poster or a tagged link."""
    return any(row.source is not None for row in rows)


def source_label(t: Translator, source: str | None) -> str:
    """A source as officers read it in the chat (HTML-escaped): its tag, or the words for none."""
    return escape(source) if source is not None else t._("No poster or tagged link")


def chat_block(t: Translator, rows: Sequence[SourceReach]) -> str:
    """The /results block "Where people came from" (empty when nobody came by a tagged link)."""
    if not tagged(rows):
        return ""
    lines = [
        source_label(t, row.source)
        + ": "
        + t._(
            "%(submitted)s submitted of %(started)s started",
            submitted=t.number(row.submitted),
            started=t.number(row.started),
        )
        for row in rows
    ]
    return "<b>" + t._("Where people came from") + "</b>\n" + "\n".join(lines)
