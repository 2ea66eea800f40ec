"""Boxoffice: the Chalice app. Thin by design: every route lives in chalicelib/api."""

from chalice import Chalice

from chalicelib.api import auth, events, health, orders, users
from chalicelib.api.routing import normalize_errors

app = Chalice(app_name="boxoffice")
app.register_middleware(normalize_errors, "http")
for blueprint in (auth.bp, users.bp, events.bp, orders.bp, health.bp):
    app.register_blueprint(blueprint)
