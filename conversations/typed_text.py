"""What a typed text may hold: decided once, where it enters (the Telegram edge and the survey engine).

Carriage returns become newlines; every other control character (C0 but tab and newline, DEL, C1)
and any lone surrogate is dropped; the rest is put in Unicode's composed form (NFC). What is
stored is exactly what this returns, so results, exports and /mydata all read the same text,
and no stored answer holds a character a spreadsheet cannot.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["accepted_text"]

_DROPPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def accepted_text(text: str) -> str:
    """The text as the bot accepts it (idempotent)."""
    text = _DROPPED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", text)
