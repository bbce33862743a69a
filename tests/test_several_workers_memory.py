"""What one worker keeps in memory, seen from another worker on the same database (several workers).

Two Services on one database stand for two workers (SQLite, then PostgreSQL, where several workers
are meant to run).
"""

from __future__ import annotations

from datetime import UTC, datetime

from conversations import contact
from conversations.screens import Screen
from tests.offline import offline_services

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OLD, NEW = -1001, -100_2002
ADMIN = 42


async def test_the_officers_group_moved_is_followed_by_every_worker_and_the_admins_told_once(
    database_target: str,
) -> None:
    told: list[tuple[int, str]] = []

    async def send_now(chat_id: int, screen: Screen) -> int:
        told.append((chat_id, screen.text))
        return len(told)

    options = {"admins": frozenset({ADMIN}), "send_now": send_now}
    async with (
        offline_services(database_target, NOW, **options) as one,
        offline_services(database_target, NOW, **options) as other,
    ):
        one.officers_chat_id = other.officers_chat_id = OLD
        # Telegram's two notices of the upgrade (from the old group, and in the new one) reach different workers.
        await contact.officers_chat_moved(one, NEW)
        await contact.officers_chat_moved(other, NEW)
        assert [chat for chat, _text in told] == [ADMIN], "the admins are told once"
        assert one.officers_chat_id == other.officers_chat_id == NEW

        # A third worker saw neither notice: an officer's reply in the new group is still the team's.
        # (On SQLite one process at most runs on the file: it has seen every notice itself.)
        async with offline_services(database_target, NOW, **options) as third:
            third.officers_chat_id = OLD
            assert not await contact.is_officers_chat(third, -5), "another group is not the team's"
            if third.db.connection.shared:
                assert await contact.is_officers_chat(third, NEW)
                assert third.officers_chat_id == NEW
            assert await contact.is_officers_chat(one, NEW) and not await contact.is_officers_chat(one, OLD)
