"""Signing in to the officers' web workspace from the chat, and who a browser is signed in as.

The chat is where an officer proves who they are: `/workspace` makes a link that works once,
within minutes, for that officer alone; or, opened as a Telegram Mini App, the `initData`
Telegram signs with the bot's token. The browser then holds a session whose officer's role is
checked on every request, so removing an officer locks them out at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from conversations.screens import Button, Reply, Screen
from conversations.services import Services, Visit

SIGNIN_LIFETIME = timedelta(minutes=10)
SESSION_IDLE = timedelta(hours=8)
# Telegram signs initData when the Mini App opens; an older one is a replay.
INIT_DATA_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class SignedIn:
    """The officer a browser is signed in as, checked on this request."""

    officer_id: int
    role: str
    csrf_token: str
    language: str | None
    session_hash: str


def token_hash(token: str) -> str:
    """What is stored of a sign-in or session token: a copy of the database signs nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()


async def signin_link(services: Services, officer_id: int, now: datetime) -> str:
    """A one-time link to the workspace for this officer, valid for ten minutes."""
    token = secrets.token_urlsafe(32)
    await services.db.workspace.add_signin_link(token_hash(token), officer_id, now + SIGNIN_LIFETIME)
    return f"{services.workspace_url}/signin/{token}"


async def open_workspace(visit: Visit, argument: str | None = None) -> Reply:
    """/workspace: the officer's sign-in link (and, over HTTPS, a button that opens it in Telegram)."""
    services, t = visit.services, visit.t
    if not services.workspace_url:
        return Reply((Screen(t._("The workspace is switched off on this bot (HAVEYOURSAY_WEB=off).")),))
    link = await signin_link(services, visit.chat_id, visit.now())
    text = t._(
        "Open this link to sign in to the workspace. It works once, within 10 minutes, and only for you: "
        "do not forward it.\n%(link)s",
        link=link,
    )
    buttons: tuple[tuple[Button, ...], ...] = ()
    if services.workspace_url.startswith("https://"):
        buttons = ((Button(t._("Open the workspace"), web_app=f"{services.workspace_url}/miniapp"),),)
    return Reply((Screen(text, buttons),))


async def sign_in_with_link(services: Services, token: str, now: datetime) -> str | None:
    """Use a sign-in link: a new session's token, or None if the link is unknown, used or expired,
    or its officer is no longer one."""
    officer_id = await services.db.workspace.use_signin_link(token_hash(token), now)
    if officer_id is None:
        return None
    return await _start_session(services, officer_id, now)


async def sign_in_with_init_data(services: Services, init_data: str, bot_token: str, now: datetime) -> str | None:
    """Sign in from the Mini App: Telegram's signed initData names the officer."""
    user_id = telegram_user_from_init_data(init_data, bot_token, now)
    if user_id is None:
        return None
    return await _start_session(services, user_id, now)


async def _start_session(services: Services, officer_id: int, now: datetime) -> str | None:
    if await services.role_of(officer_id) not in ("officer", "admin"):
        return None
    token = secrets.token_urlsafe(32)
    await services.db.workspace.add_session(token_hash(token), officer_id, secrets.token_urlsafe(32), now)
    await services.db.officers.audit(officer_id, "workspace", "signed in to the workspace", now)
    return token


async def signed_in(services: Services, session_token: str | None, now: datetime) -> SignedIn | None:
    """Who this browser is signed in as; None when the session is unknown, idle too long, or its
    officer has been removed (then the session ends)."""
    if not session_token:
        return None
    hashed = token_hash(session_token)
    session = await services.db.workspace.session(hashed)
    if session is None:
        return None
    role = await services.role_of(session.officer_id)
    if role not in ("officer", "admin") or now - session.last_seen > SESSION_IDLE:
        await services.db.workspace.end_session(hashed)
        return None
    if now - session.last_seen > timedelta(minutes=1):  # written at most once a minute
        await services.db.workspace.touch_session(hashed, now)
    assert role is not None
    return SignedIn(session.officer_id, role, session.csrf_token, session.language, hashed)


def telegram_user_from_init_data(init_data: str, bot_token: str, now: datetime) -> int | None:
    """The user id in a Mini App's initData, if Telegram signed it with this bot's token lately.

    As Telegram documents it: the data-check string is every field but `hash`, sorted, as
    key=value lines; the key is HMAC-SHA256 of the bot token keyed by "WebAppData".
    """
    fields = dict(parse_qsl(init_data, keep_blank_values=True))
    given = fields.pop("hash", "")
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(expected, given):
        return None
    try:
        signed_at = datetime.fromtimestamp(int(fields.get("auth_date", "0")), tz=now.tzinfo)
        user = json.loads(fields.get("user", "{}"))
        user_id = int(user["id"])
    except (ValueError, KeyError, TypeError):
        return None
    if not timedelta(minutes=-5) <= now - signed_at <= INIT_DATA_LIFETIME:
        return None
    return user_id
