"""poller instances and vantage points: several pollers per group, a device watched from two places

``poller_instance``: one row per poller process (PostgreSQL's shard leases, :mod:`infra_monitor.shards`):
its group, vantage point, the shards it holds and when it last beat. ``probe_result.vantage`` (nullable: rows
written before 0010 have none) says where a result was probed from. ``vantage_result``: the last result per
check and vantage point, unique on (device, check key, vantage), so a device watched by its group and by a
group of its ``also_polled_by`` keeps both answers; ``latest_result`` keeps deciding its state (its own
group's answer only).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('poller_instance',
    sa.Column('poller_id', AutoString(length=100), nullable=False),
    sa.Column('poller_group', AutoString(length=50), nullable=False),
    sa.Column('vantage', AutoString(length=50), nullable=False),
    sa.Column('host', AutoString(length=100), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('backend_pid', sa.Integer(), nullable=False),
    sa.Column('shard_count', sa.Integer(), nullable=False),
    sa.Column('heartbeat_s', sa.Float(), nullable=False),
    sa.Column('shards', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('poller_id')
    )
    op.create_index('ix_poller_instance_group', 'poller_instance', ['poller_group', 'last_seen'], unique=False)
    with op.batch_alter_table('probe_result') as batch:
        batch.add_column(sa.Column('vantage', AutoString(length=50), nullable=True))
    op.create_table('vantage_result',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('check_key', AutoString(length=300), nullable=False),
    sa.Column('vantage', AutoString(length=50), nullable=False),
    sa.Column('poller_group', AutoString(length=50), nullable=False),
    sa.Column('kind', AutoString(length=20), nullable=False),
    sa.Column('availability', sa.Boolean(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('error', AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'check_key', 'vantage'),
    sqlite_with_rowid=False
    )


def downgrade() -> None:
    op.drop_table('vantage_result')
    with op.batch_alter_table('probe_result') as batch:
        batch.drop_column('vantage')
    op.drop_index('ix_poller_instance_group', table_name='poller_instance')
    op.drop_table('poller_instance')
