""" "Take part" taps: how many residents a broadcast or a notice moved to open its consultation.

A "Take part" button carries the message it came with (`callbacks.take_part`): "b<broadcast id>"
for a broadcast, or what the bot's own notice was ("opened", "reminder", "closing"; the
consultation is the button's own). A tap is counted once per resident and message, under a
pseudonymous id (conversations/pseudonyms.py `tap_id`), and only from a resident the message
was queued for. Buttons sent before taps were counted carry no message: they work as before and
are not counted. Outcomes carry no "Take part" button: a consultation has closed by then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from conversations.notices import CLOSING, OPENED, REMINDER, notice_key
from conversations.pseudonyms import Pseudonyms, tap_id
from conversations.services import Services, Visit

NOTICES = (OPENED, REMINDER, CLOSING)
_BROADCAST = re.compile(r"b([1-9][0-9]{0,11})")


def broadcast_button(broadcast_id: int) -> str:
    """What a broadcast's "Take part" button says it came with."""
    return f"b{broadcast_id}"


def broadcast_message(broadcast_id: int) -> str:
    """A broadcast as its taps are stored."""
    return f"broadcast:{broadcast_id}"


def notice_message(what: str, consultation_id: str) -> str:
    """The bot's notices of one kind about one consultation, as their taps are stored."""
    return f"{what}:{consultation_id}"


async def record(visit: Visit, consultation_id: str, came_with: str | None) -> bool:
    """Count a resident's tap on "Take part" under the message `came_with` names (None: an older button).

    True when this was the resident's first tap on that message's button."""
    if not came_with:
        return False
    db, key = visit.services.db, visit.services.db.pseudonym_key
    found = _BROADCAST.fullmatch(came_with)
    if found is not None:
        broadcast_id = int(found.group(1))
        message = broadcast_message(broadcast_id)
        tapper = tap_id(key, visit.chat_id, message)
        return await db.broadcasts.record_tap(message, tapper, visit.chat_id, broadcast_id=broadcast_id)
    if came_with in NOTICES:
        message = notice_message(came_with, consultation_id)
        tapper = tap_id(key, visit.chat_id, message)
        delivery = notice_key(came_with, consultation_id, visit.chat_id)
        return await db.broadcasts.record_tap(message, tapper, visit.chat_id, key=delivery)
    return False


async def broadcast_taps(services: Services, broadcast_ids: Iterable[int]) -> dict[int, int]:
    """Distinct residents who tapped "Take part" under each of these broadcasts (0 when nobody has)."""
    ids = list(broadcast_ids)
    counted = await services.db.broadcasts.taps([broadcast_message(i) for i in ids])
    return {i: counted.get(broadcast_message(i), 0) for i in ids}


async def notice_taps(services: Services, notices: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Distinct residents who tapped under the bot's notices, per (what, consultation id); 0 when nobody has."""
    wanted = [(what, cid) for what, cid in notices if what in NOTICES]
    counted = await services.db.broadcasts.taps([notice_message(what, cid) for what, cid in wanted])
    return {(what, cid): counted.get(notice_message(what, cid), 0) for what, cid in wanted}


async def tap_ids(services: Services, pseudonyms: Pseudonyms) -> dict[str, str]:
    """Every tap id the resident may have, by message (for /mydata, /delete and retention): one per message
    anyone tapped."""
    return pseudonyms.taps(await services.db.broadcasts.tapped_messages())
