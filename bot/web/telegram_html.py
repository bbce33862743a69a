"""A chat message's Telegram HTML as page HTML: a small, strict converter.

The bot's messages use only the tags Telegram allows (b, i, u, s, code, pre, a), with officer
and resident text already escaped. Here only those tags are kept (an `a` only with an http,
https or tg link, and no other attribute); everything else, a `<script>` included, is shown as
the text it is. The page then shows the message with `white-space: pre-wrap`, as Telegram does.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markupsafe import Markup

KEPT = frozenset({"b", "i", "u", "s", "code", "pre", "a"})
LINK_SCHEMES = frozenset({"http", "https", "tg"})


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[tuple[str, bool]] = []  # tags open now, and whether each was written

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in KEPT:
            self.out.append(html.escape(self.get_starttag_text() or ""))
            return
        if tag == "a":
            href = next((value for name, value in attrs if name == "href" and value), None)
            if href is None or not _safe_link(href):
                self.open.append((tag, False))  # the link's text stays, as text
                return
            self.out.append(f'<a href="{html.escape(href, quote=True)}" rel="noopener noreferrer">')
        else:
            self.out.append(f"<{tag}>")
        self.open.append((tag, True))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(html.escape(self.get_starttag_text() or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag not in KEPT:
            self.out.append(html.escape(f"</{tag}>"))
            return
        if all(name != tag for name, _written in self.open):
            return  # an end without a start: nothing to close
        while self.open:
            name, written = self.open.pop()
            if written:
                self.out.append(f"</{name}>")
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))

    def handle_comment(self, data: str) -> None:
        self.out.append(html.escape(f"<!--{data}-->", quote=False))

    def handle_decl(self, decl: str) -> None:
        self.out.append(html.escape(f"<!{decl}>", quote=False))

    def handle_pi(self, data: str) -> None:
        self.out.append(html.escape(f"<?{data}>", quote=False))

    def unknown_decl(self, data: str) -> None:
        self.out.append(html.escape(f"<![{data}]>", quote=False))

    def result(self) -> str:
        self.close()
        closing = [f"</{name}>" for name, written in reversed(self.open) if written]
        return "".join(self.out + closing)


def _safe_link(href: str) -> bool:
    try:
        scheme = urlsplit(href.strip()).scheme.lower()
    except ValueError:
        return False
    return scheme in LINK_SCHEMES


def telegram_to_page(text: str) -> Markup:
    """Telegram HTML as safe page HTML: its formatting kept, nothing else."""
    converter = _Converter()
    converter.feed(text)
    return Markup(converter.result())
