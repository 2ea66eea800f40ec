"""Request bodies: strict pydantic models. Unknown fields, wrong types, over-long
strings and out-of-range numbers are refused with a 400 naming each field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, model_validator

from chalicelib.api.limits import MAX_YEAR, MIN_YEAR

MAX_TICKETS_PER_ORDER = 50  # an order and its tickets must fit one 100-item transaction


class Strict(BaseModel):
    # defer_build: a model is built the first time it validates, not when this module is imported
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True, defer_build=True)


def _utc(value: datetime) -> datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value.astimezone(UTC)


Username = Annotated[str, Field(min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_.]+$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Password = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[EmailStr, Field(max_length=254)]
Instant = Annotated[AwareDatetime, AfterValidator(_utc)]
Role = Literal["user", "organizer", "support", "admin"]
SectionCode = Annotated[str, Field(min_length=1, max_length=8, pattern=r"^[A-Z0-9]+$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class RegisterBody(Strict):
    email: Email
    username: Username
    name: Name
    password: Password


class AdminRegisterBody(RegisterBody):
    role: Role = "user"


class GoogleBody(Strict):
    """A Google OpenID Connect ID token (from Google Identity Services on the client)."""

    id_token: Annotated[str, Field(min_length=1, max_length=8192)]


class LoginBody(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "ana@example.com", "password": "tangerine lighthouse 42"}]}
    )

    password: Password
    email: Email | None = None
    username: Username | None = None

    @model_validator(mode="after")
    def one_identifier(self) -> LoginBody:
        if (self.email is None) == (self.username is None):
            raise ValueError("give exactly one of email or username")
        return self


class UserPatchBody(Strict):
    email: Email | None = None
    username: Username | None = None
    name: Name | None = None
    role: Role | None = None
    password: Password | None = None
    current_password: Password | None = None


class UserPutBody(Strict):
    email: Email
    username: Username
    name: Name
    role: Role | None = None
    password: Password | None = None
    current_password: Password | None = None


class Venue(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: Annotated[str, Field(min_length=1, max_length=500)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class SectionBody(Strict):
    code: SectionCode
    name: Annotated[str, Field(min_length=1, max_length=100)]
    price_cents: Annotated[int, Field(ge=0, le=100_000_000)]
    currency: Currency = "AUD"
    capacity: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    rows: Annotated[int, Field(ge=1, le=500)] | None = None
    seats_per_row: Annotated[int, Field(ge=1, le=500)] | None = None
    shards: Shards | None = None

    @model_validator(mode="after")
    def ga_or_reserved(self) -> SectionBody:
        reserved = self.rows is not None or self.seats_per_row is not None
        if reserved and (self.rows is None or self.seats_per_row is None):
            raise ValueError("reserved seating needs both rows and seats_per_row")
        if reserved == (self.capacity is not None):
            raise ValueError("give either capacity (general admission) or rows and seats_per_row")
        if reserved and (self.shards or 1) > 1:
            raise ValueError("shards: only a general-admission section is sharded (seats are items of their own)")
        if self.shards is not None and self.capacity is not None and self.shards > self.capacity:
            raise ValueError("shards: at most one shard per ticket of capacity")
        return self


Shards = Annotated[
    int,
    Field(
        ge=1,
        le=32,
        description="K: the section's capacity is spread over K items (partitions) so a flash sale can sell "
        "past one item's write limit. Default: 1 below 5,000 tickets, else capacity / 2,500 up to 16. "
        "Fixed once the section exists.",
    ),
]


class SectionPatch(Strict):
    code: SectionCode
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    price_cents: Annotated[int, Field(ge=0, le=100_000_000)] | None = None
    currency: Currency | None = None
    capacity: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    rows: Annotated[int, Field(ge=1, le=500)] | None = None
    seats_per_row: Annotated[int, Field(ge=1, le=500)] | None = None
    shards: Shards | None = None


Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
Category = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9-]*$")]
ImageUrl = Annotated[str, Field(max_length=2000, pattern=r"^https?://")]
PerOrder = Annotated[int, Field(ge=1, le=MAX_TICKETS_PER_ORDER)]
HoldMinutes = Annotated[int, Field(ge=1, le=60)]
OfferMinutes = Annotated[int, Field(ge=1, le=24 * 60)]


class EventBody(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Harbour Lights Festival",
                    "description": "Three stages on the waterfront.",
                    "category": "music",
                    "starts_at": "2027-03-01T19:00:00Z",
                    "ends_at": "2027-03-01T23:00:00Z",
                    "venue": {
                        "name": "Circular Quay",
                        "address": "1 Circular Quay, Sydney",
                        "lat": -33.861,
                        "lon": 151.21,
                    },
                    "sections": [
                        {
                            "code": "GA",
                            "name": "General admission",
                            "price_cents": 4500,
                            "currency": "AUD",
                            "capacity": 500,
                        },
                        {
                            "code": "A",
                            "name": "Stalls A",
                            "price_cents": 9000,
                            "currency": "AUD",
                            "rows": 10,
                            "seats_per_row": 20,
                        },
                    ],
                }
            ]
        }
    )

    title: Title
    description: Description = ""
    category: Category
    starts_at: Instant
    ends_at: Instant | None = None
    venue: Venue
    image_url: ImageUrl | None = None
    max_tickets_per_order: PerOrder = 10
    hold_minutes: HoldMinutes = 10
    waitlist_offer_minutes: OfferMinutes = 30
    sections: Annotated[list[SectionBody], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def consistent(self) -> EventBody:
        _check_sections(self.sections)
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class EventPatchBody(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"title": "Harbour Lights Festival (late show)"}]})

    title: Title | None = None
    description: Description | None = None
    category: Category | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    venue: Venue | None = None
    image_url: ImageUrl | None = None
    max_tickets_per_order: PerOrder | None = None
    hold_minutes: HoldMinutes | None = None
    waitlist_offer_minutes: OfferMinutes | None = None
    sections: Annotated[list[SectionPatch], Field(min_length=1, max_length=20)] | None = None

    @model_validator(mode="after")
    def unique_codes(self) -> EventPatchBody:
        if self.sections is not None:
            _check_sections(self.sections)
        return self


def _check_sections(sections: list[SectionBody] | list[SectionPatch]) -> None:
    codes = [s.code for s in sections]
    if len(set(codes)) != len(codes):
        raise ValueError("section codes must be unique")
    currencies = {s.currency for s in sections if s.currency is not None}
    if len(currencies) > 1:
        raise ValueError("all sections of an event use one currency")


SeatText = Annotated[str, Field(min_length=5, max_length=24, pattern=r"^[A-Z0-9]+-[0-9]+-[0-9]+$")]
# The bound of a group (30 seats: one transaction) is checked with its own message in domain/seats.py.
SeatList = Annotated[list[SeatText], Field(min_length=1, max_length=100)]
HoldId = Annotated[str, Field(min_length=1, max_length=100)]


class OrderBody(Strict):
    """``{section, quantity}`` (general admission), ``{seats}`` (chosen seats) or ``{hold_id, seats?}``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"section": "GA", "quantity": 2}]})

    section: SectionCode | None = None
    quantity: Annotated[int, Field(ge=1, le=MAX_TICKETS_PER_ORDER)] | None = None
    seats: SeatList | None = None
    hold_id: HoldId | None = None

    @model_validator(mode="after")
    def one_form(self) -> OrderBody:
        by_quantity = self.section is not None or self.quantity is not None
        if self.hold_id is not None:
            if by_quantity:
                raise ValueError("a hold is paid with hold_id and optionally seats: no section or quantity")
        elif self.seats is not None:
            if by_quantity:
                raise ValueError("give either seats or section and quantity, not both")
        elif self.section is None or self.quantity is None:
            raise ValueError("give section and quantity, or seats, or hold_id")
        return self


