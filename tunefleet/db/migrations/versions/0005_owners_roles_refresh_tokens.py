"""Owners of every record, users' roles, and the refresh tokens issued (one use each).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OWNED = ("datasets", "ridge_models", "inference_models", "benchmark_runs", "sweeps")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("role", sa.String(), nullable=False, server_default="user"))
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(f"fk_{table}_owner_id_users", "users", ["owner_id"], ["id"])
            batch.create_index(f"ix_{table}_owner_id", ["owner_id"])
    with op.batch_alter_table("inference_models") as batch:  # a model's name is unique among its owner's
        batch.drop_index("ix_inference_models_name")
        batch.create_index("ix_inference_models_name", ["name"])
        batch.create_unique_constraint("uq_inference_models_owner_id_name", ["owner_id", "name"])
    op.create_table(
        "refresh_tokens",
        sa.Column("jti", sa.String(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("family", sa.String(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_index("ix_refresh_tokens_family", "refresh_tokens", ["family"])


def downgrade() -> None:
    op.drop_table("refresh_tokens")
    with op.batch_alter_table("inference_models") as batch:
        batch.drop_constraint("uq_inference_models_owner_id_name", type_="unique")
        batch.drop_index("ix_inference_models_name")
        batch.create_index("ix_inference_models_name", ["name"], unique=True)
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_owner_id")
            batch.drop_constraint(f"fk_{table}_owner_id_users", type_="foreignkey")
            batch.drop_column("owner_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("role")
