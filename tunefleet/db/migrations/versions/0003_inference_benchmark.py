"""Uploaded models, benchmark runs and their cells.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ENUM, JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "inference_models",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("task", sa.String(), nullable=False),
        sa.Column("framework", sa.String(), nullable=False),
        sa.Column("model_type", sa.String(), nullable=False),
        sa.Column("n_features", sa.Integer(), nullable=False),
        sa.Column("classes", _json(), nullable=True),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("class_distribution", _json(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("model_uri", sa.String(), nullable=False),
        sa.Column("data_uri", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("properties", _json(), nullable=True),
        _timestamp("created_at"),
    )
    op.create_index("ix_inference_models_name", "inference_models", ["name"], unique=True)
    status = sa.Enum("queued", "running", "succeeded", "failed", name="status").with_variant(
        ENUM("queued", "running", "succeeded", "failed", name="status", create_type=False), "postgresql"
    )  # the type 0001 created
    op.create_table(
        "benchmark_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("inference_models.id"), nullable=False),
        sa.Column("status", status, nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("report", _json(), nullable=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
        _timestamp("created_at"),
        _timestamp("finished_at", nullable=True),
    )
    op.create_index("ix_benchmark_runs_model_id", "benchmark_runs", ["model_id"])
    op.create_index("ix_benchmark_runs_status", "benchmark_runs", ["status"])
    op.create_table(
        "benchmark_cells",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("benchmark_runs.id"), nullable=False),
        sa.Column("hardware", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("optimisation", sa.String(), nullable=False),
        sa.Column("status", sa.Enum("measured", "skipped", "failed", name="cellstatus"), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("metrics", _json(), nullable=True),
        _timestamp("created_at"),
        sa.UniqueConstraint("run_id", "hardware", "platform", "optimisation"),
    )
    op.create_index("ix_benchmark_cells_run_id", "benchmark_cells", ["run_id"])


def downgrade() -> None:
    op.drop_table("benchmark_cells")
    op.drop_table("benchmark_runs")
    op.drop_table("inference_models")
    sa.Enum(name="cellstatus").drop(op.get_bind(), checkfirst=True)
