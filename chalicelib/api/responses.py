"""Response bodies: the pydantic models the OpenAPI document shows for each route's success.

The views build plain dicts (allow-lists of fields); these models say what those dicts are.
With VALIDATE_RESPONSES=1 (the test suite sets it) every success body is checked against its
route's model, and a field that is missing, mistyped or undocumented fails the request with a
500, so the document cannot drift from the code. Unknown fields are refused in that check but
refused by the published schema too (``additionalProperties: false``): a new field is a change of
the document.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
Id = str
Instant = str  # ISO 8601, UTC, with a Z suffix


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(Out, Generic[T]):
    """A page of a list; ``next_cursor`` resumes after its last item (null: the end)."""

    items: list[T]
    next_cursor: str | None


# --- users and auth ---------------------------------------------------------------------------


class User(Out):
    id: Id
    username: str
    name: str
    role: Literal["user", "organizer", "support", "admin"]
    created_at: Instant
    email: str | None = Field(None, description="only for the user themselves and can_manage_users")
    updated_at: Instant | None = Field(None, description="only with email")


class UserRef(Out):
    """A user named by id inside another resource; a deleted account keeps its id only."""

    id: Id
    username: str | None
    name: str
    deleted: bool


class PublicUser(User):
    """A user in a friend or conversation list: the public profile, or a deleted user."""

    username: str | None  # type: ignore[assignment]
    role: Literal["user", "organizer", "support", "admin"] | None = None  # type: ignore[assignment]
    created_at: Instant | None = None  # type: ignore[assignment]
    deleted: bool


class Login(Out):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    user: User


# --- events, seats ------------------------------------------------------------------------------


class Venue(Out):
    name: str
    address: str
    lat: float
    lon: float


class Section(Out):
    code: str
    name: str
    kind: Literal["ga", "reserved"]
    price_cents: int
    currency: str
    capacity: int
    sold: int
    held: int
    remaining: int
    shards: int = Field(description="K: how many items (partitions) the capacity is spread over")
    rows: int | None = None
    seats_per_row: int | None = None


class Event(Out):
    id: Id
    organizer_id: Id
    title: str
    description: str
    category: str
    starts_at: Instant
    ends_at: Instant | None
    venue: Venue
    image_url: str | None
    max_tickets_per_order: int
    hold_minutes: int
    waitlist_offer_minutes: int
    currency: str
    status: Literal["on_sale", "cancelled"]
    created_at: Instant
    updated_at: Instant
    sections: list[Section] | None = Field(None, description="on GET /events/{id} and writes, not in lists")


class BookmarkedEvent(Event):
    bookmarked_at: Instant


class SalesRow(Section):
    revenue_cents: int


class Totals(Out):
    capacity: int
    sold: int
    held: int
    remaining: int
    revenue_cents: int


class Sales(Out):
    event_id: Id
    currency: str
    sections: list[SalesRow]
    totals: Totals


class Seat(Out):
    seat: str
    row: int
    number: int
    status: Literal["available", "held", "sold"]


class SeatCounts(Out):
    available: int
    held: int
    sold: int


class SeatMap(Out):
    event_id: Id
    section: str
    rows: int
    seats_per_row: int
    counts: SeatCounts
    seats: list[Seat]


class Bookmark(Out):
    event_id: Id
    created_at: Instant


# --- holds, orders, tickets, invoices, waiting lists ---------------------------------------------


class Assignment(Out):
    seat: str
    user_id: Id


class HoldPayment(Out):
    order_id: Id
    user_id: Id
    seats: list[str]
    quantity: int


class Hold(Out):
    id: Id
    event_id: Id
    user_id: Id
    section: str
    quantity: int
    seats: list[str]
    assignments: list[Assignment]
    paid_seats: list[str]
    open_seats: list[str]
    paid_quantity: int
    payments: list[HoldPayment]
    unit_price_cents: int
    currency: str
    expires_at: Instant
    status: Literal["live", "released", "expired", "completed"]
    waitlist_offer: bool
    created_at: Instant


class OrderTicket(Out):
    id: Id
    section: str
    seat: str | None


class Order(Out):
    id: Id
    event_id: Id
    user_id: Id
    user: UserRef
    status: Literal["confirmed", "cancelled"]
    section: str
    quantity: int
    seats: list[str]
    hold_id: Id | None
    tickets: list[OrderTicket]
    unit_price_cents: int
    total_cents: int
    currency: str
    created_at: Instant
    cancelled_at: Instant | None
    refunded_at: Instant | None


class InvoiceLine(Out):
    description: str
    quantity: int
    unit_price_cents: int
    total_cents: int


class Invoice(Out):
    id: Id
    kind: Literal["invoice", "credit_note"]
    number: int
    order_id: Id
    event_id: Id
    payee: Id
    payee_user: UserRef
    lines: list[InvoiceLine]
    total_cents: int
    currency: str
    issued_at: Instant
    status: Literal["issued", "void"]
    voided_at: Instant | None
    credits_invoice_id: Id | None


class Ticket(Out):
    id: Id
    order_id: Id
    event_id: Id
    section: str
    seat: str | None
    holder_id: Id
    status: Literal["valid", "cancelled", "checked_in"]
    checked_in_at: Instant | None
    code: str


class CheckIn(Out):
    ticket: Ticket


class Attendee(Out):
    id: Id
    order_id: Id
    section: str
    seat: str | None
    holder: UserRef
    status: Literal["valid", "cancelled", "checked_in"]
    checked_in_at: Instant | None


class Jwk(Out):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: str
    use: Literal["sig"]


class JwkSet(Out):
    keys: list[Jwk]


class WaitlistEntry(Out):
    id: Id
    event_id: Id
    section: str
    quantity: int
    status: Literal["waiting", "offered", "expired"]
    joined_at: Instant
    position: int | None
    hold_id: Id | None = None
    expires_at: Instant | None = None


class Notification(Out):
    id: Id
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: Instant
    read: bool
    read_at: Instant | None


# --- social ------------------------------------------------------------------------------------


class FriendRequest(Out):
    id: Id
    from_user_id: Id
    to_user_id: Id
    direction: Literal["incoming", "outgoing"]
    status: Literal["pending", "accepted", "declined", "cancelled"]
    created_at: Instant
    decided_at: Instant | None
    user: PublicUser


class Friendship(Out):
    user_id: Id
    since: Instant
    user: PublicUser


class SharedPost(Out):
    id: Id
    author_id: Id
    body: str
    event_id: Id | None
    created_at: Instant


class Post(SharedPost):
    shared_post_id: Id | None
    shared_post: SharedPost | None
    like_count: int
    comment_count: int
    liked_by_me: bool
    version: int
    updated_at: Instant


class Comment(Out):
    id: Id
    post_id: Id
    author_id: Id
    body: str
    version: int
    created_at: Instant
    updated_at: Instant


class Message(Out):
    id: Id
    from_user_id: Id
    to_user_id: Id
    body: str
    created_at: Instant


class LastMessage(Out):
    id: Id
    from_user_id: Id
    body: str
    created_at: Instant


class Conversation(Out):
    user_id: Id
    user: PublicUser
    last_message: LastMessage
    unread: int


class Place(Out):
    id: Id
    name: str
    kind: Literal["restaurant", "transport", "activity"]
    lat: float
    lon: float
    rating: float
    url: str | None
    created_by: Id | None = None
    created_at: Instant | None = None
    distance_m: int | None = Field(None, description="in recommendations: metres from the venue")


class SearchEvent(Event):
    type: Literal["event"]


class SearchUser(User):
    type: Literal["user"]


class SalesReport(Out):
    date: str
    event_id: Id
    title: str
    starts_at: Instant
    status: str
    currency: str
    sections: list[dict[str, Any]]
    totals: dict[str, Any]
    generated_at: Instant


class Health(Out):
    status: Literal["ok"]


# --- support desk -------------------------------------------------------------------------------


class TicketSummary(Out):
    id: Id
    title: str
    priority: Literal["low", "medium", "high", "emergency"]
    status: Literal["open", "in_progress", "resolved", "closed"]
    creator_id: Id
    assignee_id: Id | None
    event_id: Id | None
    order_id: Id | None
    version: int
    created_at: Instant
    updated_at: Instant


class SupportTicket(TicketSummary):
    description: str
    resolved_at: Instant | None
    closed_at: Instant | None
    creator: UserRef
    assignee: UserRef | None


class FieldChange(Out):
    field: str
    from_: Any = Field(alias="from")
    to: Any


class TicketChange(Out):
    version: int
    at: Instant
    actor: UserRef
    changes: list[FieldChange]


class SupportComment(Out):
    id: Id
    ticket_id: Id
    author_id: Id
    body: str
    internal: bool
    version: int
    created_at: Instant
    updated_at: Instant


SearchItem = Annotated[SearchEvent | SearchUser, Field(discriminator="type")]

# Every route's success body, in one table: (method, path) → model. A route answering 204, or
# something other than JSON (the QR image, the docs page), has none.
RESPONSES: dict[tuple[str, str], Any] = {
    ("POST", "/auth/register"): User,
    ("POST", "/auth/register/admin"): User,
    ("POST", "/auth/login"): Login,
    ("POST", "/auth/google"): Login,
    ("GET", "/me"): User,
    ("GET", "/users"): Page[User],
    ("GET", "/users/{user_id}"): User,
    ("PATCH", "/users/{user_id}"): User,
    ("PUT", "/users/{user_id}"): User,
    ("POST", "/events"): Event,
    ("GET", "/events"): Page[Event],
    ("GET", "/events/{event_id}"): Event,
    ("PATCH", "/events/{event_id}"): Event,
    ("PUT", "/events/{event_id}"): Event,
    ("GET", "/events/{event_id}/sales"): Sales,
    ("GET", "/events/{event_id}/seats"): SeatMap,
    ("PUT", "/events/{event_id}/bookmark"): Bookmark,
    ("GET", "/me/bookmarks"): Page[BookmarkedEvent],
    ("POST", "/events/{event_id}/holds"): Hold,
    ("GET", "/holds/{hold_id}"): Hold,
    ("POST", "/holds/{hold_id}/assign"): Hold,
    ("GET", "/me/holds"): Page[Hold],
    ("POST", "/events/{event_id}/orders"): Order,
    ("GET", "/orders"): Page[Order],
    ("GET", "/orders/{order_id}"): Order,
    ("POST", "/orders/{order_id}/cancel"): Order,
    ("GET", "/invoices"): Page[Invoice],
    ("GET", "/invoices/{invoice_id}"): Invoice,
    ("GET", "/tickets/{ticket_id}"): Ticket,
    ("POST", "/tickets/{ticket_id}/check-in"): Ticket,
    ("POST", "/events/{event_id}/check-ins"): CheckIn,
    ("GET", "/events/{event_id}/ticket-keys"): JwkSet,
    ("GET", "/events/{event_id}/attendees"): Page[Attendee],
    ("POST", "/events/{event_id}/waitlist"): WaitlistEntry,
    ("GET", "/events/{event_id}/waitlist/me"): WaitlistEntry,
    ("GET", "/notifications"): Page[Notification],
    ("POST", "/notifications/{notification_id}/read"): Notification,
    ("POST", "/friends/requests"): FriendRequest,
    ("GET", "/friends/requests"): Page[FriendRequest],
    ("POST", "/friends/requests/{request_id}/accept"): Friendship,
    ("GET", "/friends"): Page[Friendship],
    ("POST", "/posts"): Post,
    ("GET", "/posts"): Page[Post],
    ("GET", "/posts/{post_id}"): Post,
    ("PATCH", "/posts/{post_id}"): Post,
    ("PUT", "/posts/{post_id}"): Post,
    ("POST", "/posts/{post_id}/comments"): Comment,
    ("GET", "/posts/{post_id}/comments"): Page[Comment],
    ("GET", "/comments/{comment_id}"): Comment,
    ("PATCH", "/comments/{comment_id}"): Comment,
    ("PUT", "/comments/{comment_id}"): Comment,
    ("PUT", "/posts/{post_id}/like"): Post,
    ("POST", "/messages"): Message,
    ("GET", "/conversations"): Page[Conversation],
    ("GET", "/conversations/{user_id}/messages"): Page[Message],
    ("GET", "/search"): Page[SearchItem],
    ("GET", "/events/{event_id}/recommendations"): Page[Place],
    ("POST", "/places"): Place,
    ("GET", "/reports/sales"): Page[SalesReport],
    ("GET", "/health"): Health,
    ("POST", "/support/tickets"): SupportTicket,
    ("GET", "/support/tickets"): Page[TicketSummary],
    ("GET", "/support/tickets/{ticket_id}"): SupportTicket,
    ("PATCH", "/support/tickets/{ticket_id}"): SupportTicket,
    ("PUT", "/support/tickets/{ticket_id}"): SupportTicket,
    ("GET", "/support/tickets/{ticket_id}/history"): Page[TicketChange],
    ("POST", "/support/tickets/{ticket_id}/comments"): SupportComment,
    ("GET", "/support/tickets/{ticket_id}/comments"): Page[SupportComment],
    ("GET", "/support/comments/{comment_id}"): SupportComment,
    ("PATCH", "/support/comments/{comment_id}"): SupportComment,
    ("PUT", "/support/comments/{comment_id}"): SupportComment,
}
