"""Users, Bayesian-optimisation experiments and their trials.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
    )
    op.create_index("ix_users_email", "users", ["email"], unique=True)
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("covars", _json(), nullable=False),
        sa.Column("model_type", sa.String(), nullable=False),
        sa.Column("acq_func", sa.String(), nullable=False),
        sa.Column("maximize", sa.Boolean(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("initial_points", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
    )
    op.create_index("ix_experiments_uuid", "experiments", ["uuid"], unique=True)
    op.create_index("ix_experiments_owner_id", "experiments", ["owner_id"])
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("experiment_id", sa.Integer(), sa.ForeignKey("experiments.id"), nullable=False),
        sa.Column("covars", _json(), nullable=False),
        sa.Column("response", sa.Float(), nullable=True),
        sa.Column("status", sa.Enum("pending", "complete", "failed", name="trialstatus"), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        _timestamp("created_at"),
        _timestamp("finished_at", nullable=True),
    )
    op.create_index("ix_trials_experiment_id", "trials", ["experiment_id"])


def downgrade() -> None:
    op.drop_table("trials")
    op.drop_table("experiments")
    op.drop_table("users")
    sa.Enum(name="trialstatus").drop(op.get_bind(), checkfirst=True)
