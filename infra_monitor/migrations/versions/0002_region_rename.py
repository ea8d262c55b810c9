"""region rename: dated names on region_change (kind rename)

Adds ``new_name`` and ``new_unit_type`` to ``region_change``: the name and unit type in force from the
change's date on. Both nullable; only a ``rename`` carries them. Batch mode so SQLite can ALTER.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('region_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('new_unit_type', sqlmodel.sql.sqltypes.AutoString(length=50),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('region_change', schema=None) as batch_op:
        batch_op.drop_column('new_unit_type')
        batch_op.drop_column('new_name')
