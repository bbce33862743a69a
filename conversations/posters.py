"""A QR poster for a consultation: a printable A4 PDF and a PNG of the same page.

The poster carries the consultation's title, its closing date and a short call to action in each
language the officer chose, the QR code of the consultation's link with a source tag
(conversations/deep_links.py: responses are counted by source), and the link written out.

Every script is drawn with a font that has it, shaped by HarfBuzz (right-to-left, joined Arabic
and Urdu letters, Bengali and Gurmukhi conjuncts). A language whose text no installed font can
draw is refused with a plain reason before anything is made, never printed as empty boxes.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import io
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from conversations import deep_links
from conversations.i18n import RTL_LANGUAGES, Translator
from conversations.services import Services
from conversations.survey.model import Consultation

if TYPE_CHECKING:
    from fpdf import FPDF

# The drawing libraries (fpdf2, fontTools, segno, pypdfium2) are imported when a poster is made,
# not when the bot starts.

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
# Each script's fonts, best first, as (regular, bold) file names: Debian's fonts-noto-core has
# every script the catalogs need; fonts-dejavu-core covers Latin and Cyrillic.
LATIN = (
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
)
SCRIPT_FONTS: dict[str, tuple[tuple[str, str], ...]] = {
    "ar": (
        ("NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf"),
        ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    ),
    "ur": (
        ("NotoNastaliqUrdu-Regular.ttf", "NotoNastaliqUrdu-Bold.ttf"),
        ("NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf"),
    ),
    "bn": (
        ("NotoSansBengali-Regular.ttf", "NotoSansBengali-Bold.ttf"),
        ("NotoSerifBengali-Regular.ttf", "NotoSerifBengali-Bold.ttf"),
    ),
    "pa": (
        ("NotoSansGurmukhi-Regular.ttf", "NotoSansGurmukhi-Bold.ttf"),
        ("NotoSerifGurmukhi-Regular.ttf", "NotoSerifGurmukhi-Bold.ttf"),
    ),
}
# Nastaliq stacks its letters high: its lines need more room than other scripts'.
LINE_HEIGHT = {"NotoNastaliqUrdu-Regular.ttf": 2.1}
DEFAULT_LINE_HEIGHT = 1.35
# Characters a font need not draw: spaces, and the invisible marks that order and join text.
INVISIBLE = frozenset(" \t\n\u00a0\u200b\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069\ufeff")

A4_WIDTH, A4_HEIGHT = 595.28, 841.89  # points
MARGIN = 42.0
PNG_DPI = 150
INK = (11, 12, 12)
RULE = (177, 180, 182)
# pdfium, which turns the page into a picture, is not safe to use from two threads at once.
_render_lock = threading.Lock()


@dataclass(frozen=True)
class PosterText:
    """What the poster says in one language."""

    language: str
    title: str
    call_to_action: str
    closes: str

    @property
    def rtl(self) -> bool:
        return self.language in RTL_LANGUAGES

    def characters(self) -> str:
        return self.title + self.call_to_action + self.closes


@dataclass(frozen=True)
class Poster:
    consultation_id: str
    source: str
    link: str
    texts: tuple[PosterText, ...]

    def filename(self, extension: str) -> str:
        return f"poster-{self.consultation_id}-{self.source}.{extension}"


@dataclass(frozen=True)
class PosterProblem:
    field: str  # "source" or "languages": the form field it concerns
    message: str  # HTML-escaped, in the officer's language


@dataclass(frozen=True)
class PosterRequest:
    """A poster asked for: the poster when it can be made, else what is wrong."""

    poster: Poster | None
    problems: tuple[PosterProblem, ...]


@dataclass(frozen=True)
class LanguageChoice:
    code: str
    label: str  # in the officer's language
    printable: bool


def _plain(html_text: str) -> str:
    """A translated message (HTML-escaped for Telegram) as plain text for the page of a PDF."""
    return html.unescape(html_text)


def poster_text(t: Translator, consultation: Consultation) -> PosterText:
    """The poster's words in `t`'s language; the title falls back to the consultation's default language."""
    return PosterText(
        t.language,
        consultation.text("title", t.language),
        _plain(t._("Scan to have your say in Telegram")),
        _plain(t._("Closes on %(date)s", date=t.date(consultation.closes))),
    )


