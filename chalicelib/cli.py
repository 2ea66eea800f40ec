"""Operator commands: ``python -m chalicelib.cli --help``.

They use the same domain code as the API, against the table named by
BOXOFFICE_TABLE on whatever endpoint the AWS environment points at
(AWS_ENDPOINT_URL for the local cloud).
"""

from __future__ import annotations

import json
import os
from typing import TextIO

import click

from chalicelib.domain import auth, reports, users
from chalicelib.domain.errors import DomainError
from chalicelib.domain.ids import utcnow
from chalicelib.jobs import scheduled_event
from chalicelib.settings import get_settings, reset_settings
from chalicelib.store.users import User


@click.group()
@click.option("--local", is_flag=True, help="talk to the running local cloud (reads .local-cloud/env)")
def cli(local: bool) -> None:
    """Boxoffice operator commands."""
    if local:
        _use_local_cloud()


def _use_local_cloud() -> None:
    from infra.local.cloud import STATE, StateDir, read_env_file  # the repo's local cloud; never deployed

    env = read_env_file()
    if not env:
        raise click.ClickException("the local cloud is not running here: start it with `make run`")
    os.environ.update(env)
    # Commands that sign someone in (demo-data) make tokens the running API accepts: its secret.
    os.environ.setdefault("JWT_SECRET", StateDir(STATE).jwt_secret())
    reset_settings()


@cli.command("tickets-sold")
@click.argument("event_id")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def tickets_sold(event_id: str, as_json: bool) -> None:
    """Tickets sold, held and remaining, and revenue, for one event."""
    try:
        report = reports.tickets_sold(event_id)
    except DomainError as e:
        raise click.ClickException(e.message) from e
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{report['title']} ({event_id})")
    click.echo(f"{'section':8} {'capacity':>8} {'sold':>6} {'held':>6} {'remaining':>9} {'revenue':>14}")
    for row in [*report["sections"], {"code": "TOTAL", **report["totals"]}]:
        revenue = f"{row['revenue_cents'] / 100:,.2f} {report['currency']}"
        counts = f"{row['capacity']:>8} {row['sold']:>6} {row['held']:>6} {row['remaining']:>9}"
        click.echo(f"{row['code']:8} {counts} {revenue:>14}")


@cli.command("run-job")
@click.argument("name")
def run_job(name: str) -> None:
    """Fire a scheduled job now (daily_sales_report, ...)."""
    from app import app

    jobs = {s.name: app.handler_map[s.name] for s in app.event_sources if hasattr(s, "schedule_expression")}
    if name not in jobs:
        raise click.ClickException(f"no job {name!r}; jobs: {', '.join(sorted(jobs))}")
    result = jobs[name](scheduled_event(name, utcnow(), get_settings().region), None)
    click.echo(json.dumps(result))


@cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--username", required=True)
@click.option("--name", required=True)
@click.password_option(envvar="BOXOFFICE_ADMIN_PASSWORD", help="asked for when not given (or BOXOFFICE_ADMIN_PASSWORD)")
def create_admin(email: str, username: str, name: str, password: str) -> None:
    """Create an admin account (the first one, or any other)."""
    from chalicelib.api.schemas import RegisterBody

    try:
        body = RegisterBody(email=email, username=username, name=name, password=password)
        user = auth.register(
            email=body.email, username=body.username, name=body.name, password=body.password, role="admin"
        )
    except DomainError as e:
        raise click.ClickException(e.message) from e
    except ValueError as e:  # pydantic's ValidationError
        raise click.ClickException(str(e)) from e
    click.echo(f"admin created: {user.user_id} ({user.username})")


