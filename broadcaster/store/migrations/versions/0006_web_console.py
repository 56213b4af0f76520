"""web console: passwords, the inspector role, server-side sessions and API tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadcaster.store.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ROLES_OLD = "role IN ('officer','leader','operator','admin')"
_ROLES_NEW = "role IN ('officer','leader','operator','admin','inspector')"


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("password_changed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_failed_at", UTCDateTime(), nullable=True))
        batch.drop_constraint(op.f("ck_user_account_role"), type_="check")
        batch.create_check_constraint(op.f("ck_user_account_role"), sa.text(_ROLES_NEW))
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_web_session_user_id_user_account", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_web_session_token_hash"),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_api_token_user_id_user_account", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name="fk_api_token_station_id_station", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
        sa.CheckConstraint("(user_id IS NULL) != (station_id IS NULL)", name="ck_api_token_owner"),
    )


def downgrade() -> None:
    op.drop_table("api_token")
    op.drop_table("web_session")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f("ck_user_account_role"), type_="check")
        batch.create_check_constraint(op.f("ck_user_account_role"), sa.text(_ROLES_OLD))
        for name in ("last_failed_at", "failed_logins", "password_changed_at", "password_hash"):
            batch.drop_column(name)
