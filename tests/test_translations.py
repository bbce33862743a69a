"""Consultation content out to translators as .po files and back in, as an officer does it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.cli import main
from conversations.survey.loader import load_consultation_file

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "gp-opening-hours.yaml"


@pytest.fixture
def imported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The example consultation, copied and imported into a fresh database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HAVEYOURSAY_DB", str(tmp_path / "t.db"))
    monkeypatch.delenv("HAVEYOURSAY_CONFIG", raising=False)
    copy = tmp_path / EXAMPLE.name
    shutil.copy(EXAMPLE, copy)
    assert main(["init"]) == 0
    assert main(["import", str(copy)]) == 0
    return copy


def translate(po: Path, translations: dict[str, str], *, fuzzy: frozenset[str] = frozenset()) -> None:
    with po.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.context in translations:
            message.string = translations[message.context]
            if message.context in fuzzy:
                message.flags.add("fuzzy")
    with po.open("wb") as handle:
        write_po(handle, catalog)


def test_export_names_each_text_by_its_place_with_existing_translations(imported: Path, tmp_path: Path) -> None:
    po = tmp_path / "cy.po"
    assert main(["translations", "export", "gp-opening-hours", "--lang", "cy", "-o", str(po)]) == 0
    with po.open("rb") as handle:
        catalog = read_po(handle)
    by_place = {m.context: (m.id, m.string) for m in catalog if m.id}
    assert by_place["title"] == ("GP opening hours", "Oriau agor meddygfeydd teulu")
    assert by_place["survey[0].choices[2].text"] == ("Longer ago", "Yn hirach yn ôl")
    assert by_place["survey[2].labels[1]"] == ("Very hard", "Anodd iawn")
    assert str(catalog.locale) == "cy"


def test_import_puts_translations_back_and_reports_stale_and_fuzzy_entries(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    po = tmp_path / "pl.po"
    main(["translations", "export", "gp-opening-hours", "--lang", "pl", "-o", str(po)])
    translate(
        po,
        {
            "title": "Godziny otwarcia przychodni",
            "survey[0].choices[0].text": "W ostatnim tygodniu",
            "survey[1].text": "Które godziny?",
        },
        fuzzy=frozenset({"survey[1].text"}),
    )
    text = po.read_text(encoding="utf-8").replace('msgid "Longer ago"', 'msgid "Some time ago"')
    po.write_text(
        text.replace('msgid "Some time ago"\nmsgstr ""', 'msgid "Some time ago"\nmsgstr "Dawno"'), encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["translations", "import", str(po), "--into", str(imported)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"{po}: survey[0].choices[2].text: the source text no longer matches the consultation; not imported" in out
    assert f"{po}: survey[1].text: marked fuzzy by the translator; not imported" in out
    assert out[-1] == f"{po}: 2 translations into pl imported into gp-opening-hours (18 left untranslated)"

    written = load_consultation_file(imported)
    assert written.consultation is not None
    assert written.consultation.title["pl"] == "Godziny otwarcia przychodni"
    assert written.consultation.survey[0].choices[0].text["pl"] == "W ostatnim tygodniu"
    assert imported.read_text(encoding="utf-8").startswith("# GP opening hours: a consultation"), "comments kept"
    warnings = [str(p) for p in written.warnings]
    assert f"{imported}:9: warning: summary: no pl translation" in warnings


def test_import_of_a_file_not_made_by_export_says_so(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    po = tmp_path / "other.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: pl\\n"\n\nmsgid "x"\nmsgstr "y"\n', encoding="utf-8")
    assert main(["translations", "import", str(po)]) == 1
    assert "not a file made by 'haveyoursay translations export'" in capsys.readouterr().out
