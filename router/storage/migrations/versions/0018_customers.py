"""one customer across channels: customer records, their verified addresses, merges; existing phone threads joined

Revision ID: 0018
Revises: 0017
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['merged_into_id'], ['customers.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_customers_merged_into_id', 'customers', ['merged_into_id'])
    op.create_table(
        'customer_addresses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('verified_at', sa.DateTime(), nullable=False),
        sa.Column('how', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('address'),
    )
    op.create_index('ix_customer_addresses_customer_id', 'customer_addresses', ['customer_id'])
    op.create_table(
        'customer_merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kept_id', sa.Integer(), nullable=False),
        sa.Column('merged_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.Column('undone_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['kept_id'], ['customers.id']),
        sa.ForeignKeyConstraint(['merged_id'], ['customers.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['undone_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_customer_merges_kept_id', 'customer_merges', ['kept_id'])
    op.create_index('ix_customer_merges_merged_id', 'customer_merges', ['merged_id'])
    for table in ('conversations', 'cases'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('customer_id', sa.Integer(), nullable=True))
            batch_op.create_index(f'ix_{table}_customer_id', ['customer_id'])
            batch_op.create_foreign_key(f'fk_{table}_customer_id', 'customers', ['customer_id'], ['id'])
    # What the case page joined before by a Twilio-signed number is one record per number from now on.
    bind = op.get_bind()
    numbers = bind.execute(sa.text(
        "SELECT DISTINCT address FROM conversations WHERE channel IN ('sms', 'voice', 'whatsapp') "
        "AND address IS NOT NULL")).scalars().all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for phone in sorted({n.removeprefix("whatsapp:") for n in numbers}):
        customer_id = bind.execute(sa.text("INSERT INTO customers (created_at) VALUES (:t) RETURNING id"),
                                   {"t": now}).scalar_one()
        bind.execute(sa.text("INSERT INTO customer_addresses (customer_id, kind, address, verified_at, how) "
                             "VALUES (:c, 'phone', :a, :t, 'twilio')"), {"c": customer_id, "a": phone, "t": now})
        bind.execute(sa.text("UPDATE conversations SET customer_id = :c WHERE channel IN ('sms', 'voice', 'whatsapp') "
                             "AND address IN (:a, :w)"), {"c": customer_id, "a": phone, "w": f"whatsapp:{phone}"})
    bind.execute(sa.text("UPDATE cases SET customer_id = (SELECT customer_id FROM conversations "
                         "WHERE conversations.id = cases.conversation_id) WHERE conversation_id IS NOT NULL"))


def downgrade() -> None:
    for table in ('cases', 'conversations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_customer_id', type_='foreignkey')
            batch_op.drop_index(f'ix_{table}_customer_id')
            batch_op.drop_column('customer_id')
    op.drop_table('customer_merges')
    op.drop_table('customer_addresses')
    op.drop_table('customers')
