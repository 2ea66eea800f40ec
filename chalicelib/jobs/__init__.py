"""Scheduled work, registered with @app.schedule in app.py."""
