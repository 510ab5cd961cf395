"""Outgoing webhooks: each business's endpoint and secret, and the HTTP status of each outbox attempt.

Revision ID: 0006
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=254), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"], name=op.f("fk_webhook_endpoints_business_id_businesses")
        ),
        sa.PrimaryKeyConstraint("business_id", name=op.f("pk_webhook_endpoints")),
    )
    op.add_column("outbox", sa.Column("status_code", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("status_code")
    op.drop_table("webhook_endpoints")
