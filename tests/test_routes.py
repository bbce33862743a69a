"""Routes as the conversations declare them, driven through the real router (bot/routing.py).

Every callback prefix is declared once, by the conversation that owns it, and a tap on a
button with that prefix reaches the declared handler; every reading of typed text is reached
in its turn. The handlers are replaced by spies only to see which one the router picked.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from telegram import CallbackQuery, Chat, Message, Update, User

import conversations
from bot import routing
from conversations import callbacks, help, onboarding, routes
from conversations.screens import Reply
from conversations.services import Services, Visit, begin_visit
from tests.offline import offline_services

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OFFICER = 700000010
RESIDENT = 700000011
CONTEXT = SimpleNamespace(bot_data={})  # what on_text reads of python-telegram-bot's context


@pytest.fixture
async def services(database_target: str) -> AsyncIterator[Services]:
    async with offline_services(database_target, NOW, admins=frozenset({OFFICER})) as found:
        yield found


def declared(name: str) -> list[object]:
    """Every declaration `name` (BUTTONS or TEXT) in the conversations package, whether the edge uses it or not."""
    found: list[object] = []
    for module in pkgutil.walk_packages(conversations.__path__, "conversations."):
        found.extend(getattr(importlib.import_module(module.name), name, ()))
    return found


def tap(chat_id: int, data: str) -> Update:
    user = User(chat_id, "Resident", False)
    return Update(1, callback_query=CallbackQuery("1", user, "instance", data=data))


def typed(chat_id: int, text: str) -> Update:
    user = User(chat_id, "Resident", False)
    return Update(2, message=Message(5, NOW, Chat(chat_id, "private"), from_user=user, text=text))


async def acknowledged(services: Services, chat_id: int) -> Visit:
    """Someone past the privacy notice, with no step waiting for typed text."""
    await onboarding.acknowledge(await begin_visit(services, chat_id, "en"), "en", None)
    await services.db.residents.set_onboarding_step(chat_id, None)
    return await begin_visit(services, chat_id, "en")


def spy(reached: list[str], name: str) -> Reply:
    reached.append(name)
    return Reply(notice=f"reached {name}")


def test_every_callback_prefix_is_declared_once_and_used_by_the_router() -> None:
    prefixes = [route.prefix for route in declared("BUTTONS") if isinstance(route, routes.ButtonRoute)]
    twice = sorted({prefix for prefix in prefixes if prefixes.count(prefix) > 1})
    assert not twice, f"declared twice: {twice}"
    assert set(prefixes) == set(routing.BUTTONS), "a conversation declares buttons the router does not route"
    assert all(callbacks.SEPARATOR not in prefix for prefix in prefixes)
    with pytest.raises(ValueError, match="declared twice"):
        routes.button_table(onboarding.BUTTONS, onboarding.BUTTONS)


def test_every_declared_reading_of_typed_text_is_used_by_the_router() -> None:
    assert set(declared("TEXT")) == set(routing.TEXT)


@pytest.mark.parametrize("prefix", sorted(routing.BUTTONS))
async def test_every_declared_prefix_reaches_its_handler_through_the_router(
    services: Services, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached: list[str] = []

    async def handle(visit: Visit, tapped: callbacks.Callback) -> Reply:
        assert tapped.kind == prefix and tapped.args == ("a", "b")
        return spy(reached, prefix)

    route = routing.BUTTONS[prefix]
    monkeypatch.setitem(routing.BUTTONS, prefix, replace(route, handle=handle))
    visit = await acknowledged(services, OFFICER)
    reply = await routing.on_button(visit, tap(OFFICER, callbacks.encode(prefix, "a", "b")), CONTEXT)  # type: ignore[arg-type]
    assert reached == [prefix] and reply.notice == f"reached {prefix}"


@pytest.mark.parametrize("prefix", sorted(routing.BUTTONS))
async def test_a_stranger_reaches_only_the_buttons_that_need_neither_the_notice_nor_the_role(
    services: Services, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached: list[str] = []

    async def handle(visit: Visit, tapped: callbacks.Callback) -> Reply:
        return spy(reached, prefix)

    route = routing.BUTTONS[prefix]
    monkeypatch.setitem(routing.BUTTONS, prefix, replace(route, handle=handle))
    stranger = await begin_visit(services, RESIDENT, "en")  # has not acknowledged the privacy notice
    reply = await routing.on_button(stranger, tap(RESIDENT, callbacks.encode(prefix, "a")), CONTEXT)  # type: ignore[arg-type]
    if route.officers_only:
        assert reply.notice == "That button is out of date." and not reached
    elif route.needs_resident:
        assert not reached and "privacy" in reply.screens[0].text.lower(), "the privacy notice comes first"
    else:
        assert reached == [prefix]


async def test_a_prefix_nobody_declared_is_out_of_date(services: Services) -> None:
    visit = await acknowledged(services, RESIDENT)
    reply = await routing.on_button(visit, tap(RESIDENT, "nobody:1"), CONTEXT)  # type: ignore[arg-type]
    assert reply.notice == "That button is out of date."


@pytest.mark.parametrize("name", [route.name for route in routing.TEXT])
async def test_every_text_route_is_reached_in_its_turn_through_the_router(
    services: Services, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached: list[str] = []

    async def answer(visit: Visit, text: routes.Typed) -> Reply:
        assert text.text == "hello" and text.message_id == 5 and not text.replayed
        return spy(reached, name)

    order = tuple(replace(route, answer=answer) if route.name == name else route for route in routing.TEXT)
    monkeypatch.setattr(routing, "TEXT", order)
    visit = await acknowledged(services, OFFICER)  # nothing waiting: every route before it passes
    reply = await routing.on_text(visit, typed(OFFICER, "hello"), CONTEXT)  # type: ignore[arg-type]
    assert reached == [name] and reply.notice == f"reached {name}"


async def test_text_nobody_reads_points_to_help(services: Services) -> None:
    visit = await acknowledged(services, RESIDENT)
    reply = await routing.on_text(visit, typed(RESIDENT, "hello"), CONTEXT)  # type: ignore[arg-type]
    assert reply == await help.nothing_to_answer(visit)
