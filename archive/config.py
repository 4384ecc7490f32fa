"""Where the database is: the one place that resolves its URL, for the CLI and migrations alike."""

from __future__ import annotations

import os

from sqlalchemy.engine import make_url

DEFAULT_URL = "sqlite:///archive.db"
ENV_VAR = "ARCHIVE_DATABASE_URL"


def resolve_database_url(explicit: str | None = None) -> str:
    """Return the database URL: `explicit` (--db), then $ARCHIVE_DATABASE_URL, then ./archive.db."""
    for candidate in (explicit, os.environ.get(ENV_VAR)):
        if candidate and candidate.strip():
            return candidate.strip()
    return DEFAULT_URL


def redact_url(url: str) -> str:
    """The URL with any password shown as ***, safe for messages and logs."""
    try:
        parsed = make_url(url)
    except Exception:
        return url
    if parsed.password is None:
        return url
    return parsed.render_as_string(hide_password=True)
