"""The workspace's first page: what needs an officer's eye today.

Everything here is gathered from the rules the other pages and the chat already use: the
consultations list (`authoring`), responses per day and the under-heard groups of /reach
(`results`, which keeps the small-numbers rules), a broadcast's progress (`broadcasting`).
No rule is written here a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from conversations import authoring, broadcasting, results
from conversations.authoring import State
from conversations.i18n import Translator
from conversations.results import Day, ReachRow
from conversations.services import Services
from storage.broadcasts import Broadcast

RECENT = timedelta(days=30)
"""Closed consultations stay on the dashboard this long after they close."""
DAYS_SHOWN = 7
"""Responses are shown per day for this many days, today included."""


@dataclass(frozen=True)
class Activity:
    """A consultation open now or closed lately, with its submitted responses per day and in all."""

    id: str
    title: str
    state: State
    closes: datetime | None
    days: tuple[Day, ...]  # the last DAYS_SHOWN days in the deployment's time zone, oldest first
    total: int

    @property
    def recent(self) -> int:
        return sum(day.count for day in self.days)


@dataclass(frozen=True)
class Inbox:
    """Conversations with the team (/contact) whose resident waits for a reply."""

    waiting: int
    oldest_since: datetime | None
    now: datetime

    @property
    def waited(self) -> timedelta | None:
        return self.now - self.oldest_since if self.oldest_since is not None else None

    @property
    def waited_hours(self) -> int:
        waited = self.waited
        return int(waited.total_seconds() // 3600) if waited is not None and waited > timedelta(0) else 0


@dataclass(frozen=True)
class Sending:
    """A broadcast still going out."""

    id: int
    created_at: datetime
    text: str  # its first text, as the officer wrote it (escaped by the page)
    progress: broadcasting.Counted
    going_at: datetime | None  # when its next waiting delivery may go, if that is later than now


@dataclass(frozen=True)
class UnderHeard:
    """A group that took part in an open consultation at well under the rate of the others."""

    consultation_id: str
    consultation_title: str
    kind: str  # "area" or "language": the broadcast audience filter that reaches it
    key: str  # the area's id or the language's code
    label: str


@dataclass(frozen=True)
class Dashboard:
    consultations: tuple[Activity, ...]
    inbox: Inbox
    broadcasts: tuple[Sending, ...]
    under_heard: tuple[UnderHeard, ...]


async def dashboard(services: Services, t: Translator, now: datetime) -> Dashboard:
    """What the workspace's first page shows, in the officer's language, at `now`."""
    rows = await authoring.consultation_overview(services, now, t.language)
    shown = [row for row in rows if _recent(row, now)]
    activity = [
        Activity(row.id, row.title, row.state, row.closes, await _last_days(services, t, row.id, now), row.submitted)
        for row in shown
    ]
    under_heard: list[UnderHeard] = []
    for row in shown:
        if row.state is State.OPEN:
            reach = await results.reach_report(services, t, row.id)
            under_heard += [_group(row.id, row.title, "area", group) for group in reach.areas if group.under_heard]
            under_heard += [
                _group(row.id, row.title, "language", group) for group in reach.languages if group.under_heard
            ]
    waiting, oldest = await services.db.contact.waiting()
    return Dashboard(
        tuple(activity),
        Inbox(waiting, oldest, now),
        tuple([await _sending(services, broadcast, now) for broadcast in await services.db.broadcasts.in_progress()]),
        tuple(under_heard),
    )


def _recent(row: authoring.ConsultationRow, now: datetime) -> bool:
    """Open now, or closed (with or without its outcome) in the last RECENT."""
    if row.state is State.OPEN:
        return True
    closed = row.state in (State.CLOSED, State.OUTCOME_PUBLISHED)
    return closed and row.closes is not None and row.closes >= now - RECENT


def _group(consultation_id: str, title: str, kind: str, row: ReachRow) -> UnderHeard:
    return UnderHeard(consultation_id, title, kind, row.key, row.label)


async def _last_days(services: Services, t: Translator, consultation_id: str, now: datetime) -> tuple[Day, ...]:
    """Submitted responses on each of the last DAYS_SHOWN days (the results page's days), gaps as 0."""
    today: date = now.astimezone(t.timezone).date()
    return await results.submitted_days(
        services, consultation_id, t.timezone, today - timedelta(days=DAYS_SHOWN - 1), today
    )


async def _sending(services: Services, broadcast: Broadcast, now: datetime) -> Sending:
    deliveries = services.db.deliveries
    going_at = await deliveries.waiting_until(broadcast.id)
    return Sending(
        broadcast.id,
        datetime.fromisoformat(broadcast.created_at),
        next(iter(broadcast.texts.values()), ""),
        broadcasting.progress_of(await deliveries.counts(broadcast.id)),
        going_at if going_at is not None and going_at > now else None,
    )
