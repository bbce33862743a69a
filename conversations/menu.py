"""The main menu (a keyboard under the message box) and recognising its labels in any language."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from conversations import browsing, help, onboarding, pending
from conversations.i18n import Catalogs, Translator
from conversations.routes import TextRoute, Typed
from conversations.screens import Reply
from conversations.services import Visit


@dataclass(frozen=True)
class MenuLabels:
    consultations: str
    language: str
    help: str


def menu_labels(t: Translator) -> MenuLabels:
    return MenuLabels(
        consultations="📋 " + t._("Consultations"),
        language="🌐 " + t._("Language"),
        help="❓ " + t._("Help"),
    )


def menu_action(catalogs: Catalogs, text: str) -> str | None:
    """Which menu button this text is ("consultations", "language", "help"), in any language."""
    return _every_label(catalogs).get(text.strip())


@functools.lru_cache(maxsize=4)
def _every_label(catalogs: Catalogs) -> dict[str, str]:
    """Every menu label in every language, to the action it stands for (built once)."""
    found: dict[str, str] = {}
    for language in catalogs.languages:
        labels = menu_labels(catalogs.translator(language))
        for action in ("consultations", "language", "help"):
            found.setdefault(getattr(labels, action), action)
    return found


async def _menu_tapped(visit: Visit, typed: Typed) -> Reply | None:
    """A label of the menu keyboard, whatever step was waiting for typed text."""
    action = menu_action(visit.services.catalogs, typed.text)
    if action is None:
        return None
    # A tap on the menu is not an answer: the resident went elsewhere.
    await pending.leave(visit)
    if action == "consultations" and visit.resident is not None:
        return await browsing.open_list(visit)
    if action == "language":
        return await onboarding.language_menu(visit)
    if action == "help":
        return await help.show_help(visit)
    return None  # the list, before the privacy notice: the notice comes first


# First of all readings: the menu is always there, whatever a step is waiting for.
TEXT = (TextRoute("menu keyboard", 10, _menu_tapped, needs_resident=False),)
