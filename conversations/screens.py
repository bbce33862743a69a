"""What the bot shows, as plain values: text (Telegram HTML) and buttons. No Telegram imports."""

from __future__ import annotations

from dataclasses import dataclass

MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class Button:
    """An inline button: a label and either callback data or a link."""

    label: str
    data: str | None = None
    url: str | None = None
    web_app: str | None = None  # an https address opened as a Telegram Mini App (private chats only)

    def __post_init__(self) -> None:
        if self.data is not None and not 1 <= len(self.data.encode()) <= MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data must be 1-{MAX_CALLBACK_BYTES} bytes: {self.data!r}")


Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Screen:
    """One message. `menu` attaches the main menu keyboard (only to a message without buttons)."""

    text: str
    buttons: Rows = ()
    menu: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file or a picture sent after the screens: a resident's data, an export, a chart."""

    filename: str
    content: bytes
    caption: str = ""
    picture: bool = False


@dataclass(frozen=True)
class Reply:
    """What to do in answer to one update.

    `edit`: the first screen replaces the message whose button was tapped.
    `clear_buttons`: the tapped message keeps its text but loses its buttons.
    `notice`: a short note shown on the tapped button (at most 200 characters).
    """

    screens: tuple[Screen, ...] = ()
    edit: bool = False
    clear_buttons: bool = False
    notice: str | None = None
    alert: bool = False
    attachments: tuple[Attachment, ...] = ()


def rows(*buttons: Button | None, per_row: int = 1) -> Rows:
    """Buttons laid out `per_row` to a row, leaving out None."""
    present = [b for b in buttons if b is not None]
    return tuple(tuple(present[i : i + per_row]) for i in range(0, len(present), per_row))


def shorten(text: str, limit: int) -> str:
    """Text cut to `limit` characters at a word, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.- ")
    return (cut or text[: limit - 1]) + "…"
