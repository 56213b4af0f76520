"""Tampering with the as-run log as someone who owns the disk would: drop the guards, then raw SQL."""

from __future__ import annotations

from sqlalchemy import Connection, text

ASRUN_GUARDS = ("as_run_no_update", "as_run_no_delete")


def drop_asrun_guards(conn: Connection) -> None:
    """Drop SQLite's triggers that refuse UPDATE and DELETE on as_run (verify must still catch the edit)."""
    if conn.dialect.name == "sqlite":
        for name in ASRUN_GUARDS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
