"""Hardware-aware tuning: a tuning over a BO experiment (``hw_tunings``), and each trial's candidate
model and benchmark run (``hw_trials``).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ENUM, JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    status = sa.Enum("queued", "running", "succeeded", "failed", name="status").with_variant(
        ENUM("queued", "running", "succeeded", "failed", name="status", create_type=False), "postgresql"
    )  # the type migration 0003 created
    op.create_table(
        "hw_tunings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("experiment_id", sa.Integer(), sa.ForeignKey("experiments.id"), nullable=False, unique=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("problem", _json(), nullable=False),
        sa.Column("train_uri", sa.String(), nullable=False),
        sa.Column("validation_uri", sa.String(), nullable=False),
        sa.Column("status", status, nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.Column("budget", _json(), nullable=True),
        sa.Column("picks", _json(), nullable=True),
        _timestamp("created_at"),
        _timestamp("finished_at", nullable=True),
    )
    op.create_index("ix_hw_tunings_owner_id", "hw_tunings", ["owner_id"])
    op.create_index("ix_hw_tunings_status", "hw_tunings", ["status"])
    op.create_table(
        "hw_trials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tuning_id", sa.Integer(), sa.ForeignKey("hw_tunings.id"), nullable=False),
        sa.Column("trial_id", sa.Integer(), sa.ForeignKey("trials.id"), nullable=False, unique=True),
        sa.Column("serving", sa.String(), nullable=False),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("inference_models.id"), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("benchmark_runs.id"), nullable=False),
        _timestamp("created_at"),
    )
    op.create_index("ix_hw_trials_tuning_id", "hw_trials", ["tuning_id"])


def downgrade() -> None:
    op.drop_table("hw_trials")
    op.drop_table("hw_tunings")
