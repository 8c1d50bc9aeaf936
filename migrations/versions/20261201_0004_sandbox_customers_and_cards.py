"""sandbox: customers and cards, and a payment's customer, acquirer data and card

A card payment names its card entity (``sandbox_payments.card_id`` -> ``sandbox_cards``),
the one place ``GET /v1/cards/{id}``, ``GET /v1/payments/{id}/card`` and
``expand[]=card`` read; the Checkout's cards table (once its own revision) is folded in.

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
    op.create_table('sandbox_cards',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('issuer', sa.String(length=16), nullable=True),
    sa.Column('international', sa.Boolean(), nullable=False),
    sa.Column('emi', sa.Boolean(), nullable=False),
    sa.Column('created_at', banter_payments.models.meta.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(last4) = 4', name=op.f('ck_sandbox_cards_last4_length')),
    sa.CheckConstraint("type IN ('credit', 'debit', 'prepaid')", name=op.f('ck_sandbox_cards_type_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_cards'))
    )
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
        batch_op.create_foreign_key(batch_op.f('fk_sandbox_payments_card_id_sandbox_cards'), 'sandbox_cards', ['card_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('sandbox_payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sandbox_payments_card_id_sandbox_cards'), type_='foreignkey')
        batch_op.drop_column('acquirer_data')
        batch_op.drop_column('customer_id')

    with op.batch_alter_table('sandbox_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_sandbox_customers_email')
        batch_op.drop_index('ix_sandbox_customers_contact')

    op.drop_table('sandbox_customers')
    op.drop_table('sandbox_cards')