@cli.command("verify-ticket")
@click.argument("code")
@click.option("--event", "event_id", required=True, help="the event whose door this is")
@click.option(
    "--keys",
    "keys_file",
    required=True,
    type=click.File("r"),
    help="the event's JWK set, as GET /events/{id}/ticket-keys returned it",
)
def verify_ticket(code: str, event_id: str, keys_file: TextIO) -> None:
    """Verify a ticket code offline (no network, no table): exit 0 and print the ticket, or say why not."""
    from chalicelib.domain import tickets

    try:
        jwks = json.load(keys_file)
    except ValueError as e:
        raise click.ClickException(f"the keys file is not JSON: {e}") from e
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise click.ClickException('the keys file is not a JWK set ({"keys": [...]})')
    try:
        ticket = tickets.verify_code(code.strip(), event_id, jwks["keys"])
    except tickets.InvalidCode as e:
        raise click.ClickException(f"not valid: {e.reason}") from e
    click.echo(f"valid ticket {ticket.ticket_id}")
    click.echo(f"event    {ticket.event_id}")
    click.echo(f"section  {ticket.section}")
    click.echo(f"seat     {ticket.seat or '-'}")


# --- demo data (issue 8): `make demo` -------------------------------------------------------------
# One function per kind of data, each given what the earlier ones made (a DemoWorld): friends,
# posts and bookmarks can be added the same way. Domain functions only, no raw table writes.
DEMO_PASSWORD = "boxoffice demo night 2025"
DEMO_POSTS = ["Doors at 6:30 for {title}: see you there!", "{title}: a few reserved seats left in row A."]
DEMO_USERS = [  # username, name, role
    ("demo.organizer", "Olivia Organizer", "organizer"),
    ("demo.alice", "Alice Attendee", "user"),
    ("demo.bob", "Bob Buyer", "user"),
]
DEMO_EVENTS = [  # title, category, days from now, venue name, address, lat, lon
    ("Harbour Lights Orchestra", "music", 14, "Sydney Opera House", "Bennelong Point, Sydney", -33.8568, 151.2153),
    ("Comedy at the Enmore", "comedy", 21, "Enmore Theatre", "118-132 Enmore Rd, Newtown", -33.8996, 151.1740),
    ("Derby Day at Moore Park", "sport", 28, "Allianz Stadium", "Driver Ave, Moore Park", -33.8891, 151.2247),
    ("Indie Night at the Metro", "music", 35, "Metro Theatre", "624 George St, Sydney", -33.8757, 151.2067),
    ("Bondi Sunset Sessions", "festival", 42, "Bondi Pavilion", "Queen Elizabeth Dr, Bondi Beach", -33.8915, 151.2767),
]
DEMO_PLACES = [  # name, kind, lat, lon, rating, url
    ("Bennelong", "restaurant", -33.8572, 151.2149, 4.6, "https://www.bennelong.com.au"),
    ("Opera Bar", "restaurant", -33.8577, 151.2133, 4.2, "https://operabar.com.au"),
    ("Circular Quay Station", "transport", -33.8611, 151.2111, 4.0, None),
    ("Circular Quay Ferry Wharves", "transport", -33.8605, 151.2127, 4.4, None),
    ("Royal Botanic Garden", "activity", -33.8642, 151.2166, 4.8, "https://www.botanicgardens.org.au"),
    ("Museum of Contemporary Art", "activity", -33.8599, 151.2090, 4.5, "https://www.mca.com.au"),
    ("Newtown Station", "transport", -33.8978, 151.1794, 3.8, None),
    ("Thai Pothong", "restaurant", -33.8966, 151.1797, 4.3, None),
    ("Black Star Pastry", "restaurant", -33.8957, 151.1792, 4.4, None),
    ("Camperdown Memorial Rest Park", "activity", -33.8939, 151.1790, 4.1, None),
    ("Moore Park Light Rail", "transport", -33.8906, 151.2233, 4.0, None),
    ("Centennial Park", "activity", -33.8983, 151.2347, 4.7, "https://www.centennialparklands.com.au"),
    ("Entertainment Quarter", "activity", -33.8918, 151.2261, 3.9, None),
    ("Town Hall Station", "transport", -33.8731, 151.2065, 3.9, None),
    ("Central Station", "transport", -33.8832, 151.2065, 4.1, None),
    ("Darling Harbour", "activity", -33.8748, 151.1987, 4.4, None),
    ("Mamak", "restaurant", -33.8788, 151.2046, 4.5, None),
    ("Chat Thai", "restaurant", -33.8805, 151.2060, 4.2, None),
    ("Icebergs Dining Room", "restaurant", -33.8949, 151.2741, 4.5, None),
    ("Bondi to Coogee Coastal Walk", "activity", -33.8960, 151.2750, 4.9, None),
    ("Campbell Parade bus stop", "transport", -33.8904, 151.2770, 3.5, None),
    ("Bondi Junction Station", "transport", -33.8913, 151.2478, 3.9, None),
]


