"""Storage limitation, run by the scheduler: old responses and conversations with the team purged;
long-inactive residents told, then removed."""

from __future__ import annotations

from datetime import datetime

from conversations.pseudonyms import Pseudonyms
from conversations.screens import Screen
from conversations.services import Services
from storage.deliveries import PRIORITY_NOTICE, NewDelivery
from storage.personal_data import erase


def inactivity_notice(services: Services, language: str) -> Screen:
    t = services.catalogs.translator(language)
    days = services.removal_grace.days
    return Screen(
        t.n_(
            "We have not heard from you for a long time, so we will delete what we hold about you in %(n)d day. "
            "To keep it, send any message.",
            "We have not heard from you for a long time, so we will delete what we hold about you in %(n)d days. "
            "To keep it, send any message.",
            days,
        )
    )


async def apply_retention(services: Services, now: datetime) -> dict[str, int]:
    """Purge what is past its time; returns counts of what was done (for the log)."""
    db = services.db
    purged = await db.retention.purge_responses_closed_before(now - services.response_retention)
    # Conversations with the team are kept as long as responses, counted from their last message
    # (a conversation need not be about a consultation, so a closing date cannot be the start).
    conversations = await db.retention.purge_conversations_before(now - services.response_retention)
    away = await db.retention.inactive_without_notice(now - services.inactive_after)
    if away:
        notices = [
            NewDelivery(
                chat,
                "retention",
                PRIORITY_NOTICE,
                inactivity_notice(services, language).text,
                dedupe_key=f"inactive:{chat}:{now.date().isoformat()}",
            )
            for chat, language in away
        ]
        async with db.transaction():
            await db.deliveries.enqueue(notices, now)
            await db.retention.mark_told([chat for chat, _ in away], now)
        services.wake_delivery()
    removed = 0
    consultation_ids = await db.consultations.all_ids()
    named = {*consultation_ids, *await db.outcomes.consultations_with_feedback()}
    messages = await db.broadcasts.tapped_messages()
    for chat in await db.retention.told_and_still_away(now - services.removal_grace):
        ids = Pseudonyms(db.pseudonym_key, chat)
        responses, feedback = ids.everywhere(consultation_ids, named)
        tapped = ids.taps(messages)
        await erase(db.connection, chat, responses, feedback, ids.equality, services.erasure, now, tapped)
        removed += 1
    return {
        "responses purged": purged,
        "conversations with the team purged": conversations,
        "residents told": len(away),
        "residents removed": removed,
    }
