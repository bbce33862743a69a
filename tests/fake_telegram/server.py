"""A faithful in-process double of the Telegram Bot API for end-to-end tests.

The server is an aiohttp application on 127.0.0.1 running in a background thread with its own
event loop, so synchronous pytest tests can drive it while the real bot process (or a
``telegram.Bot``) talks HTTP to it. All fake state is mutated on the server loop; the driver
methods hop onto that loop, and read state under one lock. Waiting is done on conditions that the
server notifies (``threading.Condition`` for tests, ``asyncio.Condition`` for long polls): nothing
here sleeps in a polling loop.

Limits, error descriptions and HTTP statuses follow the Bot API docs and the TDLib/telegram-bot-api
sources; where Telegram's wording is unknown the description says what the fake refused. The limits
and behaviours it implements are listed in README.md next to this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import mimetypes
import re
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, NamedTuple, TypeVar

from aiohttp import web
from aiohttp.web_request import FileField

from .html_entities import HtmlParseError, parse_html, utf16_len

__all__ = [
    "ApiCall",
    "BotMessage",
    "CallbackAnswer",
    "FakeTelegram",
    "FakeUser",
    "ManualClock",
    "RateLimitHit",
    "RateLimits",
    "SentFile",
]

T = TypeVar("T")

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100
MAX_INLINE_BUTTONS_PER_ROW = 8
MAX_REPLY_BUTTONS = 300
MAX_REPLY_BUTTONS_PER_ROW = 12
MAX_PLACEHOLDER_LENGTH = 64
MAX_COMMANDS = 100

CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
# 400 descriptions below go through _bad(), which adds Telegram's "Bad Request: " prefix.
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
REPLY_MARKUP_UNPARSABLE = "can't parse reply keyboard markup JSON object"
REPLY_MARKUP_TOO_LONG = "reply markup is too long"
BUTTON_PREFIX = "Bad Request: can't parse inline keyboard button: "

# Update types delivered when allowed_updates was never set (or set to []), per the docs.
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "inline_query", "chosen_inline_result", "callback_query",
        "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
        "my_chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
INLINE_ACTION_FIELDS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
# Methods whose successful calls count against the flood limits ("messages sent").
RATE_LIMITED_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto"})
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_CODE_RE = re.compile(r"^[a-z]{2}$")  # ISO 639-1, or empty for every language
SCOPE_TYPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat", "chat_administrators",
     "chat_member"}
)  # fmt: skip
_Scope = tuple[str, int | None, int | None]  # type, chat_id, user_id
INCOMING_COMMAND_RE = re.compile(r"(?:(?<=\s)|^)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
FIRST_USER_ID = 700_000_001
FIRST_UPDATE_ID = 500_000_001


# --------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FakeUser:
    """A resident's Telegram account; their private chat with the bot has the same id."""

    id: int
    first_name: str
    language_code: str | None = "en"
    last_name: str | None = None
    username: str | None = None

    @property
    def chat_id(self) -> int:
        return self.id

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


class SentFile(NamedTuple):
    """A file the bot uploaded: unpacks as ``filename, content``."""

    filename: str
    content: bytes


@dataclass
class BotMessage:
    """A message the bot sent, as a snapshot (copies are handed to tests)."""

    chat_id: int
    message_id: int
    text: str = ""  # plain text after entity parsing (the caption for documents and photos)
    html: str | None = None  # text or caption exactly as sent
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)  # (label, data or url)
    reply_keyboard: list[list[str]] | None = None  # a ReplyKeyboardMarkup sent with it
    reply_markup: dict[str, Any] | None = None  # the markup as sent, whatever its kind
    edited: int = 0
    document: SentFile | None = None
    photo: SentFile | None = None
    deleted: bool = False
    date: int = 0
    edit_date: int | None = None
    reply_to_message_id: int | None = None
    seq: int = 0  # the chat's send/edit sequence number this snapshot reflects

    @property
    def kind(self) -> str:
        return "document" if self.document else "photo" if self.photo else "text"

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]

    def button_data(self, label: str) -> str:
        for row in self.buttons:
            for text, data in row:
                if text == label:
                    return data
        raise AssertionError(f"no button {label!r}; buttons are {self.labels}")


@dataclass(frozen=True)
class ApiCall:
    """One HTTP request the bot made, as answered by the fake."""

    method: str
    params: dict[str, Any]
    status: int
    result: Any = None
    error: str | None = None
    at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    user_id: int
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True)
class RateLimitHit:
    method: str
    chat_id: int
    retry_after: int
    at: float


@dataclass(frozen=True)
class RateLimits:
    """Flood limits as strict sliding windows; ``None`` switches one off."""

    per_chat_per_second: int | None = 1
    per_group_per_minute: int | None = 20
    global_per_second: int | None = 30