class DemoWorld:
    """What the demo steps made so far, for the steps after them."""

    def __init__(self) -> None:
        self.callers: dict[str, auth.Caller] = {}  # by username, signed in
        self.tokens: dict[str, str] = {}
        self.events: list[tuple[str, str, bool]] = []  # (id, title, created by this run)
        self.places = (0, 0)  # (added, already there)


def _demo_users(world: DemoWorld) -> None:
    """Register the demo users, or reuse them by username (signing in with the demo password)."""
    import contextlib

    from chalicelib.domain.errors import AlreadyExists

    for username, name, role in DEMO_USERS:
        email = f"{username.replace('.', '+')}@example.com"
        with contextlib.suppress(AlreadyExists):  # from an earlier run: signing in below reuses it
            auth.register(email=email, username=username, name=name, password=DEMO_PASSWORD, role=role)
        try:
            _, token, _ = auth.login(password=DEMO_PASSWORD, username=username)
        except DomainError as e:
            raise click.ClickException(f"{username} exists; the demo password does not sign in: {e.message}") from e
        world.callers[username], world.tokens[username] = auth.authenticate(f"Bearer {token}"), token


def _demo_events(world: DemoWorld) -> None:
    """The demo organizer's events in Sydney, each with GA and reserved seats; titles it already has are reused."""
    from datetime import timedelta

    from chalicelib.api.schemas import EventBody
    from chalicelib.domain import events
    from chalicelib.store.events import organizer_event_titles

    organizer = world.callers["demo.organizer"]
    existing = organizer_event_titles(organizer.id)
    for title, category, days, venue, address, lat, lon in DEMO_EVENTS:
        if title in existing:
            world.events.append((existing[title], title, False))
            continue
        starts = (utcnow() + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)  # 19:00 AEST
        body = EventBody.model_validate(
            {
                "title": title,
                "description": f"{title} at {venue}. Demo data: tickets are not real.",
                "category": category,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=3),
                "venue": {"name": venue, "address": address, "lat": lat, "lon": lon},
                "sections": [
                    {"code": "GA", "name": "General admission", "price_cents": 4900, "capacity": 300},
                    {"code": "A", "name": "Reserved A", "price_cents": 8900, "rows": 10, "seats_per_row": 20},
                ],
            }
        )
        event, _ = events.create(organizer, body.model_dump())
        world.events.append((event.event_id, title, True))


def _demo_places(world: DemoWorld) -> None:
    """Places of all three kinds around the venues, added by the demo organizer; names already there are skipped."""
    from chalicelib.api.schemas import PlaceBody
    from chalicelib.domain import places

    there = {place.name for *_, lat, lon in DEMO_EVENTS for place, _ in places.nearby(lat, lon)}
    added = 0
    for name, kind, lat, lon, rating, url in DEMO_PLACES:
        if name not in there:
            fields = {"name": name, "kind": kind, "lat": lat, "lon": lon, "rating": rating, "url": url}
            body = PlaceBody.model_validate(fields)
            places.add(world.callers["demo.organizer"], body.model_dump())
            added += 1
    world.places = (added, len(DEMO_PLACES) - added)


def _demo_social(world: DemoWorld) -> None:
    """The organizer and Alice are friends, the organizer has posted about two events (Alice's
    feed shows them), and Bob follows the first event; each only once, however often it runs."""
    from chalicelib.domain import bookmarks, friends, posts
    from chalicelib.domain.errors import Conflict
    from chalicelib.store import friends as friend_store
    from chalicelib.store import posts as post_store

    organizer, alice, bob = (world.callers[u] for u in ("demo.organizer", "demo.alice", "demo.bob"))
    if not friend_store.are_friends(organizer.id, alice.id):
        try:
            request_id = friends.send(organizer, alice.id)["id"]
        except Conflict as e:  # a request left pending by an earlier, interrupted run
            request_id = e.extra.get("request_id")
        if request_id:
            friends.accept(alice, request_id)
    if not post_store.by_author(organizer.id, 1):
        for (event_id, title, _), line in zip(world.events, DEMO_POSTS, strict=False):
            posts.create(organizer, line.format(title=title), event_id, None)
    bookmarks.add(bob, world.events[0][0])


