"""An event change told to many followers, in bounded fan-out steps (moto in process).

FOLLOWERS users bookmark one event; the organizer changes its start; the activity consumer is fed
the table's stream batch by batch (as the poller and Lambda feed it). Printed: the steps, the
notifications per step (at most FANOUT_PAGE), the slowest step's time and the time per
notification, and the arithmetic for 50,000 followers against Lambda's 300-second limit: each step
is its own stream record, written by the step before it, so it is never in the same batch.
The per-notification time here is moto in process (put, user read, SES send, update); on AWS each
of those four calls is a network round trip of a few milliseconds.
"""

from __future__ import annotations

import os
import time

from bench import use_moto_in_process

use_moto_in_process()

FOLLOWERS = int(os.environ.get("BENCH_FOLLOWERS", 200))


def main() -> None:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.settings import get_settings
    from chalicelib.store.table import create_table
    from tests.streams.conftest import Stream
    from tests.support import Api, in_days

    page = get_settings().fanout_page
    with mock_aws():
        create_table(boto3.client("dynamodb"))
        boto3.client("ses").verify_email_identity(EmailAddress=get_settings().mail_from)
        with Client(app, stage_name="local") as client:
            api = Api.over_chalice(client)
            stream = Stream(client)
            _, org = api.register()
            event = api.create_event(org)["id"]
            for _ in range(FOLLOWERS):
                _, token = api.register()
                api.put(f"/events/{event}/bookmark", token=token)
            stream.flush()
            api.patch(f"/events/{event}", {"starts_at": in_days(40)}, token=org)
            # A batch holds one step (written by the step before) and the notifications that step made.
            steps: list[tuple[int, float]] = []
            made_before: list[int] = []
            while records := stream.read():
                inserted = [r["dynamodb"]["NewImage"]["type"]["S"] for r in records if r["eventName"] == "INSERT"]
                made_before.append(inserted.count("notification"))
                started = time.perf_counter()
                assert stream.deliver("activity", records) == {"batchItemFailures": []}
                if "fanout_step" in inserted:
                    steps.append((len(made_before), time.perf_counter() - started))
            told = [made_before[i] if i < len(made_before) else 0 for i, _ in steps]
    made = sum(told)
    slowest = max(t for _, t in steps)
    per = sum(t for _, t in steps) / max(made, 1)
    print(f"followers {FOLLOWERS}, FANOUT_PAGE {page}: {len(steps)} steps, notifications per step max {max(told)}")
    print(f"notifications made {made} (one per follower: {made == FOLLOWERS})")
    print(f"slowest step {slowest:.2f} s; {per * 1000:.1f} ms per notification (moto in process)")
    steps_50k = -(-50_000 // page)
    print(
        f"50,000 followers: {steps_50k} steps of {page}; one step ~ {page} x {per * 1000:.1f} ms = {page * per:.1f} s "
        f"(ratio to Lambda's 300 s limit: {page * per / 300:.3f})"
    )


if __name__ == "__main__":
    main()
