"""Boxoffice: the Chalice app. Thin by design: routes live in chalicelib/api,
stream reactions in chalicelib/streams, scheduled work in chalicelib/jobs."""

import os
from typing import Any

from chalice import Chalice, Cron, Rate
from chalice.app import CloudWatchEvent, DynamoDBEvent

from chalicelib.api import (
    auth,
    bookmarks,
    docs,
    events,
    friends,
    health,
    holds,
    invoices,
    messages,
    notifications,
    orders,
    places,
    posts,
    reports,
    search,
    support,
    tickets,
    users,
    waitlist,
)
from chalicelib.api.routing import normalize_errors
from chalicelib.jobs import expire_holds, sales_report
from chalicelib.streams import activity as activity_stream
from chalicelib.streams import billing as billing_stream

# Chalice needs the table's stream ARN when it packages the app; the stage's
# environment (.chalice/config.json) provides it. Locally any value will do.
STREAM_ARN = os.environ.get(
    "BOXOFFICE_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/boxoffice-local/stream/local"
)

app = Chalice(app_name="boxoffice")
# Chalice sets its logger to ERROR: warnings (DynamoDB busy, failed stream records) would never be seen.
app.log.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
app.register_middleware(normalize_errors, "http")
BLUEPRINTS = (
    auth,
    users,
    events,
    holds,
    orders,
    tickets,
    waitlist,
    invoices,
    notifications,
    friends,
    posts,
    messages,
    bookmarks,
    search,
    places,
    support,
    reports,
    health,
    docs,
)
for blueprint in (module.bp for module in BLUEPRINTS):
    app.register_blueprint(blueprint)


# The two stream consumers (DynamoDB Streams allows two readers per shard).
@app.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON", name="billing")
def billing(event: DynamoDBEvent) -> dict[str, Any]:
    return billing_stream.handle(event.to_dict())


@app.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON", name="activity")
def activity(event: DynamoDBEvent) -> dict[str, Any]:
    return activity_stream.handle(event.to_dict())


@app.schedule(Cron(55, 23, "*", "*", "?", "*"), name="daily_sales_report")
def daily_sales_report(event: CloudWatchEvent) -> dict[str, Any]:
    return sales_report.run(event.to_dict())


@app.schedule(Rate(1, unit=Rate.MINUTES), name="expire_holds")
def expire_holds_job(event: CloudWatchEvent) -> dict[str, Any]:
    return expire_holds.run(event.to_dict())
