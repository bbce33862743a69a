"""`haveyoursay translations export|import`: consultation content to and from translators' `.po` files."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po, write_po
from ruamel.yaml import YAML

from bot.cli import command_database
from bot.settings import Settings
from conversations import publishing
from conversations.deployment import Deployment
from conversations.survey.loader import consultation_from_data, load_consultation_text
from conversations.survey.translations import (
    ImportReport,
    apply_catalog,
    consultation_id_of,
    export_catalog,
    text_places,
)


async def export_translations(
    settings: Settings, deployment: Deployment, consultation_id: str, language: str, output: Path
) -> int:
    """Write a `.po` file of one consultation's texts for translation into `language`."""
    async with command_database(settings, deployment) as db:
        stored = await db.consultations.get(consultation_id)
    if stored is None:
        print(f"haveyoursay: no consultation {consultation_id!r} has been imported")
        return 1
    catalog = export_catalog(stored.definition, language)
    with output.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    done = sum(1 for m in catalog if m.id and m.string)
    print(f"{output}: {len(catalog)} texts of {consultation_id} for {language} ({done} already translated)")
    return 0


async def import_translations(settings: Settings, deployment: Deployment, po_file: Path, into: Path | None) -> int:
    """Put a translator's `.po` file back into the stored consultation (and its YAML file, with --into)."""
    with po_file.open("rb") as handle:
        catalog = read_po(handle)
    consultation_id = consultation_id_of(catalog)
    if consultation_id is None or catalog.locale is None:
        print(f"{po_file}: not a file made by 'haveyoursay translations export' (no consultation id or language)")
        return 1
    async with command_database(settings, deployment) as db:
        stored = await db.consultations.get(consultation_id)
        if stored is None:
            print(f"{po_file}: no consultation {consultation_id!r} has been imported")
            return 1
        updated, report = apply_catalog(stored.definition, catalog)
        model = consultation_from_data(updated)
        await publishing.store(db, model, updated, publishing.COMMAND_LINE, datetime.now(UTC))
    if into is not None:
        _update_yaml_file(into, updated)
    _print_report(po_file, consultation_id, str(catalog.locale), report)
    return 0


def _print_report(po_file: Path, consultation_id: str, language: str, report: ImportReport) -> None:
    for line in report.lines():
        print(f"{po_file}: {line}")
    print(
        f"{po_file}: {len(report.applied)} translations into {language} imported into {consultation_id}"
        f" ({report.empty} left untranslated)"
    )


def _update_yaml_file(path: Path, definition: dict[str, Any]) -> None:
    """Write the translations into the officer's consultation file, keeping its comments and layout."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    document = yaml.load(path.read_text(encoding="utf-8"))
    for place, texts in text_places(definition):
        target = document
        for part in place:
            target = target[int(part) if isinstance(target, list) else _key(target, part)]
        for language, text in texts.items():
            target[language] = text
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    text = buffer.getvalue()
    if load_consultation_text(text, str(path)).errors:
        raise SystemExit(f"{path}: not updated: the result would not be a valid consultation file")
    path.write_text(text, encoding="utf-8")


def _key(mapping: Any, part: str | int) -> Any:
    """Scale labels are keyed by numbers in YAML and by text in places."""
    if part in mapping:
        return part
    return int(part)
