"""what the trade register said of a business ID (a cache, refreshed after COMPANY_REGISTRY_DAYS)

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'company_records',
        sa.Column('business_id', sa.String(length=9), nullable=False),
        sa.Column('data', sa.JSON(), nullable=True),
        sa.Column('fetched_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('business_id'),
    )


def downgrade() -> None:
    op.drop_table('company_records')
