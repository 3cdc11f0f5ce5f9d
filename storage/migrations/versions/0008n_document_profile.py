"""the noise profile of a document (sources.toml `profile`, default "default")

Revision ID: 0008n
Revises: 0007f
Create Date: 2026-11-24 03:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008n'
down_revision = '0007f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('profile', sa.String(length=100), nullable=False, server_default='default')
        )


def downgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('profile')
