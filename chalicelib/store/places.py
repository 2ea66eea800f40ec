"""Places: one partition per geohash cell (precision 5), the kind leading the sort key.

``PLACE#<cell>`` / ``PLACE#<kind>#<id>``: the places near a point are one Query
per cell of the 3x3 block around it, ``begins_with PLACE#<kind>#`` when only one
kind is wanted. Places are never read by id, so the id is not a key of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.store import keys
from chalicelib.store.table import Item, write_batch


class Place(Item, discriminator="place"):
    place_id = UnicodeAttribute()
    cell = UnicodeAttribute()  # the geohash (precision 5) of lat/lon: the partition
    name = UnicodeAttribute()
    kind = UnicodeAttribute()  # restaurant, transport or activity
    lat = NumberAttribute()
    lon = NumberAttribute()
    rating = NumberAttribute()  # 0.0-5.0, one decimal
    url = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()

    def set_keys(self) -> Place:
        self.pk, self.sk = keys.place(self.cell, self.kind, self.place_id)
        return self


def create(place: Place) -> Place:
    try:
        place.set_keys().save(Place.pk.does_not_exist())
    except PutError as e:
        # The id is new: a failed condition is an SDK retry of our own put whose answer was lost.
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise
    return place


def create_many(places: Iterable[Place]) -> int:
    """BatchWriteItem in 25s (bulk loads: the demo data and the benchmark). How many were written."""
    written = [place.set_keys() for place in places]
    write_batch(puts=written)
    return len(written)


def in_cell(cell: str, kind: str | None = None) -> Iterator[Place]:
    """Every place of one cell (one Query, paged by PynamoDB), of one kind when given."""
    condition = Item.sk.startswith(keys.place_kind_prefix(kind)) if kind else None
    for item in Item.query(keys.places_in(cell), condition):
        if isinstance(item, Place):
            yield item