class ManualClock:
    """A monotonic clock tests move by hand (pass it as ``FakeTelegram(clock=...)``)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


# --------------------------------------------------------------------------------------------
# Internal state
# --------------------------------------------------------------------------------------------
class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters or {}

    def envelope(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:  # PTB complains about an empty or unknown "parameters" object
            data["parameters"] = self.parameters
        return data


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass
class _Fault:
    method: str
    chat_id: str | None
    error: _ApiError
    remaining: int


@dataclass
class _Hold:
    method: str
    chat_id: str | None
    held: bool = False  # a call is parked on it now
    released: asyncio.Event | None = None  # made on the server's loop when a call parks


@dataclass
class _Chat:
    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    user: FakeUser | None = None
    started: bool = False  # private chats: the user has written to the bot
    next_message_id: int = 1
    bot_messages: dict[int, BotMessage] = field(default_factory=dict)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: list[BotMessage] = field(default_factory=list)  # snapshots, one per send/edit
    seq: int = 0
    read_cursor: int = 0  # wait_for_message(since=None) starts after this seq
    reply_keyboard: list[list[str]] | None = None
    sends: deque[float] = field(default_factory=deque)
    migrated_to: int | None = None  # a group upgraded to this supergroup: sends to it fail

    def to_api(self) -> dict[str, Any]:
        if self.user is not None:
            data: dict[str, Any] = {"id": self.id, "type": "private"}
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        return {"id": self.id, "type": self.type, "title": self.title}

    def take_message_id(self) -> int:
        # Bot and user messages share one counter per chat, as in Telegram's private chats.
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class _CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    data: str | None
    issued_at: float
    answer: CallbackAnswer | None = None


class _Params:
    """Request parameters: Telegram accepts every value as a string, JSON values JSON-encoded."""

    def __init__(self, values: dict[str, Any], files: dict[str, SentFile]) -> None:
        self.values = values
        self.files = files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)

    def integer(self, name: str, *, error: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            pass
        try:  # "10.0" from a client that serialises a float period
            number = float(value)
        except (TypeError, ValueError):
            raise _bad(error) from None
        if not number.is_integer():
            raise _bad(error)
        return int(number)

    def flag(self, name: str) -> bool:
        return self.values.get(name) in (True, 1, "true", "True", "1")

    def json(self, name: str, *, error: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(error) from None

    def file(self, name: str) -> SentFile | str | None:
        if name in self.files:
            return self.files[name]
        value = self.text(name)
        if value and value.startswith("attach://"):
            attached = self.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise _bad(f"file {value} not found in the request")
            return attached
        return value

    def for_log(self) -> dict[str, Any]:
        logged = dict(self.values)
        for name, sent in self.files.items():
            logged[name] = f"<file {sent.filename!r}, {len(sent.content)} bytes>"
        return logged


@dataclass
class _Formatted:
    raw: str
    text: str
    entities: list[dict[str, Any]]
    parse_mode: str | None


# Canonical method names; dispatch is case-insensitive as in Telegram.
_METHODS = {
    name.lower(): name
    for name in (
        "getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
        "setMyCommands", "getMyCommands", "deleteMyCommands", "setChatMenuButton",
        "getChatMenuButton", "sendMessage", "editMessageText", "editMessageReplyMarkup",
        "deleteMessage", "answerCallbackQuery", "sendChatAction", "sendDocument", "sendPhoto",
    )
}  # fmt: skip


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------
class FakeTelegram:
    """The Bot API test double. Use as a context manager or call ``start()``/``stop()``."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        bot_username: str = "HaveYourSayTestBot",
        bot_first_name: str = "Have Your Say",
        clock: Callable[[], float] = time.monotonic,
        rate_limits: RateLimits | None = None,
        strict_ampersand: bool = True,
        callback_query_timeout: float | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.clock = clock
        self.rate_limits = rate_limits
        self.strict_ampersand = strict_ampersand
        self.callback_query_timeout = callback_query_timeout
        self._host = host
        self._bot_user = {
            "id": int(token.split(":", 1)[0]) if TOKEN_RE.match(token) else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        # State below is guarded by _lock; _changed wakes tests waiting on it.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, FakeUser] = {}
        self._blocked: set[int] = set()
        self._deactivated: set[int] = set()
        self._pending: list[dict[str, Any]] = []
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._dropped_updates: list[dict[str, Any]] = []
        self._last_update_id = FIRST_UPDATE_ID - 1
        self._poll_generation = 0
        self._inflight = 0
        self._parked_polls = 0
        self._last_activity = time.monotonic()
        self._calls: list[ApiCall] = []
        self._faults: list[_Fault] = []
        self._holds: list[_Hold] = []
        self._queries: dict[str, _CallbackQuery] = {}
        self._rate_limited: list[RateLimitHit] = []
        self._sent_count = 0  # messages sent (not edits) in every chat, for wait_for_sent()
        self._global_sends: deque[float] = deque()
        self._commands: dict[tuple[_Scope, str], list[dict[str, str]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._webhook: dict[str, Any] = {"url": ""}
        self._uploads: dict[str, SentFile] = {}
        self._ids = itertools.count(1)
        self._group_ids = itertools.count(1)
        # Server plumbing, created in start().
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._updates_cond: asyncio.Condition | None = None
        self._stopping = False
        self._port = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> FakeTelegram:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as ``base_url``; it appends the token itself."""
        if not self._port:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self._host}:{self._port}/bot"

    def start(self) -> FakeTelegram:
        if self._thread is not None:
            raise RuntimeError("FakeTelegram already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._serve, args=(ready, failure), name="fake-telegram", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise RuntimeError("FakeTelegram failed to start") from failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:  # reported to start() in the caller's thread
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.close()

    async def _startup(self) -> None:
        self._updates_cond = asyncio.Condition()
        # Telegram accepts uploads up to 50 MB; aiohttp's default body limit is 1 MB.
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a bot process that dies mid long poll must not leave a parked
        # getUpdates behind, or wait_for_polling() would see the dead bot as still polling.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        self._stopping = True
        await self._wake_pollers()  # long polls answer [] at once instead of holding cleanup
        if self._runner is not None:
            await self._runner.cleanup()

    # -- HTTP entry point ----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        match = re.fullmatch(r"/bot([^/]*)/([^/]+)/?", request.path)
        if match is None:
            return self._respond(_ApiError(404, "Not Found"))
        token, method_name = match.groups()
        method = _METHODS.get(method_name.lower(), method_name)
        try:
            params = await self._read_params(request)
        except _ApiError as exc:
            return self._record(method, _Params({}, {}), exc)
        if method != "getUpdates":
            self._activity(+1)
        try:
            result = await self._dispatch(token, method, params)
        except _ApiError as exc:
            return self._record(method, params, exc)
        finally:
            if method != "getUpdates":
                self._activity(-1)
        return self._record(method, params, result)

    async def _read_params(self, request: web.Request) -> _Params:
        values: dict[str, Any] = dict(request.query)
        files: dict[str, SentFile] = {}
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON object") from None
            if isinstance(body, dict):
                values.update(body)
        elif request.can_read_body:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, FileField):
                    files[name] = SentFile(value.filename or name, value.file.read())
                else:
                    values[name] = value
        return _Params(values, files)

    async def _dispatch(self, token: str, method: str, params: _Params) -> Any:
        if token != self.token:
            # Telegram: 401 for a well-formed but wrong token, 404 for a malformed one.
            if TOKEN_RE.match(token):
                raise _ApiError(401, "Unauthorized")
            raise _ApiError(404, "Not Found")
        if method.lower() not in _METHODS:
            raise _ApiError(404, "Not Found: method not found")
        self._raise_injected_fault(method, params)
        await self._wait_if_held(method, params)
        handler = getattr(self, f"_api_{_snake(method)}")
        if method == "getUpdates":
            return await handler(params)
        with self._lock:
            return handler(params)

    def _record(self, method: str, params: _Params, outcome: Any) -> web.Response:
        if isinstance(outcome, _ApiError):
            status, body = outcome.code, outcome.envelope()
            call = ApiCall(method, params.for_log(), status, None, outcome.description, self.clock())
        else:
            status, body = 200, {"ok": True, "result": outcome}
            call = ApiCall(method, params.for_log(), status, outcome, None, self.clock())
        with self._lock:
            self._calls.append(call)
            self._changed.notify_all()
        return web.json_response(body, status=status)

    @staticmethod
    def _respond(error: _ApiError) -> web.Response:
        return web.json_response(error.envelope(), status=error.code)

    def _activity(self, delta: int) -> None:
        with self._lock:
            self._inflight += delta
            self._last_activity = time.monotonic()
            self._changed.notify_all()

    # -- fault injection -----------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        chat_id: int | str | None = None,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (for ``chat_id``, if given) fail."""
        parameters: dict[str, Any] = {}
        if error_code == 429:
            retry_after = retry_after or 1
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if error_code >= 500:
            # Telegram's 5xx bodies carry no useful description; PTB maps them to NetworkError.
            description, parameters = HTTPStatus(error_code).phrase, {}
        elif description is None:
            description = _default_description(error_code, retry_after, migrate_to_chat_id)
        fault = _Fault(
            method=method.lower(),
            chat_id=None if chat_id is None else str(chat_id),
            error=_ApiError(error_code, description, parameters),
            remaining=count,
        )
        with self._lock:
            self._faults.append(fault)

    def _raise_injected_fault(self, method: str, params: _Params) -> None:
        with self._lock:
            for fault in self._faults:
                if fault.method != method.lower():
                    continue
                if fault.chat_id is not None and fault.chat_id != params.text("chat_id"):
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise fault.error

    def hold_next(self, method: str, *, chat_id: int | str | None = None) -> None:
        """Park the next call of ``method`` (for ``chat_id``, if given) before it does anything.

        The call neither answers nor takes effect (a parked getUpdates confirms nothing) until
        ``release_held()``; a bot killed meanwhile has made it in vain. With ``wait_for_held()``
        this stops a bot at an exact point, e.g. with an answer committed and its offset unconfirmed.
        """
        with self._lock:
            self._holds.append(_Hold(method.lower(), None if chat_id is None else str(chat_id)))

    def wait_for_held(self, count: int = 1, timeout: float = 10.0) -> None:
        """Block until ``count`` calls are parked by ``hold_next``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(hold.held for hold in self._holds) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"fewer than {count} held call(s) within {timeout}s")
                self._changed.wait(remaining)

    def release_held(self) -> None:
        """Let every held call go on (or, with no call parked yet, forget the holds)."""
        with self._lock:
            holds, self._holds = self._holds, []
        for hold in holds:
            if hold.released is not None and self._loop is not None:
                self._loop.call_soon_threadsafe(hold.released.set)

    async def _wait_if_held(self, method: str, params: _Params) -> None:
        with self._lock:
            hold = next(
                (
                    h
                    for h in self._holds
                    if not h.held and h.method == method.lower() and h.chat_id in (None, params.text("chat_id"))
                ),
                None,
            )
            if hold is None:
                return
            hold.held = True
            hold.released = asyncio.Event()
            self._changed.notify_all()
        # A killed bot drops the connection and aiohttp cancels this wait (handler_cancellation).
        await hold.released.wait()

    def block(self, user: FakeUser) -> None:
        """The resident blocks the bot: sends fail with 403; a my_chat_member update is sent."""
        with self._lock:
            self._blocked.add(user.id)
        self._push_member_update(user, old="member", new="kicked")

    def unblock(self, user: FakeUser) -> None:
        with self._lock:
            self._blocked.discard(user.id)
        self._push_member_update(user, old="kicked", new="member")

    def deactivate(self, user: FakeUser) -> None:
        """The resident deletes their account: sends fail with 403 "user is deactivated"."""
        with self._lock:
            self._deactivated.add(user.id)

    def set_rate_limits(self, limits: RateLimits | None) -> None:
        with self._lock:
            self.rate_limits = limits

    # -- Bot API: identity, webhooks, commands -------------------------------------------------
    def _api_get_me(self, params: _Params) -> dict[str, Any]:
        return dict(self._bot_user)

    def _api_set_webhook(self, params: _Params) -> bool:
        url = params.text("url") or ""
        if url and not url.lower().startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token")
        if secret is not None and not SECRET_TOKEN_RE.match(secret):
            raise _bad("secret token contains unallowed characters")
        allowed = params.json("allowed_updates", error="can't parse allowed_updates")
        self._webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        return True

    def _api_delete_webhook(self, params: _Params) -> bool:
        self._webhook = {"url": ""}
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        return True

    def _api_get_webhook_info(self, params: _Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook.get("allowed_updates"):
            info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    def _commands_key(self, params: _Params) -> tuple[_Scope, str]:
        """The scope and language a command list is stored under, checked as Telegram checks them."""
        raw = params.json("scope", error="can't parse BotCommandScope JSON object")
        language = params.text("language_code") or ""
        if language and not LANGUAGE_CODE_RE.match(language):
            raise _bad("LANG_CODE_INVALID")
        return self._scope(raw), language

    def _scope(self, raw: Any) -> _Scope:
        """A BotCommandScope as a hashable value; the chat it names must be one the bot can reach."""
        raw = raw if raw is not None else {"type": "default"}
        if not isinstance(raw, dict) or raw.get("type") not in SCOPE_TYPES:
            raise _bad("can't parse BotCommandScope JSON object")
        kind = str(raw["type"])
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return (kind, None, None)
        try:
            chat_id = int(raw["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise _bad("can't parse BotCommandScope JSON object") from None
        chat = self._chats.get(chat_id)
        if chat is None or (chat.type == "private" and not chat.started):
            raise _bad("chat not found")
        if kind == "chat":
            return (kind, chat_id, None)
        if chat.type == "private":  # administrators and members are scopes of groups
            raise _bad("can't use this scope in a private chat")
        if kind == "chat_administrators":
            return (kind, chat_id, None)
        try:
            user_id = int(raw["user_id"])
        except (KeyError, TypeError, ValueError):
            raise _bad("can't parse BotCommandScope JSON object") from None
        if user_id not in self._users:
            raise _bad("user not found")
        return (kind, chat_id, user_id)

    def _api_set_my_commands(self, params: _Params) -> bool:
        commands = params.json("commands", error="can't parse commands JSON object")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            _check_command(command)
        key = self._commands_key(params)
        if not commands:  # an empty list is how Telegram's clients see a deleted one
            self._commands.pop(key, None)
            return True
        self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _api_get_my_commands(self, params: _Params) -> list[dict[str, str]]:
        return list(self._commands.get(self._commands_key(params), []))

    def _api_delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _api_set_chat_menu_button(self, params: _Params) -> bool:
        chat_id = params.integer("chat_id", error="chat not found")
        if chat_id is not None and chat_id not in self._chats:
            raise _bad("chat not found")
        button = params.json("menu_button", error="can't parse menu button JSON object")
        self._menu_buttons[chat_id] = button or {"type": "default"}
        return True

    def _api_get_chat_menu_button(self, params: _Params) -> dict[str, Any]:
        chat_id = params.integer("chat_id", error="chat not found")
        default = self._menu_buttons.get(None, {"type": "commands"})
        return dict(self._menu_buttons.get(chat_id, default))

    # -- Bot API: getUpdates -------------------------------------------------------------------
    async def _api_get_updates(self, params: _Params) -> list[dict[str, Any]]:
        assert self._updates_cond is not None
        offset = params.integer("offset", error="invalid offset", default=0) or 0
        limit = min(max(params.integer("limit", error="invalid limit", default=100) or 100, 1), 100)
        timeout = max(params.integer("timeout", error="invalid timeout", default=0) or 0, 0)
        allowed = params.json("allowed_updates", error="can't parse allowed_updates")
        async with self._updates_cond:
            if self._webhook["url"]:
                raise _ApiError(409, CONFLICT_WEBHOOK)
            # A newer getUpdates terminates the one still waiting, as Telegram does.
            self._poll_generation += 1
            generation = self._poll_generation
            self._updates_cond.notify_all()
            self._confirm(offset, allowed)

            def ready() -> bool:
                return self._stopping or generation != self._poll_generation or bool(self._pending)

            if not ready() and timeout:
                self._set_parked(+1)
                try:
                    with contextlib.suppress(TimeoutError):  # an empty answer after the timeout
                        await asyncio.wait_for(self._updates_cond.wait_for(ready), timeout)
                finally:
                    self._set_parked(-1)
            if generation != self._poll_generation:
                raise _ApiError(409, CONFLICT_OTHER_POLL)
            with self._lock:
                return copy.deepcopy(self._pending[:limit])

    def _confirm(self, offset: int, allowed: Any) -> None:
        with self._lock:
            if offset > 0:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            elif offset < 0:
                # "-offset updates from the end of the queue; all previous ones are forgotten".
                self._pending = self._pending[offset:]
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
            self._last_activity = time.monotonic()
            self._changed.notify_all()

    def _set_parked(self, delta: int) -> None:
        with self._lock:
            self._parked_polls += delta
            self._changed.notify_all()

    async def _wake_pollers(self) -> None:
        if self._updates_cond is None:
            return
        async with self._updates_cond:
            self._updates_cond.notify_all()

    # -- Bot API: messages -----------------------------------------------------------------------
    def _api_send_message(self, params: _Params) -> dict[str, Any]:
        chat = self._writable_chat(params)
        formatted = self._formatted(params, "text", "entities", limit=MAX_TEXT_LENGTH)
        markup = self._reply_markup(params)
        reply_to = self._reply_target(chat, params)
        self._check_rate(chat, "sendMessage")
        message = BotMessage(chat_id=chat.id, message_id=chat.take_message_id())
        _apply_text(message, formatted)
        return self._store_sent(chat, message, markup, reply_to)

    def _api_send_document(self, params: _Params) -> dict[str, Any]:
        return self._send_media(params, "document")

    def _api_send_photo(self, params: _Params) -> dict[str, Any]:
        return self._send_media(params, "photo")

    def _send_media(self, params: _Params, kind: str) -> dict[str, Any]:
        chat = self._writable_chat(params)
        sent = self._media_file(params, kind)
        caption = self._caption(params)
        markup = self._reply_markup(params)
        reply_to = self._reply_target(chat, params)
        self._check_rate(chat, "sendDocument" if kind == "document" else "sendPhoto")
        message = BotMessage(chat_id=chat.id, message_id=chat.take_message_id())
        setattr(message, kind, sent)
        if caption is not None:
            _apply_text(message, caption)
        return self._store_sent(chat, message, markup, reply_to)

    def _media_file(self, params: _Params, kind: str) -> SentFile:
        value = params.file(kind)
        if value is None or value == "":
            raise _bad(f"there is no {kind} in the request")
        if isinstance(value, SentFile):
            if not value.content:
                raise _bad("file must be non-empty")
            return value
        if value in self._uploads:  # resending by file_id
            return self._uploads[value]
        if value.lower().startswith(("http://", "https://")):
            return SentFile(value.rsplit("/", 1)[-1] or kind, b"")  # the fake fetches nothing
        raise _bad("wrong file identifier/HTTP URL specified")

    def _caption(self, params: _Params) -> _Formatted | None:
        if not params.text("caption"):
            return None
        return self._formatted(
            params,
            "caption",
            "caption_entities",
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
            allow_blank=True,
        )

    def _store_sent(
        self,
        chat: _Chat,
        message: BotMessage,
        markup: dict[str, Any] | None,
        reply_to: int | None,
    ) -> dict[str, Any]:
        message.date = int(time.time())
        message.reply_to_message_id = reply_to
        _apply_markup(message, markup)
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = message.reply_keyboard
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        chat.bot_messages[message.message_id] = message
        self._sent_count += 1
        self._record_sent_time(chat)
        self._note_event(chat, message)
        return self._message_json(chat, message)

    def _api_edit_message_text(self, params: _Params) -> dict[str, Any]:
        chat, message = self._editable(params)
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        formatted = self._formatted(params, "text", "entities", limit=MAX_TEXT_LENGTH, too_long="MESSAGE_TOO_LONG")
        markup = self._reply_markup(params, inline_only=True)
        unchanged = (formatted.text, formatted.entities, markup) == (
            message.text,
            message.entities,
            _inline_markup(message),
        )
        if unchanged:
            raise _bad(NOT_MODIFIED)
        _apply_text(message, formatted)
        _replace_inline_markup(message, markup)  # without reply_markup the keyboard goes away
        return self._store_edit(chat, message)

    def _api_edit_message_reply_markup(self, params: _Params) -> dict[str, Any]:
        chat, message = self._editable(params)
        markup = self._reply_markup(params, inline_only=True)
        if markup == _inline_markup(message):
            raise _bad(NOT_MODIFIED)
        _replace_inline_markup(message, markup)
        return self._store_edit(chat, message)

    def _store_edit(self, chat: _Chat, message: BotMessage) -> dict[str, Any]:
        message.edited += 1
        message.edit_date = int(time.time())
        self._note_event(chat, message)
        return self._message_json(chat, message)

    def _api_delete_message(self, params: _Params) -> bool:
        chat = self._chat_from(params)
        message_id = params.integer("message_id", error="message identifier is not specified")
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = chat.bot_messages.get(message_id)
        if message is not None and not message.deleted:
            message.deleted = True
        elif chat.user_messages.pop(message_id, None) is None:
            raise _bad("message to delete not found")
        self._changed.notify_all()
        return True

    def _api_send_chat_action(self, params: _Params) -> bool:
        self._writable_chat(params)
        if params.text("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _api_answer_callback_query(self, params: _Params) -> bool:
        query = self._queries.get(params.text("callback_query_id") or "")
        expired = (
            query is not None
            and self.callback_query_timeout is not None
            and self.clock() - query.issued_at > self.callback_query_timeout
        )
        if query is None or query.answer is not None or expired:
            raise _bad(QUERY_INVALID)
        text = params.text("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        query.answer = CallbackAnswer(
            query_id=query.id,
            user_id=query.user_id,
            data=query.data,
            text=text,
            show_alert=params.flag("show_alert"),
            url=params.text("url"),
        )
        self._changed.notify_all()
        return True

    # -- validation helpers --------------------------------------------------------------------
    def _chat_from(self, params: _Params) -> _Chat:
        raw = params.text("chat_id")
        if not raw:
            raise _bad("chat_id is empty")
        try:
            chat = self._chats.get(int(raw))
        except ValueError:
            chat = None  # "@username": the fake's chats have no public usernames
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _writable_chat(self, params: _Params) -> _Chat:
        chat = self._chat_from(params)
        if chat.migrated_to is not None:
            # Bot API: 400 with ResponseParameters.migrate_to_chat_id (python-telegram-bot: ChatMigrated).
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.user is not None:
            if chat.user.id in self._deactivated:
                raise _ApiError(403, "Forbidden: user is deactivated")
            if chat.user.id in self._blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _editable(self, params: _Params) -> tuple[_Chat, BotMessage]:
        if params.text("inline_message_id"):
            raise _bad("message to edit not found")  # the fake has no inline messages
        chat = self._writable_chat(params)
        message_id = params.integer("message_id", error="message identifier is not specified")
        if message_id is None:
            raise _bad("message identifier is not specified")
        if message_id in chat.user_messages:
            raise _bad("message can't be edited")
        message = chat.bot_messages.get(message_id)
        if message is None or message.deleted:
            raise _bad("message to edit not found")
        return chat, message

    def _formatted(
        self,
        params: _Params,
        name: str,
        entities_name: str,
        *,
        limit: int,
        too_long: str = "message is too long",
        allow_blank: bool = False,
    ) -> _Formatted:
        raw = params.text(name)
        if not raw:
            raise _bad("message text is empty")
        parse_mode = params.text("parse_mode") or None
        if parse_mode is None:
            entities = params.json(entities_name, error=f"can't parse {entities_name}") or []
            text = raw
        elif parse_mode.lower() == "html":
            try:
                parsed = parse_html(raw, strict_ampersand=self.strict_ampersand)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc.reason}") from None
            text, entities = parsed.text, parsed.entities
        elif parse_mode.lower() in ("markdown", "markdownv2"):
            raise _bad(f"can't parse entities: the test double only parses HTML, not {parse_mode}")
        else:
            raise _bad("unsupported parse_mode")
        if not text.strip() and not allow_blank:
            raise _bad("message must be non-empty")
        if len(text) > limit:
            raise _bad(too_long)
        return _Formatted(raw, text, entities, parse_mode)

    def _reply_markup(self, params: _Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        markup = params.json("reply_markup", error=REPLY_MARKUP_UNPARSABLE)
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad(REPLY_MARKUP_UNPARSABLE)
        if "inline_keyboard" in markup:
            _check_inline_keyboard(markup["inline_keyboard"])
        elif inline_only:
            raise _bad("inline keyboard expected")
        elif "keyboard" in markup:
            _check_reply_keyboard(markup)
        elif markup.get("force_reply") is True:
            _check_placeholder(markup)
        elif markup.get("remove_keyboard") is not True:
            raise _bad(REPLY_MARKUP_UNPARSABLE)
        return markup

    def _reply_target(self, chat: _Chat, params: _Params) -> int | None:
        reply = params.json("reply_parameters", error="can't parse reply parameters JSON object")
        if reply is None and params.raw("reply_to_message_id") is not None:
            reply = {
                "message_id": params.raw("reply_to_message_id"),
                "allow_sending_without_reply": params.flag("allow_sending_without_reply"),
            }
        if not isinstance(reply, dict):
            return None
        try:
            message_id = int(reply.get("message_id", 0))
        except (TypeError, ValueError):
            raise _bad("message to be replied not found") from None
        bot_message = chat.bot_messages.get(message_id)
        exists = message_id in chat.user_messages or (bot_message and not bot_message.deleted)
        if exists:
            return message_id
        if reply.get("allow_sending_without_reply") in (True, "true"):
            return None
        raise _bad("message to be replied not found")

    # -- rate limits -----------------------------------------------------------------------------
    def _check_rate(self, chat: _Chat, method: str) -> None:
        limits = self.rate_limits
        if limits is None or method not in RATE_LIMITED_METHODS:
            return
        now = self.clock()
        waits = [
            _window_wait(self._global_sends, limits.global_per_second, 1.0, now),
            _window_wait(
                chat.sends,
                limits.per_chat_per_second if chat.type == "private" else None,
                1.0,
                now,
            ),
            _window_wait(
                chat.sends,
                limits.per_group_per_minute if chat.type != "private" else None,
                60.0,
                now,
            ),
        ]
        retry_after = max(waits)
        if retry_after > 0:
            self._rate_limited.append(RateLimitHit(method, chat.id, retry_after, now))
            raise _ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )

    def _record_sent_time(self, chat: _Chat) -> None:
        now = self.clock()
        chat.sends.append(now)
        self._global_sends.append(now)
        _trim(chat.sends, now, 60.0)
        _trim(self._global_sends, now, 1.0)

    # -- message JSON and events ---------------------------------------------------------------
    def _message_json(self, chat: _Chat, message: BotMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": dict(self._bot_user),
            "chat": chat.to_api(),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        self._add_content(data, message)
        inline = _inline_markup(message)
        if inline is not None:
            data["reply_markup"] = inline  # Telegram echoes inline keyboards only
        if message.reply_to_message_id is not None:
            data["reply_to_message"] = self._reply_json(chat, message.reply_to_message_id)
        return data

    def _add_content(self, data: dict[str, Any], message: BotMessage) -> None:
        text_key, entities_key = "text", "entities"
        if message.document is not None:
            data["document"] = self._file_json(message.document, "document")
            text_key, entities_key = "caption", "caption_entities"
        elif message.photo is not None:
            data["photo"] = self._photo_json(message.photo)
            text_key, entities_key = "caption", "caption_entities"
        if message.text or text_key == "text":
            data[text_key] = message.text
        if message.entities:
            data[entities_key] = copy.deepcopy(message.entities)

    def _reply_json(self, chat: _Chat, message_id: int) -> dict[str, Any]:
        if message_id in chat.user_messages:
            return copy.deepcopy(chat.user_messages[message_id])
        replied = chat.bot_messages[message_id]
        data = {
            "message_id": message_id,
            "from": dict(self._bot_user),
            "chat": chat.to_api(),
            "date": replied.date,
        }
        self._add_content(data, replied)
        return data

    def _file_json(self, sent: SentFile, kind: str) -> dict[str, Any]:
        file_id = self._file_id(sent, kind)
        return {
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "file_name": sent.filename,
            "mime_type": mimetypes.guess_type(sent.filename)[0] or "application/octet-stream",
            "file_size": len(sent.content),
        }

    def _photo_json(self, sent: SentFile) -> list[dict[str, Any]]:
        file_id = self._file_id(sent, "photo")
        sizes = [(90, 90), (320, 320)]
        return [
            {
                "file_id": f"{file_id}-{width}",
                "file_unique_id": _unique_id(f"{file_id}-{width}"),
                "width": width,
                "height": height,
                "file_size": len(sent.content),
            }
            for width, height in sizes
        ]

    def _file_id(self, sent: SentFile, kind: str) -> str:
        for file_id, known in self._uploads.items():
            if known is sent:
                return file_id
        file_id = f"FAKE-{kind}-{next(self._ids):08d}"
        self._uploads[file_id] = sent
        return file_id

    def _note_event(self, chat: _Chat, message: BotMessage) -> None:
        chat.seq += 1
        message.seq = chat.seq
        chat.events.append(copy.deepcopy(message))
        self._changed.notify_all()

    # -- driver: people and chats ------------------------------------------------------------
    @property
    def bot_user(self) -> dict[str, Any]:
        return dict(self._bot_user)

    def add_user(
        self,
        first_name: str = "Amina",
        language_code: str | None = "en",
        user_id: int | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """A Telegram account; the bot can only write to it after it has written to the bot."""
        with self._lock:
            if user_id is None:
                user_id = FIRST_USER_ID + len(self._users)
                while user_id in self._chats:
                    user_id += 1
            if user_id in self._chats:
                raise ValueError(f"user id {user_id} is taken")
            user = FakeUser(user_id, first_name, language_code, last_name, username)
            self._users[user_id] = user
            self._chats[user_id] = _Chat(id=user_id, type="private", user=user)
            return user

    def mark_started(self, user: FakeUser) -> None:
        """The user wrote to the bot before the test began: the bot may write to them. No update is sent."""
        with self._lock:
            self._chats[user.id].started = True

    def add_group(self, title: str, *, supergroup: bool = False) -> int:
        """A group the bot is a member of; returns its (negative) chat id."""
        with self._lock:
            number = next(self._group_ids)
            chat_id = -(1_000_000_000_000 + number) if supergroup else -(400_000_000 + number)
            kind = "supergroup" if supergroup else "group"
            self._chats[chat_id] = _Chat(id=chat_id, type=kind, title=title)
            return chat_id

    def migrate_group(self, chat_id: int, *, announce: bool = True) -> int:
        """The group is upgraded to a supergroup (a new id); returns the new id.

        From then on every send to the old id fails as Telegram's does: 400 with
        ``parameters.migrate_to_chat_id``. With ``announce``, the service messages Telegram
        posts (``migrate_to_chat_id`` in the old group, ``migrate_from_chat_id`` in the new)
        reach the bot as updates.
        """
        with self._lock:
            old = self._chats[chat_id]
            if old.type != "group" or old.migrated_to is not None:
                raise AssertionError(f"chat {chat_id} is not a basic group that can be upgraded")
        new_id = self.add_group(old.title or "", supergroup=True)
        with self._lock:
            old.migrated_to = new_id
        if announce and self._loop is not None and self._thread is not None:

            def work() -> int:
                new = self._chats[new_id]
                base = {"date": int(time.time()), "from": self._any_user_json()}
                self._push_update(
                    {
                        "message": {
                            **base,
                            "message_id": old.take_message_id(),
                            "chat": old.to_api(),
                            "migrate_to_chat_id": new_id,
                        }
                    }
                )
                return self._push_update(
                    {
                        "message": {
                            **base,
                            "message_id": new.take_message_id(),
                            "chat": new.to_api(),
                            "migrate_from_chat_id": chat_id,
                        }
                    }
                )

            self._on_loop(work)
        return new_id

    def _any_user_json(self) -> dict[str, Any]:
        user = next(iter(self._users.values()), None)
        return user.to_api() if user is not None else {"id": 777, "is_bot": False, "first_name": "Admin"}

    # -- driver: things residents do -------------------------------------------------------------
    def send_text(
        self,
        user: FakeUser,
        text: str,
        chat_id: int | None = None,
        *,
        reply_to: BotMessage | None = None,
    ) -> int:
        """The resident sends ``text``; commands get their ``bot_command`` entities."""
        if not text.strip() or len(text) > MAX_TEXT_LENGTH:
            raise AssertionError("a Telegram client sends 1-4096 non-blank characters")
        content: dict[str, Any] = {"text": text}
        entities = _command_entities(text)
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            content["reply_to_message_id"] = reply_to.message_id
        return self._user_message(user, chat_id, content)

    def send_sticker(self, user: FakeUser, chat_id: int | None = None, emoji: str = "👍") -> int:
        unique = next(self._ids)
        sticker = {
            "file_id": f"FAKE-sticker-{unique:08d}",
            "file_unique_id": f"stk{unique:08d}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": 23_000,
        }
        return self._user_message(user, chat_id, {"sticker": sticker})

    def send_photo(self, user: FakeUser, chat_id: int | None = None, caption: str = "") -> int:
        unique = next(self._ids)
        photo = [
            {
                "file_id": f"FAKE-userphoto-{unique:08d}-{width}",
                "file_unique_id": f"pho{unique:08d}{width}",
                "width": width,
                "height": width * 3 // 4,
                "file_size": width * 40,
            }
            for width in (90, 320, 1280)
        ]
        content: dict[str, Any] = {"photo": photo}
        if caption:
            content["caption"] = caption
        return self._user_message(user, chat_id, content)

    def send_voice(self, user: FakeUser, chat_id: int | None = None, duration: int = 3) -> int:
        unique = next(self._ids)
        voice = {
            "file_id": f"FAKE-voice-{unique:08d}",
            "file_unique_id": f"voi{unique:08d}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": duration * 4_000,
        }
        return self._user_message(user, chat_id, {"voice": voice})

    def send_location(
        self,
        user: FakeUser,
        chat_id: int | None = None,
        latitude: float = 51.5072,
        longitude: float = -0.1276,
    ) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        return self._user_message(user, chat_id, {"location": location})

    def press_button(
        self,
        user: FakeUser,
        message: BotMessage,
        text: str | None = None,
        *,
        callback_data: str | None = None,
    ) -> int:
        """Press an inline button by label (or callback_data) on the message's CURRENT markup."""
        if (text is None) == (callback_data is None):
            raise ValueError("give exactly one of text or callback_data")
        with self._lock:
            live = self._live_message(message)
            data = _find_callback(live, text, callback_data)
        return self._press(user, live, data)

    def press_stale_button(self, user: FakeUser, message: BotMessage, callback_data: str) -> int:
        """Send a callback query with any data, as an old or forged button would."""
        with self._lock:
            live = self._live_message(message)
        return self._press(user, live, callback_data)

    def push_raw_update(self, payload: dict[str, Any]) -> int:
        """Queue an update of any shape (``{"callback_query": {...}}``), as a forged or malformed one would be.

        A callback query with an ``id`` and a ``from`` user is issued, so the bot may answer it.
        """

        def work() -> int:
            query = payload.get("callback_query")
            if isinstance(query, dict) and "id" in query and isinstance(query.get("from"), dict):
                user_id = int(query["from"]["id"])
                data = query.get("data")
                self._queries[str(query["id"])] = _CallbackQuery(
                    str(query["id"]), user_id, user_id, data if isinstance(data, str) else None, self.clock()
                )
            return self._push_update(payload)

        return self._on_loop(work)

    def tap_reply_button(self, user: FakeUser, text: str, chat_id: int | None = None) -> int:
        """Tap a button of the reply keyboard the bot last showed in the chat."""
        with self._lock:
            chat = self._chats.get(user.id if chat_id is None else chat_id)
            keyboard = chat.reply_keyboard if chat else None
        labels = [label for row in keyboard or [] for label in row]
        if text not in labels:
            raise AssertionError(f"no reply-keyboard button {text!r}; the keyboard shows {labels}")
        return self.send_text(user, text, chat_id)

    # -- driver: inspection --------------------------------------------------------------------
    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """The bot's messages in the chat, in order, with edits applied."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            found = sorted(chat.bot_messages.values(), key=lambda m: m.message_id)
            return [copy.deepcopy(m) for m in found if include_deleted or not m.deleted]

    def last_message(self, chat_id: int) -> BotMessage:
        found = self.messages(chat_id)
        if not found:
            raise AssertionError(f"the bot has sent nothing to chat {chat_id}")
        return found[-1]

    def reply_keyboard(self, chat_id: int) -> list[list[str]] | None:
        with self._lock:
            keyboard = self._chats[chat_id].reply_keyboard
            return copy.deepcopy(keyboard)

    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    @property
    def errors(self) -> list[ApiCall]:
        return [call for call in self.calls if not call.ok]

    @property
    def rate_limited(self) -> list[RateLimitHit]:
        with self._lock:
            return list(self._rate_limited)

    def callback_answers(self, user: FakeUser) -> list[CallbackAnswer]:
        with self._lock:
            return [q.answer for q in self._queries.values() if q.user_id == user.id and q.answer is not None]

    def unanswered_callback_queries(self) -> list[str]:
        with self._lock:
            return [q.id for q in self._queries.values() if q.answer is None]

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        """The commands the bot set for this scope and language (exact match, as Telegram)."""
        with self._lock:
            return list(self._commands.get((_scope_key(scope), language_code), []))

    def menu(self, user: FakeUser, language_code: str | None = None) -> list[str]:
        """The command names `user` sees in the menu of their private chat with the bot.

        Telegram's order: the chat's own scope, then all private chats, then the default, each
        first for the user's language (their app's, `language_code` to override) and then for all.
        """
        language = (user.language_code if language_code is None else language_code) or ""
        language = language.split("-")[0].lower()
        scopes = [("chat", user.id, None), ("all_private_chats", None, None), ("default", None, None)]
        with self._lock:
            for scope in scopes:
                for code in ([language] if language else []) + [""]:
                    found = self._commands.get((scope, code))
                    if found:
                        return [c["command"] for c in found]
        return []

    @property
    def webhook(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._webhook)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._pending)

    @property
    def dropped_updates(self) -> list[dict[str, Any]]:
        """Updates never queued because allowed_updates excluded their type."""
        with self._lock:
            return copy.deepcopy(self._dropped_updates)

    # -- driver: waiting -----------------------------------------------------------------------
    def mark(self, chat_id: int) -> int:
        """The chat's current send/edit sequence number, for ``wait_for_message(since=...)``."""
        with self._lock:
            chat = self._chats.get(chat_id)
            return chat.seq if chat else 0

    def wait_for_message(
        self,
        chat_id: int,
        *,
        since: int | None = None,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float = 10.0,
    ) -> BotMessage:
        """Block until the bot sends or edits a message in the chat; return that snapshot.

        ``since=None`` means after both the test's last action in this chat and the last
        event a previous ``wait_for_message(since=None)`` returned, so successive calls walk
        through the bot's replies one by one without racing the bot.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise AssertionError(f"unknown chat {chat_id}")
            after = chat.read_cursor if since is None else since
            while True:
                event = _first_event(chat.events, after, predicate)
                if event is not None:
                    if since is None:
                        chat.read_cursor = event.seq
                    return copy.deepcopy(event)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(chat, after, timeout))
                self._changed.wait(remaining)

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> int:
        """Block until the bot has sent at least ``count`` messages in all chats together (edits
        not counted); return how many it has sent."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._sent_count < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"the bot sent {self._sent_count} of {count} messages within {timeout}s; "
                        f"last errors: {self._recent_errors()}"
                    )
                self._changed.wait(remaining)
            return self._sent_count

    def wait_for_call(self, method: str, timeout: float = 10.0) -> ApiCall:
        """Block until the bot has made a successful call to `method` (e.g. setWebhook at start-up)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self._calls if c.method.lower() == method.lower() and c.ok]
                if found:
                    return found[-1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no successful {method} within {timeout}s; last errors: {self._recent_errors()}"
                    )
                self._changed.wait(remaining)

    def wait_for_polling(self, timeout: float = 10.0) -> None:
        """Block until a getUpdates long poll is parked waiting for updates (the bot is up)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._parked_polls == 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no getUpdates long poll within {timeout}s; last errors: {self._recent_errors()}"
                    )
                self._changed.wait(remaining)

    def wait_until_idle(self, timeout: float = 10.0, *, quiet: float = 0.2) -> None:
        """Wait until the bot has confirmed every update and gone quiet.

        Guarantees, when it returns: every update the test sent was confirmed by a later
        getUpdates (so it reached the bot), no request other than a long poll is in flight,
        and no request started or ended for ``quiet`` seconds. It cannot see work the bot does
        without calling the API (database writes, sleeps longer than ``quiet``).
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                now = time.monotonic()
                busy = bool(self._pending) or self._inflight > 0
                settle = self._last_activity + quiet - now
                if not busy and settle <= 0:
                    return
                remaining = deadline - now
                if remaining <= 0:
                    raise AssertionError(
                        f"bot not idle after {timeout}s: {len(self._pending)} unconfirmed "
                        f"update(s), {self._inflight} request(s) in flight; "
                        f"last errors: {self._recent_errors()}"
                    )
                self._changed.wait(min(remaining, settle) if not busy else remaining)

    def _timeout_report(self, chat: _Chat, after: int, timeout: float) -> str:
        recent = [
            f"  #{e.seq} msg {e.message_id}{' (edit)' if e.edited else ''}: {e.text[:120]!r} buttons={e.labels}"
            for e in chat.events[-6:]
        ]
        return (
            f"no bot message in chat {chat.id} after seq {after} within {timeout}s\n"
            f"recent sends/edits:\n{chr(10).join(recent) or '  (none)'}\n"
            f"last errors the fake returned: {self._recent_errors()}\n"
            f"unconfirmed updates: {len(self._pending)}"
        )

    def _recent_errors(self) -> list[str]:
        return [f"{c.method} {c.status} {c.error}" for c in self._calls if not c.ok][-5:]

    # -- driver internals ------------------------------------------------------------------------
    def _on_loop(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the server loop (where all mutation happens) and wake long polls."""
        if self._loop is None or self._thread is None:
            raise RuntimeError("FakeTelegram is not started")
        if threading.current_thread() is self._thread:
            raise RuntimeError("driver methods block; call them from the test, not the server loop")

        async def run() -> T:
            with self._lock:
                result = work()
            await self._wake_pollers()
            return result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def _user_message(self, user: FakeUser, chat_id: int | None, content: dict[str, Any]) -> int:
        def work() -> int:
            self._check_can_write(user)
            chat = self._chats.get(user.id if chat_id is None else chat_id)
            if chat is None:
                raise AssertionError(f"unknown chat {chat_id}")
            if chat.migrated_to is not None:
                raise AssertionError(f"chat {chat.id} was upgraded to {chat.migrated_to}; write there")
            message = {
                "message_id": chat.take_message_id(),
                "from": user.to_api(),
                "chat": chat.to_api(),
                "date": int(time.time()),
                **content,
            }
            reply_id = message.pop("reply_to_message_id", None)
            if reply_id is not None:
                message["reply_to_message"] = self._reply_json(chat, reply_id)
            chat.user_messages[message["message_id"]] = message
            chat.started = chat.started or chat.user is not None
            chat.read_cursor = chat.seq
            return self._push_update({"message": message})

        return self._on_loop(work)

    def _press(self, user: FakeUser, live: BotMessage, data: str) -> int:
        def work() -> int:
            self._check_can_write(user)
            chat = self._chats[live.chat_id]
            if chat.user is not None and chat.user.id != user.id:
                raise AssertionError(f"{user.first_name} is not in chat {chat.id}")
            query_id = str(4_000_000_000_000_000 + next(self._ids))
            self._queries[query_id] = _CallbackQuery(query_id, user.id, chat.id, data, self.clock())
            chat.read_cursor = chat.seq
            query = {
                "id": query_id,
                "from": user.to_api(),
                "message": self._message_json(chat, chat.bot_messages[live.message_id]),
                "chat_instance": str(abs(chat.id) * 7919 % 10**18),
                "data": data,
            }
            return self._push_update({"callback_query": query})

        return self._on_loop(work)

    def _push_member_update(self, user: FakeUser, *, old: str, new: str) -> None:
        def work() -> int:
            chat = self._chats[user.id]
            new_member: dict[str, Any] = {"status": new, "user": dict(self._bot_user)}
            if new == "kicked":
                new_member["until_date"] = 0  # banned forever: the resident blocked the bot
            change = {
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": int(time.time()),
                "old_chat_member": {"status": old, "user": dict(self._bot_user)},
                "new_chat_member": new_member,
            }
            return self._push_update({"my_chat_member": change})

        if self._loop is not None and self._thread is not None:
            self._on_loop(work)

    def _push_update(self, payload: dict[str, Any]) -> int:
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, **payload}
        kind = next(iter(payload))
        # allowed_updates filters when an update is created, not when it is fetched.
        if kind in self._allowed_updates:
            self._pending.append(update)
        else:
            self._dropped_updates.append(update)
        self._changed.notify_all()
        return self._last_update_id

    def _check_can_write(self, user: FakeUser) -> None:
        if user.id in self._deactivated:
            raise AssertionError(f"{user.first_name}'s account is deactivated")
        if user.id in self._blocked:
            raise AssertionError(f"{user.first_name} blocked the bot; call unblock() first")

    def _live_message(self, message: BotMessage) -> BotMessage:
        chat = self._chats.get(message.chat_id)
        live = chat.bot_messages.get(message.message_id) if chat else None
        if live is None or live.deleted:
            raise AssertionError(f"message {message.message_id} is gone from chat {message.chat_id}")
        return live


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------
def _default_description(code: int, retry_after: int | None, migrate_to: int | None) -> str:
    if code == 429:
        return f"Too Many Requests: retry after {retry_after}"
    if migrate_to is not None:
        return "Bad Request: group chat was upgraded to a supergroup chat"
    if code == 403:
        return "Forbidden: bot was blocked by the user"
    if code == 409:
        return CONFLICT_OTHER_POLL
    return f"{HTTPStatus(code).phrase}: injected failure"


