"""check state intervals: per-check up/down intervals, so a service's availability comes from time

``check_state_interval`` holds, per check (device, check key), the time it was ``up`` or ``down``:
[start, end), ``end`` NULL while the state lasts; ``last_seen`` is the time of the last result inside the
interval (a gap longer than the staleness window closes the interval at ``last_seen``, so missing data is
not counted). ``service_id`` says which service the check checks (NULL for the device's own checks).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('check_state_interval',
    sa.Column('id', BigId, nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('check_key', AutoString(length=300), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('state', AutoString(length=12), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_check_state_interval_check_start', 'check_state_interval',
                    ['device_id', 'check_key', 'start'])
    op.create_index('ix_check_state_interval_service_start', 'check_state_interval', ['service_id', 'start'])
    op.create_index('ix_check_state_interval_start', 'check_state_interval', ['start'])
    op.create_index('ix_check_state_interval_open', 'check_state_interval', ['device_id', 'check_key'],
                    unique=True, sqlite_where=sa.text('"end" IS NULL'), postgresql_where=sa.text('"end" IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_check_state_interval_open', 'check_state_interval')
    op.drop_index('ix_check_state_interval_start', 'check_state_interval')
    op.drop_index('ix_check_state_interval_service_start', 'check_state_interval')
    op.drop_index('ix_check_state_interval_check_start', 'check_state_interval')
    op.drop_table('check_state_interval')