def ordered_languages(services: Services, consultation: Consultation) -> list[str]:
    """The languages a poster can be in: the consultation's default first, then the catalogs' order."""
    languages = services.catalogs.languages
    first = [consultation.default_language] if consultation.default_language in languages else []
    return first + [code for code in languages if code not in first]


def language_choices(
    services: Services, consultation: Consultation, t: Translator, font_dirs: Sequence[Path] = FONT_DIRS
) -> list[LanguageChoice]:
    """Every language for the form, each saying whether this server can print it."""
    return [
        LanguageChoice(
            code,
            t.language_label(code),
            printable(poster_text(services.catalogs.translator(code), consultation), font_dirs),
        )
        for code in ordered_languages(services, consultation)
    ]


def make_poster(
    services: Services,
    consultation: Consultation,
    t: Translator,
    source: str,
    languages: Iterable[str],
    font_dirs: Sequence[Path] = FONT_DIRS,
) -> PosterRequest:
    """Check what the officer asked for (messages in `t`'s language) and, when it is right, the poster."""
    problems: list[PosterProblem] = []
    source = source.strip().lower()
    room = deep_links.source_room(consultation.id)
    if not source:
        problems.append(PosterProblem("source", t._("Enter a source tag, for example surgery-waiting-room")))
    elif not deep_links.SOURCE.fullmatch(source):
        message = t._("A source tag can only have letters, digits and hyphens, and must start with a letter or a digit")
        problems.append(PosterProblem("source", message))
    elif len(source) > room:
        message = t.n_(
            "A source tag for this consultation can have at most %(n)s character",
            "A source tag for this consultation can have at most %(n)s characters",
            room,
        )
        problems.append(PosterProblem("source", message))
    wanted = set(languages)
    chosen = [code for code in ordered_languages(services, consultation) if code in wanted]
    if not chosen:
        problems.append(PosterProblem("languages", t._("Choose at least one language")))
    texts = tuple(poster_text(services.catalogs.translator(code), consultation) for code in chosen)
    for text in texts:
        if not printable(text, font_dirs):
            message = t._(
                "%(language)s cannot be printed on this server: no font for its script is installed.",
                language=t.language_label(text.language),
            )
            problems.append(PosterProblem("languages", message))
    if problems:
        return PosterRequest(None, tuple(problems))
    link = deep_links.link(services.bot_username, consultation.id, source)
    return PosterRequest(Poster(consultation.id, source, link, texts), ())


# Fonts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontPair:
    regular: Path
    bold: Path


@functools.lru_cache(maxsize=8)
def _installed(font_dirs: tuple[Path, ...]) -> dict[str, Path]:
    """Every font file under these folders, by file name."""
    found: dict[str, Path] = {}
    for folder in font_dirs:
        if folder.is_dir():
            for path in sorted(folder.rglob("*.[ot]tf")):
                found.setdefault(path.name, path)
    return found


def _pick(candidates: Sequence[tuple[str, str]], font_dirs: Sequence[Path]) -> FontPair | None:
    installed = _installed(tuple(font_dirs))
    for regular, bold in candidates:
        if regular in installed:
            return FontPair(installed[regular], installed.get(bold, installed[regular]))
    return None


def fonts_for(language: str, font_dirs: Sequence[Path] = FONT_DIRS) -> tuple[FontPair | None, FontPair | None]:
    """The language's own font and the Latin font beside it (names, digits, the link)."""
    latin = _pick(LATIN, font_dirs)
    own = _pick(SCRIPT_FONTS[language], font_dirs) if language in SCRIPT_FONTS else latin
    return own, latin


