"""Keep the gettext catalogs in step with the code: `python -m bot.catalogs update|check|add LANG`.

update: extract every message from bot/ and conversations/ into locales/messages.pot,
        then merge it into each locales/<lang>/LC_MESSAGES/messages.po.
check:  report untranslated, fuzzy and obsolete entries, and placeholder mismatches.
add:    start a catalog for a new language.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
TEMPLATE = LOCALES / "messages.pot"
SOURCES = ("bot", "conversations")
KEYWORDS = {"_": None, "N_": None, "n_": (1, 2), "ngettext": (1, 2)}
# Python code, and the workspace's Jinja2 templates (whose `_` and `ngettext` are gettext's).
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
TEMPLATE_OPTIONS = {
    "**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}
}
# Each language's plural forms: the CLDR category of each form, in order, and the gettext
# rule that picks the form. Babel's defaults merge some of Welsh's six categories and order
# Arabic's differently from gettext's usual rule, so every language is spelled out here and
# tests/test_catalogs.py checks each rule against CLDR's categories through Babel.
PLURALS: dict[str, tuple[tuple[str, ...], str]] = {
    "cy": (
        ("zero", "one", "two", "few", "many", "other"),
        "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n==3 ? 3 : n==6 ? 4 : 5)",
    ),
    "ar": (
        ("zero", "one", "two", "few", "many", "other"),
        "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5)",
    ),
    "pl": (("one", "few", "many"), "(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<12 || n%100>14) ? 1 : 2)"),
    "uk": (("one", "few", "many"), "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<12 || n%100>14) ? 1 : 2)"),
    "ro": (("one", "few", "other"), "(n==1 ? 0 : (n==0 || (n%100>0 && n%100<20)) ? 1 : 2)"),
    "pa": (("one", "other"), "(n > 1)"),
    "bn": (("one", "other"), "(n > 1)"),
    "pt": (("one", "other"), "(n > 1)"),
    "ur": (("one", "other"), "(n != 1)"),
    "es": (("one", "other"), "(n != 1)"),
    "so": (("one", "other"), "(n != 1)"),
    "en": (("one", "other"), "(n != 1)"),
}
HEADER = (
    "Have Your Say: messages residents read, in {name}.\n"
    "This translation must be checked by a native speaker before public use.\n"
    "Keep the words plain; keep %(name)s placeholders and HTML tags exactly as they are."
)


def extract() -> Catalog:
    """Every translatable message in the code, with where it is used."""
    template = Catalog(project="haveyoursay", domain="messages", fuzzy=False)
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / source,
            method_map=METHODS,
            options_map=TEMPLATE_OPTIONS,
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
        ):
            template.add(message, None, [(f"{source}/{filename}", lineno)], auto_comments=comments, context=context)
    return template


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


def languages() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/messages.po"))


def update() -> None:
    """Write the template and merge it into every catalog."""
    template = extract()
    _write(TEMPLATE, template)
    for language in languages():
        catalog = read_catalog(language)
        catalog.update(template, update_header_comment=False)
        catalog.obsolete.clear()  # removed messages are not kept: the code is the source of truth
        _write(po_path(language), catalog)


def add(language: str) -> Path:
    """A new, empty catalog for `language`, with the right plural forms."""
    path = po_path(language)
    if path.exists():
        raise SystemExit(f"{path} already exists")
    locale = Locale.parse(language)
    catalog = Catalog(locale=locale, project="haveyoursay", domain="messages", fuzzy=False)
    if language in PLURALS:
        categories, rule = PLURALS[language]
        catalog.mime_headers = [("Plural-Forms", f"nplurals={len(categories)}; plural={rule};")]
    catalog.header_comment = "# " + HEADER.format(name=locale.english_name).replace("\n", "\n# ")
    catalog.update(extract())
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, catalog)
    return path


def problems(language: str) -> Iterator[str]:
    """Every reason a catalog is not ready: untranslated, fuzzy, or placeholders that differ."""
    catalog = read_catalog(language)
    for message in catalog:
        if not message.id:
            continue
        where = f"{po_path(language).relative_to(ROOT)}: {_first_id(message)!r}"
        if message.fuzzy:
            yield f"{where}: fuzzy"
        if not _translated(message):
            yield f"{where}: untranslated"
            continue
        try:
            python_format(catalog, message)
        except Exception as error:  # babel raises TranslationError; any error is a problem here
            yield f"{where}: {error}"


def _translated(message: Message) -> bool:
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


def _first_id(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple | list) else str(message.id)


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def _write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=False, include_previous=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.catalogs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update")
    sub.add_parser("check")
    adding = sub.add_parser("add")
    adding.add_argument("language")
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
        print(f"updated {TEMPLATE.relative_to(ROOT)} and {len(languages())} catalogs")
        return 0
    if args.command == "add":
        print(f"created {add(args.language).relative_to(ROOT)}")
        return 0
    found = [problem for language in languages() for problem in problems(language)]
    print("\n".join(found) if found else f"{len(languages())} catalogs complete")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
