"""as-run rows: SQLite refuses UPDATE and DELETE on as_run (the ORM guard does not stop a shell)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:20:00

Verify stays the proof for whoever drops these triggers; they stop an honest mistake in the sqlite3
shell and make an edit a deliberate act. (A batch_alter_table of as_run on SQLite recreates the table
and loses them: a later migration that alters as_run must create them again.)
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_MESSAGE = "Nhật ký phát sóng chỉ được ghi thêm: muốn sửa, hãy ghi một dòng đính chính (log correct)."


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for kind in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS as_run_no_{kind.lower()} BEFORE {kind} ON as_run "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for kind in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS as_run_no_{kind}")
