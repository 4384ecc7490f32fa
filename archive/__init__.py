"""archive: a relational archive of Chinese newspaper text."""

__version__ = "0.1.0"
