"""Tickets: signed codes and their QR image, who may see a ticket, check-in, the attendee list.

A ticket's code is a compact JWS (a JWT without the ``typ`` header) signed with
Ed25519 by a key pair of the ticket's event: ``{"alg": "EdDSA", "kid": …}`` over
``{"t": ticket id, "e": event id, "s": section, "st": seat}`` (``st`` only for a
chosen seat). Nothing personal is in it: it is printed and shown at the door.
It has no ``exp`` nor ``iat``: a ticket is good until it is used or cancelled,
and that state lives in the table, which the door asks when it checks the
ticket in; without a time the same ticket always gets the same code (Ed25519
signatures are deterministic), so a QR code never changes under its holder.

Anyone can verify a code offline with the event's public keys (a JWK set,
``GET /events/{id}/ticket-keys``); the private half never leaves the table.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.auth.permissions import Permission
from chalicelib.domain import users
from chalicelib.domain.auth import Caller
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.domain.events import require_organizer_view
from chalicelib.domain.ids import iso, new_id, utcnow
from chalicelib.store import tickets as store
from chalicelib.store.events import CANCELLED as EVENT_CANCELLED
from chalicelib.store.events import Event, load_event
from chalicelib.store.orders import CANCELLED, Order, Ticket, parse_ticket_id
from chalicelib.store.pagination import Page
from chalicelib.store.tickets import TicketKey
from chalicelib.store.users import User

ALGORITHM = "EdDSA"
KEY_GENERATION = 1  # a key rotation would sign with generation 2 and keep publishing 1
MAX_CODE_LENGTH = 2000
QR_ERROR_LEVEL = "m"  # 15 % of the symbol may be lost (a scuffed printout, a cracked screen)
QR_SCALE, QR_BORDER = 4, 4  # pixels per module; the quiet zone the standard asks for


class InvalidCode(Invalid):
    """A code that is not one of this event's tickets (400 ``InvalidTicketCode``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The ticket code is not valid: {reason}.",
            code="InvalidTicketCode",
            details=[{"field": "code", "message": reason}],
        )
        self.reason = reason


@dataclass(frozen=True)
class TicketCode:
    """What a verified code says."""

    ticket_id: str
    event_id: str
    section: str
    seat: str | None


# Codes ----------------------------------------------------------------------


def key_id(event_id: str, generation: int = KEY_GENERATION) -> str:
    """The event's key id: derived, not random, so concurrent first signers race for one item
    and converge on one key; and distinct per event, so merged key sets never collide."""
    digest = hashlib.sha256(f"ticket-key|{event_id}|{generation}".encode()).digest()
    return _b64(digest[:8])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# PyJWT, cryptography and segno are imported by the functions that use them: a cold start that
# signs, verifies or draws no ticket (most of them) does not load them.


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_key(event_id: str) -> TicketKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    return TicketKey(
        event_id=event_id,
        kid=key_id(event_id),
        private_key=_b64(private.private_bytes_raw()),
        public_key=_b64(private.public_key().public_bytes_raw()),
        created_at=iso(utcnow()),
    )


def signing_key(event_id: str) -> TicketKey:
    """The event's current key pair, made the first time the event needs one."""
    kid = key_id(event_id)
    return store.get_key(event_id, kid) or store.create_key(_new_key(event_id))


def public_jwk(key: TicketKey) -> dict[str, str]:
    """The public half as a JWK (RFC 8037): an allow-list, so ``d`` can never slip out."""
    return {"kty": "OKP", "crv": "Ed25519", "x": key.public_key, "kid": key.kid, "alg": ALGORITHM, "use": "sig"}


def claims_of(ticket: Ticket) -> dict[str, str]:
    claims = {"t": ticket.ticket_id, "e": ticket.event_id, "s": ticket.section}
    if ticket.seat:
        claims["st"] = ticket.seat
    return claims