@cli.command("demo-data")
@click.option("--api-url", default="http://127.0.0.1:8000", show_default=True, help="for the curl lines printed")
@click.option("--yes", is_flag=True, help="needed when no local endpoint is set (AWS_ENDPOINT_URL): real AWS")
def demo_data(api_url: str, yes: bool) -> None:
    """Fill the table with demo users, events in Sydney and places around them (safe to run again)."""
    local = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    if not local and not yes:
        raise click.ClickException(
            f"this would write demo accounts with a published password to {get_settings().table_name} on AWS: "
            "use --local for the local cloud, or --yes if you mean it"
        )
    world = DemoWorld()
    try:
        for step in (_demo_users, _demo_events, _demo_places, _demo_social):
            step(world)
    except DomainError as e:
        raise click.ClickException(e.message) from e
    click.echo(f"users (password for all: {DEMO_PASSWORD!r}):")
    for username, caller in world.callers.items():
        click.echo(f"  {username:16} {caller.role:10} {caller.id}")
    click.echo("events:")
    for event_id, title, created in world.events:
        click.echo(f"  {event_id}  {title}{'' if created else '  (already there)'}")
    click.echo(f"places: {world.places[0]} added, {world.places[1]} already there")
    click.echo("social: demo.organizer and demo.alice are friends (the organizer's posts are in Alice's feed);")
    click.echo("        demo.bob bookmarked the first event (he hears of its changes)")
    first = world.events[0][0]
    click.echo("try:")
    click.echo(f"  curl '{api_url}/events/{first}/recommendations?kind=restaurant'")
    login = json.dumps({"username": "demo.alice", "password": DEMO_PASSWORD})
    click.echo(f"  curl -X POST {api_url}/auth/login -d '{login}'")


@cli.command("search-reindex")
def search_reindex() -> None:
    """(Re)build the search index from every user and event (a Scan: run it when the table is quiet).

    Idempotent: writes only missing or out-of-date postings, deletes stale ones, sets exact counts."""
    from chalicelib.domain import search

    run = search.reindex(search.all_indexed_items(), progress=click.echo)
    click.echo(
        f"indexed {run.users} users and {run.events} events: {run.put} postings written, "
        f"{run.deleted} deleted, {run.counters} gram counters set"
    )


# --- accounts by role (issue 9) ------------------------------------------------------------------
USER_COLUMNS = ("id", "username", "name", "email", "created_at")


@cli.command("users")
@click.option("--role", required=True, help="user, organizer, support or admin")
@click.option("--json", "as_json", is_flag=True, help="print a JSON list")
@click.option(
    "--page-size", default=users.ROLE_PAGE, show_default=True, type=click.IntRange(1, 1000), help="users per Query"
)
def users_with_role(role: str, as_json: bool, page_size: int) -> None:
    """List every account with a role (the role index: every page, by username)."""
    try:
        rows = [_user_row(u) for u in users.with_role(role, page_size)]
    except DomainError as e:
        raise click.ClickException(e.message) from e
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo("\t".join(USER_COLUMNS))
    for row in rows:
        click.echo("\t".join(str(row[c]) for c in USER_COLUMNS))
    click.echo(f"{len(rows)} {role} account{'' if len(rows) == 1 else 's'}", err=True)


def _user_row(user: User) -> dict[str, str]:
    return {
        "id": user.user_id,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "created_at": user.created_at,
    }


@cli.command("reindex-users")
def reindex_users() -> None:
    """Give every account its role-index keys (accounts made before the index have none).

    A Scan of the users: run it once after deploying the index. Idempotent: writes only the
    users whose keys are missing or stale."""
    from chalicelib.store import users as user_store

    run = users.reindex_roles(user_store.scan_users())
    click.echo(
        f"read {run.read} users: {run.written} written, {run.current} already indexed, "
        f"{run.changed} changed meanwhile (indexed by that change)"
    )


def main() -> None:
    cli(prog_name="python -m chalicelib.cli")


if __name__ == "__main__":
    main()
