"""Where the database is: the one place that resolves its URL, for the CLI and migrations alike."""

from __future__ import annotations

import os
import re

from sqlalchemy.engine import make_url

DEFAULT_URL = "sqlite:///archive.db"
ENV_VAR = "ARCHIVE_DATABASE_URL"


def resolve_database_url(explicit: str | None = None) -> str:
    """Return the database URL: `explicit` (--db), then $ARCHIVE_DATABASE_URL, then ./archive.db."""
    for candidate in (explicit, os.environ.get(ENV_VAR)):
        if candidate and candidate.strip():
            return candidate.strip()
    return DEFAULT_URL


# For URLs SQLAlchemy cannot parse, and for passwords given as query parameters (?password=…).
USERINFO_PASSWORD = re.compile(r"(://[^/?#@:]*):[^/?#@]*@")
QUERY_PASSWORD = re.compile(r"([?&](?:password|passwd|pwd)=)[^&#]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL with any password shown as ***, safe for messages and logs."""
    try:
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True) if parsed.password is not None else url
    except Exception:
        shown = USERINFO_PASSWORD.sub(r"\1:***@", url)
    return QUERY_PASSWORD.sub(r"\1***", shown)
