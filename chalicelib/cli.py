"""Operator commands: ``python -m chalicelib.cli --help``.

They use the same domain code as the API, against the table named by
BOXOFFICE_TABLE on whatever endpoint the AWS environment points at
(AWS_ENDPOINT_URL for the local cloud).
"""

from __future__ import annotations

import click

from chalicelib.domain import auth
from chalicelib.domain.errors import DomainError


@click.group()
def cli() -> None:
    """Boxoffice operator commands."""


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


def main() -> None:
    cli(prog_name="python -m chalicelib.cli")


if __name__ == "__main__":
    main()
