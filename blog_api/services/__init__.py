"""The domain logic: plain functions that take a SQLAlchemy ``Session``.

Framework-neutral; the views parse input, call one of these, and render the
result. Services raise ``blog_api.errors`` exceptions and commit their own
work, so a failure before the commit leaves the database untouched.
"""
