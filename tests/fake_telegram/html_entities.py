"""Telegram's HTML parse mode, reimplemented for the fake Bot API server.

The rules follow TDLib's ``parse_html`` (td/telegram/MessageEntity.cpp), which is what the
Bot API server runs on ``parse_mode=HTML``: the same tag set, the same attribute handling, the
same error reasons and byte offsets (offsets count UTF-8 bytes of the text as sent), and entity
offsets/lengths counted in UTF-16 code units as the Bot API reports them.

One deliberate difference, on by default (``strict_ampersand``): TDLib keeps a ``&`` that does not
start one of the four named entities or a numeric one as a literal character, but the Bot API
documentation says every ``&`` must be escaped. A bot that forgets ``html.escape`` on resident
input would garble ``&lt;`` typed by a resident, so the fake rejects the bare ``&``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["HtmlParseError", "ParsedText", "parse_html", "utf16_len"]

_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",  # only class="tg-spoiler" is accepted for span
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# TDLib's is_space() also treats NUL as a space; the end of the string plays that role here.
_SPACES = frozenset(" \t\r\n\v\f")
_LINK_SCHEMES = ("http://", "https://", "tg://", "ton://")


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``reason`` is what follows "can't parse entities: "."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ParsedText:
    """Plain text after parsing plus Bot API ``MessageEntity`` dicts (UTF-16 offsets)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Bot API entity offsets and lengths."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_start: int  # index into the output characters, for <a> without href


