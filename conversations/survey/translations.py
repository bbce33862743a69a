"""Consultation content to and from gettext `.po` files, so translators can use their usual tools.

Each text becomes one entry: the context names its place in the consultation
(`survey[2].choices[0].text`), the source is the default-language text, and the
translation is whatever the consultation already has in that language.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog

from conversations.survey.loader import CONSULTATION_TEXT_FIELDS

Place = tuple[str | int, ...]


@dataclass
class ImportReport:
    """What importing a translation file did, entry by entry."""

    applied: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # the source text changed since export
    unknown: list[str] = field(default_factory=list)  # no such place in the consultation any more
    fuzzy: list[str] = field(default_factory=list)
    empty: int = 0

    def lines(self) -> list[str]:
        said = [
            f"{place}: the {kind} no longer matches the consultation; not imported"
            for kind, places in (("source text", self.stale), ("place", self.unknown))
            for place in places
        ]
        said += [f"{place}: marked fuzzy by the translator; not imported" for place in self.fuzzy]
        return said


def text_places(definition: dict[str, Any]) -> Iterator[tuple[Place, dict[str, str]]]:
    """Every text map in a stored consultation, with its place."""
    for name in CONSULTATION_TEXT_FIELDS:
        yield (name,), definition[name]
    for i, question in enumerate(definition["survey"]):
        yield ("survey", i, "text"), question["text"]
        for j, choice in enumerate(question.get("choices", [])):
            yield ("survey", i, "choices", j, "text"), choice["text"]
        for point, label in question.get("labels", {}).items():
            yield ("survey", i, "labels", int(point)), label


def place_name(place: Place) -> str:
    out = ""
    for part in place:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def export_catalog(definition: dict[str, Any], language: str) -> Catalog:
    """A catalog of every text, with the existing translations into `language`."""
    default = definition["default_language"]
    # The consultation id travels as the catalog's project, which every .po tool keeps.
    catalog = Catalog(locale=Locale.parse(language), project=definition["id"], version="consultation", fuzzy=False)
    catalog.header_comment = (
        f"# Consultation {definition['id']}: texts to translate from {default} into {language}.\n"
        "# Translate each msgid into msgstr. Keep line breaks. Leave msgctxt as it is."
    )
    for place, texts in text_places(definition):
        catalog.add(texts[default], texts.get(language, ""), context=place_name(place))
    return catalog


def consultation_id_of(catalog: Catalog) -> str | None:
    """The consultation a translation file belongs to."""
    if catalog.version != "consultation" or not catalog.project:
        return None
    return str(catalog.project)


def apply_catalog(definition: dict[str, Any], catalog: Catalog) -> tuple[dict[str, Any], ImportReport]:
    """A copy of the consultation with the catalog's translations, and a report of what was not taken."""
    language = str(catalog.locale)
    default = definition["default_language"]
    updated = copy.deepcopy(definition)
    places = {place_name(place): texts for place, texts in text_places(updated)}
    report = ImportReport()
    for message in catalog:
        if not message.id or not message.context:
            continue
        where = message.context
        if not message.string:
            report.empty += 1
            continue
        if message.fuzzy:
            report.fuzzy.append(where)
            continue
        texts = places.get(where)
        if texts is None:
            report.unknown.append(where)
        elif texts.get(default) != message.id:
            report.stale.append(where)
        else:
            texts[language] = str(message.string)
            report.applied.append(where)
    return updated, report
