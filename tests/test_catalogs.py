"""Every catalog is complete, its placeholders match, and its plural rule picks CLDR's form."""

from __future__ import annotations

import gettext

import pytest
from babel import Locale

from bot.catalogs import PLURALS, extract, languages, problems, read_catalog
from conversations.i18n import Catalogs

EXPECTED_LANGUAGES = {"cy", "pl", "ro", "ur", "ar", "pa", "bn", "pt", "es", "so", "uk"}
NUMBERS = (0, 1, 2, 3, 5, 11, 22, 100)


def test_every_language_of_the_product_has_a_catalog() -> None:
    assert set(languages()) == EXPECTED_LANGUAGES
    assert set(Catalogs.load().languages) == EXPECTED_LANGUAGES | {"en"}


@pytest.mark.parametrize("language", sorted(EXPECTED_LANGUAGES))
def test_catalog_is_complete_with_no_fuzzy_entry_and_matching_placeholders(language: str) -> None:
    assert list(problems(language)) == []


def test_catalogs_carry_every_message_in_the_code() -> None:
    """A message added to the code and not yet in the catalogs fails here: run `python -m bot.catalogs update`."""
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id}
    for language in languages():
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in read_catalog(language) if m.id}
        assert wanted <= have, f"{language} lacks {sorted(wanted - have)[:5]}"


@pytest.mark.parametrize("language", sorted(PLURALS))
def test_plural_rule_chooses_the_cldr_form(language: str) -> None:
    categories, rule = PLURALS[language]
    choose = gettext.c2py(rule)  # the same parser gettext uses at run time
    locale = Locale.parse(language)
    for n in NUMBERS:
        assert categories[choose(n)] == locale.plural_form(n), f"{language}: {n}"


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("pl", 1, "1 odpowiedź"),
        ("pl", 5, "5 odpowiedzi"),
        ("uk", 21, "21 відповідь"),
        ("uk", 5, "5 відповідей"),
    ],
)
def test_ngettext_picks_the_translated_form_for_the_number(language: str, n: int, expected: str) -> None:
    t = Catalogs.load().translator(language)
    text = t.n_("Tap up to %(n)d answer, then tap Done.", "Tap up to %(n)d answers, then tap Done.", n)
    assert expected in text
