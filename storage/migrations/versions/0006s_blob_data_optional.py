"""blob bytes may live in a blob store (blob.data empty); fetches whose body was dropped

Revision ID: 0006s
Revises: 0005s
Create Date: 2026-11-23 21:55:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006s'
down_revision = '0005s'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('blob', schema=None) as batch_op:
        batch_op.alter_column('data', existing_type=sa.LargeBinary(), nullable=True)
    with op.batch_alter_table('fetch', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('body_pruned', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('fetch', schema=None) as batch_op:
        batch_op.drop_column('body_pruned')
    with op.batch_alter_table('blob', schema=None) as batch_op:
        batch_op.alter_column('data', existing_type=sa.LargeBinary(), nullable=False)
