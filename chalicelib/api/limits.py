"""Bounds shared by the request schemas and the views, in a module that imports nothing (the
schemas import pydantic, which a cold start does not pay for)."""

MIN_YEAR, MAX_YEAR = 2000, 2999  # sane bounds keep date arithmetic far from datetime's limits
