"""one lease row per host: politeness across processes and machines

Revision ID: 0005s
Revises: 0005p
Create Date: 2026-11-23 21:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005s'
down_revision = '0005p'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'host_lease',
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('holder', sa.String(length=200), nullable=True),
        sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('free_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_request_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('host'),
    )


def downgrade() -> None:
    op.drop_table('host_lease')
