"""Warm starts: a trial copied from an earlier experiment's or sweep's records names where it came
from (``trials.seeded_from``); it informs the optimiser but is no evaluation of its experiment. The
experiment keeps what its warm start did (``experiments.warm_start``: source, seeded, dropped, why).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(sa.Column("warm_start", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True))
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("seeded_from", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("seeded_from")
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("warm_start")
