"""Where the database is: the one place that resolves its URL, for the CLI and migrations alike."""

from __future__ import annotations

import os
import re

DEFAULT_URL = "sqlite:///archive.db"
ENV_VAR = "ARCHIVE_DATABASE_URL"


# PostgreSQL URLs that name no driver or psycopg2 (SQLAlchemy's default): archive writes, migrates and
# exports through psycopg 3, and reads through psycopg2 by itself where that is faster (docs/engines.md).
POSTGRES_SCHEMES = re.compile(r"^(?:postgres|postgresql|postgresql\+psycopg2)://", re.IGNORECASE)


def resolve_database_url(explicit: str | None = None) -> str:
    """Return the database URL: `explicit` (--db), then $ARCHIVE_DATABASE_URL, then ./archive.db; a
    PostgreSQL URL as `postgresql+psycopg://` whatever driver it names."""
    for candidate in (explicit, os.environ.get(ENV_VAR)):
        if candidate and candidate.strip():
            return POSTGRES_SCHEMES.sub("postgresql+psycopg://", candidate.strip(), count=1)
    return DEFAULT_URL


# A password given as a query parameter (?password=…).
QUERY_PASSWORD = re.compile(r"([?&](?:password|passwd|pwd)=)[^&#]*", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def _userinfo_split(url: str) -> tuple[str, str, str] | None:
    """(prefix up to the user name and ':', password, rest from the '@' on), or None without a password.

    Read by hand, not by a URL parser: a password may hold '/', '@', '?' or ':' unencoded, and parsers
    then put part of it in the host or the path. The userinfo ends at the *last* '@', so whatever is
    taken for the password is at least the whole password (at worst also part of the host)."""
    m = SCHEME.match(url)
    if not m:
        return None
    rest = url[m.end():]
    at = rest.rfind("@")
    if at < 0 or ":" not in rest[:at]:
        return None
    colon = rest.index(":")
    return url[: m.end() + colon + 1], rest[colon + 1 : at], rest[at:]


def redact_url(url: str) -> str:
    """The URL with any password shown as ***, safe for messages and logs, however malformed it is."""
    split = _userinfo_split(url)
    shown = f"{split[0]}***{split[2]}" if split else url
    return QUERY_PASSWORD.sub(r"\1***", shown)


def secrets_of(url: str) -> list[str]:
    """The password in `url` and the forms it may take in a message (decoded; cut at '@' by a parser)."""
    from urllib.parse import unquote

    found = []
    split = _userinfo_split(url)
    if split and split[1]:
        found += [split[1], unquote(split[1]), *split[1].split("@")]
    found += [m.group(0).split("=", 1)[1] for m in QUERY_PASSWORD.finditer(url)]
    # longest first, so a fragment never leaves the rest of its password behind; 3+ characters, so that
    # masking does not eat ordinary words
    return sorted({f for f in found if len(f) >= 3}, key=len, reverse=True)


def redact(message: str, url: str | None) -> str:
    """`message` with the URL shown redacted and every form of its password masked."""
    if not url:
        return message
    message = message.replace(url, redact_url(url))
    for secret in secrets_of(url):
        message = message.replace(secret, "***")
    return message
