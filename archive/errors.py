"""What the archive refuses, as types. The CLI turns an ArchiveError into one `Error: …` line (exit 1);
any other exception is a bug and keeps its traceback.

Each module's own conditions subclass one of these and live next to the code that raises them
(`decode.DecodeError`, `sql.QueryRejected`, …). Pure: imports nothing, so the parse half can use it.
"""

from __future__ import annotations


class ArchiveError(Exception):
    """A condition the user can act on; str() is the whole message."""


class InputError(ArchiveError):
    """A file, option or argument the archive cannot use."""


class DatabaseError(ArchiveError):
    """The database cannot be opened, read or written, or is not in the state a command needs."""


class SchemaError(DatabaseError):
    """The database's schema is not this code's: no archive yet, another revision, or models that differ."""


class QueryError(ArchiveError):
    """A query (search, SQL, a table name, an id) that cannot be answered."""


class NotFound(QueryError):
    """No row, file or relation of the id or name asked for."""


class UnavailableError(ArchiveError):
    """An engine or an optional library does not offer what was asked for; the message says what to do."""
