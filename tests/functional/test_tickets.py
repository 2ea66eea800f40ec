"""Tickets: signed codes, QR images, check-in at the door, the attendee list, offline verification."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import jwt
import pytest
import segno
from click.testing import CliRunner

from chalicelib.cli import cli
from tests.faults import lost_answer
from tests.functional.test_users import admin_token

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def org(api):
    return api.register()


@pytest.fixture
def buyer(api):
    return api.register()


@pytest.fixture
def event(api, org):
    return api.create_event(org[1])


def buy_tickets(api, token, event_id, quantity=1):
    r = api.buy(token, event_id, quantity)
    assert r.status == 201, r.body
    return r.body, [t["id"] for t in r.body["tickets"]]


def ticket(api, token, ticket_id):
    r = api.get(f"/tickets/{ticket_id}", token=token)
    assert r.status == 200, r.body
    return r.body


def unverified(code):
    return jwt.get_unverified_header(code), jwt.decode(code, options={"verify_signature": False})


def write_keys(tmp_path, api, event_id, name="keys.json"):
    path = tmp_path / name
    path.write_text(json.dumps(api.get(f"/events/{event_id}/ticket-keys").body))
    return str(path)


# Reading a ticket ------------------------------------------------------------


def test_the_holder_the_organizer_and_can_view_all_see_a_ticket_strangers_do_not(api, org, buyer, event):
    order, (tid,) = buy_tickets(api, buyer[1], event["id"])
    seen = ticket(api, buyer[1], tid)
    assert set(seen) == {
        "id",
        "order_id",
        "event_id",
        "section",
        "seat",
        "holder_id",
        "status",
        "checked_in_at",
        "code",
    }
    assert (seen["id"], seen["order_id"], seen["event_id"]) == (tid, order["id"], event["id"])
    assert (seen["section"], seen["seat"], seen["holder_id"]) == ("GA", None, buyer[0]["id"])
    assert (seen["status"], seen["checked_in_at"]) == ("valid", None)
    assert ticket(api, org[1], tid) == seen  # the same code every time: no time in it
    assert ticket(api, admin_token(api), tid) == seen
    _, stranger = api.register()
    r = api.get(f"/tickets/{tid}", token=stranger)
    assert (r.status, r.body["code"]) == (404, "NotFound")
    assert api.get(f"/tickets/{tid}/qr.svg", token=stranger).status == 404
    assert api.get(f"/tickets/{tid}").status == 401


@pytest.mark.parametrize(
    "bad_id",
    ["nope", "x-1", "-1", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAV-0", "A-1000", "%23-1", "a" * 99],
)
def test_unknown_or_malformed_ticket_ids_are_404(api, buyer, bad_id):
    for method, path in [
        ("GET", f"/tickets/{bad_id}"),
        ("GET", f"/tickets/{bad_id}/qr.svg"),
        ("POST", f"/tickets/{bad_id}/check-in"),
    ]:
        r = api.request(method, path, token=buyer[1])
        assert (r.status, r.body["code"]) == (404, "NotFound"), (method, path, r.body)


def test_a_ticket_of_another_order_number_is_404(api, buyer, event):
    order, _ = buy_tickets(api, buyer[1], event["id"], 2)
    assert api.get(f"/tickets/{order['id']}-3", token=buyer[1]).status == 404


def test_the_code_carries_no_personal_data(api, buyer, event):
    user, token = buyer
    _, (tid,) = buy_tickets(api, token, event["id"])
    code = ticket(api, token, tid)["code"]
    header, claims = unverified(code)
    assert header["alg"] == "EdDSA" and isinstance(header["kid"], str) and "typ" not in header
    assert claims == {"t": tid, "e": event["id"], "s": "GA"}  # no exp: the table says if it is still good
    decoded = json.dumps([header, claims])
    for personal in (user["id"], user["username"], user["name"], f"{user['username']}@example.com"):
        assert personal not in decoded and personal not in code
    assert len(code) < 300  # a small QR symbol that scans at the door


def test_a_chosen_seat_is_in_the_view_the_code_and_the_attendee_list(api, org, buyer, event, tmp_path):
    r = api.post(f"/events/{event['id']}/orders", {"seats": ["A-2-7"]}, token=buyer[1])
    assert r.status == 201, r.body
    tid = r.body["tickets"][0]["id"]
    seen = ticket(api, buyer[1], tid)
    assert (seen["section"], seen["seat"]) == ("A", "A-2-7")
    assert unverified(seen["code"])[1] == {"t": tid, "e": event["id"], "s": "A", "st": "A-2-7"}
    result = CliRunner().invoke(
        cli, ["verify-ticket", seen["code"], "--event", event["id"], "--keys", write_keys(tmp_path, api, event["id"])]
    )
    assert result.exit_code == 0 and "A-2-7" in result.output, result.output
    (item,) = api.get(f"/events/{event['id']}/attendees", token=org[1]).body["items"]
    assert (item["id"], item["section"], item["seat"]) == (tid, "A", "A-2-7")
    r = api.post(f"/events/{event['id']}/check-ins", {"code": seen["code"]}, token=org[1])
    assert r.status == 200 and r.body["ticket"]["seat"] == "A-2-7"


# The QR image ---------------------------------------------------------------------


def svg_modules(svg):
    """The dark modules of a segno SVG: rows drawn as horizontal strokes (``M x y``, ``m dx dy``, ``h n``)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    path = root.find(f"{SVG}path")
    scale = float(re.fullmatch(r"scale\(([\d.]+)\)", path.get("transform")).group(1))
    size = round(float(root.get("width")) / scale)
    dark, x, y = set(), 0.0, 0.0
    for command, a, b in re.findall(r"([MmHh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.get("d")):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:  # h: a run of dark modules on row floor(y)
            dark.update((int(y), int(x) + i) for i in range(int(float(a))))
            x += float(a)
    return [[(r, c) in dark for c in range(size)] for r in range(size)]


def qr_modules(code):
    return [[bool(bit) for bit in row] for row in segno.make(code, error="m", micro=False).matrix_iter(border=4)]


def test_the_qr_image_carries_exactly_the_ticket_code(api, buyer, event):
    _, (first, second) = buy_tickets(api, buyer[1], event["id"], 2)
    code = ticket(api, buyer[1], first)["code"]
    r = api.get(f"/tickets/{first}/qr.svg", token=buyer[1])
    assert r.status == 200 and r.headers["content-type"] == "image/svg+xml"
    assert "no-store" in r.headers["cache-control"]
    served = svg_modules(r.body)
    assert served == qr_modules(code)
    assert served != qr_modules(ticket(api, buyer[1], second)["code"])  # the check can tell codes apart


# Check-in -----------------------------------------------------------------------------


def test_check_in_by_id_succeeds_once(api, org, buyer, event):
    _, (tid,) = buy_tickets(api, buyer[1], event["id"])
    code = ticket(api, buyer[1], tid)["code"]
    r = api.post(f"/tickets/{tid}/check-in", token=org[1])
    assert r.status == 200, r.body
    assert r.body["status"] == "checked_in" and r.body["checked_in_at"] and r.body["code"] == code
    again = api.post(f"/tickets/{tid}/check-in", token=org[1])
    assert (again.status, again.body["code"]) == (409, "AlreadyCheckedIn")
    assert again.body["checked_in_at"] == r.body["checked_in_at"]
    assert ticket(api, buyer[1], tid)["status"] == "checked_in"
    scanned = api.post(f"/events/{event['id']}/check-ins", {"code": code}, token=org[1])
    assert (scanned.status, scanned.body["code"], scanned.body["checked_in_at"]) == (
        409,
        "AlreadyCheckedIn",
        r.body["checked_in_at"],
    )


def test_check_in_by_code_succeeds_once(api, org, buyer, event):
    _, (tid, other) = buy_tickets(api, buyer[1], event["id"], 2)
    code = ticket(api, buyer[1], tid)["code"]
    r = api.post(f"/events/{event['id']}/check-ins", {"code": code}, token=org[1])
    assert r.status == 200, r.body
    assert set(r.body) == {"ticket"}
    assert (r.body["ticket"]["id"], r.body["ticket"]["status"]) == (tid, "checked_in")
    again = api.post(f"/events/{event['id']}/check-ins", {"code": code}, token=org[1])
    assert (again.status, again.body["code"]) == (409, "AlreadyCheckedIn")
    assert again.body["checked_in_at"] == r.body["ticket"]["checked_in_at"]
    assert ticket(api, buyer[1], other)["status"] == "valid"  # only the scanned ticket


def test_a_check_in_whose_answer_was_lost_is_not_already_checked_in(api, org, buyer, event):
    _, (tid,) = buy_tickets(api, buyer[1], event["id"])
    code = ticket(api, buyer[1], tid)["code"]
    with lost_answer("UpdateItem") as injected:
        r = api.post(f"/events/{event['id']}/check-ins", {"code": code}, token=org[1])
    assert injected.sent == 1
    assert r.status == 200, r.body  # botocore resent the update: it is this request's own check-in
    again = api.post(f"/events/{event['id']}/check-ins", {"code": code}, token=org[1])
    assert (again.status, again.body["checked_in_at"]) == (409, r.body["ticket"]["checked_in_at"])


def tamper(code, part, change):
    segments = code.split(".")
    segments[part] = change(segments[part])
    return ".".join(segments)


def b64json(value):
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()


def test_forged_and_foreign_codes_are_refused(api, org, buyer, event):
    _, (tid,) = buy_tickets(api, buyer[1], event["id"])
    code = ticket(api, buyer[1], tid)["code"]
    other = api.create_event(org[1])
    _, (foreign_tid,) = buy_tickets(api, buyer[1], other["id"])
    foreign = ticket(api, buyer[1], foreign_tid)["code"]
    header, claims = unverified(code)
    public_x = api.get(f"/events/{event['id']}/ticket-keys").body["keys"][0]["x"]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged_key = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": header["kid"]})
    flipped = "A" if code[-5] != "A" else "B"
    bad = {
        "signature": code[:-5] + flipped + code[-4:],
        "claims": tamper(code, 1, lambda _: b64json({**claims, "s": "VIP"})),
        "another key": forged_key,
        "no signature": tamper(code, 2, lambda _: ""),
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": header["kid"]}),
        "HS256 keyed with the public key": jwt.encode(
            claims, public_x, algorithm="HS256", headers={"kid": header["kid"]}
        ),
        "another event's": foreign,
        "garbage": "hello",
        "two dots": "a.b.c",
        "not ascii": "é" * 20,
    }
    for why, forged in bad.items():
        r = api.post(f"/events/{event['id']}/check-ins", {"code": forged}, token=org[1])
        assert (r.status, r.body["code"]) == (400, "InvalidTicketCode"), (why, r.body)
        assert r.body["details"][0]["field"] == "code"
    assert ticket(api, buyer[1], tid)["status"] == "valid"
    assert ticket(api, buyer[1], foreign_tid)["status"] == "valid"


def test_a_cancelled_orders_tickets_no_longer_check_in(api, org, buyer, event):
    order, (first, second) = buy_tickets(api, buyer[1], event["id"], 2)
    code = ticket(api, buyer[1], first)["code"]
    assert api.post(f"/orders/{order['id']}/cancel", token=buyer[1]).status == 200
    assert ticket(api, buyer[1], first)["status"] == "cancelled"
    r = api.post(f"/events/{event['id']}/check-ins", {"code": code}, token=org[1])
    assert (r.status, r.body["code"]) == (409, "TicketCancelled")
    r = api.post(f"/tickets/{second}/check-in", token=org[1])
    assert (r.status, r.body["code"]) == (409, "TicketCancelled")


def test_a_cancelled_events_tickets_no_longer_check_in(api, org, buyer, event):
    _, (tid,) = buy_tickets(api, buyer[1], event["id"])
    code = ticket(api, buyer[1], tid)["code"]
    assert api.delete(f"/events/{event['id']}", token=org[1]).status == 204
    r = api.post(f"/events/{event['id']}/check-ins", {"code": code}, token=org[1])
    assert (r.status, r.body["code"]) == (409, "EventCancelled")
    assert api.post(f"/tickets/{tid}/check-in", token=org[1]).status == 409


def test_only_the_organizer_or_can_edit_all_checks_tickets_in(api, org, buyer, event):
    _, (first, second) = buy_tickets(api, buyer[1], event["id"], 2)
    code = ticket(api, buyer[1], first)["code"]
    _, stranger = api.register()
    # The holder may see the ticket: 403; a stranger may not: 404
    r = api.post(f"/tickets/{first}/check-in", token=buyer[1])
    assert (r.status, r.body["code"]) == (403, "Forbidden")
    assert api.post(f"/tickets/{first}/check-in", token=stranger).status == 404
    # The event is public: 403 for both at the door
    for token in (buyer[1], stranger):
        r = api.post(f"/events/{event['id']}/check-ins", {"code": code}, token=token)
        assert (r.status, r.body["code"]) == (403, "Forbidden")
    assert api.post(f"/events/{event['id']}/check-ins", {"code": code}).status == 401
    assert ticket(api, buyer[1], first)["status"] == "valid"
    admin = admin_token(api)
    assert api.post(f"/tickets/{first}/check-in", token=admin).status == 200
    assert (
        api.post(f"/events/{event['id']}/check-ins", {"code": ticket(api, admin, second)["code"]}, token=admin).status
        == 200
    )


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{}", "ValidationError"),
        ('{"code": ""}', "ValidationError"),
        ('{"code": "   "}', "ValidationError"),
        ('{"code": 5}', "ValidationError"),
        ('{"code": null}', "ValidationError"),
        ('{"code": ["a"]}', "ValidationError"),
        ('{"code": "a.b.c", "ticket_id": "x"}', "ValidationError"),
        (json.dumps({"code": "a" * 2001}), "ValidationError"),
        ("", "MissingBody"),
        ("{", "MalformedJSON"),
        ("[]", "ValidationError"),
    ],
)
def test_bad_check_in_bodies_are_400(api, org, event, raw, code):
    r = api.post(f"/events/{event['id']}/check-ins", raw=raw, token=org[1])
    assert (r.status, r.body["code"]) == (400, code), r.body


