"""What the bot shows, as plain values: text (Telegram HTML) and buttons. No Telegram imports."""

from __future__ import annotations

from dataclasses import dataclass

MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class Button:
    """An inline button: a label and one of callback data, a link, or a Mini App's address (`web_app`)."""

    label: str
    data: str | None = None
    url: str | None = None
    web_app: str | None = None  # an https address opened as a Telegram Mini App (private chats only)

    def __post_init__(self) -> None:
        if self.data is not None and not 1 <= len(self.data.encode()) <= MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data must be 1-{MAX_CALLBACK_BYTES} bytes: {self.data!r}")


Rows = tuple[tuple[Button, ...], ...]


def buttons_to_data(buttons: Rows) -> list[list[dict[str, str]]]:
    """Buttons as the delivery queue stores them (JSON): {"label", and "data", "url" or "web_app"}."""
    return [[_button_data(b) for b in row] for row in buttons]


def buttons_from_data(stored: list[list[dict[str, str]]]) -> Rows:
    """Buttons as `buttons_to_data` stored them."""
    return tuple(
        tuple(Button(b["label"], b.get("data") or None, b.get("url") or None, b.get("web_app") or None) for b in row)
        for row in stored
    )


def _button_data(button: Button) -> dict[str, str]:
    found = {"label": button.label}
    for name in ("data", "url", "web_app"):
        value = getattr(button, name)
        if value:
            found[name] = value
    return found


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
