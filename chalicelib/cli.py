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

from chalicelib.domain import auth, reports
from chalicelib.domain.errors import DomainError
from chalicelib.domain.ids import utcnow
from chalicelib.jobs import scheduled_event
from chalicelib.settings import get_settings, reset_settings


@click.group()
@click.option("--local", is_flag=True, help="talk to the running local cloud (reads .local-cloud/env)")
def cli(local: bool) -> None:
    """Boxoffice operator commands."""
    if local:
        _use_local_cloud()


def _use_local_cloud() -> None:
    from infra.local.cloud import read_env_file  # the repo's local cloud; never deployed

    env = read_env_file()
    if not env:
        raise click.ClickException("the local cloud is not running here: start it with `make run`")
    os.environ.update(env)
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


def main() -> None:
    cli(prog_name="python -m chalicelib.cli")


if __name__ == "__main__":
    main()
