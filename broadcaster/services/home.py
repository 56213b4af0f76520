"""The station home before `init` writes anything: an existing database must be whole and readable."""

from __future__ import annotations

from broadcaster.store import db


def check_existing_database(url: str) -> None:
    """StoreError unless an existing database opens, passes SQLite's quick check and reads (none: fine)."""
    db.check_database(url)
