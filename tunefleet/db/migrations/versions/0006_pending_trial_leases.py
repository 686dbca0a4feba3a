"""Pending trials with a lease: what an ask handed out, until its lease ends (per experiment).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(sa.Column("pending_lease_s", sa.Integer(), nullable=False, server_default="3600"))
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("lease_until")
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("pending_lease_s")
