"""The deployment file (HAVEYOURSAY_CONFIG): organisation, areas, topics, time zone, contacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from conversations.survey.areas import DEFAULT_RADIUS_KM, Area
from conversations.survey.model import Texts, pick_text

END_OF_DAY = time.max  # civil hours written as ending at 24:00


class DeploymentError(Exception):
    """The deployment file is wrong; the message says where and how."""


@dataclass(frozen=True)
class Topic:
    id: str
    name: Texts


@dataclass(frozen=True)
class Deployment:
    organisation: Texts = field(default_factory=dict)  # empty: not configured
    default_language: str = "en"
    areas: tuple[Area, ...] = ()
    topics: tuple[Topic, ...] = ()
    timezone: str = "Europe/London"
    civil_hours: tuple[time, time] = (time(9), time(20))
    officers_chat_id: int | None = None
    privacy_notice_url: str | None = None
    lawful_basis: Texts = field(default_factory=dict)
    contact: Texts = field(default_factory=dict)
    reminder_hours: int = 48
    id: str = ""  # optional in the file: a short name for this deployment, e.g. swale-hcp

    @property
    def identity(self) -> str:
        """What a database records as the deployment it belongs to: the file's `id`, else the
        organisation's name in the first language the file gives it ("" when it gives neither)."""
        return self.id or next(iter(self.organisation.values()), "")

    def organisation_name(self, language: str) -> str | None:
        """The organisation's name in this language; None when the deployment does not give one."""
        if not self.organisation:
            return None
        return pick_text(self.organisation, language, self.default_language)[0]

    def area(self, area_id: str | None) -> Area | None:
        return next((a for a in self.areas if a.id == area_id), None)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def text(self, texts: Texts, language: str) -> str:
        return pick_text(texts, language, self.default_language)[0]

    def in_civil_hours(self, moment: datetime) -> bool:
        """Whether it is a decent hour to send a reminder, a notice or a broadcast, in the deployment's time zone."""
        return self.next_civil_time(moment) == moment

    def next_civil_time(self, moment: datetime) -> datetime:
        """The first moment from `moment` on that is within civil hours: `moment` itself when it is.

        The one rule for when the bot may send on its own: reminders, opening notices, broadcasts.
        """
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        start, end = self.civil_hours
        if start <= local.time() and (end == END_OF_DAY or local.time() < end):
            return moment
        day = local.date() if local.time() < start else local.date() + timedelta(days=1)
        return datetime.combine(day, start, tzinfo=zone).astimezone(moment.tzinfo)


def load_deployment(path: str | Path | None, default_language: str = "en") -> Deployment:
    """Read the deployment file; with no file, a deployment with no areas or topics."""
    if path is None:
        return Deployment(default_language=default_language)
    name = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise DeploymentError(f"{name}: cannot read the deployment file: {error}") from error
    except yaml.YAMLError as error:
        raise DeploymentError(f"{name}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise DeploymentError(f"{name}: must be a mapping of settings")
    return _deployment(data, name, default_language)


def _deployment(data: dict[str, Any], name: str, default_language: str) -> Deployment:
    timezone = str(data.get("timezone", "Europe/London"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise DeploymentError(f"{name}: timezone: unknown time zone {timezone!r}") from error
    return Deployment(
        organisation=_texts(data, "organisation", name) or {},
        default_language=default_language,
        areas=tuple(_area(item, i, name) for i, item in enumerate(data.get("areas") or [])),
        topics=tuple(_topic(item, i, name) for i, item in enumerate(data.get("topics") or [])),
        timezone=timezone,
        civil_hours=_civil_hours(data.get("civil_hours"), name),
        officers_chat_id=_optional_int(data.get("officers_chat_id"), "officers_chat_id", name),
        privacy_notice_url=data.get("privacy_notice_url"),
        lawful_basis=_texts(data, "lawful_basis", name),
        contact=_texts(data, "contact", name),
        reminder_hours=_optional_int(data.get("reminder_hours"), "reminder_hours", name) or 48,
        id=str(data.get("id") or "").strip(),
    )


def _texts(data: dict[str, Any], key: str, name: str) -> dict[str, str]:
    value = data.get(key)
    if value is None:
        return {}
    if isinstance(value, str):
        raise DeploymentError(f"{name}: {key}: must be a map from language code to text, e.g. {{en: {value!r}}}")
    if not isinstance(value, dict):
        raise DeploymentError(f"{name}: {key}: must be a map from language code to text")
    return {str(k): str(v) for k, v in value.items()}


def _area(item: Any, index: int, name: str) -> Area:
    place = f"{name}: areas[{index}]"
    if not isinstance(item, dict) or "id" not in item or "name" not in item:
        raise DeploymentError(f"{place}: an area needs id and name (a map from language code to text)")
    prefixes = item.get("postcode_prefixes") or []
    if not isinstance(prefixes, list):
        raise DeploymentError(f"{place}.postcode_prefixes: must be a list such as [ME10, ME9]")
    return Area(
        id=str(item["id"]),
        name=_texts(item, "name", place),
        postcode_prefixes=tuple(str(p) for p in prefixes),
        population=_optional_int(item.get("population"), f"areas[{index}].population", name),
        centre=_centre(item.get("centre"), place),
        radius_km=_radius(item.get("radius_km"), place),
    )


def _centre(value: Any, place: str) -> tuple[float, float] | None:
    """An area's centre, `{lat: 51.34, lon: 0.73}`: a location shared in the chat finds the area."""
    if value is None:
        return None
    problem = f"{place}.centre: must be a latitude and longitude in degrees, e.g. {{lat: 51.34, lon: 0.73}}"
    if not isinstance(value, dict) or set(value) != {"lat", "lon"}:
        raise DeploymentError(problem)
    lat, lon = value["lat"], value["lon"]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
        raise DeploymentError(problem)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise DeploymentError(problem)
    return (float(lat), float(lon))


def _radius(value: Any, place: str) -> float:
    if value is None:
        return DEFAULT_RADIUS_KM
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 500:
        raise DeploymentError(f"{place}.radius_km: must be a distance in kilometres, more than 0 and at most 500")
    return float(value)


def _topic(item: Any, index: int, name: str) -> Topic:
    if not isinstance(item, dict) or "id" not in item or "name" not in item:
        raise DeploymentError(f"{name}: topics[{index}]: a topic needs id and name")
    return Topic(id=str(item["id"]), name=_texts(item, "name", f"{name}: topics[{index}]"))


def _civil_hours(value: Any, name: str) -> tuple[time, time]:
    if value is None:
        return (time(9), time(20))
    try:
        start, end = (
            END_OF_DAY if part.strip() == "24:00" else time.fromisoformat(part.strip())
            for part in str(value).split("-")
        )
    except ValueError as error:
        raise DeploymentError(f"{name}: civil_hours: write it as 09:00-20:00") from error
    return (start, end)


def _optional_int(value: Any, key: str, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DeploymentError(f"{name}: {key}: must be a whole number")
    return value
