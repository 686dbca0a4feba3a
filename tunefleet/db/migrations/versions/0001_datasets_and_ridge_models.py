"""Datasets and ridge models.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uri", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=True),
        sa.Column("n_rows", sa.Integer(), nullable=True),
        sa.Column("columns", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_datasets_sha256", "datasets", ["sha256"])
    op.create_table(
        "ridge_models",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "succeeded", "failed", name="status"),
            nullable=False,
        ),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("n_folds", sa.Integer(), nullable=False),
        sa.Column("fit_intercept", sa.Boolean(), nullable=False),
        sa.Column("l2_coef", _json(), nullable=False),
        sa.Column("shuffle", sa.Boolean(), nullable=False),
        sa.Column("random_state", sa.Integer(), nullable=True),
        sa.Column("model", _json(), nullable=True),
        sa.Column("cv_results", _json(), nullable=True),
        sa.Column("best_alpha", sa.Float(), nullable=True),
        sa.Column("artifact_uri", sa.String(), nullable=True),
        sa.Column("flow_run_id", sa.String(), nullable=True),
    )
    op.create_index("ix_ridge_models_status", "ridge_models", ["status"])


def downgrade() -> None:
    op.drop_table("ridge_models")
    op.drop_table("datasets")
    sa.Enum(name="status").drop(op.get_bind(), checkfirst=True)