class _HtmlParser:
    """A cursor over the source text; one instance parses one string."""

    def __init__(self, source: str, *, strict_ampersand: bool) -> None:
        self.src = source
        self.pos = 0
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.utf16 = 0
        self.open: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    # -- helpers ---------------------------------------------------------------------------
    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8", "surrogatepass"))

    def char(self, index: int) -> str:
        """The character at ``index``, or "" past the end (TDLib's terminating NUL)."""
        return self.src[index] if index < len(self.src) else ""

    def is_space(self, index: int) -> bool:
        ch = self.char(index)
        return ch == "" or ch in _SPACES

    def skip_spaces(self) -> None:
        while self.char(self.pos) in _SPACES and self.char(self.pos) != "":
            self.pos += 1

    def emit(self, ch: str) -> None:
        self.out.append(ch)
        self.utf16 += 2 if ord(ch) > 0xFFFF else 1

    # -- entities (&amp; ...) ----------------------------------------------------------------
    def decode_entity(self, start: int) -> tuple[str, int] | None:
        """Decode the character reference at ``start``; return (char, next index) or None."""
        end = start + 1
        if self.char(end) == "#":
            end += 1
            hexadecimal = self.char(end) == "x"  # TDLib accepts only a lowercase x
            if hexadecimal:
                end += 1
            digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
            number_start = end
            while self.char(end) != "" and self.char(end) in digits:
                end += 1
            text = self.src[number_start:end]
            code = int(text, 16 if hexadecimal else 10) if text else 0
            if code == 0 or code >= 0x10FFFF or end - start >= 10:
                return None
            if 0xD800 <= code <= 0xDFFF:  # half a surrogate pair can never become valid UTF-8
                raise HtmlParseError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            decoded = chr(code)
        else:
            while self.char(end).isascii() and self.char(end).isalpha():
                end += 1
            named = _NAMED_ENTITIES.get(self.src[start + 1 : end])
            if named is None:
                return None
            decoded = named
        if self.char(end) == ";":
            end += 1
        return decoded, end

    def take_ampersand(self) -> None:
        decoded = self.decode_entity(self.pos)
        if decoded is None:
            if self.strict_ampersand:
                raise HtmlParseError(
                    f'Unescaped "&" at byte offset {self.byte_offset(self.pos)}; '
                    "write &amp; (the Bot API docs require it; Telegram itself would keep it)"
                )
            self.emit("&")
            self.pos += 1
            return
        ch, self.pos = decoded
        self.emit(ch)

    # -- tags ----------------------------------------------------------------------------------
    def parse(self) -> ParsedText:
        while self.pos < len(self.src):
            ch = self.src[self.pos]
            if ch == "&":
                self.take_ampersand()
            elif ch == "<":
                self.take_tag()
            else:
                self.emit(ch)
                self.pos += 1
        if self.open:
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{self.open[-1].name}"')
        # Bot API order: by offset, then the longer (outer) entity first.
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def take_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        if self.char(self.pos) == "/":
            self.take_end_tag(begin)
        else:
            self.take_start_tag(begin)

    def take_start_tag(self, begin: int) -> None:
        while not self.is_space(self.pos) and self.char(self.pos) != ">":
            self.pos += 1
        if self.char(self.pos) == "":
            raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = self.src[begin + 1 : self.pos].lower()
        if name not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        argument = self.take_attributes(name, begin)
        self.pos += 1  # the closing '>'
        if name == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}')
        self.open.append(_OpenTag(name, argument, self.utf16, len(self.out)))

    def take_attributes(self, tag: str, begin: int) -> str:
        """Read attributes up to the '>' and return the one argument Telegram keeps."""
        argument = ""
        while self.char(self.pos) != ">":
            self.skip_spaces()
            if self.char(self.pos) == ">":
                break
            attr_name = self.take_attribute_name(tag, begin)
            self.skip_spaces()
            if self.char(self.pos) != "=":
                if self.char(self.pos) == "":
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}')
                if tag == "blockquote" and attr_name == "expandable":
                    argument = "1"
                continue
            self.pos += 1
            self.skip_spaces()
            if self.char(self.pos) == "":
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}')
            value = self.take_attribute_value()
            if self.char(self.pos) == "":
                raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            argument = _tag_argument(tag, attr_name, value, argument)
        return argument

    def take_attribute_name(self, tag: str, begin: int) -> str:
        start = self.pos
        while not self.is_space(self.pos) and self.char(self.pos) not in "=>/\"'":
            self.pos += 1
        if self.pos == start:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(begin)}')
        return self.src[start : self.pos]

    def take_attribute_value(self) -> str:
        quote = self.char(self.pos)
        if quote not in ("'", '"'):
            # An unquoted name token: letters, digits, periods and hyphens, case-insensitive.
            start = self.pos
            while _is_name_token_char(self.char(self.pos)):
                self.pos += 1
            if not self.is_space(self.pos) and self.char(self.pos) != ">":
                raise HtmlParseError(f"Unexpected end of name token at byte offset {self.byte_offset(start)}")
            return self.src[start : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.char(self.pos) not in ("", quote):
            if self.char(self.pos) == "&":
                decoded = self.decode_entity(self.pos)
                if decoded is not None:
                    value.append(decoded[0])
                    self.pos = decoded[1]
                    continue
            value.append(self.src[self.pos])
            self.pos += 1
        if self.char(self.pos) == quote:
            self.pos += 1
        return "".join(value)

    def take_end_tag(self, begin: int) -> None:
        if not self.open:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 1  # the '/'
        name_start = self.pos
        while not self.is_space(self.pos) and self.char(self.pos) != ">":
            self.pos += 1
        end_name = self.src[name_start : self.pos].lower()
        self.skip_spaces()
        if self.char(self.pos) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 1
        top = self.open[-1]
        if end_name and end_name != top.name:  # "</>" closes whatever is open, as in TDLib
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{end_name}>"'
            )
        self.open.pop()
        if self.utf16 > top.utf16_offset:  # empty elements produce no entity
            self.add_entity(top)

    def add_entity(self, tag: _OpenTag) -> None:
        base = {"offset": tag.utf16_offset, "length": self.utf16 - tag.utf16_offset}
        if tag.name in _SIMPLE_TYPES:
            self.entities.append({"type": _SIMPLE_TYPES[tag.name], **base})
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument else "blockquote"
            self.entities.append({"type": kind, **base})
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            self.entities.append({"type": "custom_emoji", **base, "custom_emoji_id": tag.argument})
        elif tag.name == "a":
            self.add_link(tag, base)
        else:
            self.add_code(tag, base)

    def add_link(self, tag: _OpenTag, base: dict[str, Any]) -> None:
        url = tag.argument or "".join(self.out[tag.text_start :])
        checked = _checked_link(url)
        if checked is not None:  # Telegram silently drops links it cannot use
            self.entities.append({"type": "text_link", **base, "url": checked})

    def add_code(self, tag: _OpenTag, base: dict[str, Any]) -> None:
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (
            base["offset"],
            base["length"],
        )
        if tag.name == "pre":
            if same_span and last is not None and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"  # <pre><code class="language-x">...</code></pre>
            else:
                self.entities.append({"type": "pre", **base})
        elif same_span and last is not None and last["type"] == "pre" and tag.argument:
            last["language"] = tag.argument  # <code class="language-x"> directly inside <pre>
        else:
            entity = {"type": "code", **base}
            if tag.argument:
                entity["language"] = tag.argument  # removed below unless a <pre> claims it
            self.entities.append(entity)


def _is_name_token_char(ch: str) -> bool:
    return ch != "" and ((ch.isascii() and ch.isalnum()) or ch in ".-")


def _tag_argument(tag: str, attr_name: str, value: str, current: str) -> str:
    if tag == "a" and attr_name == "href":
        return value
    if tag == "code" and attr_name == "class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and attr_name == "class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and attr_name == "emoji-id":
        return value
    if tag == "blockquote" and attr_name == "expandable":
        return "1"
    return current


def _checked_link(url: str) -> str | None:
    """A coarse LinkManager::get_checked_link: known schemes or a bare host get through."""
    url = url.strip()
    if url.lower().startswith(_LINK_SCHEMES):
        return url
    if url and " " not in url and "." in url.split("/")[0] and "://" not in url:
        return "http://" + url
    return None


def parse_html(source: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse Telegram HTML; raise :class:`HtmlParseError` exactly where Telegram would."""
    parsed = _HtmlParser(source, strict_ampersand=strict_ampersand).parse()
    for entity in parsed.entities:
        # A lone <code class="language-x"> is plain code: TDLib clears its argument.
        if entity["type"] == "code":
            entity.pop("language", None)
    return parsed
