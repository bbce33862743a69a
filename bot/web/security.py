"""Headers every workspace response carries, and a limit on what a request may send."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.pages import MAX_UPLOAD_BYTES

# No inline script anywhere; Telegram's Mini App script is the only one from elsewhere. The
# workspace may be framed only by Telegram's web clients, which open it as a Mini App.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' https://telegram.org",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors https://web.telegram.org https://*.telegram.org",
    )
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
# A form with an upload, and some room for its other fields.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 512 * 1024


class SecurityHeaders:
    """Adds the headers to every response and refuses a body larger than the limit, unread."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *HEADERS]
            await send(message)

        length = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
            await PlainTextResponse("Request too large", status_code=413)(scope, receive, with_headers)
            return
        await self.app(scope, _limited(receive), with_headers)


def _limited(receive: Receive) -> Receive:
    """A body sent in chunks without a length still stops at the limit."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_REQUEST_BYTES:
                raise TooLarge
        return message

    return limited


class TooLarge(Exception):
    """The request body went past MAX_REQUEST_BYTES."""
