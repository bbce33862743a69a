"""Callback data: what a button means, in at most 64 bytes, and its decoding.

Survey buttons carry the step token of the screen they were shown on, so a tap
on a button from an old message (or a second quick tap) is recognised as stale
and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = ":"

# Each conversation owns the prefix of its buttons (its PREFIX and the like) and declares what
# handles it in its BUTTONS (conversations/routes.py). Only the prefixes of buttons that one
# conversation shows and another answers live here, where both can import them without a cycle.
ONBOARD_AREA = "oa"  # oa:<area id or ->  (onboarding; conversations/pending.py keeps the area question by it)
ONBOARD_LATER = "ol"  # ol:<yes|no>  (shown by answering after a first survey from a link; onboarding answers)
# take:<consultation id>[:<link's source>[:<message>]]  (shown by browsing and in notices; answering answers;
# the message it came with, conversations/taps.py, counts the tap)
TAKE_PART = "take"
SURVEY = "s"  # s:<token>:<verb>[:<argument>]  (drawn by survey/render.py; answering answers)

NONE = "-"


@dataclass(frozen=True)
class Callback:
    kind: str
    args: tuple[str, ...]

    def arg(self, index: int) -> str | None:
        if index >= len(self.args):
            return None
        value = self.args[index]
        return None if value == NONE else value


def encode(kind: str, *args: str | None) -> str:
    """Callback data for a button; raises ValueError if it would not fit in 64 bytes."""
    data = SEPARATOR.join([kind, *(NONE if a is None else a for a in args)])
    if len(data.encode()) > 64:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def decode(data: str | None) -> Callback | None:
    """The button a resident tapped, or None for data we never sent."""
    try:
        size = len(data.encode()) if data else 0
    except UnicodeEncodeError:  # a lone surrogate: JSON allows it, UTF-8 does not
        return None
    if data is None or not 1 <= size <= 64:
        return None
    kind, *args = data.split(SEPARATOR)
    return Callback(kind, tuple(args))


def take_part(consultation_id: str, source: str | None = None, message: str | None = None) -> str:
    """A "Take part" button's data: the consultation, the link's source and the message it came with, if any.

    Older buttons carry fewer parts (`take:<id>`, `take:<id>:<source>`), and are read the same way."""
    args = [consultation_id, source, message]
    while args[-1] is None:
        args.pop()
    return encode(TAKE_PART, *args)
