"""problems: a root-cause DOWN with its cut-off devices over time and its history of actions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OPEN = sa.text('resolved_at IS NULL')


def upgrade() -> None:
    op.create_table('problem',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('root_device_id', sa.Integer(), nullable=True),
    sa.Column('device_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolve_reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('peak_members', sa.Integer(), nullable=False),
    sa.Column('acknowledged', sa.Boolean(), nullable=False),
    sa.Column('ack_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('ack_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ack_comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('assignee', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['root_device_id'], ['device.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.create_index('ix_problem_open', ['root_device_id'], unique=True, sqlite_where=OPEN,
                              postgresql_where=OPEN)
        batch_op.create_index('ix_problem_opened', ['opened_at'], unique=False)

    op.create_table('problem_member',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('problem_id', BIG_ID, nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('device_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('problem_member', schema=None) as batch_op:
        batch_op.create_index('ix_problem_member_problem', ['problem_id', 'since'], unique=False)

    op.create_table('problem_action',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('problem_id', BIG_ID, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('problem_action', schema=None) as batch_op:
        batch_op.create_index('ix_problem_action_problem', ['problem_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('problem_action', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_action_problem')
    op.drop_table('problem_action')
    with op.batch_alter_table('problem_member', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_member_problem')
    op.drop_table('problem_member')
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_opened')
        batch_op.drop_index('ix_problem_open', sqlite_where=OPEN, postgresql_where=OPEN)
    op.drop_table('problem')
