"""Links that open the bot at one consultation: `https://t.me/<bot>?start=<payload>`.

The payload is the consultation's id, optionally followed by `_` and a source tag the officer
named for a poster or a leaflet ("surgery-waiting-room"), so reach can be counted by source.
Consultation ids never contain `_`, so links printed before sources existed keep working.
Telegram allows at most 64 characters of `A-Z a-z 0-9 _ -` in a payload; a resident who comes
by a link and has not yet acknowledged the privacy notice carries the payload in buttons
(64 bytes of callback data, e.g. `ok:<language>:<consultation id>:<source>`), which is the
tighter limit (`source_room`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations.officers import INVITE_PREFIX

SEPARATOR = "_"
CONSULTATION = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
SOURCE = re.compile(r"[a-z0-9][a-z0-9-]*")
# A source tag is a short name an officer reads in a report; this is long enough for any.
MAX_SOURCE = 30
# Telegram's limits on a start payload and on a button's callback data.
MAX_PAYLOAD = 64
MAX_CALLBACK_BYTES = 64
# The longest button data that carries a link's payload beside its consultation id and source:
# `ok:` + a language code of up to 3 letters + the three `:` separators (conversations/onboarding.py).
BUTTON_OVERHEAD = len("ok:xxx:::")


@dataclass(frozen=True)
class DeepLink:
    consultation_id: str
    source: str | None = None


def parse(payload: str | None) -> DeepLink | None:
    """The consultation (and source, if any) a `?start=` payload names; None when it names none.

    Ids are lower case; a link typed or printed in another case still finds its consultation.
    A source that is not well formed is ignored: the resident still reaches the consultation.
    """
    if not payload:
        return None
    consultation_id, _, source = payload.lower().partition(SEPARATOR)
    if not CONSULTATION.fullmatch(consultation_id):
        return None
    return DeepLink(consultation_id, source if is_source(source) else None)


def is_source(source: str | None) -> bool:
    """True for a well-formed source tag (of any length a link can carry)."""
    return bool(source) and len(source or "") <= MAX_SOURCE and SOURCE.fullmatch(source or "") is not None


def source_room(consultation_id: str) -> int:
    """How long a source tag can be for this consultation, so its link and buttons fit Telegram's limits.

    0 when its links cannot carry a source: "inv_…" is an officer's invitation.
    """
    if payload(consultation_id, "x").startswith(INVITE_PREFIX):
        return 0
    in_payload = MAX_PAYLOAD - len(consultation_id) - len(SEPARATOR)
    in_buttons = MAX_CALLBACK_BYTES - BUTTON_OVERHEAD - len(consultation_id)
    return max(0, min(MAX_SOURCE, in_payload, in_buttons))


def payload(consultation_id: str, source: str | None = None) -> str:
    """The `?start=` payload for a consultation, with the source tag if there is one."""
    return f"{consultation_id}{SEPARATOR}{source}" if source else consultation_id


def link(bot_username: str, consultation_id: str, source: str | None = None) -> str:
    """The link a QR code or a leaflet carries."""
    return f"https://t.me/{bot_username}?start={payload(consultation_id, source)}"
