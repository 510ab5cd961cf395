"""The origins each business lets browsers call its public routes from (CORS), beside the server's list.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: rebuilding businesses on SQLite (batch mode) would drop 0008's triggers.
    op.add_column("businesses", sa.Column("cors_origins", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("businesses", "cors_origins")
