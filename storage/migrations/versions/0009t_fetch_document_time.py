"""an index of each document's fetches in time order (storage/repo.py: fetch_outcomes)

Revision ID: 0009t
Revises: 0008n
Create Date: 2026-11-25 01:20:00
"""

from alembic import op


revision = '0009t'
down_revision = '0008n'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_fetch_document_time', 'fetch', ['document_id', 'started_at', 'id'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_fetch_document_time', table_name='fetch')
