"""Translations and locale formatting for one resident's language.

Catalogs are read from the `.po` files and compiled in memory at start-up, so a
fresh checkout needs no build step and no compiled file is ever committed.
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import hashlib
import html
import io
import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

SOURCE_LANGUAGE = "en"
DOMAIN = "messages"
# Languages written right to left; their messages isolate left-to-right fragments.
RTL_LANGUAGES = frozenset({"ar", "ur", "fa", "he", "ps"})
FSI, PDI = "\u2068", "\u2069"
# Where a language's default locale formats dates for another country, name the one residents here use.
FORMAT_LOCALES = {"en": "en_GB"}


def N_(message: str) -> str:
    """Mark a message for the catalogs where it is written, to be translated later for its reader."""
    return message


class Html(str):
    """Text that is already safe HTML, so `Translator._` does not escape it again."""


def escape(text: str) -> Html:
    """User or officer text made safe for a Telegram HTML message."""
    return Html(html.escape(text, quote=False))


class Translator:
    """Everything language-specific a screen needs: messages, plurals, dates, numbers."""

    def __init__(self, language: str, translations: gettext.NullTranslations, timezone: ZoneInfo) -> None:
        self.language = language
        self._translations = translations
        self.timezone = timezone

    @property
    def translations(self) -> gettext.NullTranslations:
        """The compiled catalog itself, for the workspace's templates (Jinja2 formats and escapes)."""
        return self._translations

    @cached_property
    def locale(self) -> Locale:
        return Locale.parse(FORMAT_LOCALES.get(self.language, self.language))

    @property
    def is_rtl(self) -> bool:
        return self.language in RTL_LANGUAGES

    def _(self, message: str, **params: Any) -> str:
        """A translated HTML message; parameters are escaped unless marked `Html`."""
        return self._format(self._translations.gettext(message), params)

    def n_(self, singular: str, plural: str, n: int, **params: Any) -> str:
        """A translated message whose wording depends on the number `n`."""
        return self._format(self._translations.ngettext(singular, plural, n), {"n": n, **params})

    def _format(self, template: str, params: Mapping[str, Any]) -> str:
        if not params:
            return template
        safe = {key: self._safe(value) for key, value in params.items()}
        return template % safe

    def _safe(self, value: Any) -> Any:
        if isinstance(value, Html):
            return self.isolate(value)
        if isinstance(value, str):
            return self.isolate(html.escape(value, quote=False))
        if isinstance(value, int | float):
            return value
        return html.escape(str(value), quote=False)

    def isolate(self, fragment: str) -> str:
        """Keep a left-to-right fragment (a name, a date) in order inside right-to-left text."""
        return f"{FSI}{fragment}{PDI}" if self.is_rtl else fragment

    def date(self, moment: datetime) -> str:
        """A date as people write it in this language, in the deployment's time zone."""
        return _long_date(moment.astimezone(self.timezone).date(), self.locale)

    def date_time(self, moment: datetime) -> str:
        """A date and time as people write them in this language, in the deployment's time zone."""
        return format_datetime(moment, format="medium", tzinfo=self.timezone, locale=self.locale)

    def time(self, moment: datetime) -> str:
        """A time of day as people write it in this language (09:00), in the deployment's time zone."""
        return format_time(moment, format="short", tzinfo=self.timezone, locale=self.locale)

    def number(self, value: float) -> str:
        return _decimal(value, self.locale)

    def language_name(self, code: str) -> str:
        """A language's own name for itself ("Cymraeg"), for language buttons."""
        return _own_name(code)

    def language_label(self, code: str) -> str:
        """A language as an officer reads it: its name in this language, then its own ("Urdu (اردو)")."""
        return _label(code, self.language)


# Babel's formatting is slow next to everything else a screen does, and screens show the same
# few numbers (a scale's ends, a question's number) and dates again and again.
@functools.lru_cache(maxsize=4096)
def _long_date(day: date, locale: Locale) -> str:
    return format_date(day, format="long", locale=locale)


@functools.lru_cache(maxsize=4096, typed=True)  # typed: 2 and 2.0 may be written differently
def _decimal(value: float, locale: Locale) -> str:
    return format_decimal(value, locale=locale)


