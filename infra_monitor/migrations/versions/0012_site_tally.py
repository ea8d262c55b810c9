"""site tallies: every site's devices per hard state kept by the status store, and the inventory's generation

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:00:00

``inventory_generation`` (one row) grows with every inventory transaction; ``site_tally`` holds each site's
monitored devices per hard state as of the last sweep, ``site_tally_meta`` the generation it was built at.
The tally starts unbuilt (generation -1): pages compute it live until the first sweep builds it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    generation = op.create_table(
        'inventory_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(generation, [{'id': 1, 'n': 0}])
    op.create_table(
        'site_tally',
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('up', sa.Integer(), nullable=False),
        sa.Column('down', sa.Integer(), nullable=False),
        sa.Column('unreachable', sa.Integer(), nullable=False),
        sa.Column('maintenance', sa.Integer(), nullable=False),
        sa.Column('unknown', sa.Integer(), nullable=False),
        sa.Column('first_fail', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_change', sa.DateTime(timezone=True), nullable=True),
        sa.Column('connected', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('site_id'),
    )
    op.create_table(
        'site_tally_meta',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('site_tally_meta')
    op.drop_table('site_tally')
    op.drop_table('inventory_generation')
