"""The workspace's defences, tested at the HTTP level against the real application and storage:
one-time expiring sign-in links, sessions checked on every request, CSRF on every form, the
Mini App's signature, security headers, size limits, and escaping."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest

from bot.web.app import workspace_app
from conversations import workspace
from conversations.services import Services
from tests.offline import Clock, offline_services

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TOKEN = "123456:TEST-token"
OFFICER = 4242
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, admins=frozenset({OFFICER})) as services:
        yield services


def client(services: Services, url: str = "http://workspace.test") -> httpx.AsyncClient:
    app = workspace_app(services, TOKEN, url)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=url)


def clock(services: Services) -> Clock:
    assert isinstance(services.clock, Clock)
    return services.clock


async def signed_in_client(services: Services) -> httpx.AsyncClient:
    link = await workspace.signin_link(services, OFFICER, NOW)
    http = client(services)
    answer = await http.post(link.removeprefix(services.workspace_url))
    assert answer.status_code == 303
    return http


async def test_a_signin_link_works_once_and_only_within_ten_minutes(services: Services) -> None:
    first = await workspace.signin_link(services, OFFICER, NOW)
    second = await workspace.signin_link(services, OFFICER, NOW)
    clock(services).now = NOW + timedelta(minutes=9)
    assert await workspace.sign_in_with_link(services, first.rsplit("/", 1)[1], clock(services)()) is not None
    assert await workspace.sign_in_with_link(services, first.rsplit("/", 1)[1], clock(services)()) is None
    clock(services).now = NOW + timedelta(minutes=11)
    assert await workspace.sign_in_with_link(services, second.rsplit("/", 1)[1], clock(services)()) is None


async def test_only_a_hash_of_a_link_or_a_session_is_stored(services: Services) -> None:
    link = await workspace.signin_link(services, OFFICER, NOW)
    session = await workspace.sign_in_with_link(services, link.rsplit("/", 1)[1], NOW)
    assert session is not None
    stored = await services.db.connection.execute_fetchall(
        "SELECT token_hash FROM web_signin_links UNION ALL SELECT token_hash FROM web_sessions"
    )
    hashes = {row[0] for row in stored}
    assert link.rsplit("/", 1)[1] not in hashes and session not in hashes
    assert workspace.token_hash(session) in hashes


async def test_a_session_ends_after_eight_idle_hours(services: Services) -> None:
    http = await signed_in_client(services)
    assert (await http.get("/consultations")).status_code == 200
    clock(services).now = NOW + timedelta(hours=8, minutes=1)
    answer = await http.get("/consultations")
    assert answer.status_code == 401 and "Sign in from the chat" in answer.text


async def test_opening_the_link_does_not_use_it_only_the_button_does(services: Services) -> None:
    link = await workspace.signin_link(services, OFFICER, NOW)
    http = client(services)
    path = link.removeprefix(services.workspace_url)
    preview = await http.get(path)  # what a link preview or a mail scanner does
    assert preview.status_code == 200 and "Sign in" in preview.text
    assert (await http.post(path)).status_code == 303


async def test_every_form_needs_its_csrf_token(services: Services) -> None:
    http = await signed_in_client(services)
    refused = await http.post("/language", data={"language": "cy"})
    assert refused.status_code == 403
    wrong = await http.post("/language", data={"language": "cy", "csrf_token": "guess"})
    assert wrong.status_code == 403
    page = await http.get("/consultations")
    token = CSRF_FIELD.search(page.text)
    assert token is not None
    changed = await http.post("/language", data={"language": "cy", "csrf_token": token.group(1)})
    assert changed.status_code == 303
    assert 'lang="cy"' in (await http.get("/consultations")).text


async def test_signed_out_the_pages_and_forms_are_refused(services: Services) -> None:
    http = client(services)
    assert (await http.get("/consultations")).status_code == 401
    assert (await http.post("/signout", data={})).status_code == 401
    forged = client(services)
    forged.cookies.set("hys_session", "made-up")
    assert (await forged.get("/consultations")).status_code == 401


async def test_every_response_carries_the_security_headers(services: Services) -> None:
    http = await signed_in_client(services)
    for path in ("/consultations", "/signin/nothing", "/static/style.css", "/no-such-page"):
        headers = (await http.get(path)).headers
        policy = headers["content-security-policy"]
        assert "unsafe-inline" not in policy and "script-src 'self' https://telegram.org" in policy
        assert "frame-ancestors https://web.telegram.org" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


async def test_the_session_cookie_is_httponly_lax_and_secure_over_https(services: Services) -> None:
    link = await workspace.signin_link(services, OFFICER, NOW)
    http = client(services, "https://workspace.test")
    answer = await http.post("/signin/" + link.rsplit("/", 1)[1])
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


async def test_a_request_larger_than_the_limit_is_refused_unread(services: Services) -> None:
    http = await signed_in_client(services)
    answer = await http.post("/language", content=b"x" * (3 * 1024 * 1024))
    assert answer.status_code == 413


async def test_officer_text_is_escaped_on_the_page(services: Services) -> None:
    title = '<script>alert("x")</script> & "quotes"'
    await services.db.workspace.save_draft({"id": "escaped", "title": {"en": title}}, OFFICER, NOW)
    http = await signed_in_client(services)
    page = (await http.get("/consultations")).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in page


def init_data(user_id: int, signed_at: datetime, token: str = TOKEN) -> str:
    """What Telegram gives a Mini App, signed as Telegram documents it."""
    fields = {"auth_date": str(int(signed_at.timestamp())), "user": json.dumps({"id": user_id}), "query_id": "q1"}
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def test_the_mini_apps_init_data_is_trusted_only_when_signed_with_our_token_lately() -> None:
    assert workspace.telegram_user_from_init_data(init_data(7, NOW), TOKEN, NOW) == 7
    assert workspace.telegram_user_from_init_data(init_data(7, NOW, "999:other"), TOKEN, NOW) is None
    tampered = init_data(7, NOW).replace("%22id%22%3A+7", "%22id%22%3A+8")
    assert tampered != init_data(7, NOW)
    assert workspace.telegram_user_from_init_data(tampered, TOKEN, NOW) is None
    assert workspace.telegram_user_from_init_data(init_data(7, NOW - timedelta(hours=2)), TOKEN, NOW) is None


async def test_the_mini_app_signs_in_officers_only(services: Services) -> None:
    http = client(services)
    officer = await http.post("/miniapp/signin", data={"init_data": init_data(OFFICER, NOW)})
    assert officer.status_code == 200 and officer.json()["signed_in"] is True
    assert (await http.get("/consultations")).status_code == 200
    resident = await client(services).post("/miniapp/signin", data={"init_data": init_data(99, NOW)})
    assert resident.status_code == 403


async def test_control_characters_in_an_officers_form_are_dropped_as_in_a_residents_text(services: Services) -> None:
    """A crafted form with a NUL (which PostgreSQL refuses) or an escape sequence: the text is stored as the bot
    accepts a resident's typed text, and the officer goes on to the next page rather than an error."""
    http = await signed_in_client(services)
    form = (await http.get("/consultations/new")).text
    token = CSRF_FIELD.findall(form)[-1]  # the page's own form (the header's sign-out form has one too)
    answer = await http.post(
        "/consultations/new",
        data={
            "csrf_token": token,
            "title": "Library\x00 hours\x1b[31m\r\nnow",
            "id": "library",
            "default_language": "en",
        },
    )
    assert answer.status_code == 303, answer.text
    draft = await services.db.workspace.draft("library")
    assert draft is not None
    assert draft.definition["title"]["en"] == "Library hours[31m\nnow"