def _scope_key(scope: dict[str, Any] | None) -> _Scope:
    """A scope as a test writes it ({"type": "chat", "chat_id": 5}), as the fake stores it."""
    scope = scope or {"type": "default"}
    chat_id, user_id = scope.get("chat_id"), scope.get("user_id")
    return (str(scope["type"]), None if chat_id is None else int(chat_id), None if user_id is None else int(user_id))


def _check_command(command: Any) -> None:
    if not isinstance(command, dict):
        raise _bad("can't parse BotCommand JSON object")
    name, description = command.get("command"), command.get("description")
    if not isinstance(name, str) or not COMMAND_RE.match(name):
        raise _bad("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not description.strip() or len(description) > 256:
        raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    total = sum(len(row) for row in rows)
    if total > MAX_INLINE_BUTTONS or any(len(row) > MAX_INLINE_BUTTONS_PER_ROW for row in rows):
        raise _bad(REPLY_MARKUP_TOO_LONG)
    for row in rows:
        for button in row:
            _check_inline_button(button)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise _ApiError(400, BUTTON_PREFIX + "InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise _ApiError(400, BUTTON_PREFIX + 'Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise _ApiError(400, BUTTON_PREFIX + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise _bad("BUTTON_TEXT_INVALID")
    # Telegram treats an empty callback_data as missing.
    actions = [name for name in INLINE_ACTION_FIELDS if button.get(name) not in (None, "")]
    if not actions:
        raise _ApiError(400, BUTTON_PREFIX + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise _ApiError(400, BUTTON_PREFIX + f"exactly one of {actions} must be used")
    if "callback_data" in actions:
        data = button["callback_data"]
        if not isinstance(data, str):
            raise _ApiError(400, BUTTON_PREFIX + 'Field "callback_data" must be of type String')
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in actions and not _valid_button_url(button["url"]):
        raise _bad("BUTTON_URL_INVALID")
    if "web_app" in actions:
        _check_web_app(button["web_app"])


def _check_web_app(web_app: Any) -> None:
    """A Mini App opens only from an https address (WebAppInfo.url)."""
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str):
        raise _ApiError(400, BUTTON_PREFIX + 'Field "url" of WebAppInfo must be of type String')
    if not url.lower().startswith("https://"):
        raise _bad(f"inline keyboard button Web App URL '{url}' is invalid: Only HTTPS links are allowed")


def _valid_button_url(url: Any) -> bool:
    if not isinstance(url, str) or " " in url.strip():
        return False
    lowered = url.lower()
    if lowered.startswith(("http://", "https://", "tg://")):
        return len(url.split("://", 1)[1]) > 0
    return "." in url.split("/", 1)[0]


def _check_reply_keyboard(markup: dict[str, Any]) -> None:
    rows = markup["keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
    total = sum(len(row) for row in rows)
    if total > MAX_REPLY_BUTTONS or any(len(row) > MAX_REPLY_BUTTONS_PER_ROW for row in rows):
        raise _bad(REPLY_MARKUP_TOO_LONG)
    for row in rows:
        for button in row:
            label = button if isinstance(button, str) else (button or {}).get("text")
            if not isinstance(label, str):
                raise _bad('can\'t parse keyboard button: Field "text" must be of type String')
            if not label.strip():
                raise _bad("BUTTON_TEXT_INVALID")
    _check_placeholder(markup)


def _check_placeholder(markup: dict[str, Any]) -> None:
    placeholder = markup.get("input_field_placeholder")
    if placeholder is not None and not 1 <= len(str(placeholder)) <= MAX_PLACEHOLDER_LENGTH:
        raise _bad("input_field_placeholder must be 1-64 characters")


def _inline_markup(message: BotMessage) -> dict[str, Any] | None:
    markup = message.reply_markup
    if markup is not None and "inline_keyboard" in markup:
        return markup
    return None


def _apply_text(message: BotMessage, formatted: _Formatted) -> None:
    message.text = formatted.text
    message.html = formatted.raw
    message.parse_mode = formatted.parse_mode
    message.entities = formatted.entities


def _apply_markup(message: BotMessage, markup: dict[str, Any] | None) -> None:
    message.reply_markup = copy.deepcopy(markup)
    message.buttons = []
    message.reply_keyboard = None
    if markup is None:
        return
    if "inline_keyboard" in markup:
        message.buttons = [
            [(button["text"], _button_value(button)) for button in row] for row in markup["inline_keyboard"]
        ]
    elif "keyboard" in markup:
        message.reply_keyboard = [
            [button if isinstance(button, str) else button["text"] for button in row] for row in markup["keyboard"]
        ]


def _replace_inline_markup(message: BotMessage, markup: dict[str, Any] | None) -> None:
    """Edits replace or drop the inline keyboard; a reply keyboard sent earlier stays."""
    if markup is None and _inline_markup(message) is None:
        return
    _apply_markup(message, markup)


def _button_value(button: dict[str, Any]) -> str:
    for name in INLINE_ACTION_FIELDS:
        value = button.get(name)
        if value not in (None, ""):
            return value if isinstance(value, str) else json.dumps(value)
    return ""


def _find_callback(message: BotMessage, label: str | None, data: str | None) -> str:
    markup = _inline_markup(message) or {"inline_keyboard": []}
    for row in markup["inline_keyboard"]:
        for button in row:
            if (label is not None and button["text"] == label) or (
                data is not None and button.get("callback_data") == data
            ):
                if not button.get("callback_data"):
                    raise AssertionError(f"button {button['text']!r} sends no callback query")
                return str(button["callback_data"])
    wanted = repr(label) if label is not None else f"with callback_data {data!r}"
    buttons = [(b["text"], b.get("callback_data")) for row in markup["inline_keyboard"] for b in row]
    raise AssertionError(
        f"no button {wanted} on message {message.message_id} {message.text[:80]!r}; current buttons: {buttons}"
    )


def _command_entities(text: str) -> list[dict[str, Any]]:
    entities = []
    for match in INCOMING_COMMAND_RE.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities


def _first_event(
    events: Iterable[BotMessage],
    after: int,
    predicate: Callable[[BotMessage], bool] | None,
) -> BotMessage | None:
    for event in events:
        if event.seq > after and (predicate is None or predicate(event)):
            return event
    return None


def _unique_id(file_id: str) -> str:
    # Telegram's file_unique_id is short and stable for the same file.
    return f"AQAD{zlib.crc32(file_id.encode()):010d}"


def _trim(times: deque[float], now: float, window: float) -> None:
    while times and now - times[0] >= window:
        times.popleft()


def _window_wait(times: deque[float], limit: int | None, window: float, now: float) -> int:
    """Whole seconds until one more send fits a strict sliding window (0 when it fits now)."""
    if limit is None:
        return 0
    recent = [t for t in times if now - t < window]
    if len(recent) < limit:
        return 0
    # Once the send ``limit`` places from the end leaves the window, one more fits.
    frees_at = recent[len(recent) - limit] + window
    return max(1, math.ceil(frees_at - now))