@functools.lru_cache(maxsize=32)
def _characters(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    font = TTFont(str(path), lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def _shaping_available() -> bool:
    return importlib.util.find_spec("uharfbuzz") is not None


def printable(text: PosterText, font_dirs: Sequence[Path] = FONT_DIRS) -> bool:
    """True when installed fonts can draw every character of this language's text, shaped."""
    own, latin = fonts_for(text.language, font_dirs)
    if own is None or latin is None:
        return False
    if text.language in SCRIPT_FONTS and not _shaping_available():
        return False
    known = _characters(own.bold) | _characters(own.regular) | _characters(latin.bold) | _characters(latin.regular)
    return all(ord(c) in known for c in text.characters() + "0123456789" if c not in INVISIBLE)


# Drawing ----------------------------------------------------------------------------------------


def pdf_bytes(poster: Poster, font_dirs: Sequence[Path] = FONT_DIRS) -> bytes:
    """The poster as a one-page A4 PDF, ready to print."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_creator("Have Your Say")
    pdf.set_title(poster.texts[0].title)
    pdf.set_lang(poster.texts[0].language)
    families = _add_fonts(pdf, poster, font_dirs)
    pdf.add_page()
    pdf.set_text_color(*INK)
    count = len(poster.texts)
    qr_size = 300.0 if count == 1 else 250.0 if count == 2 else 210.0 if count <= 4 else 170.0
    link_height, gap = 30.0, 24.0
    room = A4_HEIGHT - 2 * MARGIN - qr_size - link_height - gap
    # Larger words for fewer languages; smaller until every language's words fit above the code.
    scale = 1.25 if count == 1 else 1.1 if count == 2 else 1.0
    height = _texts_height(pdf, poster, families, scale)
    for _ in range(6):
        if height <= room:
            break
        scale *= max(0.5, room / height) * 0.97
        height = _texts_height(pdf, poster, families, scale)
    # What is left over goes a third above and two thirds below: the eye finds it a little high.
    top = MARGIN + max(0.0, room - height) / 3
    _draw_texts(pdf, poster, families, scale, top)
    qr_top = top + height + gap
    _draw_qr(pdf, poster.link, (A4_WIDTH - qr_size) / 2, qr_top, qr_size)
    latin = families[poster.texts[0].language].latin
    pdf.set_text_shaping(False)
    size = 13.0
    pdf.set_font(latin, "", size)
    pdf.set_fallback_fonts([])
    while size > 6 and pdf.get_string_width(poster.link) > A4_WIDTH - 2 * MARGIN:
        size -= 0.5
        pdf.set_font(latin, "", size)
    pdf.set_xy(MARGIN, qr_top + qr_size + 6)
    pdf.cell(A4_WIDTH - 2 * MARGIN, link_height - 6, poster.link, align="C")
    return bytes(pdf.output())


def png_bytes(poster: Poster, font_dirs: Sequence[Path] = FONT_DIRS, dpi: int = PNG_DPI) -> bytes:
    """The same page as a picture, for screens, newsletters and social media."""
    import pypdfium2  # type: ignore[import-untyped]

    document = pypdfium2.PdfDocument(pdf_bytes(poster, font_dirs))
    with _render_lock:
        try:
            image = document[0].render(scale=dpi / 72).to_pil()
        finally:
            document.close()
    out = io.BytesIO()
    image.convert("L").save(out, format="PNG", optimize=True)
    return out.getvalue()


@dataclass(frozen=True)
class Families:
    """The font families (as added to the PDF) one language is drawn with."""

    own: str
    latin: str
    latin_characters: frozenset[int]

    def for_words(self, words: str) -> str:
        """Words with no letter of the language's own script (a title not yet translated) look
        best in the Latin font, spaces and all; the rest in the language's own."""
        if all(ord(c) in self.latin_characters or c in INVISIBLE for c in words):
            return self.latin
        return self.own


def _add_fonts(pdf: FPDF, poster: Poster, font_dirs: Sequence[Path]) -> dict[str, Families]:
    """Register each language's fonts once; per language, its own family and the Latin one."""
    families: dict[str, Families] = {}
    added: dict[Path, str] = {}
    for text in poster.texts:
        own, latin = fonts_for(text.language, font_dirs)
        assert own is not None and latin is not None, "make_poster refuses a language it cannot print"
        names = []
        for pair in (own, latin):
            if pair.regular not in added:
                family = f"f{len(added)}"
                pdf.add_font(family, "", str(pair.regular))
                pdf.add_font(family, "B", str(pair.bold))
                added[pair.regular] = family
            names.append(added[pair.regular])
        families[text.language] = Families(names[0], names[1], _characters(latin.bold))
    return families


def _lines(text: PosterText, scale: float) -> list[tuple[str, str, float]]:
    """(style, words, size) of each part of a language's block."""
    return [("B", text.title, 30 * scale), ("", text.call_to_action, 19 * scale), ("", text.closes, 16 * scale)]


def _select(pdf: FPDF, families: dict[str, Families], text: PosterText, style: str, words: str, size: float) -> float:
    """Set the font for these words; their line height."""
    chosen = families[text.language]
    family = chosen.for_words(words)
    pdf.set_font(family, style, size)
    pdf.set_fallback_fonts([chosen.latin] if chosen.latin != family else [])
    pdf.set_text_shaping(True, direction="rtl" if text.rtl else "ltr", language=text.language)
    return size * LINE_HEIGHT.get(Path(_font_file(pdf)).name, DEFAULT_LINE_HEIGHT)


def _font_file(pdf: FPDF) -> str:
    return str(getattr(pdf.current_font, "ttffile", ""))


def _block_height(pdf: FPDF, families: dict[str, Families], text: PosterText, scale: float) -> float:
    height = 0.0
    for style, words, size in _lines(text, scale):
        line = _select(pdf, families, text, style, words, size)
        measured = pdf.multi_cell(A4_WIDTH - 2 * MARGIN, line, words, align="C", dry_run=True, output="HEIGHT")
        height += float(measured) + 4 * scale  # type: ignore[arg-type]
    return height


def _texts_height(pdf: FPDF, poster: Poster, families: dict[str, Families], scale: float) -> float:
    gap = 18 * scale
    return sum(_block_height(pdf, families, text, scale) for text in poster.texts) + gap * (len(poster.texts) - 1)


def _draw_texts(pdf: FPDF, poster: Poster, families: dict[str, Families], scale: float, top: float) -> None:
    y = top
    gap = 18 * scale
    for index, text in enumerate(poster.texts):
        if index:
            pdf.set_draw_color(*RULE)
            pdf.set_line_width(0.8)
            pdf.line(A4_WIDTH / 2 - 60, y + gap / 2, A4_WIDTH / 2 + 60, y + gap / 2)
            y += gap
        for style, words, size in _lines(text, scale):
            line = _select(pdf, families, text, style, words, size)
            pdf.set_xy(MARGIN, y)
            pdf.multi_cell(A4_WIDTH - 2 * MARGIN, line, words, align="C", new_x="LMARGIN", new_y="NEXT")
            y = pdf.get_y() + 4 * scale


def _draw_qr(pdf: FPDF, link: str, x: float, y: float, size: float) -> None:
    """The link's QR code as vector squares (sharp at any print size), with its quiet zone inside `size`."""
    import segno

    code = segno.make(link, error="m", micro=False)
    border = 4
    modules = len(code.matrix) + 2 * border
    unit = size / modules
    pdf.set_fill_color(*INK)
    for row, values in enumerate(code.matrix):
        column = 0
        while column < len(values):
            if not values[column]:
                column += 1
                continue
            start = column
            while column < len(values) and values[column]:
                column += 1
            # A hair wider than the run, so no white seam shows between neighbouring squares.
            pdf.rect(
                x + (border + start) * unit, y + (border + row) * unit, (column - start) * unit + 0.05, unit + 0.05, "F"
            )
