"""the board's plan: campaigns and their attribution, yearly targets, the sales pipeline, translated stories

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'campaigns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('starts', sa.Date(), nullable=False),
        sa.Column('ends', sa.Date(), nullable=False),
        sa.Column('cost_cents', sa.Integer(), nullable=True),
        sa.Column('sms_keyword', sa.String(length=30), nullable=True),
        sa.Column('email_tag', sa.String(length=40), nullable=True),
        sa.Column('number', sa.String(length=40), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    for table in ('conversations', 'cases', 'calls'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('campaign', sa.String(length=40), nullable=True))
            batch_op.create_index(f'ix_{table}_campaign', ['campaign'])
    op.create_table(
        'targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('measure', sa.String(length=30), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('measure', 'year', 'month', name='uq_targets_period'),
    )
    op.create_table(
        'leads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company', sa.String(length=200), nullable=False),
        sa.Column('business_id', sa.String(length=9), nullable=True),
        sa.Column('sector', sa.String(length=100), nullable=False, server_default=''),
        sa.Column('jobs', sa.Integer(), nullable=True),
        sa.Column('investment_eur', sa.Integer(), nullable=True),
        sa.Column('plot_interest', sa.String(length=200), nullable=False, server_default=''),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('stage_changed_at', sa.DateTime(), nullable=False),
        sa.Column('located_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id']),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id'),
    )
    op.create_index('ix_leads_stage', 'leads', ['stage'])
    op.create_index('ix_leads_located_on', 'leads', ['located_on'])
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))
    with op.batch_alter_table('impact_figures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('impact_figures', schema=None) as batch_op:
        batch_op.drop_column('notes')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_column('translations')
    op.drop_table('leads')
    op.drop_table('targets')
    for table in ('calls', 'cases', 'conversations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_campaign')
            batch_op.drop_column('campaign')
    op.drop_table('campaigns')
