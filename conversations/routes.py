"""Routes: what each conversation answers, declared as data next to its logic.

Each conversation module lists its `BUTTONS` (the callback prefix it owns and
the function a tap goes to) and its `TEXT` (what it does with typed text, and
when it reads it before the others). The edge (bot/routing.py) builds its one
callback handler and its one text handler from these declarations: one
handler of each kind is faster than one per route (bench/inbound.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from conversations.callbacks import Callback
from conversations.screens import Reply
from conversations.services import Visit


@dataclass(frozen=True)
class ButtonRoute:
    """Taps on buttons whose callback data starts with `prefix` go to `handle`."""

    prefix: str
    handle: Callable[[Visit, Callback], Awaitable[Reply]]
    # False for the buttons shown before the privacy notice is acknowledged (and officers' buttons).
    needs_resident: bool = True
    # Checked again at every tap: a role can be withdrawn while its buttons are still on screen.
    officers_only: bool = False


@dataclass(frozen=True)
class Typed:
    """A typed message, as the conversations need to see it."""

    text: str
    message_id: int | None
    # The message of ours it replies to (Telegram's "reply"), if any.
    replied_to: int | None
    # Handled again after a crash: what it asked for may already be done.
    replayed: bool


@dataclass(frozen=True)
class TextRoute:
    """One reading of typed text; routes are tried by ascending `priority` until one answers.

    `answer` returns None when the text is not for it (no step of its own is waiting), so the next
    route reads it.
    """

    name: str
    priority: int
    answer: Callable[[Visit, Typed], Awaitable[Reply | None]]
    # Until the privacy notice is acknowledged, the resident is shown it instead of this route's answer.
    needs_resident: bool = True


def out_of_date(visit: Visit) -> Reply:
    """The answer to a tap on a button we no longer act on (or never sent): nothing happens."""
    return Reply(notice=visit.t._("That button is out of date."))


def button_table(*declared: Iterable[ButtonRoute]) -> dict[str, ButtonRoute]:
    """Every declared button route by its prefix; a prefix declared twice is a mistake caught at import."""
    table: dict[str, ButtonRoute] = {}
    for routes in declared:
        for route in routes:
            if route.prefix in table:
                raise ValueError(f"callback prefix {route.prefix!r} is declared twice")
            table[route.prefix] = route
    return table


def text_order(*declared: Iterable[TextRoute]) -> tuple[TextRoute, ...]:
    """Every declared text route, in the order they read typed text."""
    found = [route for routes in declared for route in routes]
    names = [route.name for route in found]
    priorities = [route.priority for route in found]
    if len(set(names)) != len(names) or len(set(priorities)) != len(priorities):
        raise ValueError("two text routes share a name or a priority: their order would be an accident")
    return tuple(sorted(found, key=lambda route: route.priority))
