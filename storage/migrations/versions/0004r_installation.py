"""installation: the tag URI authority chosen once per installation

Revision ID: 0004r
Revises: 0003w
Create Date: 2026-11-23 21:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004r'
down_revision = '0003w'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'installation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tag_authority', sa.String(length=300), nullable=False),
        sa.Column('tag_prefix', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('installation')
