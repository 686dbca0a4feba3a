"""HPO sweeps: named configs, sweeps and their trials.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


SWEEP_STATUS = ("queued", "running", "paused", "succeeded", "failed")
TRIAL_STATUS = ("pending", "running", "complete", "failed", "stopped")


def upgrade() -> None:
    op.create_table(
        "sweep_configs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("config_type", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("body", _json(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("config_type", "name"),
    )
    op.create_index("ix_sweep_configs_config_type", "sweep_configs", ["config_type"])
    op.create_table(
        "sweeps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("status", sa.Enum(*SWEEP_STATUS, name="sweepstatus"), nullable=False),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        sa.Column("best_trial_key", sa.String(), nullable=True),
        sa.Column("best_metric", sa.Float(), nullable=True),
        sa.Column("reports", _json(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
    )
    op.create_index("ix_sweeps_project", "sweeps", ["project"])
    op.create_index("ix_sweeps_status", "sweeps", ["status"])
    op.create_table(
        "sweep_trials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sweep_id", sa.Integer(), sa.ForeignKey("sweeps.id"), nullable=False),
        sa.Column("trial_key", sa.String(), nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("status", sa.Enum(*TRIAL_STATUS, name="sweeptrialstatus"), nullable=False),
        sa.Column("history", _json(), nullable=True),
        sa.Column("metrics", _json(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        sa.UniqueConstraint("sweep_id", "trial_key"),
    )
    op.create_index("ix_sweep_trials_sweep_id", "sweep_trials", ["sweep_id"])


def downgrade() -> None:
    op.drop_table("sweep_trials")
    op.drop_table("sweeps")
    op.drop_table("sweep_configs")
    sa.Enum(name="sweeptrialstatus").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="sweepstatus").drop(op.get_bind(), checkfirst=True)