class HoldBody(Strict):
    """``{section, quantity}`` (general admission), ``{seats}``, or ``{section, quantity, together: true}``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"section": "A", "quantity": 3, "together": True}]})

    section: SectionCode | None = None
    quantity: Annotated[int, Field(ge=1, le=MAX_TICKETS_PER_ORDER)] | None = None
    seats: SeatList | None = None
    together: bool = False

    @model_validator(mode="after")
    def one_form(self) -> HoldBody:
        if self.seats is not None:
            if self.section is not None or self.quantity is not None or self.together:
                raise ValueError("give either seats, or section and quantity (with together for adjacent seats)")
        elif self.section is None or self.quantity is None:
            raise ValueError("give seats, or section and quantity")
        return self


class AssignBody(Strict):
    seat: SeatText
    user_id: Annotated[str, Field(min_length=1, max_length=100)]


class CheckInBody(Strict):
    code: Annotated[str, Field(min_length=1, max_length=2000)]  # a ticket code as scanned (about 240 characters)


class WaitlistBody(Strict):
    section: SectionCode
    quantity: Annotated[int, Field(ge=1, le=MAX_TICKETS_PER_ORDER)]


# --- friends (issue 8) ---
class FriendRequestBody(Strict):
    user_id: Annotated[str, Field(min_length=1, max_length=100)]


# --- posts, comments, likes (issue 8) ---
PostText = Annotated[str, Field(min_length=1, max_length=5000)]
CommentText = Annotated[str, Field(min_length=1, max_length=2000)]
PostRefId = Annotated[str, Field(min_length=1, max_length=100)]
EditVersion = Annotated[int, Field(ge=1)]


class PostBody(Strict):
    """Talk about an event (``body, event_id``), share one (``event_id``), or re-share a post."""

    body: PostText | None = None
    event_id: PostRefId | None = None
    shared_post_id: PostRefId | None = None

    @model_validator(mode="after")
    def not_empty(self) -> PostBody:
        if self.body is None and self.event_id is None and self.shared_post_id is None:
            raise ValueError("give a body, an event_id or a shared_post_id")
        return self


class PostPatchBody(Strict):
    """The fields given change (``null`` clears); with ``version`` only that version is changed."""

    body: PostText | None = None
    event_id: PostRefId | None = None
    version: EditVersion | None = None


class PostPutBody(Strict):
    """Every editable field: one left out is cleared."""

    body: PostText | None = None
    event_id: PostRefId | None = None
    version: EditVersion | None = None


class CommentBody(Strict):
    body: CommentText


class CommentPatchBody(Strict):
    body: CommentText | None = None
    version: EditVersion | None = None


class CommentPutBody(Strict):
    body: CommentText
    version: EditVersion | None = None


# --- messages (issue 8) ---
MESSAGE_MAX_CHARS = 2000


class MessageBody(Strict):
    """A private message: 1-2000 characters once surrounding whitespace is stripped."""

    to_user_id: Annotated[str, Field(min_length=1, max_length=100)]
    body: Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX_CHARS)]


# --- search (issue 8) ---


# --- places (issue 8) ---


def _one_decimal(value: float) -> float:
    if abs(value * 10 - round(value * 10)) > 1e-6:
        raise ValueError("a rating has at most one decimal (4.5, not 4.55)")
    return round(value, 1)


PlaceKind = Literal["restaurant", "transport", "activity"]
Rating = Annotated[float, Field(ge=0, le=5), AfterValidator(_one_decimal)]
PlaceUrl = Annotated[str, Field(max_length=2000, pattern=r"^https?://")]


class PlaceBody(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: PlaceKind
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    rating: Rating
    url: PlaceUrl | None = None


# --- support desk (issue 9) ---
Priority = Literal["low", "medium", "high", "emergency"]
TicketStatus = Literal["open", "in_progress", "resolved", "closed"]
TicketTitle = Annotated[str, Field(min_length=1, max_length=200)]
TicketText = Annotated[str, Field(min_length=1, max_length=10000)]
SupportText = Annotated[str, Field(min_length=1, max_length=5000)]
RefId = Annotated[str, Field(min_length=1, max_length=100)]


class TicketBody(Strict):
    """A new support ticket, optionally about one of your orders or events."""

    title: TicketTitle
    description: TicketText
    priority: Priority
    event_id: RefId | None = None
    order_id: RefId | None = None


class TicketPatchBody(Strict):
    """The fields given change (``assignee_id: null`` unassigns); with ``version`` only that version."""

    title: TicketTitle | None = None
    description: TicketText | None = None
    status: TicketStatus | None = None
    priority: Priority | None = None
    assignee_id: RefId | None = None
    version: EditVersion | None = None

    @model_validator(mode="after")
    def no_nulls(self) -> TicketPatchBody:
        nulled = [f for f in ("title", "description", "status", "priority") if f in self.model_fields_set]
        if any(getattr(self, f) is None for f in nulled):
            raise ValueError("only assignee_id may be null")
        return self


class TicketPutBody(Strict):
    """Every editable field (send back what you read, changed): unchanged ones need no permission."""

    title: TicketTitle
    description: TicketText
    status: TicketStatus
    priority: Priority
    assignee_id: RefId | None
    version: EditVersion | None = None


class SupportCommentBody(Strict):
    body: SupportText
    internal: bool = False


class SupportCommentPatchBody(Strict):
    body: SupportText | None = None
    internal: bool | None = None
    version: EditVersion | None = None


class SupportCommentPutBody(Strict):
    body: SupportText
    internal: bool
    version: EditVersion | None = None
