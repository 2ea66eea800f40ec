"""Places (issue 8): restaurants, transport and activities near an event's venue.

Places live in geohash cells of precision 5 (``PRECISION``): 0.0439° x 0.0439°,
about 4.9 km north-south and 4.9 km x cos(latitude) east-west. The places near a
point are read from its cell and the ring of 8 cells around it (one Query each);
the distance of each is computed (haversine), and only those within
:func:`radius_m` are kept: a radius that 3x3 block is sure to cover whatever
the point's position inside its cell, so no place in range is ever missed.

"Nearest first, then best rated": distances are cut into ``BAND_M`` (100 m)
bands; within a band, the higher rating first, then the name (case-insensitive),
then the id.
"""

from __future__ import annotations

import math
from typing import Any

from chalicelib.auth.permissions import Permission
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Forbidden, Invalid
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.store import events as events_store
from chalicelib.store import places as store
from chalicelib.store.places import Place
from chalicelib.streams.processor import Reactions

REACTIONS: Reactions = {}  # the activity consumer's reactions for this aggregate (merged in streams/activity.py)

KINDS = ("restaurant", "transport", "activity")
PRECISION = 5
MAX_RADIUS_M = 3_000  # the radius; less only beyond about 52° of latitude, where cells get narrow
BAND_M = 100
EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)


# --- geometry ------------------------------------------------------------------------------------
# pygeohash is imported where it is used: a cold start that places nothing does not load it.
def cell_of(lat: float, lon: float) -> str:
    import pygeohash

    return pygeohash.encode(lat, lon, PRECISION)


def block(cell: str) -> list[str]:
    """The cell and its ring of 8 neighbours (fewer at the poles; the grid wraps at ±180°)."""
    import pygeohash
    from pygeohash.neighbor import get_adjacent

    exact = pygeohash.decode_exactly(cell)
    column = [cell]
    if exact.latitude + exact.latitude_error < 90:
        column.append(get_adjacent(cell, "top"))
    if exact.latitude - exact.latitude_error > -90:
        column.append(get_adjacent(cell, "bottom"))
    cells = [c for middle in column for c in (middle, get_adjacent(middle, "left"), get_adjacent(middle, "right"))]
    return list(dict.fromkeys(cells))


def radius_m(lat: float, cell: str) -> float:
    """The largest radius around a point at ``lat`` in ``cell`` that the 3x3 block covers, at most MAX_RADIUS_M.

    The block reaches one whole cell beyond the point's cell on every side: ``h``
    degrees of latitude and ``w`` of longitude at least. A circle of angular radius
    d around latitude φ spans at most d of latitude and asin(sin d / cos φ) of
    longitude (if it does not hold a pole), so it is covered while d ≤ h and
    sin d ≤ sin w · cos φ and d < 90° - |φ|.
    """
    import pygeohash

    exact = pygeohash.decode_exactly(cell)
    h, w = math.radians(2 * exact.latitude_error), math.radians(2 * exact.longitude_error)
    phi = math.radians(max(-90.0, min(90.0, lat)))
    east_west = math.asin(min(1.0, math.sin(w) * math.cos(phi)))
    to_pole = math.pi / 2 - abs(phi)
    return min(float(MAX_RADIUS_M), EARTH_RADIUS_M * max(0.0, min(h, east_west, to_pole)) * (1 - 1e-9))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine, spherical Earth of the mean radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def order_key(place: Place, distance: float) -> tuple[int, float, str, str]:
    return int(distance // BAND_M), -float(place.rating), place.name.casefold(), place.place_id


# --- use cases -----------------------------------------------------------------------------------
def check_kind(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        allowed = ", ".join(KINDS)
        raise Invalid(
            f"Query parameter kind: one of {allowed}.", details=[{"field": "kind", "message": f"one of {allowed}"}]
        )
    return kind


def build(*, name: str, kind: str, lat: float, lon: float, rating: float, url: str | None, created_by: str) -> Place:
    """A new place, not yet written."""
    return Place(
        place_id=new_id(),
        cell=cell_of(lat, lon),
        name=name,
        kind=check_kind(kind),
        lat=lat,
        lon=lon,
        rating=round(rating, 1),
        url=url,
        created_by=created_by,
        created_at=iso(utcnow()),
    )


def may_add(caller: Caller) -> bool:
    return caller.can(Permission.EDIT_ALL) or events_store.organizes_any_event(caller.id)


def add(caller: Caller, body: dict[str, Any]) -> Place:
    """Add a place: for ``can_edit_all`` and for the organizer of at least one event."""
    if not may_add(caller):
        raise Forbidden("Only admins and organizers of an event may add places.")
    return store.create(build(**body, created_by=caller.id))


def nearby(lat: float, lon: float, kind: str | None = None) -> list[tuple[Place, float]]:
    """Places within :func:`radius_m` of a point with their distances, nearest (then best rated) first.

    One Query per cell of the 3x3 block (nine, fewer at the poles); no Scan.
    """
    kind = check_kind(kind)
    cell = cell_of(lat, lon)
    radius = radius_m(lat, cell)
    found: list[tuple[Place, float]] = []
    for c in block(cell):
        for place in store.in_cell(c, kind):
            d = distance_m(lat, lon, float(place.lat), float(place.lon))
            if d <= radius:
                found.append((place, d))
    found.sort(key=lambda pd: order_key(*pd))
    return found


def recommendations(event_id: str, kind: str | None, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` nearest, best rated places around an event's venue (NotFound for no such event)."""
    check_kind(kind)
    venue = events_store.load_event(event_id).venue or {}
    lat, lon = venue.get("lat"), venue.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return []  # a venue without coordinates has no neighbourhood
    return [view(place, d) for place, d in nearby(float(lat), float(lon), kind)[:limit]]


def view(place: Place, distance: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": place.place_id,
        "name": place.name,
        "kind": place.kind,
        "lat": float(place.lat),
        "lon": float(place.lon),
        "rating": float(place.rating),
        "url": place.url,
    }
    if distance is None:
        out["created_by"], out["created_at"] = place.created_by, place.created_at
    else:
        out["distance_m"] = round(distance)
    return out
