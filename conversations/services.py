"""What every conversation needs: storage, catalogs, the deployment, the clock, consultations."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from conversations.deployment import Deployment
from conversations.i18n import Catalogs, Translator
from conversations.pseudonyms import Pseudonyms
from conversations.screens import Screen
from conversations.survey.loader import consultation_from_data
from conversations.survey.model import Consultation
from storage import Database
from storage.residents import Resident

RETURNING_AFTER = timedelta(hours=3)  # this long since their last update, a resident is "back"
SEEN_EVERY = timedelta(minutes=1)  # how often a resident's last update is written


def utc_now() -> datetime:
    return datetime.now(UTC)


class ChatMoved(Exception):
    """Telegram upgraded a group to a supergroup: the message was not sent; send it to `new_chat_id`."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"the group moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


async def _cannot_send(chat_id: int, screen: Screen) -> int:
    raise RuntimeError("no Telegram connection in this process")


@dataclass(frozen=True)
class LoadedConsultation:
    """A consultation as stored (its version) and as a model."""

    version: int
    revision: int
    model: Consultation


class ConsultationCache:
    """Parsed consultations, reloaded when an import changes them (checked by revision).

    `haveyoursay import` runs in another process, so the revision is read from the
    database, but at most once a second per consultation: every update of a survey
    needs the consultation, and an import is seen within a second.
    """

    REVISION_SECONDS = 1.0

    def __init__(self, db: Database, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._monotonic = monotonic
        self._by_version: dict[tuple[str, int], tuple[int, Consultation]] = {}
        self._revisions: dict[str, tuple[float, tuple[int, int] | None]] = {}

    async def _revision(self, consultation_id: str, fresh: bool = False) -> tuple[int, int] | None:
        now = self._monotonic()
        checked = self._revisions.get(consultation_id)
        if not fresh and checked is not None and now - checked[0] < self.REVISION_SECONDS:
            return checked[1]
        found = await self._db.consultations.revision(consultation_id)
        self._revisions[consultation_id] = (now, found)
        return found

    async def current(self, consultation_id: str, *, fresh: bool = False) -> LoadedConsultation | None:
        """The consultation at its current version, or None if there is no such consultation.

        `fresh`: as stored this moment, for an officer who has just imported a change (residents'
        updates accept an import being seen up to a second late).
        """
        found = await self._revision(consultation_id, fresh)
        if found is None:
            return None
        version, revision = found
        return await self._load(consultation_id, version, revision)

    async def at_version(self, consultation_id: str, version: int) -> LoadedConsultation | None:
        """The consultation as it was at one version (the one a response answers)."""
        found = await self._revision(consultation_id)
        if found is None:
            return None
        loaded = await self._load(consultation_id, version, found[1])
        current = await self._load(consultation_id, found[0], found[1]) if version != found[0] else None
        if loaded is None or current is None:
            return loaded
        # Its dates are the consultation's, not a version's: closed early (or given longer), it is
        # so for those answering an earlier version too.
        model = replace(loaded.model, opens=current.model.opens, closes=current.model.closes)
        return LoadedConsultation(version, loaded.revision, model)

    async def _load(self, consultation_id: str, version: int, revision: int) -> LoadedConsultation | None:
        cached = self._by_version.get((consultation_id, version))
        if cached is not None and cached[0] == revision:
            return LoadedConsultation(version, revision, cached[1])
        stored = await self._db.consultations.get(consultation_id, version)
        if stored is None:
            return None
        model = consultation_from_data(stored.definition)
        self._by_version[(consultation_id, version)] = (revision, model)
        return LoadedConsultation(version, revision, model)

    async def open_now(self, now: datetime) -> list[Consultation]:
        """Consultations open at `now`, closing soonest first."""
        found = []
        for consultation_id in await self._db.consultations.open_ids(now):
            loaded = await self.current(consultation_id)
            if loaded is not None:
                found.append(loaded.model)
        return found


async def _no_menu(user_id: int) -> None:
    return None


@dataclass
class Services:
    """Shared by every handler; built once at start-up."""

    db: Database
    catalogs: Catalogs
    deployment: Deployment
    bot_username: str = ""
    clock: Callable[[], datetime] = utc_now
    admins: frozenset[int] = frozenset()
    reminder_window: timedelta = timedelta(hours=48)
    wake_delivery: Callable[[], None] = lambda: None
    erasure: str = "delete"  # what /delete does to submitted answers: "delete" or "anonymise"
    response_retention: timedelta = timedelta(days=730)  # responses kept this long after closing
    inactive_after: timedelta = timedelta(days=730)  # residents not seen this long are told, then removed
    removal_grace: timedelta = timedelta(days=30)
    # Sends one message at once (not through the queue) and returns its message id; raises
    # PermissionError when the chat has blocked the bot, ChatMoved when a group became a
    # supergroup. Set by the bot at start-up.
    send_now: Callable[[int, Screen], Awaitable[int]] = field(default=_cannot_send)
    # Sets one person's own command menu for the role they have now (an officer's or an admin's
    # commands, or Telegram's default for everyone else). Set by the bot at start-up.
    refresh_menu: Callable[[int], Awaitable[None]] = field(default=_no_menu)
    # When this bot process started (set at start-up): residents last seen before it are back.
    # None with several workers (bot/app.py): the bot as a whole does not stop when one worker does.
    started_at: datetime | None = None
    # The workspace's public address (HAVEYOURSAY_WEB_URL), "" when it is switched off.
    workspace_url: str = ""
    consultations: ConsultationCache = field(init=False)
    # The officers' chat: the deployment file's, unless Telegram has moved it since (set at start-up).
    officers_chat_id: int | None = field(init=False)

    def __post_init__(self) -> None:
        self.consultations = ConsultationCache(self.db)
        self.officers_chat_id = self.deployment.officers_chat_id

    async def role_of(self, user_id: int) -> str | None:
        """'admin', 'officer' or None; checked each time a command runs, never cached."""
        if user_id in self.admins:
            return "admin"
        return await self.db.officers.role(user_id)


@dataclass
class Visit:
    """One update from one resident: who they are (if they acknowledged the notice) and their language."""

    services: Services
    chat_id: int
    resident: Resident | None
    t: Translator
    telegram_language: str | None
    # For a button tap: stops the button's spinner now, with no notice (the Telegram edge sets
    # it). A conversation calls it once it knows its reply will carry no notice, so the answer
    # goes out while SQLite is still writing; the reply then does not answer the tap again.
    acknowledge: Callable[[], Awaitable[None]] | None = None
    acknowledged: bool = False
    # Back after hours away, or after the bot restarted (or writing while it was down): typed
    # text is not taken as an answer before the question they are on has been shown again.
    returning: bool = False

    async def acknowledge_tap(self) -> None:
        if self.acknowledge is not None and not self.acknowledged:
            self.acknowledged = True
            await self.acknowledge()

    @property
    def language(self) -> str:
        return self.t.language

    @functools.cached_property
    def pseudonyms(self) -> Pseudonyms:
        """The resident's response, feedback and equality ids, each computed once for this update."""
        return Pseudonyms(self.services.db.pseudonym_key, self.chat_id)

    def now(self) -> datetime:
        return self.services.clock()


async def begin_visit(
    services: Services, chat_id: int, telegram_language: str | None, sent_at: datetime | None = None
) -> Visit:
    """Load the resident and decide their language, once per update (`sent_at`: when it was written)."""
    resident = await services.db.residents.get(chat_id)
    language = services.catalogs.resolve(resident.language if resident else None, telegram_language)
    visit = Visit(services, chat_id, resident, services.catalogs.translator(language), telegram_language)
    if resident is not None:
        now, last, started = services.clock(), resident.last_seen, services.started_at
        visit.returning = last is not None and (
            now - last >= RETURNING_AFTER
            or (started is not None and (last < started or (sent_at is not None and sent_at < started)))
        )
        # Written at most once a minute (not on every tap), and always when they are back.
        if last is None or visit.returning or now - last >= SEEN_EVERY:
            await services.db.residents.touch(chat_id, now)
    return visit
