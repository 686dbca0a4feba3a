"""Several objectives and outcome constraints: an experiment's declared responses and constraints,
and every metric a trial was told (``trials.response`` stays the first objective's value).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(sa.Column("responses", _json(), nullable=True))
        batch.add_column(sa.Column("constraints", _json(), nullable=True))
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("metrics", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("metrics")
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("constraints")
        batch.drop_column("responses")
