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
TAKE_PART = "take"  # take:<consultation id>[:<link's source>]  (shown by browsing and in notices; answering answers)
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