@functools.lru_cache(maxsize=64)
def _own_name(code: str) -> str:
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]


@functools.lru_cache(maxsize=512)
def _label(code: str, reader: str) -> str:
    own = _own_name(code)
    try:
        name = Locale.parse(code).get_display_name(Locale.parse(reader)) or own
    except (UnknownLocaleError, ValueError):
        return own
    name = name[:1].upper() + name[1:]
    if name == own:
        return own
    return f"{name} ({FSI}{own}{PDI})" if reader in RTL_LANGUAGES else f"{name} ({own})"


class Catalogs:
    """Every compiled catalog, and the choice of a resident's language."""

    def __init__(
        self, translations: Mapping[str, gettext.NullTranslations], default_language: str, timezone: ZoneInfo
    ) -> None:
        self._translations = dict(translations)
        self._translations.setdefault(SOURCE_LANGUAGE, gettext.NullTranslations())
        self.default_language = default_language if default_language in self._translations else SOURCE_LANGUAGE
        self.timezone = timezone
        self._translators: dict[str, Translator] = {}

    @classmethod
    def load(
        cls,
        default_language: str = SOURCE_LANGUAGE,
        timezone: str = "Europe/London",
        languages: Iterable[str] | None = None,
    ) -> Catalogs:
        """Compile the `.po` files shipped in `locales/`."""
        return cls(_compile_all(languages), default_language, ZoneInfo(timezone))

    @property
    def languages(self) -> list[str]:
        """Available languages, the source language first."""
        return sorted(self._translations, key=lambda code: (code != SOURCE_LANGUAGE, code))

    def translator(self, language: str) -> Translator:
        """The translator for a language (the default language if it is not available)."""
        if language not in self._translations:
            language = self.default_language
        found = self._translators.get(language)
        if found is None:
            found = Translator(language, self._translations[language], self.timezone)
            self._translators[language] = found
        return found

    def resolve(self, stored: str | None, telegram_code: str | None) -> str:
        """The resident's language: stored choice, else Telegram's language_code, else the default."""
        if stored in self._translations:
            return stored
        code = self.match(telegram_code)
        return code if code is not None else self.default_language

    def match(self, telegram_code: str | None) -> str | None:
        """An available language for a Telegram language_code such as "pt-BR" or "cy-GB"."""
        if not telegram_code:
            return None
        try:
            language = Locale.parse(telegram_code, sep="-" if "-" in telegram_code else "_").language
        except (UnknownLocaleError, ValueError, TypeError):
            return None
        return language if language in self._translations else None


def _compile_all(languages: Iterable[str] | None) -> dict[str, gettext.NullTranslations]:
    wanted = set(languages) if languages is not None else None
    found: dict[str, gettext.NullTranslations] = {}
    root = resources.files("locales")
    for folder in root.iterdir():
        po = folder / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po.is_file() or (wanted is not None and folder.name not in wanted):
            continue
        found[folder.name] = gettext.GNUTranslations(io.BytesIO(_compiled(folder.name, po.read_bytes())))
    return found


def _compiled(language: str, po: bytes) -> bytes:
    """A catalog compiled as msgfmt would (fuzzy entries left out), remembered by its content.

    Parsing the twelve catalogs took 0.6 s of CPU at every start of the bot; the compiled form is
    kept in the user's cache folder, under a hash of the .po file, so a changed catalog is compiled
    again and a cache that cannot be written only costs that time.
    """
    cache = _cache_folder() / f"{language}-{hashlib.sha256(po).hexdigest()[:32]}.mo"
    with contextlib.suppress(OSError):
        return cache.read_bytes()
    catalog = read_po(io.BytesIO(po), locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    compiled = buffer.getvalue()
    with contextlib.suppress(OSError):
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(compiled)
        partial.replace(cache)  # whole or not at all, even with several processes starting at once
        for stale in cache.parent.glob(f"{language}-*.mo"):
            if stale != cache:
                stale.unlink(missing_ok=True)
    return compiled


def _cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "haveyoursay" / "catalogs"
