"""check results: one result per check (device, check key) instead of per (device, kind), open measurements

``probe_result``, ``latest_result`` and ``rollup`` gain ``check_key`` (``icmp``, ``tcp:22``,
``service:12:tcp:443``…), keyed by it instead of the kind; ``probe_result`` and ``latest_result`` gain
``service_id`` and ``measurements`` (JSON: what the kind measured beyond the hot columns), ``latest_result``
``availability`` (counts toward the device's reachability) and ``info`` (JSON text facts). ``kind`` stays as
data (longer: 20 characters).

Existing results are carried over with their kind as check key (a device had one result per kind), marked as
availability checks as they were counted. On PostgreSQL the tables are altered in place; on SQLite
``latest_result`` and ``rollup`` (WITHOUT ROWID, clustered by their key) are rebuilt and ``probe_result`` goes
through alembic's batch copy.

Downgrade keeps, per (device, kind), the newest latest result and the sums of the rollups, and the raw rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 13:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = 300
ROLLUP_COLS = ('count', 'successes', 'rtt_min_ms', 'rtt_max_ms', 'rtt_sum_ms', 'rtt_n', 'loss_sum_pct', 'loss_n')
LATEST_COLS = ('ts', 'success', 'rtt_avg_ms', 'loss_pct', 'error', 'sys_uptime_s')


def _latest_table(name: str) -> None:
    op.create_table(name,
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('check_key', AutoString(length=KEY), nullable=False),
    sa.Column('kind', AutoString(length=20), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('availability', sa.Boolean(), nullable=False),
    sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('rtt_avg_ms', sa.Float(), nullable=True),
    sa.Column('loss_pct', sa.Float(), nullable=True),
    sa.Column('error', AutoString(length=200), nullable=True),
    sa.Column('sys_uptime_s', sa.Float(), nullable=True),
    sa.Column('measurements', sa.JSON(), nullable=True),
    sa.Column('info', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'check_key'),
    sqlite_with_rowid=False
    )


def _rollup_table(name: str) -> None:
    op.create_table(name,
    sa.Column('resolution', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('check_key', AutoString(length=KEY), nullable=False),
    sa.Column('bucket', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', AutoString(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('successes', sa.Integer(), nullable=False),
    sa.Column('rtt_min_ms', sa.Float(), nullable=True),
    sa.Column('rtt_max_ms', sa.Float(), nullable=True),
    sa.Column('rtt_sum_ms', sa.Float(), nullable=False),
    sa.Column('rtt_n', sa.Integer(), nullable=False),
    sa.Column('loss_sum_pct', sa.Float(), nullable=False),
    sa.Column('loss_n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resolution', 'device_id', 'check_key', 'bucket'),
    sqlite_with_rowid=False
    )


def _pk_name(table: str) -> str:
    name = sa.inspect(op.get_bind()).get_pk_constraint(table).get('name')
    return name or f'{table}_pkey'


def _latest_indexes() -> None:
    op.create_index('ix_latest_result_kind', 'latest_result', ['kind'])
    op.create_index('ix_latest_result_service_id', 'latest_result', ['service_id'])


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    # probe_result: new columns, filled from the kind, then the check index
    with op.batch_alter_table('probe_result') as b:
        b.add_column(sa.Column('check_key', AutoString(length=KEY), nullable=True))
        b.add_column(sa.Column('service_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('measurements', sa.JSON(), nullable=True))
        b.alter_column('kind', type_=AutoString(length=20), existing_nullable=False)
    op.execute('UPDATE probe_result SET check_key = kind')
    with op.batch_alter_table('probe_result') as b:
        b.alter_column('check_key', existing_type=AutoString(length=KEY), nullable=False)
        b.drop_index('ix_probe_result_device_ts')
        b.create_index('ix_probe_result_check_ts', ['device_id', 'check_key', 'ts'])

    if postgres:
        op.add_column('latest_result', sa.Column('check_key', AutoString(length=KEY), nullable=True))
        op.add_column('latest_result', sa.Column('service_id', sa.Integer(), nullable=True))
        op.add_column('latest_result', sa.Column('availability', sa.Boolean(), nullable=True))
        op.add_column('latest_result', sa.Column('measurements', sa.JSON(), nullable=True))
        op.add_column('latest_result', sa.Column('info', sa.JSON(), nullable=True))
        op.alter_column('latest_result', 'kind', type_=AutoString(length=20))
        op.execute('UPDATE latest_result SET check_key = kind, availability = true')
        op.alter_column('latest_result', 'check_key', nullable=False)
        op.alter_column('latest_result', 'availability', nullable=False)
        op.drop_constraint(_pk_name('latest_result'), 'latest_result', type_='primary')
        op.create_primary_key('latest_result_pkey', 'latest_result', ['device_id', 'check_key'])
        op.create_foreign_key('latest_result_service_id_fkey', 'latest_result', 'service', ['service_id'], ['id'],
                              ondelete='CASCADE')
        op.add_column('rollup', sa.Column('check_key', AutoString(length=KEY), nullable=True))
        op.alter_column('rollup', 'kind', type_=AutoString(length=20))
        op.execute('UPDATE rollup SET check_key = kind')
        op.alter_column('rollup', 'check_key', nullable=False)
        op.drop_constraint(_pk_name('rollup'), 'rollup', type_='primary')
        op.create_primary_key('rollup_pkey', 'rollup', ['resolution', 'device_id', 'check_key', 'bucket'])
    else:
        op.rename_table('latest_result', 'latest_result_0006')
        _latest_table('latest_result')
        cols = ', '.join(LATEST_COLS)
        op.execute(f'INSERT INTO latest_result (device_id, check_key, kind, availability, {cols}) '
                   f'SELECT device_id, kind, kind, 1, {cols} FROM latest_result_0006')
        op.drop_table('latest_result_0006')
        op.rename_table('rollup', 'rollup_0006')
        _rollup_table('rollup')
        cols = ', '.join(ROLLUP_COLS)
        op.execute(f'INSERT INTO rollup (resolution, device_id, check_key, bucket, kind, {cols}) '
                   f'SELECT resolution, device_id, kind, bucket, kind, {cols} FROM rollup_0006')
        op.drop_table('rollup_0006')
    _latest_indexes()


def downgrade() -> None:
    op.drop_index('ix_latest_result_service_id', 'latest_result')
    op.drop_index('ix_latest_result_kind', 'latest_result')
    op.execute('DELETE FROM latest_result WHERE EXISTS (SELECT 1 FROM latest_result n WHERE '
               'n.device_id = latest_result.device_id AND n.kind = latest_result.kind AND '
               '(n.ts > latest_result.ts OR (n.ts = latest_result.ts AND n.check_key > latest_result.check_key)))')
    rollup_sums = ', '.join(f'{"MIN" if c == "rtt_min_ms" else "MAX" if c == "rtt_max_ms" else "SUM"}({c})'
                            for c in ROLLUP_COLS)
    cols = ', '.join(ROLLUP_COLS)
    op.execute('CREATE TABLE rollup_0007 AS SELECT * FROM rollup')
    op.execute('DELETE FROM rollup')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(_pk_name('rollup'), 'rollup', type_='primary')
        op.drop_column('rollup', 'check_key')
        op.create_primary_key('rollup_pkey', 'rollup', ['resolution', 'device_id', 'kind', 'bucket'])
        op.alter_column('rollup', 'kind', type_=AutoString(length=10))
        op.drop_constraint(_pk_name('latest_result'), 'latest_result', type_='primary')
        op.drop_constraint('latest_result_service_id_fkey', 'latest_result', type_='foreignkey')
        for c in ('check_key', 'service_id', 'availability', 'measurements', 'info'):
            op.drop_column('latest_result', c)
        op.create_primary_key('latest_result_pkey', 'latest_result', ['device_id', 'kind'])
        op.alter_column('latest_result', 'kind', type_=AutoString(length=10))
    else:
        op.rename_table('latest_result', 'latest_result_0007')
        op.create_table('latest_result',
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('kind', AutoString(length=10), nullable=False),
        sa.Column('ts', sa.DateTime(timezone=True), nullable=False),
        sa.Column('success', sa.Boolean(), nullable=False),
        sa.Column('rtt_avg_ms', sa.Float(), nullable=True),
        sa.Column('loss_pct', sa.Float(), nullable=True),
        sa.Column('error', AutoString(length=200), nullable=True),
        sa.Column('sys_uptime_s', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['device_id'], ['device.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('device_id', 'kind'),
        sqlite_with_rowid=False
        )
        latest = ', '.join(LATEST_COLS)
        op.execute(f'INSERT INTO latest_result (device_id, kind, {latest}) '
                   f'SELECT device_id, kind, {latest} FROM latest_result_0007')
        op.drop_table('latest_result_0007')
        op.drop_table('rollup')
        op.create_table('rollup',
        sa.Column('resolution', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('kind', AutoString(length=10), nullable=False),
        sa.Column('bucket', sa.DateTime(timezone=True), nullable=False),
        *[sa.Column(c, sa.Float() if c.startswith(('rtt_m', 'rtt_s', 'loss_s')) else sa.Integer(),
                    nullable=c in ('rtt_min_ms', 'rtt_max_ms')) for c in ROLLUP_COLS],
        sa.ForeignKeyConstraint(['device_id'], ['device.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('resolution', 'device_id', 'kind', 'bucket'),
        sqlite_with_rowid=False
        )
    op.execute(f'INSERT INTO rollup (resolution, device_id, kind, bucket, {cols}) '
               f'SELECT resolution, device_id, kind, bucket, {rollup_sums} FROM rollup_0007 '
               f'GROUP BY resolution, device_id, kind, bucket')
    op.execute('DROP TABLE rollup_0007')
    with op.batch_alter_table('probe_result') as b:
        b.drop_index('ix_probe_result_check_ts')
        b.create_index('ix_probe_result_device_ts', ['device_id', 'ts'])
        b.drop_column('measurements')
        b.drop_column('service_id')
        b.drop_column('check_key')
        b.alter_column('kind', type_=AutoString(length=10), existing_nullable=False)
