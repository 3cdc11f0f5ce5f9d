"""links, link checks, change kinds and alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:06:14.045907
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('outcome_since', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url')
    )
    op.create_table('link_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locale', sa.String(length=20), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('final_url', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['link_id'], ['link.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('link_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_check_link_id'), ['link_id'], unique=False)

    op.create_table('link_sighting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.String(length=200), nullable=False),
    sa.Column('anchor', sa.Text(), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['link_id'], ['link.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('link_id', 'document_id')
    )
    with op.batch_alter_table('link_sighting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_sighting_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_sighting_link_id'), ['link_id'], unique=False)

    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='text'))
        batch_op.add_column(sa.Column('link_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('alert', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.alter_column('to_version_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('diff_blob',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.create_foreign_key('fk_change_link_id', 'link', ['link_id'], ['id'])

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('group_id')

    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.drop_constraint('fk_change_link_id', type_='foreignkey')
        batch_op.alter_column('diff_blob',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('to_version_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('alert')
        batch_op.drop_column('link_id')
        batch_op.drop_column('kind')

    with op.batch_alter_table('link_sighting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_sighting_link_id'))
        batch_op.drop_index(batch_op.f('ix_link_sighting_document_id'))

    op.drop_table('link_sighting')
    with op.batch_alter_table('link_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_check_link_id'))

    op.drop_table('link_check')
    op.drop_table('link')

