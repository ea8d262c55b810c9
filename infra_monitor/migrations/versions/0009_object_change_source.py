"""object change source: where a change's values came from (e.g. an SNMP discovery accepted by an operator)

``object_change.source`` (nullable text, 200 characters): NULL for changes typed by a person or imported;
``snmp discovery 2026-12-07T14:03Z`` when an operator accepted an observed value into the inventory
(:mod:`infra_monitor.reconcile.accept`). The actor stays the operator who accepted it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('object_change') as batch:
        batch.add_column(sa.Column('source', AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('object_change') as batch:
        batch.drop_column('source')