def sign(ticket: Ticket, key: TicketKey) -> str:
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.from_private_bytes(_unb64(key.private_key))
    # No "typ": every byte costs QR modules, and a ticket code is never mistaken for a bearer token.
    return jwt.encode(claims_of(ticket), private, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": None})


def code_for(ticket: Ticket) -> str:
    return sign(ticket, signing_key(ticket.event_id))


def verify_code(code: str, event_id: str, jwks: Sequence[Mapping[str, Any]]) -> TicketCode:
    """Check a scanned code against an event's public keys (a JWK set's ``keys``), offline.

    Raises :class:`InvalidCode` saying why: not a ticket code, another event's, a key the
    event does not have, a signature that does not verify.
    """
    import jwt

    if not code or len(code) > MAX_CODE_LENGTH or not code.isascii():
        raise InvalidCode("not a ticket code")
    try:
        header = jwt.get_unverified_header(code)
        said = jwt.decode(code, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError) as e:
        raise InvalidCode("not a ticket code") from e
    if header.get("alg") != ALGORITHM:  # never "none", never HMAC keyed with a public key
        raise InvalidCode("not a ticket code")
    if said.get("e") != event_id:
        raise InvalidCode(f"the code is for another event ({str(said.get('e'))[:40]})")
    kid = header.get("kid")
    jwk = next((k for k in jwks if isinstance(k, Mapping) and k.get("kid") == kid), None)
    if jwk is None:
        raise InvalidCode("signed by a key this event does not have")
    try:
        public = jwt.PyJWK(dict(jwk), algorithm=ALGORITHM)
    except (jwt.PyJWTError, ValueError, TypeError) as e:
        raise InvalidCode(f"the key {str(kid)[:40]} is not a usable Ed25519 public key") from e
    try:
        claims = jwt.decode(code, key=public, algorithms=[ALGORITHM])
    except jwt.InvalidSignatureError as e:
        raise InvalidCode("the signature does not verify") from e
    except (jwt.PyJWTError, ValueError, TypeError) as e:
        raise InvalidCode("not a ticket code") from e
    return _ticket_code(claims, event_id)


def _ticket_code(claims: Mapping[str, Any], event_id: str) -> TicketCode:
    tid, section, seat = claims.get("t"), claims.get("s"), claims.get("st")
    if (
        claims.get("e") != event_id
        or not isinstance(tid, str)
        or parse_ticket_id(tid) is None
        or not isinstance(section, str)
    ):
        raise InvalidCode("not a ticket code")
    if seat is not None and not isinstance(seat, str):
        raise InvalidCode("not a ticket code")
    return TicketCode(tid, event_id, section, seat)


def event_jwks(event_id: str) -> list[dict[str, str]]:
    """The published keys of an event, as stored (none until its first code was needed)."""
    return [public_jwk(k) for k in store.event_keys(event_id)]


# Views and access -------------------------------------------------------------


def view(ticket: Ticket, code: str) -> dict[str, Any]:
    return {
        "id": ticket.ticket_id,
        "order_id": ticket.order_id,
        "event_id": ticket.event_id,
        "section": ticket.section,
        "seat": ticket.seat,
        "holder_id": ticket.user_id,
        "status": ticket.status,
        "checked_in_at": ticket.checked_in_at,
        "code": code,
    }


def _load(ticket_id: str) -> tuple[Ticket, Order]:
    parsed = parse_ticket_id(ticket_id)
    ticket, order = store.get_with_order(*parsed) if parsed else (None, None)
    if ticket is None or order is None:
        raise NotFound("No such ticket.")
    return ticket, order


def _may_view(caller: Caller, ticket: Ticket, order: Order) -> bool:
    return caller.id in (ticket.user_id, order.user_id, order.organizer_id) or caller.can(Permission.VIEW_ALL)


def get(caller: Caller, ticket_id: str) -> Ticket:
    """The ticket, for its holder, the order's owner, the organizer or can_view_all; 404 for others."""
    ticket, order = _load(ticket_id)
    if not _may_view(caller, ticket, order):
        raise NotFound("No such ticket.")
    return ticket


def qr_svg(code: str) -> str:
    """The code as a QR symbol, an SVG document (a full QR code, never a Micro QR: phones read those badly)."""
    import segno

    out = io.BytesIO()
    segno.make(code, error=QR_ERROR_LEVEL, micro=False).save(out, kind="svg", scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue().decode()


# Check-in ------------------------------------------------------------------------


def _may_check_in(caller: Caller, event: Event) -> bool:
    return caller.id == event.organizer_id or caller.can(Permission.EDIT_ALL)


def _open(event: Event) -> None:
    if event.status == EVENT_CANCELLED:
        raise Conflict("The event is cancelled.", code="EventCancelled")


def check_in(caller: Caller, ticket_id: str) -> Ticket:
    """Check a ticket in by its id: organizer or can_edit_all; 403 for others who may see it, else 404."""
    ticket, order = _load(ticket_id)
    event = load_event(ticket.event_id)
    if not _may_check_in(caller, event):
        if _may_view(caller, ticket, order):
            raise Forbidden("Only the organizer may check tickets in.")
        raise NotFound("No such ticket.")
    _open(event)
    return _check_in(ticket.ticket_id, event.event_id)


def check_in_code(caller: Caller, event_id: str, code: str) -> Ticket:
    """Check in the ticket a scanned code names: organizer or can_edit_all (the event is public: 403)."""
    event = load_event(event_id)
    if not _may_check_in(caller, event):
        raise Forbidden("Only the organizer may check tickets in.")
    scanned = verify_code(code, event_id, event_jwks(event_id))
    _open(event)
    return _check_in(scanned.ticket_id, event_id)


def _check_in(ticket_id: str, event_id: str) -> Ticket:
    """One conditional update; when it fails, one consistent read tells why."""
    parsed = parse_ticket_id(ticket_id)
    assert parsed is not None  # the id was parsed (or verified) before
    done = store.check_in(*parsed, event_id, iso(utcnow()), new_id())
    if done is not None:
        return done
    current = store.get_ticket(*parsed)
    if current is None or current.event_id != event_id:
        raise InvalidCode("no such ticket at this event")
    if current.status == CANCELLED:
        raise Conflict("The ticket is cancelled.", code="TicketCancelled", checked_in_at=current.checked_in_at)
    if current.checked_in_at:
        raise Conflict(
            f"The ticket was already checked in at {current.checked_in_at}.",
            code="AlreadyCheckedIn",
            checked_in_at=current.checked_in_at,
        )
    raise Conflict("The ticket changed meanwhile; retry.")


# Attendees -----------------------------------------------------------------------


def attendees(caller: Caller, event_id: str, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """One page of the event's tickets with their holders: organizer or can_view_all (others 403).

    One Query of the event's ticket index and one BatchGetItem of the page's holders.
    """
    event = load_event(event_id)
    require_organizer_view(caller, event)
    page = store.tickets_of_event(event_id, limit, cursor)
    holders = store.users(t.user_id for t in page.items)
    return Page([attendee_view(t, holders.get(t.user_id)) for t in page.items], page.next_cursor)


def attendee_view(ticket: Ticket, holder: User | None) -> dict[str, Any]:
    return {
        "id": ticket.ticket_id,
        "order_id": ticket.order_id,
        "section": ticket.section,
        "seat": ticket.seat,
        "holder": users.ref(ticket.user_id, holder),  # a deleted account keeps its ticket
        "status": ticket.status,
        "checked_in_at": ticket.checked_in_at,
    }


def ticket_keys(event_id: str) -> dict[str, Any]:
    """The event's public keys as a JWK set; the first call makes the event's key pair."""
    load_event(event_id)
    keys = store.event_keys(event_id)
    if not any(k.kid == key_id(event_id) for k in keys):
        keys.append(signing_key(event_id))
    return {"keys": [public_jwk(k) for k in keys]}
