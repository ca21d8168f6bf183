"""the business ID a customer gave with their case, looked up in the trade register by the worker

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_id', sa.String(length=9), nullable=True))
        batch_op.create_index('ix_cases_business_id', ['business_id'])


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_business_id')
        batch_op.drop_column('business_id')
