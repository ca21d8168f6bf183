"""the board's plan: proactive encounters and events recorded by staff (UI, API, CSV import)

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'activities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('company', sa.String(length=200), nullable=False),
        sa.Column('business_id', sa.String(length=9), nullable=True),
        sa.Column('topic', sa.String(length=40), nullable=True),
        sa.Column('participants', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('specialist_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('external_id', sa.String(length=80), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['specialist_id'], ['specialists.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('external_id'),
    )
    op.create_index('ix_activities_kind', 'activities', ['kind'])
    op.create_index('ix_activities_day', 'activities', ['day'])
    op.create_index('ix_activities_business_id', 'activities', ['business_id'])
    op.create_index('ix_activities_specialist_id', 'activities', ['specialist_id'])


def downgrade() -> None:
    op.drop_table('activities')
