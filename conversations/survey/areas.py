"""The deployment's areas, and finding one from what a resident typed (a name or a postcode)."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from conversations.survey.model import Texts, pick_text

POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})?$")
DEFAULT_RADIUS_KM = 10.0
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Area:
    id: str
    name: Texts
    postcode_prefixes: tuple[str, ...] = ()
    population: int | None = None
    centre: tuple[float, float] | None = None  # latitude, longitude: a shared location finds the area
    radius_km: float = DEFAULT_RADIUS_KM  # how far from its centre a location still counts

    def display_name(self, language: str, default_language: str) -> str:
        return pick_text(self.name, language, default_language)[0]


@dataclass(frozen=True)
class AreaMatch:
    """The area a resident meant, or the closest names to suggest when unsure."""

    area: Area | None
    suggestions: tuple[Area, ...] = ()


def _fold(text: str) -> str:
    # Spaces and punctuation are dropped: "Sitting bourne" and "sittingbourne" are the same place.
    return "".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def find_area(typed: str, areas: Sequence[Area], language: str, default_language: str) -> AreaMatch:
    """Match a typed area name (any language) or postcode to one area."""
    by_postcode = _area_by_postcode(typed, areas)
    if by_postcode is not None:
        return AreaMatch(by_postcode)
    wanted = _fold(typed)
    names: dict[str, Area] = {}
    for area in areas:
        for name in area.name.values():
            names[_fold(name)] = area
        names[_fold(area.id.replace("-", " "))] = area
    if wanted in names:
        return AreaMatch(names[wanted])
    starting = {a.id: a for folded, a in names.items() if wanted and folded.startswith(wanted)}
    if len(starting) == 1:
        return AreaMatch(next(iter(starting.values())))
    close = difflib.get_close_matches(wanted, list(names), n=6, cutoff=0.6)
    suggestions = {a.id: a for a in starting.values()}
    suggestions.update({names[c].id: names[c] for c in close})
    return AreaMatch(None, tuple(list(suggestions.values())[:3]))


def _area_by_postcode(typed: str, areas: Sequence[Area]) -> Area | None:
    """Match on the outward code ("ME10"), or on a sector ("ME10 1") where one is configured."""
    match = POSTCODE.match(typed.strip().upper())
    if not match:
        return None
    outward, inward = match.group(1), match.group(2) or ""
    full = f"{outward} {inward}".strip()
    best: tuple[int, Area] | None = None
    for area in areas:
        for prefix in area.postcode_prefixes:
            p = " ".join(prefix.upper().split())
            hit = p == outward or (" " in p and full.startswith(p))
            # The most specific prefix wins, so a sector beats its district.
            if hit and (best is None or len(p) > best[0]):
                best = (len(p), area)
    return best[1] if best else None


def locatable(areas: Sequence[Area]) -> bool:
    """Whether a shared location can find an area at all (some area has a centre)."""
    return any(area.centre is not None for area in areas)


def nearest_area(latitude: float, longitude: float, areas: Sequence[Area]) -> Area | None:
    """The area whose centre is nearest a shared location, if the location is within its radius."""
    best: tuple[float, Area] | None = None
    for area in areas:
        if area.centre is None:
            continue
        distance = distance_km((latitude, longitude), area.centre)
        if distance <= area.radius_km and (best is None or distance < best[0]):
            best = (distance, area)
    return best[1] if best else None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The distance over the Earth's surface between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
