"""The main menu (a keyboard under the message box) and recognising its labels in any language."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from conversations.i18n import Catalogs, Translator


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
