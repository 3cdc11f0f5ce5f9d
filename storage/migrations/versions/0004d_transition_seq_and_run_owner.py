"""text transitions numbered per document (unique); runs record who runs them

Revision ID: 0004d
Revises: 0006s
Create Date: 2026-11-23 21:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004d'
down_revision = '0006s'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fetch_id', sa.Integer(), nullable=True))
    # Number the text changes already stored, per document, in the order they happened.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, document_id FROM change WHERE to_version_id IS NOT NULL "
            "ORDER BY document_id, detected_at, id"
        )
    ).all()
    counters: dict[str, int] = {}
    for change_id, document_id in rows:
        counters[document_id] = counters.get(document_id, 0) + 1
        bind.execute(
            sa.text("UPDATE change SET seq = :seq WHERE id = :id"),
            {"seq": counters[document_id], "id": change_id},
        )
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_change_document_seq', ['document_id', 'seq'])
    with op.batch_alter_table('fetch', schema=None) as batch_op:
        batch_op.create_index('ix_fetch_processed', ['processed'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fetch', schema=None) as batch_op:
        batch_op.drop_index('ix_fetch_processed')
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.drop_constraint('uq_change_document_seq', type_='unique')
        batch_op.drop_column('fetch_id')
        batch_op.drop_column('seq')
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('pid')
        batch_op.drop_column('host')
