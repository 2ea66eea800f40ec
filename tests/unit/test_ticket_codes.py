"""Ticket codes without a table: signing, offline verification, and why a code is refused."""

from __future__ import annotations

import jwt
import pytest

from chalicelib.domain import tickets
from chalicelib.store.orders import Ticket

EVENT, OTHER = "01JEVENT0000000000000000AA", "01JEVENT0000000000000000BB"


def a_ticket(event_id=EVENT, seat=None, section="A"):
    return Ticket(
        "ORDER#01JORDER", "TICKET#001", ticket_id="01JORDER-1", order_id="01JORDER", event_id=event_id,
        user_id="01JUSER", section=section, seat=seat,
    )  # fmt: skip


@pytest.fixture
def key():
    return tickets._new_key(EVENT)


def test_a_seated_ticket_round_trips(key):
    code = tickets.sign(a_ticket(seat="A-3-14"), key)
    verified = tickets.verify_code(code, EVENT, [tickets.public_jwk(key)])
    assert verified == tickets.TicketCode("01JORDER-1", EVENT, "A", "A-3-14")
    assert jwt.decode(code, options={"verify_signature": False}) == {
        "t": "01JORDER-1",
        "e": EVENT,
        "s": "A",
        "st": "A-3-14",
    }


def test_a_ticket_always_gets_the_same_code(key):
    assert tickets.sign(a_ticket(), key) == tickets.sign(a_ticket(), key)


def test_key_ids_are_derived_short_and_distinct_per_event_and_generation(key):
    assert key.kid == tickets.key_id(EVENT) == tickets.key_id(EVENT, 1)
    assert len({tickets.key_id(EVENT), tickets.key_id(OTHER), tickets.key_id(EVENT, 2)}) == 3
    assert len(key.kid) <= 12


def test_the_public_jwk_has_no_private_half(key):
    jwk = tickets.public_jwk(key)
    assert "d" not in jwk and key.private_key not in jwk.values()
    assert jwk["x"] == key.public_key


def refusal(code, event_id=EVENT, jwks=None):
    with pytest.raises(tickets.InvalidCode) as e:
        tickets.verify_code(code, event_id, jwks or [])
    assert e.value.code == "InvalidTicketCode" and e.value.details[0]["field"] == "code"
    return e.value.reason


def test_why_a_code_is_refused(key):
    jwks = [tickets.public_jwk(key)]
    code = tickets.sign(a_ticket(), key)
    other_key = tickets._new_key(OTHER)
    assert "another event" in refusal(code, OTHER, [tickets.public_jwk(other_key)])
    assert "key this event does not have" in refusal(code, EVENT, [tickets.public_jwk(other_key)])
    assert "key this event does not have" in refusal(code, EVENT, [])
    flipped = code[:-2] + ("A" if code[-2] != "A" else "B") + code[-1]
    assert refusal(flipped, EVENT, jwks) == "the signature does not verify"
    impostor = tickets._new_key(EVENT)  # same event, same kid, another private key
    assert refusal(tickets.sign(a_ticket(), impostor), EVENT, jwks) == "the signature does not verify"
    for garbage in ("", "x", "a.b.c", "é.é.é", "a" * 2001, code + ".x"):
        assert refusal(garbage, EVENT, jwks) == "not a ticket code", garbage


def test_a_signed_code_without_a_ticket_in_it_is_refused(key):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.from_private_bytes(tickets._unb64(key.private_key))
    for claims in ({"e": EVENT, "s": "A"}, {"t": "nope", "e": EVENT, "s": "A"}, {"t": "X-1", "e": EVENT, "s": 5}):
        code = jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": key.kid})
        assert refusal(code, EVENT, [tickets.public_jwk(key)]) == "not a ticket code", claims
