"""notification outbox and notification targets

Revision ID: 0005p
Revises: 0004r
Create Date: 2026-11-23 21:35:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005p'
down_revision = '0004r'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notify_target',
        sa.Column('id', sa.String(length=100), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('since_change_id', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.String(length=100), nullable=False),
        sa.Column('change_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('claimed_by', sa.String(length=200), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['change_id'], ['change.id']),
        sa.ForeignKeyConstraint(['target_id'], ['notify_target.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('target_id', 'change_id', name='uq_notification_target'),
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_change_id', ['change_id'], unique=False)
        batch_op.create_index('ix_notification_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_status')
        batch_op.drop_index('ix_notification_change_id')
    op.drop_table('notification')
    op.drop_table('notify_target')