def test_check_ins_at_an_unknown_event_are_404(api, org):
    r = api.post("/events/nope/check-ins", {"code": "a.b.c"}, token=org[1])
    assert (r.status, r.body["code"]) == (404, "NotFound")


# Keys and offline verification -------------------------------------------------------


def test_ticket_keys_are_public_have_no_private_half_and_verify_codes(api, buyer, event):
    r = api.get(f"/events/{event['id']}/ticket-keys")
    assert r.status == 200, r.body
    assert set(r.body) == {"keys"} and len(r.body["keys"]) == 1
    (key,) = r.body["keys"]
    assert set(key) == {"kid", "kty", "crv", "x", "alg", "use"}  # no "d"
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert api.get(f"/events/{event['id']}/ticket-keys").body == r.body  # made once
    _, (tid,) = buy_tickets(api, buyer[1], event["id"])
    code = ticket(api, buyer[1], tid)["code"]
    assert jwt.get_unverified_header(code)["kid"] == key["kid"]
    claims = jwt.decode(code, jwt.PyJWK(key), algorithms=["EdDSA"])
    assert claims["t"] == tid
    other = api.get(f"/events/{api.create_event(buyer[1])['id']}/ticket-keys").body["keys"][0]
    assert other["kid"] != key["kid"] and other["x"] != key["x"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(code, jwt.PyJWK(other), algorithms=["EdDSA"])


def test_ticket_keys_of_an_unknown_event_are_404(api):
    assert api.get("/events/nope/ticket-keys").status == 404


def test_the_first_code_makes_the_key_the_keys_route_publishes(api, buyer, event):
    _, (tid,) = buy_tickets(api, buyer[1], event["id"])
    code = ticket(api, buyer[1], tid)["code"]  # before anyone asked for the keys
    (key,) = api.get(f"/events/{event['id']}/ticket-keys").body["keys"]
    assert jwt.decode(code, jwt.PyJWK(key), algorithms=["EdDSA"])["t"] == tid


def test_concurrent_first_signers_converge_on_one_key(api, event):
    from chalicelib.domain import tickets
    from chalicelib.store import tickets as store

    first, second = tickets._new_key(event["id"]), tickets._new_key(event["id"])
    assert first.kid == second.kid and first.public_key != second.public_key
    assert store.create_key(first).public_key == first.public_key
    # The loser's conditional put fails: it reads the winner back and signs with it
    assert store.create_key(second).public_key == first.public_key
    assert [k["x"] for k in api.get(f"/events/{event['id']}/ticket-keys").body["keys"]] == [first.public_key]


def test_the_cli_verifies_a_code_offline_with_the_published_keys(api, org, buyer, event, tmp_path):
    _, (tid,) = buy_tickets(api, buyer[1], event["id"])
    code = ticket(api, buyer[1], tid)["code"]
    other = api.create_event(org[1])
    keys, other_keys = write_keys(tmp_path, api, event["id"]), write_keys(tmp_path, api, other["id"], "other.json")
    runner = CliRunner()
    ok = runner.invoke(cli, ["verify-ticket", code, "--event", event["id"], "--keys", keys])
    assert ok.exit_code == 0, ok.output
    assert tid in ok.output and event["id"] in ok.output and "GA" in ok.output
    refused = {
        "another event's keys": runner.invoke(
            cli, ["verify-ticket", code, "--event", other["id"], "--keys", other_keys]
        ),
        "the wrong keys": runner.invoke(cli, ["verify-ticket", code, "--event", event["id"], "--keys", other_keys]),
        "a bad signature": runner.invoke(
            cli, ["verify-ticket", code[:-3] + "AAA", "--event", event["id"], "--keys", keys]
        ),
        "a malformed code": runner.invoke(cli, ["verify-ticket", "hello", "--event", event["id"], "--keys", keys]),
    }
    for why, result in refused.items():
        assert result.exit_code != 0, (why, result.output)
        assert "not valid" in result.output, (why, result.output)
    assert "another event" in refused["another event's keys"].output


def test_the_cli_needs_no_network_and_no_table(api, buyer, event, tmp_path):
    _, (tid,) = buy_tickets(api, buyer[1], event["id"])
    code = ticket(api, buyer[1], tid)["code"]
    keys = write_keys(tmp_path, api, event["id"])
    # A process of its own, with no AWS credentials and an endpoint where nothing listens
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOXOFFICE_"))}
    env.update({"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_DEFAULT_REGION": "us-east-1"})
    command = [sys.executable, "-m", "chalicelib.cli", "verify-ticket", code, "--event", event["id"], "--keys", keys]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert f"valid ticket {tid}" in done.stdout


def test_the_cli_refuses_a_bad_keys_file(tmp_path, api, buyer, event):
    _, (tid,) = buy_tickets(api, buyer[1], event["id"])
    code = ticket(api, buyer[1], tid)["code"]
    runner = CliRunner()
    for content in (
        "not json",
        "[]",
        '{"keys": 5}',
        json.dumps({"keys": [{"kid": unverified(code)[0]["kid"], "kty": "OKP"}]}),
    ):
        path = tmp_path / "keys.json"
        path.write_text(content)
        result = runner.invoke(cli, ["verify-ticket", code, "--event", event["id"], "--keys", str(path)])
        assert result.exit_code == 1 and result.output.startswith("Error: "), (content, result.output)
    missing = runner.invoke(cli, ["verify-ticket", code, "--event", event["id"], "--keys", str(tmp_path / "none")])
    assert missing.exit_code != 0


# Attendees ------------------------------------------------------------------------------


def test_attendees_are_paginated_with_their_holders(api, org, buyer, event):
    ana, ana_token = buyer
    bob, bob_token = api.register()
    _, ana_tickets = buy_tickets(api, ana_token, event["id"], 2)
    _, bob_tickets = buy_tickets(api, bob_token, event["id"], 1)
    assert api.post(f"/tickets/{bob_tickets[0]}/check-in", token=org[1]).status == 200
    seen, cursor, pages = [], None, 0
    while True:
        path = f"/events/{event['id']}/attendees?limit=2" + (f"&cursor={cursor}" if cursor else "")
        r = api.get(path, token=org[1])
        assert r.status == 200, r.body
        assert len(r.body["items"]) <= 2
        seen += r.body["items"]
        pages += 1
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
    assert pages >= 2
    assert sorted(a["id"] for a in seen) == sorted(ana_tickets + bob_tickets)
    by_id = {a["id"]: a for a in seen}
    first = by_id[ana_tickets[0]]
    assert set(first) == {"id", "order_id", "section", "seat", "holder", "status", "checked_in_at"}
    assert first["holder"] == {"id": ana["id"], "username": ana["username"], "name": ana["name"], "deleted": False}
    assert (first["section"], first["seat"], first["status"], first["checked_in_at"]) == ("GA", None, "valid", None)
    checked = by_id[bob_tickets[0]]
    assert checked["status"] == "checked_in" and checked["checked_in_at"]
    assert checked["holder"]["username"] == bob["username"]
    assert api.get(f"/events/{event['id']}/attendees", token=admin_token(api)).status == 200


def test_a_deleted_holder_shows_as_a_deleted_user(api, org, buyer, event):
    user, token = buyer
    _, (tid,) = buy_tickets(api, token, event["id"])
    assert api.delete(f"/users/{user['id']}", token=token).status == 204
    (item,) = api.get(f"/events/{event['id']}/attendees", token=org[1]).body["items"]
    deleted = {"id": user["id"], "username": None, "name": "Deleted user", "deleted": True}
    assert item["id"] == tid and item["holder"] == deleted


def test_attendees_are_for_the_organizer_only(api, org, buyer, event):
    buy_tickets(api, buyer[1], event["id"])
    r = api.get(f"/events/{event['id']}/attendees", token=buyer[1])
    assert (r.status, r.body["code"]) == (403, "Forbidden")
    assert api.get(f"/events/{event['id']}/attendees").status == 401
    assert api.get("/events/nope/attendees", token=org[1]).status == 404
    for query, code in [
        ("limit=0", "ValidationError"),
        ("limit=x", "ValidationError"),
        ("cursor=abc", "InvalidCursor"),
    ]:
        r = api.get(f"/events/{event['id']}/attendees?{query}", token=org[1])
        assert (r.status, r.body["code"]) == (400, code), query
    # A cursor of another event's list is refused
    other = api.create_event(org[1])
    buy_tickets(api, buyer[1], other["id"], 2)
    cursor = api.get(f"/events/{other['id']}/attendees?limit=1", token=org[1]).body["next_cursor"]
    assert cursor
    r = api.get(f"/events/{event['id']}/attendees?cursor={cursor}", token=org[1])
    assert (r.status, r.body["code"]) == (400, "InvalidCursor")
