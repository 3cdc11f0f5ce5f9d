"""the fingerprint of a page's selected region, with its version and its fetch

Revision ID: 0007f
Revises: 0004d
Create Date: 2026-11-24 00:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007f'
down_revision = '0004d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('fetch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fetch', schema=None) as batch_op:
        batch_op.drop_column('region_hash')
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.drop_column('region_hash')
