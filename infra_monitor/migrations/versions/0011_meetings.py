"""meetings: videoconference meetings, their participants, readiness checks, per-room results, check requests

``meeting`` (title, UTC start, duration, MCU device, notes, who created it); ``meeting_participant`` (an
endpoint, a site, or a level optionally within a district region, resolved at check time);
``meeting_check`` (one readiness check; ``lead_min`` unique per meeting for the scheduled sweeps, NULL for
operator-asked checks); ``meeting_room_result`` (one room's verdict with its reasons as JSON and what changed);
``meeting_check_request`` (an operator's "check now" the poller picks up).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', AutoString(length=200), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_min', sa.Integer(), nullable=False),
    sa.Column('mcu_device_id', sa.Integer(), nullable=False),
    sa.Column('notes', AutoString(length=2000), nullable=False),
    sa.Column('created_by', AutoString(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mcu_device_id'], ['device.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_meeting_start', 'meeting', ['start'])
    op.create_index('ix_meeting_mcu_device_id', 'meeting', ['mcu_device_id'])
    op.create_table('meeting_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('kind', AutoString(length=10), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('level', AutoString(length=20), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['endpoint_id'], ['vc_endpoint.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_meeting_participant_meeting_id', 'meeting_participant', ['meeting_id'])
    op.create_table('meeting_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lead_min', sa.Integer(), nullable=True),
    sa.Column('trigger', AutoString(length=20), nullable=False),
    sa.Column('requested_by', AutoString(length=100), nullable=False),
    sa.Column('ready', sa.Integer(), nullable=False),
    sa.Column('not_ready', sa.Integer(), nullable=False),
    sa.Column('mcu_ok', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_meeting_check_lead', 'meeting_check', ['meeting_id', 'lead_min'], unique=True)
    op.create_index('ix_meeting_check_meeting_at', 'meeting_check', ['meeting_id', 'at'])
    op.create_table('meeting_room_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=True),
    sa.Column('device_name', AutoString(length=100), nullable=False),
    sa.Column('room', AutoString(length=200), nullable=False),
    sa.Column('site_name', AutoString(length=200), nullable=False),
    sa.Column('ready', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('change', AutoString(length=20), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['meeting_check.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['endpoint_id'], ['vc_endpoint.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_meeting_room_result_check_id', 'meeting_room_result', ['check_id'])
    op.create_table('meeting_check_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', AutoString(length=100), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('check_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['check_id'], ['meeting_check.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_meeting_check_request_meeting_id', 'meeting_check_request', ['meeting_id'])


def downgrade() -> None:
    op.drop_index('ix_meeting_check_request_meeting_id', 'meeting_check_request')
    op.drop_table('meeting_check_request')
    op.drop_index('ix_meeting_room_result_check_id', 'meeting_room_result')
    op.drop_table('meeting_room_result')
    op.drop_index('ix_meeting_check_meeting_at', 'meeting_check')
    op.drop_index('uq_meeting_check_lead', 'meeting_check')
    op.drop_table('meeting_check')
    op.drop_index('ix_meeting_participant_meeting_id', 'meeting_participant')
    op.drop_table('meeting_participant')
    op.drop_index('ix_meeting_mcu_device_id', 'meeting')
    op.drop_index('ix_meeting_start', 'meeting')
    op.drop_table('meeting')
