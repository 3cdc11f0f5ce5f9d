"""links are per URL and locale; link checks keep the page they saw

Revision ID: 0003w
Revises: 0002
Create Date: 2026-11-23 15:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003w'
down_revision = '0002'
branch_labels = None
depends_on = None

# 0002 created link.url UNIQUE without a name: name it so batch mode can drop it on SQLite.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _url_unique_name() -> str:
    return "link_url_key" if op.get_bind().dialect.name == "postgresql" else "uq_link_url"


def _recreate_link(body) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite rebuilds the table; rows of link_check / link_sighting / change point at it.
        # Takes effect when no transaction is open yet (an existing database at 0002);
        # storage.migrate.upgrade disposes of the connection, new ones get the pragma back.
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table('link', naming_convention=NAMING) as batch_op:
        body(batch_op)


def upgrade() -> None:
    def change(batch_op) -> None:
        batch_op.add_column(
            sa.Column('locale', sa.String(length=20), nullable=False, server_default='en_US')
        )
        batch_op.drop_constraint(_url_unique_name(), type_='unique')
        batch_op.create_unique_constraint('uq_link_url_locale', ['url', 'locale'])

    _recreate_link(change)
    with op.batch_alter_table('link_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blob_hash', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key('fk_link_check_blob_hash', 'blob', ['blob_hash'], ['hash'])


def downgrade() -> None:
    with op.batch_alter_table('link_check', schema=None) as batch_op:
        batch_op.drop_constraint('fk_link_check_blob_hash', type_='foreignkey')
        batch_op.drop_column('blob_hash')

    def change(batch_op) -> None:
        batch_op.drop_constraint('uq_link_url_locale', type_='unique')
        batch_op.drop_column('locale')
        batch_op.create_unique_constraint(_url_unique_name(), ['url'])

    _recreate_link(change)
