"""Create or show the Boxoffice table from its one definition (chalicelib/store/table.py).

python -m infra.table create  --table boxoffice-dev     # on AWS, or wherever AWS_ENDPOINT_URL points
python -m infra.table definition --table boxoffice-dev  # the CreateTable parameters as JSON
"""

from __future__ import annotations

import argparse
import json
import sys

import boto3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.table", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["create", "definition"])
    parser.add_argument("--table", required=True, help="table name (the stage's BOXOFFICE_TABLE)")
    args = parser.parse_args(argv)
    from chalicelib.store.table import create_table, table_definition

    if args.command == "definition":
        print(json.dumps(table_definition(args.table), indent=2))
        return 0
    created = create_table(boto3.client("dynamodb"), args.table)
    print(f"table {args.table} {'created' if created else 'already exists'} (stream NEW_AND_OLD_IMAGES, TTL on 'ttl')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
