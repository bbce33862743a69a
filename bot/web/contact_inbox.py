"""The Inbox pages: every /contact conversation, one conversation with a reply form, and Close.

The rules are conversations/contact_inbox.py's, and a reply goes through the same function as a
reply in the officers' group (conversations/contact.py `reply_to_resident`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from babel.dates import format_timedelta
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.web.pages import go_to, officer_of, officer_page, read_form, render, services_of
from conversations import contact_inbox
from conversations.contact import MAX_MESSAGE, NotSent
from conversations.i18n import Translator

REPLY_FIELD = "reply"


@dataclass(frozen=True)
class FieldError:
    field_id: str
    message: str


def _page_number(value: str | None) -> int:
    return int(value) if value is not None and value.isdigit() and len(value) < 7 else 1


def _waited(t: Translator, waited: timedelta) -> str:
    """How long something took, in the officer's language ("3 hours", "2 days")."""
    return str(format_timedelta(max(waited, timedelta(minutes=1)), granularity="minute", locale=t.locale))


@officer_page
async def inbox_page(request: Request) -> Response:
    officer = officer_of(request)
    shown = contact_inbox.shown_from(request.query_params.get("show"))
    found = await contact_inbox.inbox(
        services_of(request), officer.t, shown, _page_number(request.query_params.get("page"))
    )
    closed = _page_number(request.query_params.get("closed")) if "closed" in request.query_params else None
    return render(request, "inbox.html", officer.t, inbox=found, closed=closed, waited=lambda d: _waited(officer.t, d))


async def _conversation_page(
    request: Request, thread_id: int, errors: tuple[FieldError, ...] = (), reply: str = "", status_code: int = 200
) -> Response:
    officer = officer_of(request)
    found = await contact_inbox.conversation(services_of(request), officer.t, thread_id)
    if found is None:
        return render(request, "error.html", officer.t, status_code=404, problem="not_found")
    conversation, messages = found
    return render(
        request,
        "inbox_conversation.html",
        officer.t,
        status_code=status_code,
        c=conversation,
        messages=messages,
        errors=errors,
        reply=reply,
        sent=request.query_params.get("sent") == "1",
        max_message=MAX_MESSAGE,
        waited=lambda d: _waited(officer.t, d),
    )


@officer_page
async def conversation_page(request: Request) -> Response:
    return await _conversation_page(request, int(request.path_params["thread"]))


def _not_sent_message(t: Translator, not_sent: NotSent) -> str:
    if not_sent is NotSent.EMPTY:
        return t._("Write your reply")
    if not_sent is NotSent.TOO_LONG:
        return t._("Your message is too long. Please keep it under %(max)s characters.", max=str(MAX_MESSAGE))
    if not_sent is NotSent.NOT_AN_OFFICER:
        return t._("Only officers can reply to residents. Nothing was sent.")
    if not_sent is NotSent.BLOCKED:
        return t._("The resident has blocked the bot; the reply was not sent.")
    return t._("This resident has deleted their data; the reply was not sent.")


@officer_page
async def send_reply(request: Request) -> Response:
    officer, services = officer_of(request), services_of(request)
    thread_id = int(request.path_params["thread"])
    text = str((await read_form(request)).get(REPLY_FIELD, ""))
    not_sent = await contact_inbox.reply(services, thread_id, text, officer.id)
    if not_sent is None:
        return go_to(f"/inbox/{thread_id}?sent=1")
    # `t._` escapes its parameters already (as the broadcasts page takes it).
    error = FieldError(REPLY_FIELD, Markup(_not_sent_message(officer.t, not_sent)))
    return await _conversation_page(request, thread_id, (error,), text, status_code=400)


@officer_page
async def close(request: Request) -> Response:
    officer = officer_of(request)
    thread_id = int(request.path_params["thread"])
    await contact_inbox.close(services_of(request), thread_id, officer.id)
    return go_to(f"/inbox?closed={thread_id}")


def routes() -> list[BaseRoute]:
    return [
        Route("/inbox", inbox_page, methods=["GET"]),
        Route("/inbox/{thread:int}", conversation_page, methods=["GET"]),
        Route("/inbox/{thread:int}/reply", send_reply, methods=["POST"]),
        Route("/inbox/{thread:int}/close", close, methods=["POST"]),
    ]
