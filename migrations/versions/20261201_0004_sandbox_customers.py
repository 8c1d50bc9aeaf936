"""sandbox: customers, and a payment's customer, acquirer data and card

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 14:30:00
"""
from alembic import op
import sqlalchemy as sa
import banter_payments.models.meta


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sandbox_customers',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=True),
    sa.Column('email', sa.String(length=64), nullable=True),
    sa.Column('contact', sa.String(length=15), nullable=True),
    sa.Column('gstin', sa.String(length=15), nullable=True),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('created_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_customers'))
    )
    with op.batch_alter_table('sandbox_customers', schema=None) as batch_op:
        batch_op.create_index('ix_sandbox_customers_contact', ['contact'], unique=False)
        batch_op.create_index('ix_sandbox_customers_email', ['email'], unique=False)

    with op.batch_alter_table('sandbox_payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('acquirer_data', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('card', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sandbox_payments', schema=None) as batch_op:
        batch_op.drop_column('card')
        batch_op.drop_column('acquirer_data')
        batch_op.drop_column('customer_id')

    with op.batch_alter_table('sandbox_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_sandbox_customers_email')
        batch_op.drop_index('ix_sandbox_customers_contact')

    op.drop_table('sandbox_customers')
